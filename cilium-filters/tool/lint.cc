#include "cilium-filters/tool/lint.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <re2/re2.h>

#include <algorithm>
#include <exception>
#include <functional>

#include "cilium-filters/policy/compile/policy_map.h"
#include "cilium-filters/policy/compile/sni_pattern.h"
#include "cilium-filters/policy/hosts/host_map_store.h"
#include "cilium-filters/policy/xds/xds_resource.h"
#include "cilium/api/npds.pb.h"
#include "cilium/api/nphds.pb.h"
#include "envoy/type/matcher/v3/regex.pb.h"
#include "validate/validate.h"

// Cilium's agent still sends google_re2.max_program_size, which Envoy marked deprecated.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace Cilium {
namespace PolicyTool {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Visits every message below `message` (itself included), children before their parent;
// `path` by field names, as the file's paths are written.
void forEachMessage(const Message& message, const std::string& path,
                    const std::function<void(const Message&, const std::string&)>& visit) {
  const Reflection& reflection = *message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection.ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    }
    const std::string field_path = path.empty() ? field->name() : path + "." + field->name();
    if (field->is_map()) {
      const FieldDescriptor* key = field->message_type()->map_key();
      const FieldDescriptor* value = field->message_type()->map_value();
      for (int i = 0; i < reflection.FieldSize(message, field); ++i) {
        const Message& entry = reflection.GetRepeatedMessage(message, field, i);
        if (value->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          const std::string name = entry.GetReflection()->GetString(entry, key);
          forEachMessage(entry.GetReflection()->GetMessage(entry, value),
                         field_path + "[\"" + name + "\"]", visit);
        }
      }
    } else if (field->is_repeated()) {
      for (int i = 0; i < reflection.FieldSize(message, field); ++i) {
        forEachMessage(reflection.GetRepeatedMessage(message, field, i),
                       field_path + "[" + std::to_string(i) + "]", visit);
      }
    } else {
      forEachMessage(reflection.GetMessage(message, field), field_path, visit);
    }
  }
  visit(message, path);
}

// The message's own validate rules broken (protoc-gen-validate's first words for it), or "".
std::string validateProblem(const Message& message) {
  std::string error;
  try {
    if (pgv::BaseValidator::AbstractCheckMessage(message, &error)) {
      return "";
    }
  } catch (const std::exception& e) {
    return "";
  }
  return error.empty() ? "breaks a validate rule" : error;
}

RegexSize measure(const std::string& pattern, const std::string& regex, uint32_t limit,
                  bool own_limit) {
  RegexSize out;
  out.pattern = pattern;
  out.regex = regex;
  out.limit = limit;
  out.own_limit = own_limit;
  const re2::RE2 compiled(regex, re2::RE2::Quiet);
  out.size = compiled.ok() ? compiled.ProgramSize() : -1;
  return out;
}

std::string quoted(const std::string& text) { return "'" + text + "'"; }

constexpr std::string_view kEnvoyRefuses = " (Envoy refuses the whole update)";

}  // namespace

