#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cilium-filters/policy/endpoint_policy.h"

namespace Cilium {
namespace Policy {

// Every endpoint policy in force, found by endpoint IP. Immutable: any number of threads
// may decide with one while the next is built; an update replaces it as a whole.
class PolicySnapshot {
public:
  // The policy of the endpoint with this IP, or null (then everything is denied).
  const EndpointPolicy* find(std::string_view endpoint_ip) const;

  const std::vector<std::shared_ptr<const EndpointPolicy>>& policies() const { return policies_; }
  // The policy with this endpoint id, or null.
  std::shared_ptr<const EndpointPolicy> byEndpointId(uint64_t endpoint_id) const;

private:
  friend class PolicyMap;

  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>()(text); }
  };

  std::unordered_map<std::string, const EndpointPolicy*, Hash, std::equal_to<>> by_ip_;
  std::unordered_map<uint64_t, size_t> by_id_; // index into policies_
  std::vector<std::shared_ptr<const EndpointPolicy>> policies_;
};

using SnapshotPtr = std::shared_ptr<const PolicySnapshot>;

} // namespace Policy
} // namespace Cilium
