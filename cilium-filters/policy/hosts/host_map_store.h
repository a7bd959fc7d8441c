#pragma once

#include <memory>
#include <mutex>
#include <string_view>

#include "cilium-filters/policy/base/status.h"
#include "cilium-filters/policy/hosts/host_map.h"
#include "cilium-filters/policy/xds/discovery_fwd.h"

namespace Cilium {
namespace Policy {

inline constexpr std::string_view kNetworkPolicyHostsTypeUrl =
    "type.googleapis.com/cilium.NetworkPolicyHosts";

// The host map in force, replaced as a whole by each update; a refused update leaves it.
class HostMapStore {
public:
  HostMapStore();

  // A state-of-the-world update: resources are cilium.NetworkPolicyHosts.
  Status update(const envoy::service::discovery::v3::DiscoveryResponse& response);
  // A delta update: resources by name (the identity in decimal), removed_resources by name.
  Status update(const envoy::service::discovery::v3::DeltaDiscoveryResponse& response);

  std::shared_ptr<const HostMap> snapshot() const;

private:
  void install(std::shared_ptr<const HostMap> next);

  mutable std::mutex mutex_;
  std::shared_ptr<const HostMap> current_;
};

}  // namespace Policy
}  // namespace Cilium