LintReport lintPolicyText(std::string_view text, uint32_t limit) {
  LintReport report;
  PolicyDocument document;
  Policy::Status status = parsePolicyDocument(text, document, report.problems);
  if (!status) {
    if (report.problems.empty()) {
      report.problems.push_back({0, "", status.message()});
    }
    for (Problem& problem : report.problems) {
      problem.message += kEnvoyRefuses;
    }
    return report;
  }
  const auto& response = document.response;
  const bool hosts =
      response.type_url().empty()
          ? response.resources_size() > 0 &&
                Policy::resourceTypeUrl(response.resources(0)) == Policy::kNetworkPolicyHostsTypeUrl
          : response.type_url() == Policy::kNetworkPolicyHostsTypeUrl;
  if (hosts) {
    // Host map entries (NPHDS): the update's own checks, which name the entry at fault.
    Policy::HostMapStore store;
    status = store.update(response);
    if (!status) {
      report.problems.push_back({0, "", status.message() + std::string(kEnvoyRefuses)});
    }
    return report;
  }
  std::vector<cilium::NetworkPolicy> policies;
  status = Policy::PolicyMap::unpack(document.response, policies);
  if (!status) {
    report.problems.push_back({0, "", status.message() + std::string(kEnvoyRefuses)});
    return report;
  }
  auto add = [&](const std::string& where, std::string message) {
    report.problems.push_back(
        {document.lineOf(where), where, std::move(message) + std::string(kEnvoyRefuses)});
  };
  std::vector<bool> compiles(policies.size(), true);
  for (size_t i = 0; i < policies.size(); ++i) {
    const std::string& root = document.policy_paths[i];
    bool valid = true;
    forEachMessage(policies[i], root, [&](const Message& message, const std::string& path) {
      valid = valid && validateProblem(message).empty();
      if (message.GetDescriptor() == envoy::type::matcher::v3::RegexMatcher::descriptor()) {
        const auto& matcher = static_cast<const envoy::type::matcher::v3::RegexMatcher&>(message);
        const bool own = matcher.has_google_re2() && matcher.google_re2().has_max_program_size();
        RegexSize size =
            measure(matcher.regex(), matcher.regex(),
                    own ? matcher.google_re2().max_program_size().value() : limit, own);
        size.where = path;
        size.line = document.lineOf(path + ".regex");
        report.regexes.push_back(size);
      }
      if (message.GetDescriptor() == cilium::PortNetworkPolicyRule::descriptor()) {
        const auto& rule = static_cast<const cilium::PortNetworkPolicyRule&>(message);
        for (int n = 0; n < rule.server_names_size(); ++n) {
          Policy::RegexCache unlimited(Policy::kNoProgramSizeCheck);
          Policy::SniPattern pattern;
          if (!Policy::SniPattern::create(rule.server_names(n), unlimited, pattern) ||
              !pattern.regex()) {
            continue;  // not a wildcard, or not a pattern (the compile step says why)
          }
          RegexSize size = measure(rule.server_names(n), pattern.regex()->pattern(), limit, false);
          size.where = path + ".server_names[" + std::to_string(n) + "]";
          size.line = document.lineOf(size.where);
          report.regexes.push_back(size);
        }
      }
    });
    compiles[i] = valid;
  }
  // Validate rules: each broken rule once, at the deepest message that breaks it.
  for (size_t i = 0; i < policies.size(); ++i) {
    if (compiles[i]) {
      continue;
    }
    std::vector<std::pair<std::string, std::string>> found;  // path, problem
    forEachMessage(policies[i], document.policy_paths[i],
                   [&](const Message& message, const std::string& path) {
                     const std::string problem = validateProblem(message);
                     if (problem.empty()) {
                       return;
                     }
                     const bool explained_below =
                         std::any_of(found.begin(), found.end(), [&](const auto& child) {
                           return path.empty() || child.first.rfind(path + ".", 0) == 0 ||
                                  child.first.rfind(path + "[", 0) == 0;
                         });
                     if (!explained_below) {
                       found.emplace_back(path, problem);
                     }
                   });
    for (const auto& [path, problem] : found) {
      add(path, problem);
    }
  }
  for (const RegexSize& size : report.regexes) {
    if (size.size < 0) {
      continue;  // the compile step names the syntax error
    }
    if (size.over()) {
      add(size.where, "regex " + quoted(size.regex) + " compiles to an RE2 program of size " +
                          std::to_string(size.size) + ", over the limit of " +
                          std::to_string(size.limit) +
                          (size.own_limit ? " (its google_re2.max_program_size)"
                                          : " (re2.max_program_size.error_level)"));
    }
  }
  // Each policy alone through the engine (program sizes are measured above).
  bool each_compiles = true;
  for (size_t i = 0; i < policies.size(); ++i) {
    if (!compiles[i]) {
      each_compiles = false;
      continue;
    }
    Policy::PolicyMap map;
    map.setMaxProgramSize(Policy::kNoProgramSizeCheck);
    const Policy::Status compiled = map.update(std::vector<cilium::NetworkPolicy>{policies[i]});
    if (!compiled) {
      each_compiles = false;
      // The engine names the policy as the only resource of its update: "resources[0] (...)".
      std::string message = compiled.message();
      if (message.rfind("resources[0] ", 0) == 0) {
        message = "policy " + message.substr(13);
      }
      add(document.policy_paths[i], message);
    }
  }
  // Then together: what holds between policies (endpoint ids, IPs, names).
  if (each_compiles) {
    Policy::PolicyMap map;
    map.setMaxProgramSize(Policy::kNoProgramSizeCheck);
    const Policy::Status together = map.update(document.response);
    if (!together) {
      add("", together.message());
    }
  }
  std::stable_sort(report.problems.begin(), report.problems.end(),
                   [](const Problem& a, const Problem& b) { return a.line < b.line; });
  return report;
}

std::string describeLint(const std::string& file, const LintReport& report, uint32_t limit) {
  std::string out;
  for (const Problem& problem : report.problems) {
    out += problemText(file, problem) + "\n";
  }
  if (!report.regexes.empty()) {
    out += (out.empty() ? "" : "\n") +
           std::string("regular expressions (RE2 program size / limit):\n");
    for (const RegexSize& size : report.regexes) {
      out += "  " + problemText(file, {size.line, size.where, quoted(size.pattern)}) + "  ";
      if (size.size < 0) {
        out += "does not compile\n";
        continue;
      }
      out += std::to_string(size.size) + " / " + std::to_string(size.limit) +
             (size.own_limit ? " (its own max_program_size)" : "") +
             (size.over() ? "  OVER THE LIMIT\n" : "  ok\n");
    }
  }
  const bool any_over = std::any_of(report.regexes.begin(), report.regexes.end(),
                                    [](const RegexSize& s) { return s.size >= 0 && s.over(); });
  if (any_over) {
    out +=
        "\nTo shrink a regex: match a literal start with a prefix or exact matcher instead of "
        "a regex (string_match: {prefix: ...}); write + or * instead of counted repeats such "
        "as {1,64} (RE2 copies the repeated part once per count); use a character class "
        "instead of an alternation of single characters; factor common parts out of "
        "alternations. To bound one explicitly, give its matcher google_re2: "
        "{max_program_size: N} with N at least its size (deprecated in Envoy's API but "
        "honoured: Envoy then skips its runtime limit for that regex). Or raise the proxy's "
        "limit for every regex: Envoy's runtime key re2.max_program_size.error_level, the "
        "dynamic module's CILIUM_RE2_MAX_PROGRAM_SIZE_ERROR_LEVEL; check against it with "
        "`lint --max-program-size N` (now " +
        std::to_string(limit) + ").\n";
  }
  if (report.refused()) {
    out += "\n" + file + ": " + std::to_string(report.problems.size()) + " problem" +
           (report.problems.size() == 1 ? "" : "s") +
           ". Envoy would refuse the whole update: it NACKs the DiscoveryResponse and keeps "
           "every policy as it was, the valid ones of this update included; Cilium's agent "
           "then sends it again and again (cilium/cilium#48773).\n";
  } else {
    out += (out.empty() ? "" : "\n") + file + ": no problems; Envoy would accept it.\n";
  }
  return out;
}

}  // namespace PolicyTool
}  // namespace Cilium
