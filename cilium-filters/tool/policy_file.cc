#include "cilium-filters/tool/policy_file.h"

#include <fcntl.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <re2/re2.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "cilium-filters/policy/compile/policy_map.h"
#include "cilium-filters/tool/eval.h"
#include "cilium-filters/tool/field_names.h"
#include "cilium/api/npds.pb.h"
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
  if (node.Tag() == "!") {  // quoted
    out.set_string_value(text);
  } else if (text == "true" || text == "True" || text == "TRUE") {
    out.set_bool_value(true);
  } else if (text == "false" || text == "False" || text == "FALSE") {
    out.set_bool_value(false);
  } else if (text == "null" || text == "Null" || text == "NULL" || text == "~") {
    out.set_null_value(google::protobuf::NULL_VALUE);
  } else if (re2::RE2::FullMatch(text, number)) {
    const double value = std::strtod(text.c_str(), nullptr);
    constexpr double kExact = 9007199254740992.0;  // 2^53: from here on, not every integer is
    if (std::isinf(value) || (re2::RE2::FullMatch(text, integer) && std::fabs(value) >= kExact)) {
      out.set_string_value(text);
    } else {
      out.set_number_value(value);
    }
  } else {
    out.set_string_value(text);
  }
}

void convert(const YAML::Node& node, Value& out, Lines* lines) {
  if (lines != nullptr) {
    (*lines)[&out] = node.Mark().line + 1;
  }
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
        convert(item, *list->add_values(), lines);
      }
      return;
    }
    case YAML::NodeType::Map: {
      auto* fields = out.mutable_struct_value()->mutable_fields();
      for (const auto& member : node) {
        convert(member.second, (*fields)[member.first.as<std::string>()], lines);
      }
      return;
    }
  }
}

// A document is a DiscoveryResponse when it has a member naming one of its fields; other
// objects are policies (so a misspelt policy field is reported against NetworkPolicy).
bool looksLikeResponse(const Value& value) {
  const auto* type = envoy::service::discovery::v3::DiscoveryResponse::descriptor();
  for (const auto& [name, member] : value.struct_value().fields()) {
    if (type->FindFieldByName(name) != nullptr || type->FindFieldByCamelcaseName(name) != nullptr) {
      return true;
    }
  }
  return false;
}

std::string problemsText(const std::vector<Problem>& problems) {
  std::string out;
  for (const Problem& problem : problems) {
    out += (out.empty() ? "" : "\n  ") + problemText("", problem);
  }
  return out;
}

}  // namespace

int PolicyDocument::lineOf(std::string path) const {
  while (true) {
    const auto found = lines.find(path);
    if (found != lines.end()) {
      return found->second;
    }
    const size_t cut = path.find_last_of(".[");
    if (path.empty()) {
      return 0;
    }
    path = cut == std::string::npos ? "" : path.substr(0, cut);
  }
}

std::string problemText(const std::string& file, const Problem& problem) {
  std::string out = file;
  if (problem.line > 0) {
    out += (out.empty() ? "line " : ":") + std::to_string(problem.line);
  }
  if (!problem.where.empty()) {
    out += (out.empty() ? "" : ": ") + problem.where;
  }
  return out + (out.empty() ? "" : ": ") + problem.message;
}

Policy::Status yamlToValue(std::string_view yaml, Value& out, Lines* lines) {
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    out.Clear();
    convert(root, out, lines);
  } catch (const YAML::Exception& e) {
    return Policy::Status::error(std::string("not valid YAML or JSON: ") + e.what());
  }
  return Policy::Status::ok();
}

