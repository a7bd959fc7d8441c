#include "cilium-filters/policy/compile/policy_snapshot.h"

#include <algorithm>
#include <functional>

#include "cilium-filters/policy/base/ip_address.h"

namespace Cilium {
namespace Policy {

const PolicySnapshot::Target* PolicySnapshot::findCanonical(std::string_view endpoint_ip) const {
  const std::string canonical = canonicalIp(endpoint_ip);
  if (canonical != endpoint_ip) {
    return by_ip_.find(canonical);
  }
  return nullptr;
}

std::shared_ptr<const EndpointPolicy> PolicySnapshot::byWire(std::string_view wire) const {
  if (wire.empty() || by_wire_.empty()) {
    return nullptr;
  }
  const size_t hash = std::hash<std::string_view>()(wire);
  auto it = std::lower_bound(by_wire_.begin(), by_wire_.end(), std::make_pair(hash, uint32_t{0}));
  for (; it != by_wire_.end() && it->first == hash; ++it) {
    if (policies_[it->second]->wire() == wire) {
      return policies_[it->second];
    }
  }
  return nullptr;
}

Status PolicySnapshot::add(std::shared_ptr<const EndpointPolicy> policy, std::string name) {
  for (const std::string& ip : policy->ips()) {
    const Target target{policy.get(), policy->l4Index()};
    // Across resources: a validate rule sees one message at a time.
    auto [found, inserted] = by_ip_.insert(ip, target);
    if (!inserted) {
      return Status::error("endpoint IP " + ip + " is also claimed by endpoint_id " +
                           std::to_string(found->policy->endpointId()));
    }
  }
  policies_.push_back(std::move(policy));
  names_.push_back(std::move(name));
  return Status::ok();
}

Status PolicySnapshot::finish(bool unique_ids, size_t& which) {
  by_id_.clear();
  by_id_.reserve(policies_.size());
  by_wire_.reserve(policies_.size());
  for (uint32_t i = 0; i < policies_.size(); ++i) {
    by_id_.emplace_back(policies_[i]->endpointId(), i);
    if (!policies_[i]->wire().empty()) {
      by_wire_.emplace_back(policies_[i]->wireHash(), i);
    }
  }
  std::sort(by_id_.begin(), by_id_.end());
  for (size_t i = 1; unique_ids && i < by_id_.size(); ++i) {
    if (by_id_[i].first == by_id_[i - 1].first) {
      which = by_id_[i].second;
      return Status::error("endpoint_id " + std::to_string(by_id_[i].first) +
                           " appears twice in the update (also in resources[" +
                           std::to_string(by_id_[i - 1].second) + "])");
    }
  }
  std::sort(by_wire_.begin(), by_wire_.end());
  return Status::ok();
}

bool PolicySnapshot::uniqueEndpointIds() const {
  return std::adjacent_find(by_id_.begin(), by_id_.end(), [](const auto& a, const auto& b) {
           return a.first == b.first;
         }) == by_id_.end();
}

std::shared_ptr<const EndpointPolicy> PolicySnapshot::byEndpointId(uint64_t endpoint_id) const {
  auto it =
      std::lower_bound(by_id_.begin(), by_id_.end(), std::make_pair(endpoint_id, uint32_t{0}));
  return it != by_id_.end() && it->first == endpoint_id ? policies_[it->second] : nullptr;
}

}  // namespace Policy
}  // namespace Cilium
