#include "cilium-filters/policy/compile/policy_map.h"

#include <google/protobuf/arena.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "cilium-filters/policy/base/ip_address.h"
#include "cilium-filters/policy/compile/compile_context.h"
#include "cilium-filters/policy/xds/arena_message.h"
#include "cilium-filters/policy/xds/xds_resource.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace Cilium {
namespace Policy {
namespace {

// "resources[3] (endpoint_id 42, 10.1.2.3)": where an error is, built only for one.
std::string where(size_t index, uint64_t endpoint_id = 0, std::string_view first_ip = {}) {
  std::string out = "resources[" + std::to_string(index) + "]";
  if (endpoint_id != 0 || !first_ip.empty()) {
    out += " (endpoint_id " + std::to_string(endpoint_id);
    if (!first_ip.empty()) {
      out += ", " + std::string(first_ip);
    }
    out += ")";
  }
  return out;
}

std::string_view firstIp(const cilium::NetworkPolicy& policy) {
  return policy.endpoint_ips().empty() ? std::string_view() : policy.endpoint_ips(0);
}

// Where a policy was in the update, named by its endpoint id and first IP.
std::string where(size_t index, const cilium::NetworkPolicy& config) {
  return where(index, config.endpoint_id(), firstIp(config));
}
std::string where(size_t index, const EndpointPolicy& policy) {
  return where(index, policy.config());
}

// A resource name as xDS carries it: not empty, no white space.
Status checkName(const std::string& name) {
  if (name.empty()) {
    return Status::error("the resource name is empty");
  }
  if (std::any_of(name.begin(), name.end(), [](unsigned char c) { return std::isspace(c); })) {
    return Status::error("the resource name '" + name + "' contains white space");
  }
  return Status::ok();
}

// The resource names and endpoint IPs of one update: they share one space, as in Cilium.
class Keys {
public:
  // Claims `key` for resource `owner`; fails naming the existing owner.
  Status claim(const std::string& key, const std::string& owner, bool is_ip) {
    auto [it, inserted] = owners_.try_emplace(key, Owner{owner, is_ip});
    if (!inserted) {
      const Owner& other = it->second;
      return Status::error("'" + key + "' is already " +
                           (other.is_ip ? "an endpoint IP of resource '" + other.name + "'"
                                        : "the name of a resource"));
    }
    return Status::ok();
  }
  void release(const std::string& key) { owners_.erase(key); }
  // The resource `key` names: itself when it is a name, "" when unknown; `is_ip` when it is
  // an endpoint IP.
  const std::string* owner(const std::string& key, bool& is_ip) const {
    auto it = owners_.find(key);
    if (it == owners_.end()) {
      return nullptr;
    }
    is_ip = it->second.is_ip;
    return &it->second.name;
  }

private:
  struct Owner {
    std::string name;
    bool is_ip;
  };
  std::unordered_map<std::string, Owner> owners_;
};

Status claimPolicy(Keys& keys, const std::string& name, const EndpointPolicy& policy) {
  Status status = keys.claim(name, name, false);
  for (size_t i = 0; status && i < policy.ips().size(); ++i) {
    status = keys.claim(policy.ips()[i], name, true);
  }
  return status;
}

void releasePolicy(Keys& keys, const std::string& name, const EndpointPolicy& policy) {
  keys.release(name);
  for (const std::string& ip : policy.ips()) {
    keys.release(ip);
  }
}

}  // namespace

PolicyMap::PolicyMap(std::shared_ptr<const SecretSource> secrets)
    : secrets_(std::move(secrets)), current_(std::make_shared<const PolicySnapshot>()) {}

SnapshotPtr PolicyMap::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_;
}

Status PolicyMap::unpack(const envoy::service::discovery::v3::DiscoveryResponse& response,
                         std::vector<cilium::NetworkPolicy>& out) {
  Status status = checkTypeUrl(response.type_url(), kNetworkPolicyTypeUrl);
  if (!status) {
    return status;
  }
  out.clear();
  out.resize(response.resources_size());
  envoy::service::discovery::v3::Resource wrapper;
  for (int i = 0; i < response.resources_size(); ++i) {
    const google::protobuf::Any* any = nullptr;
    status = unwrapResource(response.resources(i), kNetworkPolicyTypeUrl, wrapper, any);
    if (!status) {
      return status.within(where(static_cast<size_t>(i)));
    }
    if (!any->UnpackTo(&out[i])) {
      return Status::error(where(static_cast<size_t>(i)) +
                           ": cannot decode its cilium.NetworkPolicy");
    }
  }
  return Status::ok();
}

