#pragma once

#include <vector>

#include "cilium-filters/policy/compile/header_match.h"
#include "cilium-filters/policy/compile/header_matcher.h"

namespace cilium {
class HttpNetworkPolicyRule;
}  // namespace cilium

namespace Cilium {
namespace Policy {

// What happened to one HTTP rule during a check (for `explain`).
struct HttpRuleTrace {
  bool headers_matched{false};
  int failed_matcher{-1};  // index into headers() of the first matcher that did not match
  std::vector<HeaderMatch::Outcome> header_matches;
  bool passed{false};
};

// One HttpNetworkPolicyRule: Envoy header matchers that must all match, then Cilium's
// header_matches, which all run and must all pass.
class HttpRule {
public:
  static Status create(const cilium::HttpNetworkPolicyRule& config, RegexCache& regexes,
                       HttpRule& out);

  // Whether every Envoy matcher matches (the first failing one goes to `trace`).
  bool headersMatch(const RequestHeaders& headers, HttpRuleTrace* trace) const;
  // Runs every header_matches entry; true when all passed.
  bool applyHeaderMatches(RequestHeaders& headers, HeaderLog& log, const SecretSource& secrets,
                          HttpRuleTrace* trace) const;

  const std::vector<HeaderMatcher>& headers() const { return headers_; }
  const std::vector<HeaderMatch>& headerMatches() const { return header_matches_; }

private:
  std::vector<HeaderMatcher> headers_;
  std::vector<HeaderMatch> header_matches_;
};

}  // namespace Policy
}  // namespace Cilium
