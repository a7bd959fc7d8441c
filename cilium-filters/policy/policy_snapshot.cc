#include "cilium-filters/policy/policy_snapshot.h"

#include "cilium-filters/policy/ip_address.h"

namespace Cilium {
namespace Policy {

const EndpointPolicy* PolicySnapshot::find(std::string_view endpoint_ip) const {
  auto found = by_ip_.find(endpoint_ip);
  if (found != by_ip_.end()) {
    return found->second;
  }
  // Addresses are kept in canonical form; ask again when the question was not.
  const std::string canonical = canonicalIp(endpoint_ip);
  if (canonical != endpoint_ip) {
    found = by_ip_.find(canonical);
    if (found != by_ip_.end()) {
      return found->second;
    }
  }
  return nullptr;
}

std::shared_ptr<const EndpointPolicy> PolicySnapshot::byEndpointId(uint64_t endpoint_id) const {
  auto found = by_id_.find(endpoint_id);
  return found == by_id_.end() ? nullptr : policies_[found->second];
}

} // namespace Policy
} // namespace Cilium
