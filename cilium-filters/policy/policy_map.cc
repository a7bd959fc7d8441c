#include "cilium-filters/policy/policy_map.h"

#include <unordered_map>

#include "cilium-filters/policy/ip_address.h"
#include "cilium-filters/policy/proto_validate.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace Cilium {
namespace Policy {
namespace {

constexpr std::string_view kResourceTypeUrl =
    "type.googleapis.com/envoy.service.discovery.v3.Resource";

std::string describe(const cilium::NetworkPolicy& policy, size_t index) {
  std::string out = "resources[" + std::to_string(index) + "] (endpoint_id " +
                    std::to_string(policy.endpoint_id());
  if (!policy.endpoint_ips().empty()) {
    out += ", " + policy.endpoint_ips(0);
  }
  return out + ")";
}

} // namespace

PolicyMap::PolicyMap(std::shared_ptr<const SecretSource> secrets)
    : secrets_(std::move(secrets)), current_(std::make_shared<const PolicySnapshot>()) {}

SnapshotPtr PolicyMap::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_;
}

Status PolicyMap::unpack(const envoy::service::discovery::v3::DiscoveryResponse& response,
                         std::vector<cilium::NetworkPolicy>& out) {
  if (!response.type_url().empty() && response.type_url() != kNetworkPolicyTypeUrl) {
    return Status::error("type_url is '" + response.type_url() + "', not '" +
                         std::string(kNetworkPolicyTypeUrl) + "'");
  }
  out.clear();
  out.resize(response.resources_size());
  for (int i = 0; i < response.resources_size(); ++i) {
    const std::string where = "resources[" + std::to_string(i) + "]";
    const google::protobuf::Any* any = &response.resources(i);
    envoy::service::discovery::v3::Resource wrapper;
    if (any->type_url() == kResourceTypeUrl) {
      if (!any->UnpackTo(&wrapper)) {
        return Status::error(where + ": cannot decode its envoy.service.discovery.v3.Resource");
      }
      any = &wrapper.resource();
    }
    if (any->type_url() != kNetworkPolicyTypeUrl) {
      return Status::error(where + ": type '" + any->type_url() + "' is not '" +
                           std::string(kNetworkPolicyTypeUrl) + "'");
    }
    if (!any->UnpackTo(&out[i])) {
      return Status::error(where + ": cannot decode its cilium.NetworkPolicy");
    }
  }
  return Status::ok();
}

Status PolicyMap::update(const envoy::service::discovery::v3::DiscoveryResponse& response) {
  std::vector<cilium::NetworkPolicy> policies;
  Status status = unpack(response, policies);
  if (!status) {
    return status;
  }
  return update(std::move(policies));
}

Status PolicyMap::update(std::vector<cilium::NetworkPolicy> policies) {
  auto next = std::make_shared<PolicySnapshot>();
  next->policies_.reserve(policies.size());
  next->by_ip_.reserve(policies.size() * 2);
  next->by_id_.reserve(policies.size());
  RegexCache regexes;
  std::unordered_map<std::string, uint64_t> owner; // endpoint IP -> endpoint id
  owner.reserve(policies.size() * 2);

  for (size_t i = 0; i < policies.size(); ++i) {
    cilium::NetworkPolicy& config = policies[i];
    const std::string where = describe(config, i);
    Status status = validateMessage(config);
    if (!status) {
      return status.within(where);
    }
    if (config.endpoint_ips().empty()) {
      return Status::error(where + ": endpoint_ips is empty");
    }
    if (config.endpoint_id() == 0) {
      return Status::error(where + ": endpoint_id must not be 0");
    }
    const uint64_t id = config.endpoint_id();
    if (!next->by_id_.emplace(id, next->policies_.size()).second) {
      return Status::error(where + ": endpoint_id " + std::to_string(id) +
                           " appears twice in the update");
    }
    std::vector<std::string> ips;
    ips.reserve(config.endpoint_ips_size());
    for (const std::string& ip : config.endpoint_ips()) {
      std::string key = canonicalIp(ip);
      auto [it, inserted] = owner.emplace(key, id);
      if (!inserted) {
        return Status::error(where + ": endpoint IP " + ip + " is also claimed by endpoint_id " +
                             std::to_string(it->second));
      }
      ips.push_back(std::move(key));
    }
    std::shared_ptr<const EndpointPolicy> policy;
    status = EndpointPolicy::create(std::move(config), regexes, policy);
    if (!status) {
      return status.within(where);
    }
    for (std::string& ip : ips) {
      next->by_ip_.emplace(std::move(ip), policy.get());
    }
    next->policies_.push_back(std::move(policy));
  }

  std::lock_guard<std::mutex> lock(mutex_);
  current_ = std::move(next);
  return Status::ok();
}

} // namespace Policy
} // namespace Cilium