Status PolicyMap::compile(const google::protobuf::Any& any, const PolicySnapshot& previous,
                          const std::shared_ptr<google::protobuf::Arena>& arena,
                          CompileContext& context, size_t index,
                          std::shared_ptr<const EndpointPolicy>& out) {
  // A policy that arrives exactly as before is the one already compiled.
  out = previous.byWire(any.value());
  if (out) {
    return Status::ok();
  }
  auto* config = newArenaMessage<cilium::NetworkPolicy>(arena.get());
  if (!config->ParseFromString(any.value())) {
    return Status::error(where(index) + ": cannot decode its cilium.NetworkPolicy");
  }
  const std::string* wire = google::protobuf::Arena::Create<std::string>(arena.get(), any.value());
  return EndpointPolicy::create(config, *wire, arena, context, out).within(where(index, *config));
}

bool PolicyMap::unchanged(const envoy::service::discovery::v3::DiscoveryResponse& response,
                          const PolicySnapshot& previous) {
  const auto& policies = previous.policies();
  if (policies.empty() || static_cast<size_t>(response.resources_size()) != policies.size() ||
      !previous.uniqueEndpointIds()) {
    return false;
  }
  envoy::service::discovery::v3::Resource wrapper;
  for (size_t i = 0; i < policies.size(); ++i) {
    const google::protobuf::Any* any = nullptr;
    const std::string* wrapped = nullptr;
    const EndpointPolicy& policy = *policies[i];
    if (!unwrapResource(response.resources(static_cast<int>(i)), kNetworkPolicyTypeUrl, wrapper,
                        any, &wrapped) ||
        policy.wire().empty() || any->value() != policy.wire()) {
      return false;
    }
    const std::string& name = previous.names()[i];
    if (wrapped != nullptr ? *wrapped != name : name != std::to_string(policy.endpointId())) {
      return false;
    }
  }
  return true;
}

Status PolicyMap::update(const envoy::service::discovery::v3::DiscoveryResponse& response) {
  Status status = checkTypeUrl(response.type_url(), kNetworkPolicyTypeUrl);
  if (!status) {
    return status;
  }
  const SnapshotPtr previous = snapshot();
  if (unchanged(response, *previous)) {
    // What the update below would build from these resources is the snapshot in force (each
    // policy would be the one compiled before, found by its encoding): it stays.
    return Status::ok();
  }
  auto next = std::make_shared<PolicySnapshot>();
  const size_t count = static_cast<size_t>(response.resources_size());
  next->reserve(count);
  CompileContext context(max_program_size_.load());
  // The policies new in this update, and their encodings, live on one arena.
  const auto arena = std::make_shared<google::protobuf::Arena>();
  envoy::service::discovery::v3::Resource wrapper;
  std::vector<std::string> wrapped_names;
  for (size_t i = 0; i < count; ++i) {
    const google::protobuf::Any* any = nullptr;
    const std::string* wrapped = nullptr;
    status = unwrapResource(response.resources(static_cast<int>(i)), kNetworkPolicyTypeUrl, wrapper,
                            any, &wrapped);
    if (!status) {
      return status.within(where(i));
    }
    std::shared_ptr<const EndpointPolicy> policy;
    status = compile(*any, *previous, arena, context, i, policy);
    if (!status) {
      return status;
    }
    // Without a wrapper, a policy's resource name is its endpoint id.
    std::string name = wrapped ? *wrapped : std::to_string(policy->endpointId());
    if (wrapped) {
      status = checkName(name);
      if (status) {
        wrapped_names.push_back(name);
      }
    }
    if (status) {
      status = next->add(policy, std::move(name));
    }
    if (!status) {
      return status.within(where(i, *policy));
    }
  }
  if (!wrapped_names.empty()) {
    // Names given by wrappers must not clash with each other or with endpoint IPs.
    Keys keys;
    for (size_t i = 0; i < next->policies_.size(); ++i) {
      status = claimPolicy(keys, next->names_[i], *next->policies_[i]);
      if (!status) {
        return status.within(where(i, *next->policies_[i]));
      }
    }
  }
  return finishAndInstall(std::move(next), true);
}

