// cilium-policy: ask Cilium's policy engine what it decides, without Envoy.
//
//   cilium-policy eval                      JSON lines on stdin, one reply per line on stdout
//   cilium-policy check   --policy FILE ... one question from flags, answered in one line
//   cilium-policy explain --policy FILE ... the same, with every rule and why it did (not) decide
//   cilium-policy lint    FILE              every problem of a policy file, regex sizes
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cilium-filters/policy/compile/policy_map.h"
#include "cilium-filters/policy/decide/decisions.h"
#include "cilium-filters/tool/describe.h"
#include "cilium-filters/tool/eval.h"
#include "cilium-filters/tool/lint.h"
#include "cilium-filters/tool/policy_file.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace {

using namespace Cilium;

// Exit statuses (README, "The policy engine"): check and explain say the verdict; lint
// whether Envoy would accept the file.
constexpr int kAllowed = 0;    // check: allowed; lint: accepted; explain, eval: answered
constexpr int kDenied = 1;     // check: denied; lint: Envoy would refuse the file
constexpr int kUsage = 2;      // a mistake in the command or its input (nothing was decided)
constexpr int kUndecided = 3;  // check: the answer depends on what the question left out

constexpr const char* kOverview = R"(usage: cilium-policy COMMAND [OPTIONS]
  eval      JSON requests on stdin, one JSON reply per line on stdout (for scripts)
  check     one decision from flags, answered in one line
  explain   the decision, every rule of the port and why each did or did not decide
  lint      every problem of a policy file, each regex's RE2 program size and limit
`cilium-policy COMMAND --help` shows a command's options.
Exit statuses: 0 allowed (lint: accepted), 1 denied (lint: Envoy would refuse the file),
2 a mistake in the command or its input, 3 undecided (the answer needs an SNI or a request).
)";

constexpr const char* kEvalHelp =
    R"(usage: cilium-policy eval [--policy FILE]... [--secret NAME=VALUE]...
Reads JSON requests from stdin, one per line; writes one JSON reply per line on stdout.
  --policy FILE        apply this file first (YAML or JSON: policies, or a DiscoveryResponse
                       of NetworkPolicy or NetworkPolicyHosts resources); repeatable
  --secret NAME=VALUE  the value of an SDS secret (without it, header_matches use their
                       inline values)
  {"update": <DiscoveryResponse>}        -> {"ok": true} | {"ok": false, "error": "..."}
  {"delta_update": <DeltaDiscoveryResponse>}                    (the same replies)
  {"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "remote_id": 42, "port": 80,
             "proxy_id": 0, "sni": "", "headers": [[":path", "/"]]}}
    -> {"l4": ..., "http": ..., "allowed": ..., "headers": [...], "missing": [...],
        "rejected": [...]}                     ("http" is null without "headers")
  {"resolve": {"ip": "10.1.2.3"}}        -> {"identity": 42}
The messages are in cilium-filters/tool/eval.proto. Each process starts with no policies
but those of --policy.
)";

constexpr const char* kCheckHelp =
    R"(usage: cilium-policy %s --policy FILE --endpoint-ip IP (--ingress | --egress) --port N
                       [--remote-id N] [--proxy-id N] [--sni NAME] [--header NAME=VALUE]...
                       [--secret NAME=VALUE]...
  --policy FILE       the policy: YAML or JSON, a DiscoveryResponse, one NetworkPolicy or a
                      list of them (examples/policies/ has commented ones)
  --endpoint-ip IP    the endpoint whose policy applies (ingress: the destination; egress:
                      the source)
  --ingress|--egress  the direction
  --port N            the destination port
  --remote-id N       the other end's security identity (default 0)
  --proxy-id N        the listener's proxy_id (default 0)
  --sni NAME          the TLS server name; --sni '' for a connection without one. Without
                      --sni, rules with server_names leave the answer undecided.
  --header NAME=VALUE a request header (repeat it); with any, the HTTP check runs:
                      --header :method=GET --header :path=/index.html
  --secret NAME=VALUE the value of an SDS secret header_matches use
%s
%s
)";

