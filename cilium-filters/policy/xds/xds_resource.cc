#include "cilium-filters/policy/xds/xds_resource.h"

#include <string_view>
#include <unordered_set>

#include "envoy/service/discovery/v3/discovery.pb.h"

namespace Cilium {
namespace Policy {

Status checkTypeUrl(const std::string& type_url, std::string_view expected) {
  if (!type_url.empty() && type_url != expected) {
    return Status::error("type_url is '" + type_url + "', not '" + std::string(expected) + "'");
  }
  return Status::ok();
}

Status unwrapResource(const google::protobuf::Any& resource, std::string_view expected,
                      envoy::service::discovery::v3::Resource& wrapper,
                      const google::protobuf::Any*& out, const std::string** name) {
  out = &resource;
  if (name) {
    *name = nullptr;
  }
  if (resource.type_url() == kResourceTypeUrl) {
    if (!resource.UnpackTo(&wrapper)) {
      return Status::error("cannot decode its envoy.service.discovery.v3.Resource");
    }
    out = &wrapper.resource();
    if (name && !wrapper.name().empty()) {
      *name = &wrapper.name();
    }
  }
  if (out->type_url() != expected) {
    return Status::error("type '" + out->type_url() + "' is not '" + std::string(expected) + "'");
  }
  return Status::ok();
}

std::string resourceTypeUrl(const google::protobuf::Any& resource) {
  if (resource.type_url() == kResourceTypeUrl) {
    envoy::service::discovery::v3::Resource wrapper;
    if (resource.UnpackTo(&wrapper)) {
      return wrapper.resource().type_url();
    }
  }
  return resource.type_url();
}

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

}  // namespace Policy
}  // namespace Cilium
