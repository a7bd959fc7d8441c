#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cilium-filters/policy/base/request_headers.h"
#include "cilium-filters/policy/base/status.h"
#include "cilium-filters/policy/compile/regex.h"

namespace envoy {
namespace config {
namespace route {
namespace v3 {
class HeaderMatcher;
}  // namespace v3
}  // namespace route
}  // namespace config
namespace type {
namespace matcher {
namespace v3 {
class StringMatcher;
}  // namespace v3
}  // namespace matcher
}  // namespace type
}  // namespace envoy

namespace Cilium {
namespace Policy {

// Envoy's StringMatcher: exact, prefix, suffix or contains (optionally ignoring ASCII
// case), or a safe_regex matched against the whole value.
class StringMatcher {
public:
  static Status create(const envoy::type::matcher::v3::StringMatcher& config, RegexCache& regexes,
                       StringMatcher& out);
  bool matches(std::string_view value) const;
  std::string describe() const;

private:
  enum class Kind : uint8_t { Exact, Prefix, Suffix, Contains, Regex };
  Kind kind_{Kind::Exact};
  bool ignore_case_{false};
  std::string value_;  // lower case for Contains when ignoring case
  RegexPtr regex_;
};

// Envoy's route HeaderMatcher, with the semantics of Envoy 1.32: the header's values are
// joined with ',' before matching; a missing header matches only "present_match: false"
// (or, inverted, "present_match: true") unless treat_missing_header_as_empty is set; an
// empty exact_match matches any value; range_match is [start, end) on an integer value.
class HeaderMatcher {
public:
  static Status create(const envoy::config::route::v3::HeaderMatcher& config, RegexCache& regexes,
                       HeaderMatcher& out);
  bool matches(const RequestHeaders& headers) const;
  // One line for `explain`, e.g. `:path exact "/public"`.
  std::string describe() const;
  const std::string& name() const { return name_; }

private:
  enum class Kind : uint8_t { Exact, Regex, Range, Present, Prefix, Suffix, Contains, String };
  std::string name_;  // canonical (see RequestHeaders::canonicalName)
  Kind kind_{Kind::Present};
  bool present_{true};
  bool invert_{false};
  bool treat_missing_as_empty_{false};
  std::string value_;
  RegexPtr regex_;
  int64_t range_start_{0};
  int64_t range_end_{0};
  StringMatcher string_;
};

}  // namespace Policy
}  // namespace Cilium