constexpr const char* kLintHelp = R"(usage: cilium-policy lint FILE [--max-program-size N]
Every problem of a policy file at once (syntax, unknown fields, validate rules, the engine's
checks of each policy and of the policies together), each with its line and path, and each
regular expression's RE2 program size next to the limit that applies to it.
  --max-program-size N  the limit for regexes whose matcher sets none of its own: what Envoy's
                        runtime key re2.max_program_size.error_level is set to (default 100,
                        Envoy's default; the dynamic module reads
                        CILIUM_RE2_MAX_PROGRAM_SIZE_ERROR_LEVEL)
Exit status: 0 when Envoy would accept the file, 1 when it would refuse it (one problem is
enough: Envoy refuses the whole update), 2 when the file cannot be read or the command is
wrong.
)";

int usage(const std::string& command, const std::string& problem) {
  std::cerr << "cilium-policy: " << problem << "\n";
  if (command.empty()) {
    std::cerr << kOverview;
  } else {
    std::cerr << "(`cilium-policy " << command << " --help` shows its options)\n";
  }
  return kUsage;
}

bool isHelp(const std::string& word) { return word == "-h" || word == "--help"; }

void printCheckHelp(const std::string& command) {
  const char* what =
      command == "check"
          ? "Answers in one line: ALLOWED, DENIED or UNDECIDED, the question, and the verdicts."
          : "Prints the answer, then every rule of the port's piece in evaluation order, what\n"
            "it said and why it did or did not decide.";
  const char* status =
      command == "check"
          ? "Exit status: 0 allowed, 1 denied, 3 undecided (the port's rules need an SNI or a\n"
            "request to decide: the answer says which rules), 2 a mistake in the command or the\n"
            "policy file."
          : "Exit status: 0 when it answered, whatever the verdict (allowed, denied or\n"
            "undecided: the answer says which), 2 a mistake in the command or the policy file.";
  std::printf(kCheckHelp, command.c_str(), what, status);
}

bool splitPair(const std::string& text, std::pair<std::string, std::string>& out);

// "--name=value" as ("--name", "value"); any other argument as itself, without a value.
std::pair<std::string, std::optional<std::string>> splitFlag(const std::string& arg) {
  const size_t equals = arg.find('=');
  if (arg.rfind("--", 0) == 0 && equals != std::string::npos) {
    return {arg.substr(0, equals), arg.substr(equals + 1)};
  }
  return {arg, std::nullopt};
}