Status PolicyMap::update(std::vector<cilium::NetworkPolicy> policies) {
  auto next = std::make_shared<PolicySnapshot>();
  next->reserve(policies.size());
  CompileContext context(max_program_size_.load());
  const auto arena = std::make_shared<google::protobuf::Arena>();
  for (size_t i = 0; i < policies.size(); ++i) {
    const std::string location = where(i, policies[i]);
    auto* config = newArenaMessage<cilium::NetworkPolicy>(arena.get());
    config->CopyFrom(policies[i]);
    std::shared_ptr<const EndpointPolicy> policy;
    Status status = EndpointPolicy::create(config, std::string_view(), arena, context, policy);
    if (status) {
      status = next->add(policy, std::to_string(policy->endpointId()));
    }
    if (!status) {
      return status.within(location);
    }
  }
  return finishAndInstall(std::move(next), true);
}

Status PolicyMap::update(const envoy::service::discovery::v3::DeltaDiscoveryResponse& response) {
  Status status = checkTypeUrl(response.type_url(), kNetworkPolicyTypeUrl);
  if (status) {
    status = checkDeltaNames(response);
  }
  if (!status) {
    return status;
  }
  const SnapshotPtr previous = snapshot();
  // The resources in force, by name, and the space of names and endpoint IPs they claim.
  std::map<std::string, std::shared_ptr<const EndpointPolicy>> resources;
  Keys keys;
  for (size_t i = 0; i < previous->policies_.size(); ++i) {
    resources.emplace(previous->names_[i], previous->policies_[i]);
    claimPolicy(keys, previous->names_[i], *previous->policies_[i]);
  }
  for (const std::string& name : response.removed_resources()) {
    bool is_ip = false;
    const std::string* owner = keys.owner(name, is_ip);
    if (owner == nullptr) {
      const std::string canonical = canonicalIp(name);
      owner = canonical != name ? keys.owner(canonical, is_ip) : nullptr;
      if (owner == nullptr || !is_ip) {
        continue;  // not here: nothing to remove
      }
    }
    if (is_ip) {
      return Status::error("removed resource '" + name + "' is an endpoint IP of resource '" +
                           *owner + "', not a resource name");
    }
    auto found = resources.find(name);
    releasePolicy(keys, name, *found->second);
    resources.erase(found);
  }
  CompileContext context(max_program_size_.load());
  const auto arena = std::make_shared<google::protobuf::Arena>();
  for (int i = 0; i < response.resources_size(); ++i) {
    const auto& resource = response.resources(i);
    const size_t index = static_cast<size_t>(i);
    status = checkName(resource.name());
    if (!status) {
      return status.within(where(index));
    }
    if (!resource.has_resource() || resource.resource().type_url() != kNetworkPolicyTypeUrl) {
      return Status::error(where(index) + " '" + resource.name() + "': type '" +
                           resource.resource().type_url() + "' is not '" +
                           std::string(kNetworkPolicyTypeUrl) + "'");
    }
    // A policy sent again under its name replaces the one in force.
    auto existing = resources.find(resource.name());
    if (existing != resources.end()) {
      releasePolicy(keys, existing->first, *existing->second);
      resources.erase(existing);
    }
    std::shared_ptr<const EndpointPolicy> policy;
    status = compile(resource.resource(), *previous, arena, context, index, policy);
    if (!status) {
      return status;
    }
    status = claimPolicy(keys, resource.name(), *policy);
    if (!status) {
      return status.within(where(index, *policy));
    }
    resources.emplace(resource.name(), std::move(policy));
  }
  auto next = std::make_shared<PolicySnapshot>();
  next->reserve(resources.size());
  for (auto& [name, policy] : resources) {
    status = next->add(policy, name);
    if (!status) {
      return status.within("resource '" + name + "'");
    }
  }
  return finishAndInstall(std::move(next), false);
}

Status PolicyMap::finishAndInstall(std::shared_ptr<PolicySnapshot> next, bool unique_ids) {
  size_t which = 0;
  const Status status = next->finish(unique_ids, which);
  if (!status) {
    return status.within(where(which, *next->policies()[which]));
  }
  install(std::move(next));
  return Status::ok();
}

void PolicyMap::install(SnapshotPtr next) {
  SnapshotPtr old;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    old = std::exchange(current_, std::move(next));
  }
  // `old` is freed here, outside the lock, unless a reader still holds it.
}

}  // namespace Policy
}  // namespace Cilium
