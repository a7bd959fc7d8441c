#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cilium-filters/policy/base/header_log.h"
#include "cilium-filters/policy/base/request_headers.h"
#include "cilium-filters/policy/base/secret_source.h"

namespace cilium {
class HeaderMatch;
}  // namespace cilium

namespace Cilium {
namespace Policy {

// One of Cilium's header_matches entries: a header check with an action for the match
// and one for the mismatch, which may change the request's headers and always says what
// the access log records.
class HeaderMatch {
public:
  enum class Outcome : uint8_t {
    Passed,        // the check lets the request go on
    Failed,        // the check fails this HTTP rule
    NoSecretFail,  // the SDS secret is unavailable and there is no inline value
  };

  explicit HeaderMatch(const cilium::HeaderMatch& config);

  // Runs the check on `headers` (changing them as the action says) and logs into `log`.
  Outcome apply(RequestHeaders& headers, HeaderLog& log, const SecretSource& secrets) const;

  // One line for `explain`.
  std::string describe() const;

private:
  void logMissing(HeaderLog& log, std::string_view value) const;
  void logRejected(HeaderLog& log, std::string_view value) const;

  std::string name_;  // canonical
  std::string value_;
  std::string secret_;  // SDS secret name; empty when the value is inline
  int match_action_;
  int mismatch_action_;
};

// Equality of two values in time that depends only on their lengths.
bool constantTimeEquals(std::string_view a, std::string_view b);

}  // namespace Policy
}  // namespace Cilium
