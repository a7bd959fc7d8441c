#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "cilium-filters/policy/base/secret_source.h"
#include "cilium-filters/policy/compile/policy_snapshot.h"
#include "cilium-filters/policy/compile/regex.h"
#include "cilium-filters/policy/xds/discovery_fwd.h"

namespace google {
namespace protobuf {
class Any;
class Arena;
}  // namespace protobuf
}  // namespace google

namespace Cilium {
namespace Policy {

struct CompileContext;

inline constexpr std::string_view kNetworkPolicyTypeUrl =
    "type.googleapis.com/cilium.NetworkPolicy";

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
  // A delta update: resources by name (envoy.service.discovery.v3.Resource) replace or add
  // policies, removed_resources name policies to drop. Names and endpoint IPs share one
  // space: a name may not be another policy's IP, and an IP may not be removed by name.
  Status update(const envoy::service::discovery::v3::DeltaDiscoveryResponse& response);

  // The RE2 program-size limit for regexes whose matcher sets none (Envoy's runtime key
  // re2.max_program_size.error_level, 100 by default); it applies from the next update.
  // kNoProgramSizeCheck turns the checks off (`cilium-policy lint` measures sizes itself).
  void setMaxProgramSize(uint32_t limit) { max_program_size_.store(limit); }
  uint32_t maxProgramSize() const { return max_program_size_.load(); }

  // The policies in force now; keep the pointer for as long as a decision needs it.
  SnapshotPtr snapshot() const;
  const SecretSource& secrets() const { return *secrets_; }

  // Takes the policies out of a DiscoveryResponse without applying anything.
  static Status unpack(const envoy::service::discovery::v3::DiscoveryResponse& response,
                       std::vector<cilium::NetworkPolicy>& out);

private:
  Status compile(const google::protobuf::Any& any, const PolicySnapshot& previous,
                 const std::shared_ptr<google::protobuf::Arena>& arena, CompileContext& context,
                 size_t index, std::shared_ptr<const EndpointPolicy>& out);
  // True when `response` carries exactly the policies of `previous`, encoded byte for byte as
  // they arrived, in the same order under the same resource names.
  static bool unchanged(const envoy::service::discovery::v3::DiscoveryResponse& response,
                        const PolicySnapshot& previous);
  Status finishAndInstall(std::shared_ptr<PolicySnapshot> next, bool unique_ids);
  void install(SnapshotPtr next);

  std::shared_ptr<const SecretSource> secrets_;
  std::atomic<uint32_t> max_program_size_{kDefaultMaxProgramSize};
  mutable std::mutex mutex_;
  SnapshotPtr current_;
};

}  // namespace Policy
}  // namespace Cilium
