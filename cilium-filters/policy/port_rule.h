#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cilium-filters/policy/http_rule.h"
#include "cilium-filters/policy/sni_pattern.h"
#include "cilium-filters/policy/verdict.h"

namespace cilium {
class PortNetworkPolicyRule;
} // namespace cilium

namespace Cilium {
namespace Policy {

// Where a compiled rule came from, for `explain`.
struct RuleOrigin {
  int entry{-1};  // index of its PortNetworkPolicy in the direction; -1 for an added rule
  int index{-1};  // index in that entry's rules
  uint32_t port{0};
  uint32_t end_port{0}; // as written (0: a single port)
  bool default_allow{false};
};

// One PortNetworkPolicyRule, compiled: who it selects and what it says.
class PortRule {
public:
  // Why a rule does not apply to a flow.
  enum class Miss : uint8_t { None, ProxyId, Remote, ServerName, Http };

  static Status create(const cilium::PortNetworkPolicyRule& config, const RuleOrigin& origin,
                       RegexCache& regexes, PortRule& out);
  // The explicit allow-all rule that keeps an entry without rules allowing every remote
  // once it is merged with entries that have rules.
  static PortRule defaultAllow(const RuleOrigin& origin);

  // The rule's verdict when it applies to (proxy_id, remote), else None.
  Verdict verdict(uint16_t proxy_id, uint32_t remote) const {
    if (proxy_id_ != 0 && proxy_id_ != proxy_id) {
      return Verdict::None;
    }
    if (!remotes_.empty() && !selects(remote)) {
      return Verdict::None;
    }
    return verdict_;
  }
  // The same for a connection with TLS server name `sni` ("" when none).
  Verdict verdictForSni(uint16_t proxy_id, uint32_t remote, std::string_view sni) const {
    if (!server_names_.empty() && !matchesServerName(sni)) {
      return Verdict::None;
    }
    return verdict(proxy_id, remote);
  }
  // The same for an HTTP request; an allow rule with HTTP rules allows only when one of
  // them passes (all of them run when the rule has header_matches).
  Verdict verdictForHttp(uint16_t proxy_id, uint32_t remote, RequestHeaders& headers,
                         HeaderLog& log, const SecretSource& secrets,
                         std::vector<HttpRuleTrace>* trace) const;

  // Why verdict()/verdictForSni() gave None (`sni` null: not asked).
  Miss miss(uint16_t proxy_id, uint32_t remote, const std::string_view* sni) const;

  bool selects(uint32_t remote) const;
  bool matchesServerName(std::string_view sni) const;

  Verdict kind() const { return verdict_; }
  uint32_t precedence() const { return precedence_; }
  uint32_t passPrecedence() const { return pass_precedence_; }
  uint16_t proxyId() const { return proxy_id_; }
  const std::string& name() const { return name_; }
  const std::vector<uint32_t>& remotes() const { return remotes_; }
  const std::vector<SniPattern>& serverNames() const { return server_names_; }
  bool hasHttpRules() const { return !http_rules_.empty(); }
  bool hasHeaderMatches() const { return has_header_matches_; }
  const std::vector<HttpRule>& httpRules() const { return http_rules_; }
  const std::string& l7Proto() const { return l7_proto_; }
  const RuleOrigin& origin() const { return origin_; }
  // The rule as received (null for an added default-allow rule); owned by the policy.
  const cilium::PortNetworkPolicyRule* config() const { return config_; }

private:
  std::string name_;
  Verdict verdict_{Verdict::Allow};
  uint16_t proxy_id_{0};
  bool has_header_matches_{false};
  uint32_t precedence_{0};
  uint32_t pass_precedence_{0};
  std::vector<uint32_t> remotes_; // sorted, unique; empty selects every remote
  std::vector<SniPattern> server_names_;
  std::vector<HttpRule> http_rules_;
  std::string l7_proto_;
  RuleOrigin origin_;
  const cilium::PortNetworkPolicyRule* config_{nullptr};
};

std::string_view missName(PortRule::Miss miss);

} // namespace Policy
} // namespace Cilium
