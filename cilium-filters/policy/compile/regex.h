#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cilium-filters/policy/base/status.h"

namespace re2 {
class RE2;
} // namespace re2

namespace Cilium {
namespace Policy {

// A compiled regular expression, matched against whole values (Envoy's safe_regex).
using RegexPtr = std::shared_ptr<const re2::RE2>;

// Envoy refuses RE2 programs above this size unless its runtime raises the limit.
inline constexpr uint32_t kDefaultMaxProgramSize = 100;

// Compiles patterns the way Envoy's google_re2 engine does (RE2 defaults, quiet, the
// program-size limit), sharing the result between equal patterns of one update.
class RegexCache {
public:
  // The compiled pattern, or an error naming the pattern and what is wrong with it.
  Status compile(const std::string& pattern, RegexPtr& out,
                 uint32_t max_program_size = kDefaultMaxProgramSize);

private:
  std::unordered_map<std::string, RegexPtr> compiled_;
};

bool fullMatch(const re2::RE2& regex, std::string_view value);

} // namespace Policy
} // namespace Cilium
