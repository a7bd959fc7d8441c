#include "cilium-filters/policy/policy_map.h"

#include <google/protobuf/arena.h>

#include "cilium-filters/policy/compile_context.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace Cilium {
namespace Policy {
namespace {

constexpr std::string_view kResourceTypeUrl =
    "type.googleapis.com/envoy.service.discovery.v3.Resource";

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

// The NetworkPolicy a resource carries (unwrapping envoy.service.discovery.v3.Resource).
Status policyAny(const google::protobuf::Any& resource, envoy::service::discovery::v3::Resource& wrapper,
                 const google::protobuf::Any*& out) {
  out = &resource;
  if (resource.type_url() == kResourceTypeUrl) {
    if (!resource.UnpackTo(&wrapper)) {
      return Status::error("cannot decode its envoy.service.discovery.v3.Resource");
    }
    out = &wrapper.resource();
  }
  if (out->type_url() != kNetworkPolicyTypeUrl) {
    return Status::error("type '" + out->type_url() + "' is not '" +
                         std::string(kNetworkPolicyTypeUrl) + "'");
  }
  return Status::ok();
}

Status checkTypeUrl(const envoy::service::discovery::v3::DiscoveryResponse& response) {
  if (!response.type_url().empty() && response.type_url() != kNetworkPolicyTypeUrl) {
    return Status::error("type_url is '" + response.type_url() + "', not '" +
                         std::string(kNetworkPolicyTypeUrl) + "'");
  }
  return Status::ok();
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
  Status status = checkTypeUrl(response);
  if (!status) {
    return status;
  }
  out.clear();
  out.resize(response.resources_size());
  envoy::service::discovery::v3::Resource wrapper;
  for (int i = 0; i < response.resources_size(); ++i) {
    const google::protobuf::Any* any = nullptr;
    status = policyAny(response.resources(i), wrapper, any);
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

Status PolicyMap::update(const envoy::service::discovery::v3::DiscoveryResponse& response) {
  Status status = checkTypeUrl(response);
  if (!status) {
    return status;
  }
  const SnapshotPtr previous = snapshot();
  auto next = std::make_shared<PolicySnapshot>();
  const size_t count = static_cast<size_t>(response.resources_size());
  next->policies_.reserve(count);
  next->by_ip_.reserve(count * 2);
  CompileContext context;
  // The policies new in this update, and their encodings, live on one arena.
  const auto arena = std::make_shared<google::protobuf::Arena>();
  envoy::service::discovery::v3::Resource wrapper;
  for (size_t i = 0; i < count; ++i) {
    const google::protobuf::Any* any = nullptr;
    status = policyAny(response.resources(static_cast<int>(i)), wrapper, any);
    if (!status) {
      return status.within(where(i));
    }
    // A policy that arrives exactly as before is the one already compiled.
    std::shared_ptr<const EndpointPolicy> policy = previous->byWire(any->value());
    if (!policy) {
      auto* config = google::protobuf::Arena::Create<cilium::NetworkPolicy>(arena.get());
      if (!config->ParseFromString(any->value())) {
        return Status::error(where(i) + ": cannot decode its cilium.NetworkPolicy");
      }
      const std::string* wire = google::protobuf::Arena::Create<std::string>(arena.get(), any->value());
      status = EndpointPolicy::create(config, *wire, arena, context, policy);
      if (!status) {
        return status.within(where(i, config->endpoint_id(), firstIp(*config)));
      }
    }
    status = next->add(policy);
    if (!status) {
      return status.within(where(i, policy->endpointId(), firstIp(policy->config())));
    }
  }
  return finishAndInstall(std::move(next));
}

Status PolicyMap::update(std::vector<cilium::NetworkPolicy> policies) {
  auto next = std::make_shared<PolicySnapshot>();
  next->policies_.reserve(policies.size());
  next->by_ip_.reserve(policies.size() * 2);
  CompileContext context;
  const auto arena = std::make_shared<google::protobuf::Arena>();
  for (size_t i = 0; i < policies.size(); ++i) {
    const std::string location =
        where(i, policies[i].endpoint_id(), firstIp(policies[i]));
    auto* config = google::protobuf::Arena::Create<cilium::NetworkPolicy>(arena.get());
    config->CopyFrom(policies[i]);
    std::shared_ptr<const EndpointPolicy> policy;
    Status status = EndpointPolicy::create(config, std::string_view(), arena, context, policy);
    if (!status) {
      return status.within(location);
    }
    status = next->add(policy);
    if (!status) {
      return status.within(location);
    }
  }
  return finishAndInstall(std::move(next));
}

Status PolicyMap::finishAndInstall(std::shared_ptr<PolicySnapshot> next) {
  size_t which = 0;
  const Status status = next->finish(which);
  if (!status) {
    const EndpointPolicy& policy = *next->policies()[which];
    return status.within(where(which, policy.endpointId(), firstIp(policy.config())));
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

} // namespace Policy
} // namespace Cilium
