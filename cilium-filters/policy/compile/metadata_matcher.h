#pragma once

#include <string>
#include <vector>

#include "cilium-filters/policy/compile/header_matcher.h"

namespace google {
namespace protobuf {
class Value;
}  // namespace protobuf
}  // namespace google

namespace envoy {
namespace config {
namespace core {
namespace v3 {
class Metadata;
}  // namespace v3
}  // namespace core
}  // namespace config
namespace type {
namespace matcher {
namespace v3 {
class MetadataMatcher;
class ValueMatcher;
}  // namespace v3
}  // namespace matcher
}  // namespace type
}  // namespace envoy

namespace Cilium {
namespace Policy {

// Envoy's ValueMatcher on a google.protobuf.Value: null, number (exact or [start, end)),
// string (a StringMatcher, on string values only), bool, present, a list holding a
// matching value, or any of several matchers.
class ValueMatcher {
public:
  static Status create(const envoy::type::matcher::v3::ValueMatcher& config, RegexCache& regexes,
                       ValueMatcher& out);
  bool matches(const google::protobuf::Value& value) const;

private:
  enum class Kind : uint8_t { Null, Number, String, Bool, Present, List, Or };
  Kind kind_{Kind::Present};
  bool flag_{false};   // bool_match, present_match
  bool exact_{false};  // number: exact rather than a range
  double number_{0};   // number: exact value, or the range's start
  double end_{0};      // number: the range's end (exclusive)
  StringMatcher string_;
  std::vector<ValueMatcher> children_;  // list: the one element matcher; or: the alternatives
};

// Envoy's MetadataMatcher: the value at `path` under `filter` in a Metadata, matched by a
// ValueMatcher (a missing value is an unset Value), optionally inverted.
class MetadataMatcher {
public:
  static Status create(const envoy::type::matcher::v3::MetadataMatcher& config, RegexCache& regexes,
                       MetadataMatcher& out);
  bool matches(const envoy::config::core::v3::Metadata& metadata) const;

private:
  std::string filter_;
  std::vector<std::string> path_;
  ValueMatcher value_;
  bool invert_{false};
};

}  // namespace Policy
}  // namespace Cilium
