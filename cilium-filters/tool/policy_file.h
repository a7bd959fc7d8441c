#pragma once

#include <string>
#include <string_view>

#include "cilium-filters/policy/base/status.h"
#include "cilium-filters/policy/xds/discovery_fwd.h"

namespace google {
namespace protobuf {
class Value;
} // namespace protobuf
} // namespace google

namespace Cilium {
namespace PolicyTool {

// Reads policy text for `check` and `explain`: YAML or JSON (JSON is YAML) holding a
// DiscoveryResponse (as NPDS sends it), a single NetworkPolicy, or a list of them.
Policy::Status parsePolicyText(std::string_view text,
                               envoy::service::discovery::v3::DiscoveryResponse& out);
Policy::Status loadPolicyFile(const std::string& path,
                              envoy::service::discovery::v3::DiscoveryResponse& out);

// A YAML document as a JSON value, scalars typed the way Envoy reads YAML config: quoted
// scalars are strings, plain ones are booleans, numbers or null when they read so (an
// integer beyond a double's exact range stays a string, which proto3 JSON also reads).
Policy::Status yamlToValue(std::string_view yaml, google::protobuf::Value& out);

} // namespace PolicyTool
} // namespace Cilium
