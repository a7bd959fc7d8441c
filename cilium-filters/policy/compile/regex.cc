#include "cilium-filters/policy/compile/regex.h"

#include <re2/re2.h>

namespace Cilium {
namespace Policy {

Status RegexCache::compile(const std::string& pattern, RegexPtr& out,
                           std::optional<uint32_t> own_limit) {
  auto found = compiled_.find(pattern);
  if (found != compiled_.end()) {
    out = found->second;
  } else {
    auto regex = std::make_shared<const Regex>(pattern);
    if (!regex->ok()) {
      return Status::error("invalid regex '" + pattern + "': " + regex->error());
    }
    out = compiled_.emplace(pattern, std::move(regex)).first->second;
  }
  if (max_program_size_ == kNoProgramSizeCheck) {
    return Status::ok();
  }
  const uint32_t limit = own_limit.value_or(max_program_size_);
  const int size = out->programSize();
  if (size < 0 || static_cast<uint32_t>(size) > limit) {
    out.reset();
    return Status::error("regex '" + pattern + "' compiles to an RE2 program of size " +
                         std::to_string(size) + ", above the limit of " + std::to_string(limit) +
                         (own_limit ? " (its google_re2.max_program_size)" : ""));
  }
  return Status::ok();
}

namespace {
// How long the bounds of a pattern's range may be: a path's literal prefix fits.
constexpr int kRangeLength = 64;
}  // namespace

Regex::Regex(const std::string& pattern)
    : re2_(std::make_unique<const re2::RE2>(pattern, re2::RE2::Quiet)) {
  // RE2 guarantees min <= s <= max for every s the pattern matches from its start, so for
  // every whole-value match; an empty max stands for no upper bound.
  ranged_ = re2_->ok() && re2_->PossibleMatchRange(&min_, &max_, kRangeLength);
}

Regex::~Regex() = default;

bool Regex::ok() const { return re2_->ok(); }
const std::string& Regex::error() const { return re2_->error(); }
const std::string& Regex::pattern() const { return re2_->pattern(); }
int Regex::programSize() const { return re2_->ProgramSize(); }

bool Regex::fullMatch(std::string_view value) const {
  if (ranged_ &&
      (value < std::string_view(min_) || (!max_.empty() && value > std::string_view(max_)))) {
    return false;
  }
  return re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *re2_);
}

}  // namespace Policy
}  // namespace Cilium
