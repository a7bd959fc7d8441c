#pragma once

#include <string>
#include <string_view>

#include "cilium-filters/policy/base/status.h"
#include "cilium-filters/policy/xds/discovery_fwd.h"

namespace google {
namespace protobuf {
class Any;
}  // namespace protobuf
}  // namespace google

namespace envoy {
namespace service {
namespace discovery {
namespace v3 {
class Resource;
}  // namespace v3
}  // namespace discovery
}  // namespace service
}  // namespace envoy

namespace Cilium {
namespace Policy {

// What both maps (NPDS and NPHDS) check of an xDS response before reading its resources.

inline constexpr std::string_view kResourceTypeUrl =
    "type.googleapis.com/envoy.service.discovery.v3.Resource";

// A response's type_url, when it has one, must be `expected`.
Status checkTypeUrl(const std::string& type_url, std::string_view expected);

// The resource inside `resource`: itself, or what an envoy.service.discovery.v3.Resource
// wrapper (decoded into `wrapper`) holds, whose type must be `expected`. `name`, when
// given, is set to the wrapper's resource name (null without a wrapper or name).
Status unwrapResource(const google::protobuf::Any& resource, std::string_view expected,
                      envoy::service::discovery::v3::Resource& wrapper,
                      const google::protobuf::Any*& out, const std::string** name = nullptr);

// The type URL of what `resource` carries, looking inside a Resource wrapper.
std::string resourceTypeUrl(const google::protobuf::Any& resource);

// What Envoy's delta xDS client refuses before any subscriber sees a response: a name that
// appears twice among the added resources and the removed ones together.
Status checkDeltaNames(const envoy::service::discovery::v3::DeltaDiscoveryResponse& response);

}  // namespace Policy
}  // namespace Cilium
