#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cilium-filters/policy/base/status.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace Cilium {
namespace Policy {

// A compiled regular expression, matched against whole values (Envoy's safe_regex). It knows
// the range every value it matches falls in (RE2::PossibleMatchRange: "/api/v1/svc0/.*" only
// matches values from "/api/v1/svc0/" to "/api/v1/svc00"), so a value outside it, such as
// the path of one of a rule set's other rules, is refused by two comparisons, not by RE2.
class Regex {
public:
  explicit Regex(const std::string& pattern);
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  ~Regex();

  bool ok() const;
  const std::string& error() const;
  const std::string& pattern() const;
  int programSize() const;
  // Whether the whole of `value` matches (RE2::FullMatch).
  bool fullMatch(std::string_view value) const;

private:
  std::unique_ptr<const re2::RE2> re2_;
  std::string min_;  // every match is >= min_ ...
  std::string max_;  // ... and <= max_ (when max_ is not empty)
  bool ranged_{false};
};

using RegexPtr = std::shared_ptr<const Regex>;

// Envoy refuses RE2 programs above this size unless its runtime raises the limit (runtime
// key re2.max_program_size.error_level, 100 when unset).
inline constexpr uint32_t kDefaultMaxProgramSize = 100;
// A limit of 0 turns the program-size checks off (`cilium-policy lint` measures them itself).
inline constexpr uint32_t kNoProgramSizeCheck = 0;

// Compiles patterns the way Envoy's google_re2 engine does (RE2 defaults, quiet, the
// program-size limit), sharing the result between equal patterns of one update.
class RegexCache {
public:
  // `max_program_size`: the limit for patterns whose matcher sets none of its own (what
  // Envoy's runtime key gives; kNoProgramSizeCheck: none, not even a matcher's own).
  explicit RegexCache(uint32_t max_program_size = kDefaultMaxProgramSize)
      : max_program_size_(max_program_size) {}

  // The compiled pattern, or an error naming the pattern and what is wrong with it.
  // `own_limit`: the matcher's own max_program_size, which replaces the cache's limit.
  Status compile(const std::string& pattern, RegexPtr& out,
                 std::optional<uint32_t> own_limit = std::nullopt);

  uint32_t maxProgramSize() const { return max_program_size_; }

private:
  uint32_t max_program_size_;
  std::unordered_map<std::string, RegexPtr> compiled_;
};

}  // namespace Policy
}  // namespace Cilium
