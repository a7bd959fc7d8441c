#include "cilium-filters/policy/compile/sni_pattern.h"

#include <re2/re2.h>

namespace Cilium {
namespace Policy {
namespace {

bool isDnsChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool isValidLabel(std::string_view label) {
  if (label == "*" || label == "**") {
    return true;
  }
  if (label.empty()) {
    return false;
  }
  bool previous_star = false;
  for (char c : label) {
    if (c == '*') {
      if (previous_star) {
        return false;  // '**' only as a whole label
      }
      previous_star = true;
    } else if (isDnsChar(c)) {
      previous_star = false;
    } else {
      return false;
    }
  }
  return true;
}

std::string asciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

// Any run of DNS characters within one label, and one or more whole labels.
constexpr std::string_view kInLabel = "[-a-z0-9_]{0,}";
constexpr std::string_view kLabels = "[-a-z0-9_]+([.][-a-z0-9_]+){0,}";

}  // namespace

bool SniPattern::isValid(std::string_view pattern) {
  size_t start = 0;
  while (true) {
    const size_t dot = pattern.find('.', start);
    const std::string_view label =
        pattern.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!isValidLabel(label)) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

Status SniPattern::create(const std::string& pattern, RegexCache& regexes, SniPattern& out) {
  if (!isValid(pattern)) {
    return Status::error("invalid server name pattern '" + pattern + "'");
  }
  out.pattern_ = pattern;
  out.regex_.reset();
  out.exact_.clear();
  const std::string lower = asciiLower(pattern);
  if (lower.find('*') == std::string::npos) {
    out.exact_ = lower;
    return Status::ok();
  }
  std::string regex;
  if (lower == "*") {
    regex = kLabels;
  } else {
    for (size_t i = 0; i < lower.size(); ++i) {
      const char c = lower[i];
      if (c == '.') {
        regex += "[.]";
      } else if (c == '*' && i + 1 < lower.size() && lower[i + 1] == '*') {
        regex += kLabels;
        ++i;
      } else if (c == '*') {
        regex += kInLabel;
      } else {
        regex += c;
      }
    }
  }
  return regexes.compile(regex, out.regex_).within("server name pattern '" + pattern + "'");
}

bool SniPattern::matches(std::string_view sni) const {
  if (sni.empty()) {
    return false;
  }
  const std::string lower = asciiLower(sni);
  if (!regex_) {
    return lower == exact_;
  }
  return regex_->fullMatch(lower);
}

}  // namespace Policy
}  // namespace Cilium
