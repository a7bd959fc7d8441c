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
    auto regex = std::make_shared<const re2::RE2>(pattern, re2::RE2::Quiet);
    if (!regex->ok()) {
      return Status::error("invalid regex '" + pattern + "': " + regex->error());
    }
    out = compiled_.emplace(pattern, std::move(regex)).first->second;
  }
  if (max_program_size_ == kNoProgramSizeCheck) {
    return Status::ok();
  }
  const uint32_t limit = own_limit.value_or(max_program_size_);
  const int size = out->ProgramSize();
  if (size < 0 || static_cast<uint32_t>(size) > limit) {
    out.reset();
    return Status::error("regex '" + pattern + "' compiles to an RE2 program of size " +
                         std::to_string(size) + ", above the limit of " + std::to_string(limit) +
                         (own_limit ? " (its google_re2.max_program_size)" : ""));
  }
  return Status::ok();
}

bool fullMatch(const re2::RE2& regex, std::string_view value) {
  return re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), regex);
}

}  // namespace Policy
}  // namespace Cilium
