#include "cilium-filters/policy/compile/header_matcher.h"

#include <re2/re2.h>

#include <charconv>

#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/type/matcher/v3/regex.pb.h"
#include "envoy/type/matcher/v3/string.pb.h"

// Cilium's agent still sends the HeaderMatcher and RegexMatcher fields Envoy marked
// deprecated (exact_match, safe_regex_match, google_re2): they must keep working.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace Cilium {
namespace Policy {
namespace {

using HeaderMatcherConfig = envoy::config::route::v3::HeaderMatcher;
using envoy::type::matcher::v3::RegexMatcher;

char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = lowerAscii(c);
  }
  return out;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) {
      return false;
    }
  }
  return true;
}

// A safe_regex as Envoy builds it: the deprecated google_re2 block may carry its own
// program-size limit; otherwise the update's limit applies (Envoy's runtime one).
Status compileRegex(const RegexMatcher& config, RegexCache& regexes, RegexPtr& out) {
  std::optional<uint32_t> own;
  if (config.has_google_re2() && config.google_re2().has_max_program_size()) {
    own = config.google_re2().max_program_size().value();
  }
  return regexes.compile(config.regex(), out, own);
}

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

// Whole decimal number, as absl::SimpleAtoi reads it (surrounding whitespace allowed).
bool parseInt64(std::string_view text, int64_t& out) {
  auto isSpace = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!text.empty() && isSpace(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && isSpace(text.back())) {
    text.remove_suffix(1);
  }
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
      return false;
    }
  }
  if (text.empty()) {
    return false;
  }
  const auto result = std::from_chars(text.data(), text.data() + text.size(), out);
  return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

}  // namespace

Status StringMatcher::create(const envoy::type::matcher::v3::StringMatcher& config,
                             RegexCache& regexes, StringMatcher& out) {
  using Config = envoy::type::matcher::v3::StringMatcher;
  out.ignore_case_ = config.ignore_case();
  switch (config.match_pattern_case()) {
    case Config::kExact:
      out.kind_ = Kind::Exact;
      out.value_ = config.exact();
      return Status::ok();
    case Config::kPrefix:
      out.kind_ = Kind::Prefix;
      out.value_ = config.prefix();
      return Status::ok();
    case Config::kSuffix:
      out.kind_ = Kind::Suffix;
      out.value_ = config.suffix();
      return Status::ok();
    case Config::kContains:
      out.kind_ = Kind::Contains;
      out.value_ = out.ignore_case_ ? lowered(config.contains()) : config.contains();
      return Status::ok();
    case Config::kSafeRegex:
      if (config.ignore_case()) {
        return Status::error("ignore_case has no effect for safe_regex");
      }
      out.kind_ = Kind::Regex;
      return compileRegex(config.safe_regex(), regexes, out.regex_);
    case Config::kCustom:
      return Status::error("custom string matchers are not supported by Cilium's policy");
    case Config::MATCH_PATTERN_NOT_SET:
      break;
  }
  return Status::error("string matcher has no match pattern");
}

bool StringMatcher::matches(std::string_view value) const {
  switch (kind_) {
    case Kind::Exact:
      return ignore_case_ ? equalsIgnoreCase(value, value_) : value == value_;
    case Kind::Prefix:
      return value.size() >= value_.size() &&
             (ignore_case_ ? equalsIgnoreCase(value.substr(0, value_.size()), value_)
                           : value.substr(0, value_.size()) == value_);
    case Kind::Suffix:
      return value.size() >= value_.size() &&
             (ignore_case_ ? equalsIgnoreCase(value.substr(value.size() - value_.size()), value_)
                           : value.substr(value.size() - value_.size()) == value_);
    case Kind::Contains:
      return ignore_case_ ? lowered(value).find(value_) != std::string::npos
                          : value.find(value_) != std::string_view::npos;
    case Kind::Regex:
      return regex_->fullMatch(value);
  }
  return false;
}

std::string StringMatcher::describe() const {
  static constexpr std::string_view kinds[] = {"exact", "prefix", "suffix", "contains", "regex"};
  std::string out(kinds[static_cast<int>(kind_)]);
  out += " ";
  out += quoted(kind_ == Kind::Regex ? regex_->pattern() : value_);
  if (ignore_case_) {
    out += " ignoring case";
  }
  return out;
}

