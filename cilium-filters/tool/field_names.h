#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace google {
namespace protobuf {
class Descriptor;
class Value;
}  // namespace protobuf
}  // namespace google

namespace Cilium {
namespace PolicyTool {

// A member of a JSON/YAML document that names no field of the message it is read as.
struct UnknownField {
  std::string path;  // where, by field names: "ingress_per_port_policies[0].rules[1]"
  std::string name;  // the member as written
  const google::protobuf::Descriptor* type{nullptr};  // the message being read there
  std::vector<std::string> close;  // its field names that are spelled most like `name`
  const google::protobuf::Value* value{nullptr};  // the member's value in the document
};

// Called for every value the walk visits as part of a message, with its path by field names.
using VisitFn = std::function<void(const std::string& path, const google::protobuf::Value&)>;

// Reads `document` as the message `type` would read it from proto3 JSON (field names or
// their JSON names; google.protobuf.Any by its "@type") and lists every member that names no
// field, with the field names of that message that are spelled most like it. What protobuf's
// JSON parser would refuse for other reasons (types, values) is left to it.
std::vector<UnknownField> unknownFields(const google::protobuf::Value& document,
                                        const google::protobuf::Descriptor& type,
                                        const std::string& path = "",
                                        const VisitFn& visit = nullptr);

// The field names of `type` within a small edit distance of `name` (ignoring case), closest
// first; at most three.
std::vector<std::string> closeFieldNames(std::string_view name,
                                         const google::protobuf::Descriptor& type);

// "unknown field "x" in cilium.NetworkPolicy; did you mean "y"?" (else its field names).
std::string describeUnknownField(const UnknownField& field);

}  // namespace PolicyTool
}  // namespace Cilium
