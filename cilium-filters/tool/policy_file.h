#pragma once

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cilium-filters/policy/base/status.h"
#include "cilium-filters/policy/xds/discovery_fwd.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace google {
namespace protobuf {
class Value;
}  // namespace protobuf
}  // namespace google

namespace Cilium {
namespace PolicyTool {

// Where each value of a YAML document starts: its line (1-based).
using Lines = std::unordered_map<const google::protobuf::Value*, int>;

// One thing wrong with a policy file, where it is.
struct Problem {
  int line{0};        // 0: the file as a whole
  std::string where;  // the path in the file: "[0].ingress_per_port_policies[1].rules[0]"
  std::string message;
};

// A policy file as read: the DiscoveryResponse it is, and where each part of it was.
struct PolicyDocument {
  envoy::service::discovery::v3::DiscoveryResponse response;
  // Per resource, the path of its policy in the file ("" for a bare policy, "[1]" in a
  // list, "resources[1]" in a DiscoveryResponse).
  std::vector<std::string> policy_paths;
  // The line of each path (by field names) the file spells out.
  std::map<std::string, int> lines;

  // The line of `path`, or of its closest ancestor the file spells out (0: none).
  int lineOf(std::string path) const;
};

// Reads policy text for `check`, `explain` and `lint`: YAML or JSON (JSON is YAML) holding a
// DiscoveryResponse (as NPDS sends it), a single NetworkPolicy, or a list of them. A
// document with any DiscoveryResponse field is read as one, else as policies. Members that
// name no field are all listed in `problems` (with the field names they are closest to);
// the status then says how many.
Policy::Status parsePolicyDocument(std::string_view text, PolicyDocument& out,
                                   std::vector<Problem>& problems);
// The same, the problems folded into the status's message (one per line).
Policy::Status parsePolicyText(std::string_view text,
                               envoy::service::discovery::v3::DiscoveryResponse& out);

// A file's bytes; a failure names the file by its absolute path and says why (the system's
// words for errno: "No such file or directory", "Permission denied", ...).
Policy::Status readTextFile(const std::string& path, std::string& out);
Policy::Status loadPolicyFile(const std::string& path,
                              envoy::service::discovery::v3::DiscoveryResponse& out);

// The absolute form of `path` (from the working directory), for messages.
std::string absolutePath(const std::string& path);

// "file:12: where: message" (the parts it has).
std::string problemText(const std::string& file, const Problem& problem);

// A YAML document as a JSON value, scalars typed the way Envoy reads YAML config: quoted
// scalars are strings, plain ones are booleans, numbers or null when they read so (an
// integer beyond a double's exact range stays a string, which proto3 JSON also reads).
// `lines`, when given, gets the line each value starts on.
Policy::Status yamlToValue(std::string_view yaml, google::protobuf::Value& out,
                           Lines* lines = nullptr);

}  // namespace PolicyTool
}  // namespace Cilium
