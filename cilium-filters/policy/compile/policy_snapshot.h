#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cilium-filters/policy/base/text_table.h"
#include "cilium-filters/policy/compile/endpoint_policy.h"

namespace Cilium {
namespace Policy {

// Every endpoint policy in force, found by endpoint IP. Immutable: any number of threads
// may decide with one while the next is built; an update replaces it as a whole.
class PolicySnapshot {
public:
  // What the lookup by IP gives: the policy and, for quick L4 checks, its L4 indexes.
  struct Target {
    const EndpointPolicy* policy;
    const uint32_t* l4;  // EndpointPolicy::l4Index()
  };

  // The policy of the endpoint with this IP, or null (then everything is denied).
  const EndpointPolicy* find(std::string_view endpoint_ip) const {
    const Target* target = findTarget(endpoint_ip);
    return target ? target->policy : nullptr;
  }
  const Target* findTarget(std::string_view endpoint_ip) const {
    const Target* found = by_ip_.find(endpoint_ip);
    return found != nullptr ? found : findCanonical(endpoint_ip);
  }

  const std::vector<std::shared_ptr<const EndpointPolicy>>& policies() const { return policies_; }
  // The resource name each policy arrived under (same order as policies()).
  const std::vector<std::string>& names() const { return names_; }
  // The policy with this endpoint id, or null.
  std::shared_ptr<const EndpointPolicy> byEndpointId(uint64_t endpoint_id) const;
  // No two policies share an endpoint id (state-of-the-world updates refuse that; a delta
  // update does not check it).
  bool uniqueEndpointIds() const;
  // The policy that arrived encoded exactly as `wire`, or null.
  std::shared_ptr<const EndpointPolicy> byWire(std::string_view wire) const;

private:
  friend class PolicyMap;

  // Room for `count` policies (and about two IPs each).
  void reserve(size_t count) {
    policies_.reserve(count);
    names_.reserve(count);
    by_ip_.reserve(count * 2);
  }
  // The lookup again with the address in canonical form (null when that changes nothing).
  const Target* findCanonical(std::string_view endpoint_ip) const;
  // Adds `policy` under resource name `name`; fails (naming the clash) when one of its IPs
  // is taken.
  Status add(std::shared_ptr<const EndpointPolicy> policy, std::string name);
  // Indexes the policies by endpoint id and encoding once all are added; with
  // `unique_ids`, fails when two policies have one endpoint id (`which` is then the index
  // of the second).
  Status finish(bool unique_ids, size_t& which);

  // Keys view the policies' own IP strings, which live as long as the snapshot.
  TextTable<Target> by_ip_;
  std::vector<std::pair<uint64_t, uint32_t>> by_id_;  // (endpoint id, index into policies_)
  std::vector<std::pair<size_t, uint32_t>> by_wire_;  // (hash of the encoding, index)
  std::vector<std::shared_ptr<const EndpointPolicy>> policies_;
  std::vector<std::string> names_;
};

using SnapshotPtr = std::shared_ptr<const PolicySnapshot>;

}  // namespace Policy
}  // namespace Cilium
