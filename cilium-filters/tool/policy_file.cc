#include "cilium-filters/tool/policy_file.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <re2/re2.h>
#include <sstream>

#include "cilium-filters/policy/policy_map.h"
#include "cilium-filters/tool/eval.h"
#include "cilium-filters/tool/json.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace Cilium {
namespace PolicyTool {
namespace {

bool isJsonNumber(const std::string& text) {
  static const re2::RE2 number("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?");
  return re2::RE2::FullMatch(text, number);
}

void scalar(const YAML::Node& node, std::string& out) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") { // quoted
    out += JsonWriter::quote(text);
    return;
  }
  if (text == "true" || text == "True" || text == "TRUE" || text == "false" || text == "False" ||
      text == "FALSE") {
    out += (text[0] == 't' || text[0] == 'T') ? "true" : "false";
  } else if (text == "null" || text == "Null" || text == "NULL" || text == "~") {
    out += "null";
  } else if (isJsonNumber(text)) {
    out += text;
  } else {
    out += JsonWriter::quote(text);
  }
}

void convert(const YAML::Node& node, std::string& out) {
  switch (node.Type()) {
  case YAML::NodeType::Null:
  case YAML::NodeType::Undefined:
    out += "null";
    return;
  case YAML::NodeType::Scalar:
    scalar(node, out);
    return;
  case YAML::NodeType::Sequence: {
    out += '[';
    bool first = true;
    for (const auto& item : node) {
      if (!first) {
        out += ',';
      }
      first = false;
      convert(item, out);
    }
    out += ']';
    return;
  }
  case YAML::NodeType::Map: {
    out += '{';
    bool first = true;
    for (const auto& member : node) {
      if (!first) {
        out += ',';
      }
      first = false;
      out += JsonWriter::quote(member.first.as<std::string>());
      out += ':';
      convert(member.second, out);
    }
    out += '}';
    return;
  }
  }
}

bool looksLikePolicy(const Json& value) {
  if (!value.isObject()) {
    return false;
  }
  for (const char* key : {"endpoint_ips", "endpointIps", "endpoint_id", "endpointId",
                          "ingress_per_port_policies", "ingressPerPortPolicies",
                          "egress_per_port_policies", "egressPerPortPolicies"}) {
    if (value.find(key) != nullptr) {
      return true;
    }
  }
  return false;
}

} // namespace

Policy::Status yamlToJson(std::string_view yaml, std::string& json) {
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    json.clear();
    convert(root, json);
  } catch (const YAML::Exception& e) {
    return Policy::Status::error(std::string("not valid YAML or JSON: ") + e.what());
  }
  return Policy::Status::ok();
}

Policy::Status parsePolicyText(std::string_view text,
                               envoy::service::discovery::v3::DiscoveryResponse& out) {
  std::string json;
  Policy::Status status = yamlToJson(text, json);
  if (!status) {
    return status;
  }
  Json document;
  std::string error;
  if (!Json::parse(json, document, error)) {
    return Policy::Status::error("cannot read the policy: " + error);
  }
  // A bare policy, or a list of them, is wrapped into the response NPDS would send.
  std::vector<const Json*> policies;
  if (document.isArray()) {
    for (const Json& item : document.items()) {
      policies.push_back(&item);
    }
  } else if (looksLikePolicy(document)) {
    policies.push_back(&document);
  } else {
    return parseDiscoveryResponse(json, out);
  }
  std::string wrapped = "{\"resources\":[";
  for (size_t i = 0; i < policies.size(); ++i) {
    if (!policies[i]->isObject()) {
      return Policy::Status::error("item " + std::to_string(i) + " of the list is not a policy");
    }
    wrapped += i ? "," : "";
    wrapped += "{\"@type\":\"" + std::string(Policy::kNetworkPolicyTypeUrl) + "\"";
    const std::string_view body = policies[i]->raw();
    if (body.size() > 2) {
      wrapped += ",";
      wrapped += body.substr(1, body.size() - 2);
    }
    wrapped += "}";
  }
  wrapped += "]}";
  return parseDiscoveryResponse(wrapped, out);
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
