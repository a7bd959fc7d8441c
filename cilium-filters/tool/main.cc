// cilium-policy: ask Cilium's policy engine what it decides, without Envoy.
//
//   cilium-policy eval                      JSON lines on stdin, one reply per line on stdout
//   cilium-policy check   --policy FILE ... one question from flags; exit 0 allowed, 1 denied
//   cilium-policy explain --policy FILE ... the same, with every rule and why it did (not) decide
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cilium-filters/policy/decide/decisions.h"
#include "cilium-filters/policy/compile/policy_map.h"
#include "cilium-filters/tool/describe.h"
#include "cilium-filters/tool/eval.h"
#include "cilium-filters/tool/policy_file.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace {

using namespace Cilium;

constexpr int kAllowed = 0;
constexpr int kDenied = 1;
constexpr int kUsage = 2;

constexpr const char* kUsageText = R"(usage:
  cilium-policy eval
      Read JSON requests from stdin, one per line; write one JSON reply per line.
      {"update": <DiscoveryResponse>} -> {"ok": true} | {"ok": false, "error": "..."}
      {"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "remote_id": 42, "port": 80,
                 "proxy_id": 0, "sni": "", "headers": [[":path", "/"]]}}
        -> {"l4": ..., "http": ..., "allowed": ..., "headers": [...], "missing": [...],
            "rejected": [...]}
  cilium-policy check   --policy FILE --endpoint-ip IP (--ingress | --egress) --port N
                        [--remote-id N] [--proxy-id N] [--sni NAME]
                        [--header NAME=VALUE]... [--secret NAME=VALUE]...
      One decision; exit status 0 when allowed, 1 when denied, 2 on bad input.
  cilium-policy explain (the same options)
      The decision, every rule of the port in evaluation order, and why each did or did
      not decide.
The policy file is YAML or JSON: a DiscoveryResponse, one NetworkPolicy, or a list of them.
--header makes the HTTP check run (":path=/index.html", "x-token=abc"); repeat it per header.
)";

int usage(const std::string& problem) {
  std::cerr << "cilium-policy: " << problem << "\n\n" << kUsageText;
  return kUsage;
}

int runEval() {
  PolicyTool::EvalSession session;
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.find_first_not_of(" \t") == std::string::npos) {
      continue; // blank lines are not requests
    }
    std::string reply;
    try {
      reply = session.handle(line);
    } catch (const std::exception& e) {
      reply = PolicyTool::errorReply(std::string("internal error: ") + e.what());
    }
    std::cout << reply << '\n' << std::flush;
  }
  return 0;
}

struct CheckOptions {
  std::string policy;
  std::string endpoint_ip;
  std::optional<bool> ingress;
  std::optional<uint64_t> port;
  uint64_t remote_id{0};
  uint64_t proxy_id{0};
  std::string sni;
  bool has_headers{false};
  std::vector<std::pair<std::string, std::string>> headers;
  std::map<std::string, std::string> secrets;
};

bool parseNumber(const std::string& text, uint64_t max, uint64_t& out) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
      text.size() > 10) {
    return false;
  }
  out = std::stoull(text);
  return out <= max;
}

bool splitPair(const std::string& text, std::pair<std::string, std::string>& out) {
  const size_t equals = text.find('=', text.empty() || text[0] != ':' ? 0 : 1);
  if (equals == std::string::npos || equals == 0) {
    return false;
  }
  out = {text.substr(0, equals), text.substr(equals + 1)};
  return true;
}

