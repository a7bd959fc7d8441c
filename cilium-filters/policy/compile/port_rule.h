#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cilium-filters/policy/compile/http_rule.h"
#include "cilium-filters/policy/compile/metadata_matcher.h"
#include "cilium-filters/policy/compile/sni_pattern.h"
#include "cilium-filters/policy/compile/verdict.h"

namespace cilium {
class PortNetworkPolicyRule;
}  // namespace cilium

namespace Cilium {
namespace Policy {

// Where a compiled rule came from, for `explain`.
struct RuleOrigin {
  int entry{-1};  // index of its PortNetworkPolicy in the direction; -1 for an added rule
  int index{-1};  // index in that entry's rules
  uint32_t port{0};
  uint32_t end_port{0};  // as written (0: a single port)
  bool default_allow{false};
};

// One generic L7 rule (l7_rules of a rule with l7_proto): it matches when every metadata
// matcher does.
struct L7Rule {
  std::string name;
  std::vector<MetadataMatcher> matchers;
  bool matches(const envoy::config::core::v3::Metadata& metadata) const;
};

// One PortNetworkPolicyRule, compiled: who it selects and what it says. Its remote
// identities live in its PortTable (sorted, unique), found by remotesBegin/Count.
class PortRule {
public:
  // Why a rule does not apply to a flow.
  enum class Miss : uint8_t { None, ProxyId, Remote, ServerName, Http };

  // Compiles `config`, appending its remote identities to `remotes`.
  static Status create(const cilium::PortNetworkPolicyRule& config, const RuleOrigin& origin,
                       RegexCache& regexes, std::vector<uint32_t>& remotes, PortRule& out);
  // The explicit allow-all rule that keeps an entry without rules allowing every remote
  // once it is merged with entries that have rules.
  static PortRule defaultAllow();

  // Whether the SNI matches one of server_names (any SNI when there are none).
  bool matchesServerName(std::string_view sni) const;
  // For an allow rule that selects the flow: whether one of its HTTP rules passes (all of
  // them run when the rule has header_matches; otherwise the first that matches decides).
  bool httpAllows(RequestHeaders& headers, HeaderLog& log, const SecretSource& secrets,
                  std::vector<HttpRuleTrace>* trace) const;
  // For an allow rule that selects the flow: its l7_rules on a request's metadata (a
  // matching deny rule denies; no allow rules, or a matching one, allows; else None).
  Verdict l7Verdict(const envoy::config::core::v3::Metadata& metadata) const;

  Verdict kind() const { return verdict_; }
  uint32_t precedence() const { return precedence_; }
  uint32_t passPrecedence() const { return pass_precedence_; }
  uint16_t proxyId() const { return proxy_id_; }
  uint32_t remotesBegin() const { return remotes_begin_; }
  uint32_t remotesCount() const { return remotes_count_; }
  const std::string& name() const { return name_; }
  const std::vector<SniPattern>& serverNames() const { return server_names_; }
  bool hasHttpRules() const { return !http_rules_.empty(); }
  bool hasHeaderMatches() const { return has_header_matches_; }
  const std::vector<HttpRule>& httpRules() const { return http_rules_; }
  const std::string& l7Proto() const { return l7_proto_; }
  const std::vector<L7Rule>& l7AllowRules() const { return l7_allow_rules_; }
  const std::vector<L7Rule>& l7DenyRules() const { return l7_deny_rules_; }
  const RuleOrigin& origin() const { return origin_; }
  // The rule as received (null for an added default-allow rule); owned by the policy.
  const cilium::PortNetworkPolicyRule* config() const { return config_; }

private:
  std::string name_;
  Verdict verdict_{Verdict::Allow};
  bool has_header_matches_{false};
  uint16_t proxy_id_{0};
  uint32_t precedence_{0};
  uint32_t pass_precedence_{0};
  uint32_t remotes_begin_{0};
  uint32_t remotes_count_{0};  // 0: every remote
  std::vector<SniPattern> server_names_;
  std::vector<HttpRule> http_rules_;
  std::string l7_proto_;
  std::vector<L7Rule> l7_allow_rules_;
  std::vector<L7Rule> l7_deny_rules_;
  RuleOrigin origin_;
  const cilium::PortNetworkPolicyRule* config_{nullptr};
};

std::string_view missName(PortRule::Miss miss);

}  // namespace Policy
}  // namespace Cilium
