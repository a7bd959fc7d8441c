#include "cilium-filters/policy/compile/http_rule.h"

#include "cilium/api/npds.pb.h"

namespace Cilium {
namespace Policy {

Status HttpRule::create(const cilium::HttpNetworkPolicyRule& config, RegexCache& regexes,
                        HttpRule& out) {
  out.headers_.resize(config.headers_size());
  for (int i = 0; i < config.headers_size(); ++i) {
    Status status = HeaderMatcher::create(config.headers(i), regexes, out.headers_[i]);
    if (!status) {
      return status.within("headers[" + std::to_string(i) + "]");
    }
  }
  out.header_matches_.reserve(config.header_matches_size());
  for (const auto& match : config.header_matches()) {
    out.header_matches_.emplace_back(match);
  }
  return Status::ok();
}

bool HttpRule::headersMatch(const RequestHeaders& headers, HttpRuleTrace* trace) const {
  for (size_t i = 0; i < headers_.size(); ++i) {
    if (!headers_[i].matches(headers)) {
      if (trace) {
        trace->failed_matcher = static_cast<int>(i);
      }
      return false;
    }
  }
  if (trace) {
    trace->headers_matched = true;
  }
  return true;
}

bool HttpRule::applyHeaderMatches(RequestHeaders& headers, HeaderLog& log,
                                  const SecretSource& secrets, HttpRuleTrace* trace) const {
  bool all_passed = true;
  for (const HeaderMatch& match : header_matches_) {
    const HeaderMatch::Outcome outcome = match.apply(headers, log, secrets);
    if (outcome != HeaderMatch::Outcome::Passed) {
      all_passed = false;
    }
    if (trace) {
      trace->header_matches.push_back(outcome);
    }
  }
  if (trace) {
    trace->passed = all_passed;
  }
  return all_passed;
}

}  // namespace Policy
}  // namespace Cilium