Policy::Status parsePolicyDocument(std::string_view text, PolicyDocument& out,
                                   std::vector<Problem>& problems) {
  Value document;
  Lines lines;
  Policy::Status status = yamlToValue(text, document, &lines);
  if (!status) {
    return status;
  }
  out = PolicyDocument();
  auto lineOf = [&lines](const Value& value) {
    const auto found = lines.find(&value);
    return found == lines.end() ? 0 : found->second;
  };
  const VisitFn record = [&](const std::string& path, const Value& value) {
    if (const int line = lineOf(value); line > 0) {
      out.lines.emplace(path, line);
    }
  };
  std::vector<UnknownField> unknown;
  auto check = [&](const Value& value, const google::protobuf::Descriptor& type,
                   const std::string& path) {
    for (UnknownField& field : unknownFields(value, type, path, record)) {
      if (!(field.name == "@type" && field.path == path &&
            &type == cilium::NetworkPolicy::descriptor())) {
        unknown.push_back(std::move(field));
      }
    }
  };
  const bool list = document.has_list_value();
  if (!list && !document.has_struct_value()) {
    return Policy::Status::error(
        "the file holds no policy: expected a DiscoveryResponse, one "
        "NetworkPolicy or a list of them (see examples/policies/)");
  }
  if (!list && looksLikeResponse(document)) {
    check(document, *envoy::service::discovery::v3::DiscoveryResponse::descriptor(), "");
    const auto& fields = document.struct_value().fields();
    const auto resources = fields.find("resources");
    const int count = resources != fields.end() && resources->second.has_list_value()
                          ? resources->second.list_value().values_size()
                          : 0;
    for (int i = 0; i < count; ++i) {
      out.policy_paths.push_back("resources[" + std::to_string(i) + "]");
    }
  } else {
    // A bare policy, or a list of them, is wrapped into the response NPDS would send.
    Value response;
    auto* wrapped =
        (*response.mutable_struct_value()->mutable_fields())["resources"].mutable_list_value();
    const int count = list ? document.list_value().values_size() : 1;
    for (int i = 0; i < count; ++i) {
      const Value& item = list ? document.list_value().values(i) : document;
      const std::string path = list ? "[" + std::to_string(i) + "]" : "";
      if (!item.has_struct_value()) {
        return Policy::Status::error("line " + std::to_string(lineOf(item)) + ": item " +
                                     std::to_string(i) + " of the list is not a policy");
      }
      check(item, *cilium::NetworkPolicy::descriptor(), path);
      out.policy_paths.push_back(path);
      Value& policy = *wrapped->add_values();
      policy = item;
      (*policy.mutable_struct_value()->mutable_fields())["@type"].set_string_value(
          std::string(Policy::kNetworkPolicyTypeUrl));
    }
    document = std::move(response);
  }
  const size_t first = problems.size();
  for (const UnknownField& field : unknown) {
    problems.push_back({lineOf(*field.value), field.path, describeUnknownField(field)});
  }
  std::stable_sort(problems.begin() + static_cast<std::ptrdiff_t>(first), problems.end(),
                   [](const Problem& a, const Problem& b) { return a.line < b.line; });
  if (!unknown.empty()) {
    return Policy::Status::error(std::to_string(unknown.size()) + " unknown field" +
                                 (unknown.size() == 1 ? "" : "s"));
  }
  std::string json;
  const auto written = google::protobuf::util::MessageToJsonString(document, &json);
  if (!written.ok()) {
    return Policy::Status::error("cannot read the policy: " + std::string(written.message()));
  }
  status = parseDiscoveryResponse(json, out.response);
  if (!status) {
    const std::string_view message = status.message();
    return Policy::Status::error(std::string(message.substr(0, message.find('\n'))));
  }
  return Policy::Status::ok();
}

Policy::Status parsePolicyText(std::string_view text,
                               envoy::service::discovery::v3::DiscoveryResponse& out) {
  PolicyDocument document;
  std::vector<Problem> problems;
  const Policy::Status status = parsePolicyDocument(text, document, problems);
  if (!problems.empty()) {
    return Policy::Status::error(status.message() + ":\n  " + problemsText(problems));
  }
  if (status) {
    out = std::move(document.response);
  }
  return status;
}

std::string absolutePath(const std::string& path) {
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(path, error);
  return error ? path : absolute.lexically_normal().string();
}

Policy::Status readTextFile(const std::string& path, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    return Policy::Status::error("cannot read " + absolutePath(path) + ": " + std::strerror(error));
  }
  out.clear();
  char buffer[65536];
  while (true) {
    const ssize_t got = ::read(fd, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      const int error = errno;
      ::close(fd);
      return Policy::Status::error("cannot read " + absolutePath(path) + ": " +
                                   std::strerror(error));
    }
    if (got == 0) {
      break;
    }
    out.append(buffer, static_cast<size_t>(got));
  }
  ::close(fd);
  return Policy::Status::ok();
}

Policy::Status loadPolicyFile(const std::string& path,
                              envoy::service::discovery::v3::DiscoveryResponse& out) {
  std::string text;
  const Policy::Status status = readTextFile(path, text);
  if (!status) {
    return status;
  }
  return parsePolicyText(text, out).within(absolutePath(path));
}

}  // namespace PolicyTool
}  // namespace Cilium