// Parses the flags of check/explain; an empty result means success.
std::string parseCheck(const std::vector<std::string>& args, CheckOptions& options) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> inline_value;
    const size_t equals = flag.find('=');
    if (flag.rfind("--", 0) == 0 && equals != std::string::npos) {
      inline_value = flag.substr(equals + 1);
      flag = flag.substr(0, equals);
    }
    if (flag == "--ingress" || flag == "--egress") {
      if (inline_value) {
        return flag + " takes no value";
      }
      options.ingress = flag == "--ingress";
      continue;
    }
    auto value = [&]() -> std::optional<std::string> {
      if (inline_value) {
        return inline_value;
      }
      if (i + 1 < args.size()) {
        return args[++i];
      }
      return std::nullopt;
    }();
    if (!value) {
      return flag + " needs a value";
    }
    if (flag == "--policy") {
      options.policy = *value;
    } else if (flag == "--endpoint-ip") {
      options.endpoint_ip = *value;
    } else if (flag == "--port") {
      uint64_t port = 0;
      if (!parseNumber(*value, 65535, port)) {
        return "--port must be a number from 0 to 65535";
      }
      options.port = port;
    } else if (flag == "--remote-id") {
      if (!parseNumber(*value, UINT32_MAX, options.remote_id)) {
        return "--remote-id must be a number from 0 to 4294967295";
      }
    } else if (flag == "--proxy-id") {
      if (!parseNumber(*value, 65535, options.proxy_id)) {
        return "--proxy-id must be a number from 0 to 65535";
      }
    } else if (flag == "--sni") {
      options.sni = *value;
    } else if (flag == "--header") {
      std::pair<std::string, std::string> header;
      if (!splitPair(*value, header)) {
        return "--header takes NAME=VALUE (e.g. --header :path=/index.html)";
      }
      options.has_headers = true;
      options.headers.push_back(std::move(header));
    } else if (flag == "--secret") {
      std::pair<std::string, std::string> secret;
      if (!splitPair(*value, secret)) {
        return "--secret takes NAME=VALUE";
      }
      options.secrets[secret.first] = secret.second;
    } else {
      return "unknown option " + args[i];
    }
  }
  if (options.policy.empty()) {
    return "--policy FILE is required";
  }
  if (options.endpoint_ip.empty()) {
    return "--endpoint-ip is required";
  }
  if (!options.ingress) {
    return "say --ingress or --egress";
  }
  if (!options.port) {
    return "--port is required";
  }
  return "";
}

int runCheck(const std::vector<std::string>& args, bool explain) {
  CheckOptions options;
  const std::string problem = parseCheck(args, options);
  if (!problem.empty()) {
    return usage(problem);
  }
  envoy::service::discovery::v3::DiscoveryResponse response;
  Policy::Status status = PolicyTool::loadPolicyFile(options.policy, response);
  auto secrets = std::make_shared<Policy::StaticSecrets>(options.secrets);
  Policy::PolicyMap map(secrets);
  if (status) {
    status = map.update(response);
  }
  if (!status) {
    std::cerr << "cilium-policy: the policy is refused: " << status.message() << "\n";
    return kUsage;
  }
  Policy::FlowQuestion question;
  question.endpoint_ip = options.endpoint_ip;
  question.ingress = *options.ingress;
  question.port = static_cast<uint16_t>(*options.port);
  question.remote_id = static_cast<uint32_t>(options.remote_id);
  question.proxy_id = static_cast<uint16_t>(options.proxy_id);
  question.sni = options.sni;

  Policy::RequestHeaders headers(options.headers);
  Policy::HeaderLog log;
  const Policy::SnapshotPtr snapshot = map.snapshot();
  const Policy::Explanation explanation =
      Policy::explain(*snapshot, question, options.has_headers ? &headers : nullptr, &log, *secrets);
  const Policy::RequestHeaders* after = options.has_headers ? &headers : nullptr;
  std::cout << (explain ? PolicyTool::describeExplanation(question, explanation, after, &log)
                        : PolicyTool::describeCheck(question, explanation, after, &log));
  const bool allowed =
      explanation.l4_allowed && (!explanation.http_asked || explanation.http_allowed);
  return allowed ? kAllowed : kDenied;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    return usage("say eval, check or explain");
  }
  const std::string command = args.front();
  args.erase(args.begin());
  if (command == "-h" || command == "--help" || command == "help") {
    std::cout << kUsageText;
    return 0;
  }
  if (command == "eval") {
    if (!args.empty()) {
      return usage("eval takes no options");
    }
    return runEval();
  }
  if (command == "check" || command == "explain") {
    return runCheck(args, command == "explain");
  }
  return usage("unknown command " + command);
}
