#include "cilium-filters/tool/json.h"

#include <charconv>

namespace Cilium {
namespace PolicyTool {

class JsonParser {
public:
  explicit JsonParser(std::string_view input) : input_(input) {}

  bool document(Json& out, std::string& error) {
    skipSpace();
    if (!value(out, 0)) {
      error = error_;
      return false;
    }
    skipSpace();
    if (pos_ != input_.size()) {
      error = at("unexpected text after the JSON value");
      return false;
    }
    return true;
  }

private:
  static constexpr int kMaxDepth = 200;

  std::string at(const std::string& what) const {
    return what + " at offset " + std::to_string(pos_);
  }
  bool fail(const std::string& what) {
    error_ = at(what);
    return false;
  }
  void skipSpace() {
    while (pos_ < input_.size() && (input_[pos_] == ' ' || input_[pos_] == '\t' ||
                                    input_[pos_] == '\n' || input_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool literal(std::string_view word) {
    if (input_.substr(pos_, word.size()) != word) {
      return fail("invalid JSON value");
    }
    pos_ += word.size();
    return true;
  }

  bool value(Json& out, int depth) {
    if (depth > kMaxDepth) {
      return fail("JSON nested too deeply");
    }
    if (pos_ >= input_.size()) {
      return fail("unexpected end of input");
    }
    const size_t start = pos_;
    bool ok = false;
    switch (input_[pos_]) {
    case '{':
      ok = object(out, depth);
      break;
    case '[':
      ok = array(out, depth);
      break;
    case '"':
      out.type_ = Json::Type::String;
      ok = string(out.text_);
      break;
    case 't':
      out.type_ = Json::Type::Bool;
      out.boolean_ = true;
      ok = literal("true");
      break;
    case 'f':
      out.type_ = Json::Type::Bool;
      ok = literal("false");
      break;
    case 'n':
      out.type_ = Json::Type::Null;
      ok = literal("null");
      break;
    default:
      out.type_ = Json::Type::Number;
      ok = number(out.text_);
    }
    out.raw_ = input_.substr(start, pos_ - start);
    return ok;
  }

  bool object(Json& out, int depth) {
    out.type_ = Json::Type::Object;
    ++pos_;
    skipSpace();
    if (pos_ < input_.size() && input_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      skipSpace();
      if (pos_ >= input_.size() || input_[pos_] != '"') {
        return fail("expected a string key");
      }
      std::string key;
      if (!string(key)) {
        return false;
      }
      for (const auto& member : out.members_) {
        if (member.first == key) {
          return fail("duplicate key \"" + key + "\"");
        }
      }
      skipSpace();
      if (pos_ >= input_.size() || input_[pos_] != ':') {
        return fail("expected ':'");
      }
      ++pos_;
      skipSpace();
      out.members_.emplace_back(std::move(key), Json());
      if (!value(out.members_.back().second, depth + 1)) {
        return false;
      }
      skipSpace();
      if (pos_ < input_.size() && input_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < input_.size() && input_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  bool array(Json& out, int depth) {
    out.type_ = Json::Type::Array;
    ++pos_;
    skipSpace();
    if (pos_ < input_.size() && input_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      skipSpace();
      out.items_.emplace_back();
      if (!value(out.items_.back(), depth + 1)) {
        return false;
      }
      skipSpace();
      if (pos_ < input_.size() && input_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < input_.size() && input_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  bool number(std::string& out) {
    const size_t start = pos_;
    auto digit = [&] { return pos_ < input_.size() && input_[pos_] >= '0' && input_[pos_] <= '9'; };
    if (pos_ < input_.size() && input_[pos_] == '-') {
      ++pos_;
    }
    if (!digit()) {
      return fail("invalid JSON value");
    }
    if (input_[pos_] == '0') {
      ++pos_;
    } else {
      while (digit()) {
        ++pos_;
      }
    }
    if (pos_ < input_.size() && input_[pos_] == '.') {
      ++pos_;
      if (!digit()) {
        return fail("invalid number");
      }
      while (digit()) {
        ++pos_;
      }
    }
    if (pos_ < input_.size() && (input_[pos_] == 'e' || input_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < input_.size() && (input_[pos_] == '+' || input_[pos_] == '-')) {
        ++pos_;
      }
      if (!digit()) {
        return fail("invalid number");
      }
      while (digit()) {
        ++pos_;
      }
    }
    out.assign(input_.substr(start, pos_ - start));
    return true;
  }

  static void appendUtf8(std::string& out, uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  bool hex4(uint32_t& out) {
    if (pos_ + 4 > input_.size()) {
      return fail("truncated \\u escape");
    }
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = input_[pos_++];
      out <<= 4;
      if (c >= '0' && c <= '9') {
        out |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        out |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        out |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return fail("invalid \\u escape");
      }
    }
    return true;
  }

  // One UTF-8 sequence starting at pos_ (validated), copied to `out`.
  bool utf8(std::string& out) {
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(input_[i]); };
    const unsigned char lead = byte(pos_);
    size_t length = 0;
    uint32_t code = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
      code = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      code = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      code = lead & 0x07;
    } else {
      return fail("invalid UTF-8");
    }
    if (pos_ + length > input_.size()) {
      return fail("invalid UTF-8");
    }
    for (size_t i = 1; i < length; ++i) {
      if ((byte(pos_ + i) & 0xC0) != 0x80) {
        return fail("invalid UTF-8");
      }
      code = (code << 6) | (byte(pos_ + i) & 0x3F);
    }
    if ((length == 3 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) ||
        (length == 4 && (code < 0x10000 || code > 0x10FFFF))) {
      return fail("invalid UTF-8");
    }
    out.append(input_.substr(pos_, length));
    pos_ += length;
    return true;
  }

  bool string(std::string& out) {
    ++pos_; // opening quote
    while (true) {
      if (pos_ >= input_.size()) {
        return fail("unterminated string");
      }
      const unsigned char c = static_cast<unsigned char>(input_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) {
        return fail("control character in string");
      }
      if (c >= 0x80) {
        if (!utf8(out)) {
          return false;
        }
        continue;
      }
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      if (++pos_ >= input_.size()) {
        return fail("unterminated string");
      }
      const char escape = input_[pos_++];
      switch (escape) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        uint32_t code = 0;
        if (!hex4(code)) {
          return false;
        }
        if (code >= 0xD800 && code <= 0xDBFF) {
          uint32_t low = 0;
          if (input_.substr(pos_, 2) != "\\u") {
            return fail("unpaired surrogate in \\u escape");
          }
          pos_ += 2;
          if (!hex4(low)) {
            return false;
          }
          if (low < 0xDC00 || low > 0xDFFF) {
            return fail("unpaired surrogate in \\u escape");
          }
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        } else if (code >= 0xDC00 && code <= 0xDFFF) {
          return fail("unpaired surrogate in \\u escape");
        }
        appendUtf8(out, code);
        break;
      }
      default:
        return fail("invalid escape in string");
      }
    }
  }

  std::string_view input_;
  size_t pos_{0};
  std::string error_;
};

bool Json::parse(std::string_view input, Json& out, std::string& error) {
  out = Json();
  JsonParser parser(input);
  return parser.document(out, error);
}

const Json* Json::find(std::string_view key) const {
  for (const auto& member : members_) {
    if (member.first == key) {
      return &member.second;
    }
  }
  return nullptr;
}

bool Json::asUnsigned(uint64_t max, uint64_t& out) const {
  if (type_ != Type::Number || text_.empty() || text_.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  const auto result = std::from_chars(text_.data(), text_.data() + text_.size(), out);
  return result.ec == std::errc() && out <= max;
}

std::string_view Json::typeName(Type type) {
  switch (type) {
  case Type::Null:
    return "null";
  case Type::Bool:
    return "a boolean";
  case Type::Number:
    return "a number";
  case Type::String:
    return "a string";
  case Type::Array:
    return "an array";
  case Type::Object:
    return "an object";
  }
  return "unknown";
}

// --- writing ------------------------------------------------------------------------------

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) {
      out_ += ',';
    }
    first_.back() = false;
  }
}

JsonWriter& JsonWriter::beginObject() {
  separate();
  out_ += '{';
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::endObject() {
  out_ += '}';
  first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::beginArray() {
  separate();
  out_ += '[';
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::endArray() {
  out_ += ']';
  first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  separate();
  out_ += quote(name);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view value) {
  separate();
  out_ += quote(value);
  return *this;
}

JsonWriter& JsonWriter::boolean(bool value) {
  separate();
  out_ += value ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  separate();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::number(uint64_t value) {
  separate();
  out_ += std::to_string(value);
  return *this;
}

JsonWriter& JsonWriter::pairs(const std::vector<std::pair<std::string, std::string>>& values) {
  beginArray();
  for (const auto& [name, value] : values) {
    beginArray().string(name).string(value).endArray();
  }
  return endArray();
}

std::string JsonWriter::quote(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(value.size() + 2);
  out += '"';
  for (char c : value) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        out += "\\u00";
        out += kHex[(c >> 4) & 0xF];
        out += kHex[c & 0xF];
      } else {
        out += c;
      }
    }
  }
  out += '"';
  return out;
}

} // namespace PolicyTool
} // namespace Cilium
