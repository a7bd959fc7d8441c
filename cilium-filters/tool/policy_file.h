#pragma once

#include <string>
#include <string_view>

#include "cilium-filters/policy/discovery_fwd.h"
#include "cilium-filters/policy/status.h"

namespace Cilium {
namespace PolicyTool {

// Reads policy text for `check` and `explain`: YAML or JSON (JSON is YAML) holding a
// DiscoveryResponse (as NPDS sends it), a single NetworkPolicy, or a list of them.
Policy::Status parsePolicyText(std::string_view text,
                               envoy::service::discovery::v3::DiscoveryResponse& out);
Policy::Status loadPolicyFile(const std::string& path,
                              envoy::service::discovery::v3::DiscoveryResponse& out);

// The JSON text of a YAML document, scalars typed the way Envoy reads YAML config:
// quoted scalars are strings, plain ones are booleans, numbers or null when they read so.
Policy::Status yamlToJson(std::string_view yaml, std::string& json);

} // namespace PolicyTool
} // namespace Cilium
