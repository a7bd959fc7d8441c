#include "cilium-filters/policy/compile/port_rule.h"

#include <algorithm>

#include "cilium/api/npds.pb.h"

namespace Cilium {
namespace Policy {

Status PortRule::create(const cilium::PortNetworkPolicyRule& config, const RuleOrigin& origin,
                        RegexCache& regexes, std::vector<uint32_t>& remotes, PortRule& out) {
  out.config_ = &config;
  out.origin_ = origin;
  out.name_ = config.name();
  out.precedence_ = config.precedence();
  out.pass_precedence_ = config.pass_precedence();
  // A relation between two fields: beyond what a validate rule (one field each) can say.
  if (out.pass_precedence_ > out.precedence_) {
    return Status::error("pass_precedence " + std::to_string(out.pass_precedence_) +
                         " is above precedence " + std::to_string(out.precedence_));
  }
  out.verdict_ = out.pass_precedence_ != 0 ? Verdict::Pass
                 : config.deny()           ? Verdict::Deny
                                           : Verdict::Allow;
  out.proxy_id_ = static_cast<uint16_t>(config.proxy_id());

  const auto begin = static_cast<std::ptrdiff_t>(remotes.size());
  remotes.insert(remotes.end(), config.remote_policies().begin(), config.remote_policies().end());
  if (!std::is_sorted(remotes.begin() + begin, remotes.end())) {
    std::sort(remotes.begin() + begin, remotes.end());
  }
  remotes.erase(std::unique(remotes.begin() + begin, remotes.end()), remotes.end());
  out.remotes_begin_ = static_cast<uint32_t>(begin);
  out.remotes_count_ = static_cast<uint32_t>(remotes.size() - static_cast<size_t>(begin));

  if (config.server_names_size() > 0) {
    out.server_names_.resize(config.server_names_size());
    for (int i = 0; i < config.server_names_size(); ++i) {
      Status status = SniPattern::create(config.server_names(i), regexes, out.server_names_[i]);
      if (!status) {
        return status.within("server_names[" + std::to_string(i) + "]");
      }
    }
  }
  if (config.has_http_rules()) {
    const auto& rules = config.http_rules().http_rules();
    out.http_rules_.resize(rules.size());
    for (int i = 0; i < rules.size(); ++i) {
      Status status = HttpRule::create(rules[i], regexes, out.http_rules_[i]);
      if (!status) {
        return status.within("http_rules[" + std::to_string(i) + "]");
      }
      if (!out.http_rules_[i].headerMatches().empty()) {
        out.has_header_matches_ = true;
      }
    }
  }
  out.l7_proto_ = config.l7_proto();
  // Generic L7 rules count only for a rule that names its parser.
  if (!out.l7_proto_.empty() && config.has_l7_rules()) {
    auto compile = [&](const auto& rules, std::vector<L7Rule>& into,
                       const std::string& what) -> Status {
      into.resize(rules.size());
      for (int i = 0; i < rules.size(); ++i) {
        into[i].name = rules[i].name();
        into[i].matchers.resize(rules[i].metadata_rule_size());
        for (int m = 0; m < rules[i].metadata_rule_size(); ++m) {
          Status status =
              MetadataMatcher::create(rules[i].metadata_rule(m), regexes, into[i].matchers[m]);
          if (!status) {
            return status.within(what + "[" + std::to_string(i) + "].metadata_rule[" +
                                 std::to_string(m) + "]");
          }
        }
      }
      return Status::ok();
    };
    Status status =
        compile(config.l7_rules().l7_deny_rules(), out.l7_deny_rules_, "l7_rules.l7_deny_rules");
    if (status) {
      status = compile(config.l7_rules().l7_allow_rules(), out.l7_allow_rules_,
                       "l7_rules.l7_allow_rules");
    }
    if (!status) {
      return status;
    }
  }
  return Status::ok();
}

bool L7Rule::matches(const envoy::config::core::v3::Metadata& metadata) const {
  return std::all_of(matchers.begin(), matchers.end(),
                     [&](const MetadataMatcher& m) { return m.matches(metadata); });
}

Verdict PortRule::l7Verdict(const envoy::config::core::v3::Metadata& metadata) const {
  for (const L7Rule& rule : l7_deny_rules_) {
    if (rule.matches(metadata)) {
      return Verdict::Deny;
    }
  }
  if (l7_allow_rules_.empty()) {
    return Verdict::Allow;
  }
  for (const L7Rule& rule : l7_allow_rules_) {
    if (rule.matches(metadata)) {
      return Verdict::Allow;
    }
  }
  return Verdict::None;
}

PortRule PortRule::defaultAllow() {
  PortRule rule;
  rule.name_ = "default allow";
  rule.origin_.default_allow = true;
  return rule;
}

bool PortRule::matchesServerName(std::string_view sni) const {
  if (server_names_.empty()) {
    return true;
  }
  return std::any_of(server_names_.begin(), server_names_.end(),
                     [&](const SniPattern& pattern) { return pattern.matches(sni); });
}

bool PortRule::httpAllows(RequestHeaders& headers, HeaderLog& log, const SecretSource& secrets,
                          std::vector<HttpRuleTrace>* trace) const {
  bool allowed = false;
  for (const HttpRule& rule : http_rules_) {
    HttpRuleTrace* step = nullptr;
    if (trace) {
      step = &trace->emplace_back();
    }
    if (!rule.headersMatch(headers, step)) {
      continue;
    }
    if (!has_header_matches_) {
      if (step) {
        step->passed = true;
      }
      return true;  // nothing to run: the first matching rule decides
    }
    if (rule.applyHeaderMatches(headers, log, secrets, step)) {
      allowed = true;
    }
  }
  return allowed;
}

std::string_view missName(PortRule::Miss miss) {
  switch (miss) {
    case PortRule::Miss::None:
      return "applies";
    case PortRule::Miss::ProxyId:
      return "names another listener (proxy_id)";
    case PortRule::Miss::Remote:
      return "does not select the remote identity";
    case PortRule::Miss::ServerName:
      return "server_names do not match the SNI";
    case PortRule::Miss::Http:
      return "no HTTP rule passed";
  }
  return "";
}

}  // namespace Policy
}  // namespace Cilium