Status HeaderMatcher::create(const envoy::config::route::v3::HeaderMatcher& config,
                             RegexCache& regexes, HeaderMatcher& out) {
  out.name_ = RequestHeaders::canonicalName(config.name());
  out.invert_ = config.invert_match();
  out.treat_missing_as_empty_ = config.treat_missing_header_as_empty();
  out.present_ = true;
  Status status = Status::ok();
  switch (config.header_match_specifier_case()) {
    case HeaderMatcherConfig::kExactMatch:
      out.kind_ = Kind::Exact;
      out.value_ = config.exact_match();
      break;
    case HeaderMatcherConfig::kSafeRegexMatch:
      out.kind_ = Kind::Regex;
      status = compileRegex(config.safe_regex_match(), regexes, out.regex_);
      break;
    case HeaderMatcherConfig::kRangeMatch:
      out.kind_ = Kind::Range;
      out.range_start_ = config.range_match().start();
      out.range_end_ = config.range_match().end();
      break;
    case HeaderMatcherConfig::kPresentMatch:
      out.kind_ = Kind::Present;
      out.present_ = config.present_match();
      break;
    case HeaderMatcherConfig::kPrefixMatch:
      out.kind_ = Kind::Prefix;
      out.value_ = config.prefix_match();
      break;
    case HeaderMatcherConfig::kSuffixMatch:
      out.kind_ = Kind::Suffix;
      out.value_ = config.suffix_match();
      break;
    case HeaderMatcherConfig::kContainsMatch:
      out.kind_ = Kind::Contains;
      out.value_ = config.contains_match();
      break;
    case HeaderMatcherConfig::kStringMatch:
      out.kind_ = Kind::String;
      status = StringMatcher::create(config.string_match(), regexes, out.string_);
      break;
    case HeaderMatcherConfig::HEADER_MATCH_SPECIFIER_NOT_SET:
      out.kind_ = Kind::Present;  // no specifier: the header must be present
      break;
  }
  return status.within("header matcher '" + config.name() + "'");
}

bool HeaderMatcher::matches(const RequestHeaders& headers) const {
  const RequestHeaders::Value header = headers.get(name_);
  if (!header.present() && !treat_missing_as_empty_) {
    return kind_ == Kind::Present && (invert_ ? present_ : !present_);
  }
  const std::string_view value = header.present() ? header.get() : std::string_view();
  bool match = false;
  switch (kind_) {
    case Kind::Exact:
      match = value_.empty() || value == value_;
      break;
    case Kind::Regex:
      match = regex_->fullMatch(value);
      break;
    case Kind::Range: {
      int64_t number = 0;
      match = parseInt64(value, number) && number >= range_start_ && number < range_end_;
      break;
    }
    case Kind::Present:
      match = present_;
      break;
    case Kind::Prefix:
      match = value.substr(0, value_.size()) == value_;
      break;
    case Kind::Suffix:
      match = value.size() >= value_.size() && value.substr(value.size() - value_.size()) == value_;
      break;
    case Kind::Contains:
      match = value.find(value_) != std::string_view::npos;
      break;
    case Kind::String:
      match = string_.matches(value);
      break;
  }
  return match != invert_;
}

std::string HeaderMatcher::describe() const {
  std::string out = name_ + " ";
  switch (kind_) {
    case Kind::Exact:
      out +=
          value_.empty() ? std::string("present (empty exact_match)") : "exact " + quoted(value_);
      break;
    case Kind::Regex:
      out += "regex " + quoted(regex_->pattern());
      break;
    case Kind::Range:
      out += "in [" + std::to_string(range_start_) + ", " + std::to_string(range_end_) + ")";
      break;
    case Kind::Present:
      out += present_ ? "present" : "absent";
      break;
    case Kind::Prefix:
      out += "prefix " + quoted(value_);
      break;
    case Kind::Suffix:
      out += "suffix " + quoted(value_);
      break;
    case Kind::Contains:
      out += "contains " + quoted(value_);
      break;
    case Kind::String:
      out += string_.describe();
      break;
  }
  if (invert_) {
    out += " (inverted)";
  }
  if (treat_missing_as_empty_) {
    out += " (missing counts as empty)";
  }
  return out;
}

}  // namespace Policy
}  // namespace Cilium
