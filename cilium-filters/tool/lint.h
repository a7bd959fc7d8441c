#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cilium-filters/policy/compile/regex.h"
#include "cilium-filters/tool/policy_file.h"

namespace Cilium {
namespace PolicyTool {

// One regular expression of a policy file, measured as Envoy measures it.
struct RegexSize {
  int line{0};
  std::string where;    // its path in the file
  std::string pattern;  // as written (for server names: the wildcard pattern)
  std::string regex;    // what RE2 compiles
  int size{-1};         // RE2's program size (-1: it does not compile)
  uint32_t limit{0};
  bool own_limit{false};  // the matcher's google_re2.max_program_size
  bool over() const { return size < 0 || static_cast<uint32_t>(size) > limit; }
};

struct LintReport {
  std::vector<Problem> problems;  // every one found, in file order
  std::vector<RegexSize> regexes;
  bool refused() const { return !problems.empty(); }
};

// Every problem of a policy file at once, where each is, and each regex's RE2 program size
// next to the limit that applies: the matcher's own max_program_size, else `limit` (Envoy's
// runtime key re2.max_program_size.error_level, 100 when unset). What it checks: the
// syntax, unknown fields, each message's validate rules, each policy compiled alone, then
// the policies together (endpoint ids and IPs).
LintReport lintPolicyText(std::string_view text, uint32_t limit = Policy::kDefaultMaxProgramSize);

// The report as `cilium-policy lint` prints it, ending with what Envoy would do.
std::string describeLint(const std::string& file, const LintReport& report, uint32_t limit);

}  // namespace PolicyTool
}  // namespace Cilium
