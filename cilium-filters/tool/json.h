#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace Cilium {
namespace PolicyTool {

// A parsed JSON value. Numbers keep their text; every value remembers the slice of the
// input it came from (so an embedded document can be handed on as written).
class Json {
public:
  enum class Type : uint8_t { Null, Bool, Number, String, Array, Object };

  // Parses one JSON document (RFC 8259, UTF-8); false with a reason on any error.
  static bool parse(std::string_view input, Json& out, std::string& error);

  Type type() const { return type_; }
  bool isObject() const { return type_ == Type::Object; }
  bool isArray() const { return type_ == Type::Array; }
  bool isString() const { return type_ == Type::String; }
  bool isBool() const { return type_ == Type::Bool; }
  bool isNull() const { return type_ == Type::Null; }

  bool boolean() const { return boolean_; }
  // The decoded string, or a number's text.
  const std::string& text() const { return text_; }
  const std::vector<Json>& items() const { return items_; }
  const std::vector<std::pair<std::string, Json>>& members() const { return members_; }
  std::string_view raw() const { return raw_; }

  // The member called `key`, or null.
  const Json* find(std::string_view key) const;
  // A whole number written without fraction or exponent, within [0, max].
  bool asUnsigned(uint64_t max, uint64_t& out) const;

  static std::string_view typeName(Type type);

private:
  friend class JsonParser;
  Type type_{Type::Null};
  bool boolean_{false};
  std::string text_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
  std::string_view raw_;
};

// Appends JSON text to a string: compact, keys in the order written.
class JsonWriter {
public:
  JsonWriter& beginObject();
  JsonWriter& endObject();
  JsonWriter& beginArray();
  JsonWriter& endArray();
  JsonWriter& key(std::string_view name);
  JsonWriter& string(std::string_view value);
  JsonWriter& boolean(bool value);
  JsonWriter& null();
  JsonWriter& number(uint64_t value);
  // A JSON array of [name, value] string pairs.
  JsonWriter& pairs(const std::vector<std::pair<std::string, std::string>>& values);

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

  // `value` as a JSON string literal (quotes included).
  static std::string quote(std::string_view value);

private:
  void separate();

  std::string out_;
  std::vector<bool> first_; // per open container: nothing written in it yet
  bool after_key_{false};
};

} // namespace PolicyTool
} // namespace Cilium
