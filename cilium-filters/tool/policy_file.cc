#include "cilium-filters/tool/policy_file.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <re2/re2.h>
#include <sstream>

#include "cilium-filters/policy/compile/policy_map.h"
#include "cilium-filters/tool/eval.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace Cilium {
namespace PolicyTool {
namespace {

using google::protobuf::Value;

// A plain scalar's value, typed as Envoy types YAML config. An integer a double cannot
// hold exactly (a 64-bit id) stays text: proto3 JSON reads integers from strings too.
void scalar(const YAML::Node& node, Value& out) {
  static const re2::RE2 number("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?");
  static const re2::RE2 integer("-?[0-9]+");
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") { // quoted
    out.set_string_value(text);
  } else if (text == "true" || text == "True" || text == "TRUE") {
    out.set_bool_value(true);
  } else if (text == "false" || text == "False" || text == "FALSE") {
    out.set_bool_value(false);
  } else if (text == "null" || text == "Null" || text == "NULL" || text == "~") {
    out.set_null_value(google::protobuf::NULL_VALUE);
  } else if (re2::RE2::FullMatch(text, number)) {
    const double value = std::strtod(text.c_str(), nullptr);
    constexpr double kExact = 9007199254740992.0; // 2^53: from here on, not every integer is
    if (std::isinf(value) || (re2::RE2::FullMatch(text, integer) && std::fabs(value) >= kExact)) {
      out.set_string_value(text);
    } else {
      out.set_number_value(value);
    }
  } else {
    out.set_string_value(text);
  }
}

void convert(const YAML::Node& node, Value& out) {
  switch (node.Type()) {
  case YAML::NodeType::Null:
  case YAML::NodeType::Undefined:
    out.set_null_value(google::protobuf::NULL_VALUE);
    return;
  case YAML::NodeType::Scalar:
    scalar(node, out);
    return;
  case YAML::NodeType::Sequence: {
    auto* list = out.mutable_list_value();
    for (const auto& item : node) {
      convert(item, *list->add_values());
    }
    return;
  }
  case YAML::NodeType::Map: {
    auto* fields = out.mutable_struct_value()->mutable_fields();
    for (const auto& member : node) {
      convert(member.second, (*fields)[member.first.as<std::string>()]);
    }
    return;
  }
  }
}

bool looksLikePolicy(const Value& value) {
  if (!value.has_struct_value()) {
    return false;
  }
  const auto& fields = value.struct_value().fields();
  for (const char* key : {"endpoint_ips", "endpointIps", "endpoint_id", "endpointId",
                          "ingress_per_port_policies", "ingressPerPortPolicies",
                          "egress_per_port_policies", "egressPerPortPolicies"}) {
    if (fields.count(key) > 0) {
      return true;
    }
  }
  return false;
}

} // namespace

Policy::Status yamlToValue(std::string_view yaml, Value& out) {
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    out.Clear();
    convert(root, out);
  } catch (const YAML::Exception& e) {
    return Policy::Status::error(std::string("not valid YAML or JSON: ") + e.what());
  }
  return Policy::Status::ok();
}

Policy::Status parsePolicyText(std::string_view text,
                               envoy::service::discovery::v3::DiscoveryResponse& out) {
  Value document;
  Policy::Status status = yamlToValue(text, document);
  if (!status) {
    return status;
  }
  // A bare policy, or a list of them, is wrapped into the response NPDS would send.
  if (document.has_list_value() || looksLikePolicy(document)) {
    Value response;
    auto* resources =
        (*response.mutable_struct_value()->mutable_fields())["resources"].mutable_list_value();
    const bool list = document.has_list_value();
    const int count = list ? document.list_value().values_size() : 1;
    for (int i = 0; i < count; ++i) {
      Value& policy = *resources->add_values();
      policy = list ? document.list_value().values(i) : document;
      if (!policy.has_struct_value()) {
        return Policy::Status::error("item " + std::to_string(i) + " of the list is not a policy");
      }
      (*policy.mutable_struct_value()->mutable_fields())["@type"].set_string_value(
          std::string(Policy::kNetworkPolicyTypeUrl));
    }
    document = std::move(response);
  }
  std::string json;
  const auto written = google::protobuf::util::MessageToJsonString(document, &json);
  if (!written.ok()) {
    return Policy::Status::error("cannot read the policy: " + std::string(written.message()));
  }
  return parseDiscoveryResponse(json, out);
}

Policy::Status loadPolicyFile(const std::string& path,
                              envoy::service::discovery::v3::DiscoveryResponse& out) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Policy::Status::error("cannot read " + path);
  }
  std::ostringstream text;
  text << file.rdbuf();
  return parsePolicyText(text.str(), out).within(path);
}

} // namespace PolicyTool
} // namespace Cilium