// eval [--policy FILE]... [--secret NAME=VALUE]...: the files are applied first, in order,
// as "update" requests would be.
int runEval(const std::vector<std::string>& args) {
  std::vector<std::string> files;
  std::map<std::string, std::string> secrets;
  for (size_t i = 0; i < args.size(); ++i) {
    auto [flag, value] = splitFlag(args[i]);
    if (flag != "--policy" && flag != "--secret") {
      return usage("eval", "unknown option " + args[i] + " (requests come on stdin)");
    }
    if (!value && i + 1 < args.size()) {
      value = args[++i];
    }
    if (!value) {
      return usage("eval", flag + " needs a value");
    }
    if (flag == "--policy") {
      files.push_back(*value);
      continue;
    }
    std::pair<std::string, std::string> secret;
    if (!splitPair(*value, secret)) {
      return usage("eval", "--secret takes NAME=VALUE");
    }
    secrets[secret.first] = secret.second;
  }
  PolicyTool::EvalSession session(std::make_shared<Policy::StaticSecrets>(secrets));
  for (const std::string& file : files) {
    std::string text;
    Policy::Status status = PolicyTool::readTextFile(file, text);
    envoy::service::discovery::v3::DiscoveryResponse response;
    if (status) {
      status = PolicyTool::parsePolicyText(text, response).within(PolicyTool::absolutePath(file));
    }
    if (status) {
      status = session.apply(response).within(PolicyTool::absolutePath(file));
    }
    if (!status) {
      std::cerr << "cilium-policy: " << status.message() << "\n";
      return kUsage;
    }
  }
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.find_first_not_of(" \t") == std::string::npos) {
      continue;  // blank lines are not requests
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
  std::optional<std::string> sni;  // unset: not given (server_names leave the answer open)
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

// Whether `args` asks for help anywhere (before any value that could be "--help").
bool asksHelp(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (isHelp(arg)) {
      return true;
    }
  }
  return false;
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
    auto [flag, inline_value] = splitFlag(args[i]);
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
  const std::string command = explain ? "explain" : "check";
  CheckOptions options;
  const std::string problem = parseCheck(args, options);
  if (!problem.empty()) {
    return usage(command, problem);
  }
  std::string text;
  Policy::Status status = PolicyTool::readTextFile(options.policy, text);
  if (!status) {
    std::cerr << "cilium-policy: " << status.message() << "\n";
    return kUsage;
  }
  envoy::service::discovery::v3::DiscoveryResponse response;
  status =
      PolicyTool::parsePolicyText(text, response).within(PolicyTool::absolutePath(options.policy));
  auto secrets = std::make_shared<Policy::StaticSecrets>(options.secrets);
  Policy::PolicyMap map(secrets);
  if (status) {
    status = map.update(response);
  }
  if (!status) {
    std::cerr << "cilium-policy: the policy is refused: " << status.message() << "\n"
              << "(`cilium-policy lint " << options.policy << "` lists every problem)\n";
    return kUsage;
  }
  Policy::FlowQuestion question;
  question.endpoint_ip = options.endpoint_ip;
  question.ingress = *options.ingress;
  question.port = static_cast<uint16_t>(*options.port);
  question.remote_id = static_cast<uint32_t>(options.remote_id);
  question.proxy_id = static_cast<uint16_t>(options.proxy_id);
  question.sni = options.sni.value_or("");

  Policy::RequestHeaders headers(options.headers);
  Policy::HeaderLog log;
  const Policy::SnapshotPtr snapshot = map.snapshot();
  const Policy::Explanation explanation = Policy::explain(
      *snapshot, question, options.has_headers ? &headers : nullptr, &log, *secrets);
  const Policy::RequestHeaders* after = options.has_headers ? &headers : nullptr;
  const bool sni_given = options.sni.has_value();
  std::cout << (explain
                    ? PolicyTool::describeExplanation(question, explanation, after, &log, sni_given)
                    : PolicyTool::describeCheck(question, explanation, after, &log, sni_given));
  if (explain) {
    return kAllowed;  // the answer is the text; a denied flow is not an error
  }
  switch (PolicyTool::answerOf(explanation, sni_given)) {
    case PolicyTool::Answer::Allowed:
      return kAllowed;
    case PolicyTool::Answer::Denied:
      return kDenied;
    case PolicyTool::Answer::Undecided:
      break;
  }
  return kUndecided;
}

int runLint(const std::vector<std::string>& args) {
  std::string file;
  uint64_t limit = Policy::kDefaultMaxProgramSize;
  for (size_t i = 0; i < args.size(); ++i) {
    auto [flag, value] = splitFlag(args[i]);
    if (flag == "--max-program-size") {
      if (!value && i + 1 < args.size()) {
        value = args[++i];
      }
      if (!value || !parseNumber(*value, UINT32_MAX, limit) || limit == 0) {
        return usage("lint", "--max-program-size takes a number from 1 to 4294967295");
      }
    } else if (flag.rfind("-", 0) == 0 && flag != "-") {
      return usage("lint", "unknown option " + args[i]);
    } else if (file.empty()) {
      file = args[i];
    } else {
      return usage("lint", "lint takes one policy file (got " + file + " and " + args[i] + ")");
    }
  }
  if (file.empty()) {
    return usage("lint", "say which policy file: cilium-policy lint FILE");
  }
  std::string text;
  const Policy::Status read = PolicyTool::readTextFile(file, text);
  if (!read) {
    std::cerr << "cilium-policy: " << read.message() << "\n";
    return kUsage;
  }
  const auto report = PolicyTool::lintPolicyText(text, static_cast<uint32_t>(limit));
  std::cout << PolicyTool::describeLint(file, report, static_cast<uint32_t>(limit));
  return report.refused() ? kDenied : kAllowed;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    return usage("", "say which command: eval, check, explain or lint");
  }
  const std::string command = args.front();
  args.erase(args.begin());
  if (isHelp(command) || command == "help") {
    std::cout << kOverview;
    return 0;
  }
  const bool help = asksHelp(args);
  if (command == "eval") {
    if (help) {
      std::cout << kEvalHelp;
      return 0;
    }
    return runEval(args);
  }
  if (command == "check" || command == "explain") {
    if (help) {
      printCheckHelp(command);
      return 0;
    }
    return runCheck(args, command == "explain");
  }
  if (command == "lint") {
    if (help) {
      std::cout << kLintHelp;
      return 0;
    }
    return runLint(args);
  }
  return usage("", "unknown command " + command);
}
