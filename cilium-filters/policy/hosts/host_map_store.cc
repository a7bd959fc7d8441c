#include "cilium-filters/policy/hosts/host_map_store.h"

#include <charconv>

#include "cilium-filters/policy/xds/xds_resource.h"
#include "cilium/api/nphds.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace Cilium {
namespace Policy {
namespace {

// The resource of an update as cilium.NetworkPolicyHosts. Its validate rules (addresses
// unique and not empty) are not checked here with protoc-gen-validate's generated Validate():
// HostMap::build refuses every update they refuse, and more (an empty text is no address; the
// same text twice is the same prefix twice, which it refuses even when spelled otherwise), and
// the generated check, a hash set of every address of every message, cost as much as the
// whole update's parse (BM_HostsUpdate / BM_HostsParse 2.28 with it, 1.2-1.4 without).
// HostMapStoreTest.ValidateRulesRefusedWithoutValidate holds the two to the same verdicts.
// `wrapper` is reused across the resources of one update; `index` names the resource, its
// text made only when there is something to report.
Status unpackHosts(const google::protobuf::Any& any, cilium::NetworkPolicyHosts& out, int index,
                   envoy::service::discovery::v3::Resource& wrapper) {
  const auto where = [index] { return "resources[" + std::to_string(index) + "]"; };
  const google::protobuf::Any* inner = nullptr;
  Status status = unwrapResource(any, kNetworkPolicyHostsTypeUrl, wrapper, inner);
  if (!status) {
    return status.within(where());
  }
  if (!inner->UnpackTo(&out)) {
    return Status::error(where() + ": cannot decode its cilium.NetworkPolicyHosts");
  }
  return Status::ok();
}

}  // namespace

HostMapStore::HostMapStore() {
  std::shared_ptr<const HostMap> empty;
  HostMap::build({}, empty);
  current_ = std::move(empty);
}

std::shared_ptr<const HostMap> HostMapStore::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_;
}

void HostMapStore::install(std::shared_ptr<const HostMap> next) {
  std::shared_ptr<const HostMap> old;
  std::lock_guard<std::mutex> lock(mutex_);
  old = std::exchange(current_, std::move(next));
}

Status HostMapStore::update(const envoy::service::discovery::v3::DiscoveryResponse& response) {
  Status checked = checkTypeUrl(response.type_url(), kNetworkPolicyHostsTypeUrl);
  if (!checked) {
    return checked;
  }
  std::vector<cilium::NetworkPolicyHosts> hosts(response.resources_size());
  std::vector<const cilium::NetworkPolicyHosts*> pointers;
  pointers.reserve(hosts.size());
  envoy::service::discovery::v3::Resource wrapper;
  for (int i = 0; i < response.resources_size(); ++i) {
    Status status = unpackHosts(response.resources(i), hosts[i], i, wrapper);
    if (!status) {
      return status;
    }
    pointers.push_back(&hosts[i]);
  }
  std::shared_ptr<const HostMap> next;
  Status status = HostMap::build(pointers, next);
  if (status) {
    install(std::move(next));
  }
  return status;
}

Status HostMapStore::update(const envoy::service::discovery::v3::DeltaDiscoveryResponse& response) {
  Status checked = checkTypeUrl(response.type_url(), kNetworkPolicyHostsTypeUrl);
  if (checked) {
    checked = checkDeltaNames(response);
  }
  if (!checked) {
    return checked;
  }
  std::vector<uint64_t> removed;
  for (const std::string& name : response.removed_resources()) {
    uint64_t identity = 0;
    const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), identity);
    if (name.empty() || error != std::errc() || end != name.data() + name.size()) {
      return Status::error("removed resource '" + name + "' is not an identity in decimal");
    }
    removed.push_back(identity);
  }
  std::vector<cilium::NetworkPolicyHosts> hosts(response.resources_size());
  std::vector<const cilium::NetworkPolicyHosts*> pointers;
  pointers.reserve(hosts.size());
  envoy::service::discovery::v3::Resource wrapper;
  for (int i = 0; i < response.resources_size(); ++i) {
    const auto& resource = response.resources(i);
    if (!resource.has_resource()) {
      return Status::error("resources[" + std::to_string(i) + "] '" + resource.name() +
                           "' has no resource");
    }
    Status status = unpackHosts(resource.resource(), hosts[i], i, wrapper);
    if (!status) {
      return status;
    }
    pointers.push_back(&hosts[i]);
  }
  std::shared_ptr<const HostMap> next;
  Status status = HostMap::apply(*snapshot(), removed, pointers, next);
  if (status) {
    install(std::move(next));
  }
  return status;
}

}  // namespace Policy
}  // namespace Cilium
