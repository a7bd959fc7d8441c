#include "cilium-filters/policy/compile/metadata_matcher.h"

#include "envoy/config/core/v3/base.pb.h"
#include "envoy/type/matcher/v3/metadata.pb.h"
#include "envoy/type/matcher/v3/value.pb.h"
#include "google/protobuf/struct.pb.h"

namespace Cilium {
namespace Policy {

Status ValueMatcher::create(const envoy::type::matcher::v3::ValueMatcher& config,
                            RegexCache& regexes, ValueMatcher& out) {
  using Config = envoy::type::matcher::v3::ValueMatcher;
  switch (config.match_pattern_case()) {
    case Config::kNullMatch:
      out.kind_ = Kind::Null;
      return Status::ok();
    case Config::kDoubleMatch: {
      out.kind_ = Kind::Number;
      const auto& number = config.double_match();
      out.exact_ = number.has_exact();
      out.number_ = out.exact_ ? number.exact() : number.range().start();
      out.end_ = number.range().end();
      if (!number.has_exact() && !number.has_range()) {
        return Status::error("double_match has neither exact nor range");
      }
      return Status::ok();
    }
    case Config::kStringMatch:
      out.kind_ = Kind::String;
      return StringMatcher::create(config.string_match(), regexes, out.string_);
    case Config::kBoolMatch:
      out.kind_ = Kind::Bool;
      out.flag_ = config.bool_match();
      return Status::ok();
    case Config::kPresentMatch:
      out.kind_ = Kind::Present;
      out.flag_ = config.present_match();
      return Status::ok();
    case Config::kListMatch:
      out.kind_ = Kind::List;
      out.children_.resize(1);
      return create(config.list_match().one_of(), regexes, out.children_[0]).within("list_match");
    case Config::kOrMatch:
      out.kind_ = Kind::Or;
      out.children_.resize(config.or_match().value_matchers_size());
      for (int i = 0; i < config.or_match().value_matchers_size(); ++i) {
        Status status = create(config.or_match().value_matchers(i), regexes, out.children_[i]);
        if (!status) {
          return status.within("or_match[" + std::to_string(i) + "]");
        }
      }
      return Status::ok();
    case Config::MATCH_PATTERN_NOT_SET:
      break;
  }
  return Status::error("value matcher has no match pattern");
}

bool ValueMatcher::matches(const google::protobuf::Value& value) const {
  using google::protobuf::Value;
  switch (kind_) {
    case Kind::Null:
      return value.kind_case() == Value::kNullValue;
    case Kind::Number:
      if (value.kind_case() != Value::kNumberValue) {
        return false;
      }
      return exact_ ? value.number_value() == number_
                    : number_ <= value.number_value() && value.number_value() < end_;
    case Kind::String:
      return value.kind_case() == Value::kStringValue && string_.matches(value.string_value());
    case Kind::Bool:
      return value.kind_case() == Value::kBoolValue && value.bool_value() == flag_;
    case Kind::Present:
      return flag_ && value.kind_case() != Value::KIND_NOT_SET;
    case Kind::List:
      if (value.kind_case() != Value::kListValue) {
        return false;
      }
      for (const Value& item : value.list_value().values()) {
        if (children_[0].matches(item)) {
          return true;
        }
      }
      return false;
    case Kind::Or:
      for (const ValueMatcher& child : children_) {
        if (child.matches(value)) {
          return true;
        }
      }
      return false;
  }
  return false;
}

Status MetadataMatcher::create(const envoy::type::matcher::v3::MetadataMatcher& config,
                               RegexCache& regexes, MetadataMatcher& out) {
  out.filter_ = config.filter();
  out.path_.clear();
  for (const auto& segment : config.path()) {
    out.path_.push_back(segment.key());
  }
  out.invert_ = config.invert();
  return ValueMatcher::create(config.value(), regexes, out.value_)
      .within("metadata matcher '" + config.filter() + "'");
}

bool MetadataMatcher::matches(const envoy::config::core::v3::Metadata& metadata) const {
  static const google::protobuf::Value& unset = google::protobuf::Value::default_instance();
  const google::protobuf::Value* value = &unset;
  const auto filter = metadata.filter_metadata().find(filter_);
  if (filter != metadata.filter_metadata().end()) {
    const google::protobuf::Struct* container = &filter->second;
    const google::protobuf::Value* found = nullptr;
    for (const std::string& key : path_) {
      if (container == nullptr) {
        found = nullptr;
        break;
      }
      const auto field = container->fields().find(key);
      if (field == container->fields().end()) {
        found = nullptr;
        break;
      }
      found = &field->second;
      container = found->has_struct_value() ? &found->struct_value() : nullptr;
    }
    if (found != nullptr) {
      value = found;
    }
  }
  return value_.matches(*value) != invert_;
}

}  // namespace Policy
}  // namespace Cilium
