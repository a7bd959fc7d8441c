#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "cilium-filters/policy/policy_snapshot.h"
#include "cilium-filters/policy/secret_source.h"

namespace envoy {
namespace service {
namespace discovery {
namespace v3 {
class DiscoveryResponse;
} // namespace v3
} // namespace discovery
} // namespace service
} // namespace envoy

namespace Cilium {
namespace Policy {

inline constexpr std::string_view kNetworkPolicyTypeUrl = "type.googleapis.com/cilium.NetworkPolicy";

// The policies Cilium's agent sent over NPDS. An update is checked as a whole and either
// replaces every policy at once or is refused with a reason, leaving the previous
// policies in force.
class PolicyMap {
public:
  explicit PolicyMap(std::shared_ptr<const SecretSource> secrets = std::make_shared<NoSecrets>());

  // A state-of-the-world update: resources are cilium.NetworkPolicy (possibly wrapped in
  // envoy.service.discovery.v3.Resource).
  Status update(const envoy::service::discovery::v3::DiscoveryResponse& response);
  // The same for policies already taken out of their Any.
  Status update(std::vector<cilium::NetworkPolicy> policies);

  // The policies in force now; keep the pointer for as long as a decision needs it.
  SnapshotPtr snapshot() const;
  const SecretSource& secrets() const { return *secrets_; }

  // Takes the policies out of a DiscoveryResponse without applying anything.
  static Status unpack(const envoy::service::discovery::v3::DiscoveryResponse& response,
                       std::vector<cilium::NetworkPolicy>& out);

private:
  Status finishAndInstall(std::shared_ptr<PolicySnapshot> next);
  void install(SnapshotPtr next);

  std::shared_ptr<const SecretSource> secrets_;
  mutable std::mutex mutex_;
  SnapshotPtr current_;
};

} // namespace Policy
} // namespace Cilium
