#include "cilium-filters/policy/delta_names.h"

#include <string_view>
#include <unordered_set>

#include "envoy/service/discovery/v3/discovery.pb.h"

namespace Cilium {
namespace Policy {

Status checkDeltaNames(const envoy::service::discovery::v3::DeltaDiscoveryResponse& response) {
  std::unordered_set<std::string_view> names;
  names.reserve(static_cast<size_t>(response.resources_size() + response.removed_resources_size()));
  for (const auto& resource : response.resources()) {
    if (!names.insert(resource.name()).second) {
      return Status::error("the name '" + resource.name() +
                           "' appears twice among the added resources");
    }
  }
  for (const std::string& name : response.removed_resources()) {
    if (!names.insert(name).second) {
      return Status::error("the name '" + name +
                           "' appears twice among the added and removed resources");
    }
  }
  return Status::ok();
}

} // namespace Policy
} // namespace Cilium
