#pragma once

#include <string>
#include <string_view>

#include "cilium-filters/policy/base/status.h"
#include "cilium-filters/policy/compile/regex.h"

namespace Cilium {
namespace Policy {

// One entry of a rule's server_names: a DNS name, possibly with wildcards, that the TLS
// SNI must match. Matching ignores ASCII case.
//  - without '*' the name must be equal;
//  - '*' within a label stands for any run of DNS characters inside that label;
//  - a label '**' stands for one or more whole labels;
//  - a bare '*' or '**' matches any valid name.
// An empty SNI never matches.
class SniPattern {
public:
  // Whether `pattern` is one or more dot-separated labels, each '*', '**', or DNS
  // characters ([-a-zA-Z0-9_]) with single '*' between, before or after them.
  static bool isValid(std::string_view pattern);

  // Compiles `pattern` (checked with isValid) into `out`.
  static Status create(const std::string& pattern, RegexCache& regexes, SniPattern& out);

  bool matches(std::string_view sni) const;
  const std::string& pattern() const { return pattern_; }
  // The RE2 program a wildcard pattern compiles to (null for a name without '*').
  const RegexPtr& regex() const { return regex_; }

private:
  std::string pattern_;
  std::string exact_;  // lower case; used when the pattern has no wildcard
  RegexPtr regex_;
};

}  // namespace Policy
}  // namespace Cilium
