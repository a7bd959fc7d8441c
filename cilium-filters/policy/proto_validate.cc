#include "cilium-filters/policy/proto_validate.h"

#include <arpa/inet.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <re2/re2.h>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/message.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/timestamp.pb.h"
#include "validate/validate.pb.h"

namespace Cilium {
namespace Policy {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::OneofDescriptor;
using google::protobuf::Reflection;

// --- what to check, per message type (computed once) --------------------------------------

struct MessagePlan;

struct FieldPlan {
  const FieldDescriptor* field;
  const validate::FieldRules* rules; // null: no rules of its own
  bool recurse;                      // a message whose type (or its sub-messages) has rules
};

struct MessagePlan {
  std::vector<FieldPlan> fields;
  std::vector<const OneofDescriptor*> required_oneofs;
  bool needed{false}; // anything at all to check in this type or below
};

class Plans {
public:
  const MessagePlan& get(const Descriptor* type) {
    std::lock_guard<std::mutex> lock(mutex_);
    return *build(type);
  }

private:
  MessagePlan* build(const Descriptor* type) {
    auto found = plans_.find(type);
    if (found != plans_.end()) {
      return found->second.get();
    }
    auto owned = std::make_unique<MessagePlan>();
    MessagePlan* plan = owned.get();
    plans_.emplace(type, std::move(owned));
    // A type under construction counts as needing checks (recursive types).
    plan->needed = true;
    const auto& message_options = type->options();
    if (message_options.GetExtension(validate::disabled) ||
        message_options.GetExtension(validate::ignored)) {
      plan->needed = false;
      return plan;
    }
    bool needed = false;
    for (int i = 0; i < type->oneof_decl_count(); ++i) {
      const OneofDescriptor* oneof = type->oneof_decl(i);
      if (oneof->options().GetExtension(validate::required)) {
        plan->required_oneofs.push_back(oneof);
        needed = true;
      }
    }
    for (int i = 0; i < type->field_count(); ++i) {
      const FieldDescriptor* field = type->field(i);
      const validate::FieldRules* rules = nullptr;
      if (field->options().HasExtension(validate::rules)) {
        rules = &field->options().GetExtension(validate::rules);
      }
      bool recurse = false;
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !field->is_map()) {
        const bool skip = rules && rules->has_message() && rules->message().skip();
        recurse = !skip && build(field->message_type())->needed;
      } else if (field->is_map()) {
        const FieldDescriptor* value = field->message_type()->map_value();
        recurse = value->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
                  build(value->message_type())->needed;
      }
      if (rules || recurse) {
        plan->fields.push_back(FieldPlan{field, rules, recurse});
        needed = true;
      }
    }
    plan->needed = needed;
    return plan;
  }

  std::mutex mutex_;
  std::unordered_map<const Descriptor*, std::unique_ptr<MessagePlan>> plans_;
};

Plans& plans() {
  static Plans* instance = new Plans();
  return *instance;
}

// Plans never change once built: each thread remembers those it used, without the lock.
const MessagePlan& planFor(const Descriptor* type) {
  thread_local std::unordered_map<const Descriptor*, const MessagePlan*> known;
  auto found = known.find(type);
  if (found != known.end()) {
    return *found->second;
  }
  const MessagePlan& plan = plans().get(type);
  known.emplace(type, &plan);
  return plan;
}

// --- rule checks ---------------------------------------------------------------------------

template <class T> std::string text(const T& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}
std::string text(const std::string& value) { return "\"" + value + "\""; }

template <class T, class Rules>
Status checkNumber(T value, const Rules& rules) {
  if (rules.ignore_empty() && value == T()) {
    return Status::ok();
  }
  if (rules.has_const_() && value != static_cast<T>(rules.const_())) {
    return Status::error("value must equal " + text(rules.const_()));
  }
  const bool has_lower = rules.has_gt() || rules.has_gte();
  const bool has_upper = rules.has_lt() || rules.has_lte();
  auto above_lower = [&] {
    return rules.has_gt() ? value > static_cast<T>(rules.gt()) : value >= static_cast<T>(rules.gte());
  };
  auto below_upper = [&] {
    return rules.has_lt() ? value < static_cast<T>(rules.lt()) : value <= static_cast<T>(rules.lte());
  };
  // The words of an error, built only when there is one.
  auto lower = [&] {
    return rules.has_gt() ? "greater than " + text(rules.gt()) : "at least " + text(rules.gte());
  };
  auto upper = [&] {
    return rules.has_lt() ? "less than " + text(rules.lt()) : "at most " + text(rules.lte());
  };
  if (has_lower && has_upper) {
    const T low = static_cast<T>(rules.has_gt() ? rules.gt() : rules.gte());
    const T high = static_cast<T>(rules.has_lt() ? rules.lt() : rules.lte());
    if (high > low || (high == low && !(rules.has_gt() || rules.has_lt()))) {
      if (!(above_lower() && below_upper())) {
        return Status::error("value must be " + lower() + " and " + upper());
      }
    } else if (!(above_lower() || below_upper())) { // an exclusive range: outside it
      return Status::error("value must be " + lower() + " or " + upper());
    }
  } else if (has_lower && !above_lower()) {
    return Status::error("value must be " + lower());
  } else if (has_upper && !below_upper()) {
    return Status::error("value must be " + upper());
  }
  if (rules.in_size() > 0 &&
      std::find(rules.in().begin(), rules.in().end(), value) == rules.in().end()) {
    return Status::error("value must be one of the listed values");
  }
  if (std::find(rules.not_in().begin(), rules.not_in().end(), value) != rules.not_in().end()) {
    return Status::error("value must not be one of the listed values");
  }
  return Status::ok();
}

size_t utf8Length(const std::string& value) {
  size_t count = 0;
  for (unsigned char c : value) {
    if ((c & 0xC0) != 0x80) {
      ++count;
    }
  }
  return count;
}

bool isIpv4(const std::string& value) {
  in_addr addr;
  return inet_pton(AF_INET, value.c_str(), &addr) == 1;
}
bool isIpv6(const std::string& value) {
  in6_addr addr;
  return inet_pton(AF_INET6, value.c_str(), &addr) == 1;
}
bool isHostname(const std::string& value) {
  if (value.empty() || value.size() > 253) {
    return false;
  }
  std::string name = value;
  if (name.back() == '.') {
    name.pop_back();
  }
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) {
      dot = name.size();
    }
    const std::string label = name.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
        return false;
      }
    }
    start = dot + 1;
    if (dot == name.size()) {
      break;
    }
  }
  return true;
}

const re2::RE2& patternFor(const std::string& pattern) {
  static std::mutex mutex;
  static auto* compiled = new std::unordered_map<std::string, std::unique_ptr<re2::RE2>>();
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = (*compiled)[pattern];
  if (!slot) {
    slot = std::make_unique<re2::RE2>(pattern, re2::RE2::Quiet);
  }
  return *slot;
}

Status checkString(const std::string& value, const validate::StringRules& rules) {
  if (rules.ignore_empty() && value.empty()) {
    return Status::ok();
  }
  if (rules.has_const_() && value != rules.const_()) {
    return Status::error("value must equal " + text(rules.const_()));
  }
  if (rules.in_size() > 0 &&
      std::find(rules.in().begin(), rules.in().end(), value) == rules.in().end()) {
    return Status::error("value must be one of the listed values");
  }
  if (std::find(rules.not_in().begin(), rules.not_in().end(), value) != rules.not_in().end()) {
    return Status::error("value must not be one of the listed values");
  }
  const size_t chars = utf8Length(value);
  if (rules.has_len() && chars != rules.len()) {
    return Status::error("value must be " + text(rules.len()) + " characters");
  }
  if (rules.has_min_len() && chars < rules.min_len()) {
    return Status::error("value length must be at least " + text(rules.min_len()) + " characters");
  }
  if (rules.has_max_len() && chars > rules.max_len()) {
    return Status::error("value length must be at most " + text(rules.max_len()) + " characters");
  }
  if (rules.has_len_bytes() && value.size() != rules.len_bytes()) {
    return Status::error("value length must be " + text(rules.len_bytes()) + " bytes");
  }
  if (rules.has_min_bytes() && value.size() < rules.min_bytes()) {
    return Status::error("value length must be at least " + text(rules.min_bytes()) + " bytes");
  }
  if (rules.has_max_bytes() && value.size() > rules.max_bytes()) {
    return Status::error("value length must be at most " + text(rules.max_bytes()) + " bytes");
  }
  if (rules.has_prefix() && value.compare(0, rules.prefix().size(), rules.prefix()) != 0) {
    return Status::error("value does not have prefix " + text(rules.prefix()));
  }
  if (rules.has_suffix() &&
      (value.size() < rules.suffix().size() ||
       value.compare(value.size() - rules.suffix().size(), std::string::npos, rules.suffix()) != 0)) {
    return Status::error("value does not have suffix " + text(rules.suffix()));
  }
  if (rules.has_contains() && value.find(rules.contains()) == std::string::npos) {
    return Status::error("value does not contain substring " + text(rules.contains()));
  }
  if (rules.has_not_contains() && value.find(rules.not_contains()) != std::string::npos) {
    return Status::error("value contains substring " + text(rules.not_contains()));
  }
  if (rules.has_pattern() &&
      !re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()),
                           patternFor(rules.pattern()))) {
    return Status::error("value does not match regex pattern " + text(rules.pattern()));
  }
  switch (rules.well_known_case()) {
  case validate::StringRules::kIp:
    if (rules.ip() && !isIpv4(value) && !isIpv6(value)) {
      return Status::error("value must be a valid IP Address");
    }
    break;
  case validate::StringRules::kIpv4:
    if (rules.ipv4() && !isIpv4(value)) {
      return Status::error("value must be a valid IPv4 Address");
    }
    break;
  case validate::StringRules::kIpv6:
    if (rules.ipv6() && !isIpv6(value)) {
      return Status::error("value must be a valid IPv6 Address");
    }
    break;
  case validate::StringRules::kHostname:
    if (rules.hostname() && !isHostname(value)) {
      return Status::error("value must be a valid hostname");
    }
    break;
  case validate::StringRules::kAddress:
    if (rules.address() && !isHostname(value) && !isIpv4(value) && !isIpv6(value)) {
      return Status::error("value must be an ip address, or a hostname.");
    }
    break;
  case validate::StringRules::kUuid:
    if (rules.uuid() &&
        !re2::RE2::FullMatch(value, patternFor("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                                                "[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))) {
      return Status::error("value must be a valid UUID");
    }
    break;
  default: // email, uri, uri_ref, well_known_regex: not checked by the C++ validator
    break;
  }
  return Status::ok();
}

Status checkBytes(const std::string& value, const validate::BytesRules& rules) {
  if (rules.ignore_empty() && value.empty()) {
    return Status::ok();
  }
  if (rules.has_const_() && value != rules.const_()) {
    return Status::error("value must equal the given bytes");
  }
  if (rules.has_len() && value.size() != rules.len()) {
    return Status::error("value length must be " + text(rules.len()) + " bytes");
  }
  if (rules.has_min_len() && value.size() < rules.min_len()) {
    return Status::error("value length must be at least " + text(rules.min_len()) + " bytes");
  }
  if (rules.has_max_len() && value.size() > rules.max_len()) {
    return Status::error("value length must be at most " + text(rules.max_len()) + " bytes");
  }
  if (rules.has_prefix() && value.compare(0, rules.prefix().size(), rules.prefix()) != 0) {
    return Status::error("value does not have the given prefix");
  }
  if (rules.has_suffix() &&
      (value.size() < rules.suffix().size() ||
       value.compare(value.size() - rules.suffix().size(), std::string::npos, rules.suffix()) != 0)) {
    return Status::error("value does not have the given suffix");
  }
  if (rules.has_contains() && value.find(rules.contains()) == std::string::npos) {
    return Status::error("value does not contain the given bytes");
  }
  if (rules.has_pattern() &&
      !re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()),
                           patternFor(rules.pattern()))) {
    return Status::error("value does not match regex pattern " + text(rules.pattern()));
  }
  if (rules.in_size() > 0 &&
      std::find(rules.in().begin(), rules.in().end(), value) == rules.in().end()) {
    return Status::error("value must be one of the listed values");
  }
  if (std::find(rules.not_in().begin(), rules.not_in().end(), value) != rules.not_in().end()) {
    return Status::error("value must not be one of the listed values");
  }
  if ((rules.ip() && value.size() != 4 && value.size() != 16) ||
      (rules.ipv4() && value.size() != 4) || (rules.ipv6() && value.size() != 16)) {
    return Status::error("value must be a valid IP address in bytes");
  }
  return Status::ok();
}

Status checkEnum(int value, const FieldDescriptor* field, const validate::EnumRules& rules) {
  if (rules.has_const_() && value != rules.const_()) {
    return Status::error("value must equal " + text(rules.const_()));
  }
  if (rules.defined_only() && field->enum_type()->FindValueByNumber(value) == nullptr) {
    return Status::error("value must be one of the defined enum values");
  }
  if (rules.in_size() > 0 &&
      std::find(rules.in().begin(), rules.in().end(), value) == rules.in().end()) {
    return Status::error("value must be one of the listed values");
  }
  if (std::find(rules.not_in().begin(), rules.not_in().end(), value) != rules.not_in().end()) {
    return Status::error("value must not be one of the listed values");
  }
  return Status::ok();
}

int64_t nanos(int64_t seconds, int32_t nanos) { return seconds * 1000000000 + nanos; }

Status checkDurationOrTimestamp(const Message& value, int64_t v, const auto& rules,
                                bool is_timestamp) {
  auto as = [](const auto& proto) { return nanos(proto.seconds(), proto.nanos()); };
  if (rules.has_const_() && v != as(rules.const_())) {
    return Status::error("value must equal the given time");
  }
  if (rules.has_lt() && !(v < as(rules.lt()))) {
    return Status::error("value must be below the given bound");
  }
  if (rules.has_lte() && !(v <= as(rules.lte()))) {
    return Status::error("value must be at most the given bound");
  }
  if (rules.has_gt() && !(v > as(rules.gt()))) {
    return Status::error("value must be above the given bound");
  }
  if (rules.has_gte() && !(v >= as(rules.gte()))) {
    return Status::error("value must be at least the given bound");
  }
  (void)value;
  (void)is_timestamp;
  return Status::ok();
}

// Where a value sits in the message, kept as a chain on the stack and turned into text
// ("rules[1].server_names[0]") only for an error.
struct Path {
  const Path* parent;
  std::string_view name; // a field name, or empty for an index
  int index;

  std::string str() const {
    std::string out = parent ? parent->str() : std::string();
    if (name.empty()) {
      if (index >= 0) {
        out += "[" + std::to_string(index) + "]";
      }
    } else {
      out += (out.empty() ? "" : ".") + std::string(name);
    }
    return out;
  }
};

class Validator {
public:
  Status message(const Message& message, const Path& path) {
    const Descriptor* type = message.GetDescriptor();
    const MessagePlan& plan = planFor(type);
    if (!plan.needed) {
      return Status::ok();
    }
    const Reflection* reflection = message.GetReflection();
    for (const OneofDescriptor* oneof : plan.required_oneofs) {
      if (reflection->GetOneofFieldDescriptor(message, oneof) == nullptr) {
        return Status::error(Path{&path, oneof->name(), -1}.str() + ": is required");
      }
    }
    for (const FieldPlan& field_plan : plan.fields) {
      const FieldDescriptor* field = field_plan.field;
      const Path field_path{&path, field->name(), -1};
      if (field->is_repeated()) {
        Status status = repeated(message, reflection, field_plan, field_path);
        if (!status) {
          return status;
        }
        continue;
      }
      const bool tracks_presence =
          field->containing_oneof() != nullptr || field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
      if (tracks_presence && !reflection->HasField(message, field)) {
        // A oneof member's rules (required included) apply only when it is the one set.
        if (field->containing_oneof() == nullptr &&
            field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && field_plan.rules &&
            requiredMessage(*field_plan.rules)) {
          return Status::error(field_path.str() + ": value is required");
        }
        continue;
      }
      Status status = single(message, reflection, field, field_plan.rules, field_plan.recurse, -1,
                             field_path);
      if (!status) {
        return status;
      }
    }
    return Status::ok();
  }

private:
  static bool requiredMessage(const validate::FieldRules& rules) {
    return (rules.has_message() && rules.message().required()) ||
           (rules.has_any() && rules.any().required()) ||
           (rules.has_duration() && rules.duration().required()) ||
           (rules.has_timestamp() && rules.timestamp().required());
  }

  Status repeated(const Message& message, const Reflection* reflection, const FieldPlan& plan,
                  const Path& path) {
    const FieldDescriptor* field = plan.field;
    const int size = reflection->FieldSize(message, field);
    const validate::FieldRules* rules = plan.rules;
    if (field->is_map()) {
      const validate::MapRules* map_rules = rules && rules->has_map() ? &rules->map() : nullptr;
      if (map_rules && !(map_rules->ignore_empty() && size == 0)) {
        if (map_rules->has_min_pairs() && static_cast<uint64_t>(size) < map_rules->min_pairs()) {
          return Status::error(path.str() + ": value must contain at least " +
                               text(map_rules->min_pairs()) + " pair(s)");
        }
        if (map_rules->has_max_pairs() && static_cast<uint64_t>(size) > map_rules->max_pairs()) {
          return Status::error(path.str() + ": value must contain no more than " +
                               text(map_rules->max_pairs()) + " pair(s)");
        }
      }
      const Descriptor* entry_type = field->message_type();
      const FieldDescriptor* key = entry_type->map_key();
      const FieldDescriptor* value = entry_type->map_value();
      for (int i = 0; i < size; ++i) {
        const Message& entry = reflection->GetRepeatedMessage(message, field, i);
        const Reflection* entry_reflection = entry.GetReflection();
        const Path entry_path{&path, {}, i};
        if (map_rules && map_rules->has_keys()) {
          Status status = single(entry, entry_reflection, key, &map_rules->keys(), false, -1,
                                 Path{&entry_path, "key", -1});
          if (!status) {
            return status;
          }
        }
        const bool recurse = value->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && plan.recurse;
        if ((map_rules && map_rules->has_values()) || recurse) {
          if (value->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
              !entry_reflection->HasField(entry, value)) {
            if (map_rules && map_rules->no_sparse()) {
              return Status::error(entry_path.str() +
                                   ": value cannot be sparse, all pairs must be non-nil");
            }
            continue;
          }
          Status status = single(entry, entry_reflection, value,
                                 map_rules && map_rules->has_values() ? &map_rules->values() : nullptr,
                                 recurse, -1, entry_path);
          if (!status) {
            return status;
          }
        }
      }
      return Status::ok();
    }
    const validate::RepeatedRules* list_rules =
        rules && rules->has_repeated() ? &rules->repeated() : nullptr;
    if (list_rules && list_rules->ignore_empty() && size == 0) {
      return Status::ok();
    }
    if (list_rules) {
      if (list_rules->has_min_items() && static_cast<uint64_t>(size) < list_rules->min_items()) {
        return Status::error(path.str() + ": value must contain at least " +
                             text(list_rules->min_items()) + " item(s)");
      }
      if (list_rules->has_max_items() && static_cast<uint64_t>(size) > list_rules->max_items()) {
        return Status::error(path.str() + ": value must contain no more than " +
                             text(list_rules->max_items()) + " item(s)");
      }
      if (list_rules->unique()) {
        Status status = unique(message, reflection, field, path);
        if (!status) {
          return status;
        }
      }
    }
    const validate::FieldRules* items =
        list_rules && list_rules->has_items() ? &list_rules->items() : nullptr;
    if (!items && !plan.recurse) {
      return Status::ok();
    }
    for (int i = 0; i < size; ++i) {
      Status status = single(message, reflection, field, items, plan.recurse, i,
                             Path{&path, {}, i});
      if (!status) {
        return status;
      }
    }
    return Status::ok();
  }

  Status unique(const Message& message, const Reflection* reflection, const FieldDescriptor* field,
                const Path& path) {
    const int size = reflection->FieldSize(message, field);
    std::set<std::string> seen;
    for (int i = 0; i < size; ++i) {
      std::string key;
      switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        key = reflection->GetRepeatedString(message, field, i);
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        key = reflection->GetRepeatedMessage(message, field, i).SerializeAsString();
        break;
      case FieldDescriptor::CPPTYPE_INT32:
        key = text(reflection->GetRepeatedInt32(message, field, i));
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        key = text(reflection->GetRepeatedInt64(message, field, i));
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        key = text(reflection->GetRepeatedUInt32(message, field, i));
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        key = text(reflection->GetRepeatedUInt64(message, field, i));
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        key = text(reflection->GetRepeatedDouble(message, field, i));
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        key = text(reflection->GetRepeatedFloat(message, field, i));
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        key = reflection->GetRepeatedBool(message, field, i) ? "true" : "false";
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        key = text(reflection->GetRepeatedEnumValue(message, field, i));
        break;
      }
      if (!seen.insert(key).second) {
        return Status::error(Path{&path, {}, i}.str() +
                             ": repeated value must contain unique items");
      }
    }
    return Status::ok();
  }

  // One value: field `field` of `message`, element `index` when repeated (-1 otherwise).
  Status single(const Message& message, const Reflection* reflection, const FieldDescriptor* field,
                const validate::FieldRules* rules, bool recurse, int index, const Path& path) {
    Status status = Status::ok();
    const bool repeated = index >= 0;
    switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      const int32_t v = repeated ? reflection->GetRepeatedInt32(message, field, index)
                                 : reflection->GetInt32(message, field);
      if (rules && rules->has_int32()) {
        status = checkNumber(v, rules->int32());
      } else if (rules && rules->has_sint32()) {
        status = checkNumber(v, rules->sint32());
      } else if (rules && rules->has_sfixed32()) {
        status = checkNumber(v, rules->sfixed32());
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      const int64_t v = repeated ? reflection->GetRepeatedInt64(message, field, index)
                                 : reflection->GetInt64(message, field);
      if (rules && rules->has_int64()) {
        status = checkNumber(v, rules->int64());
      } else if (rules && rules->has_sint64()) {
        status = checkNumber(v, rules->sint64());
      } else if (rules && rules->has_sfixed64()) {
        status = checkNumber(v, rules->sfixed64());
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      const uint32_t v = repeated ? reflection->GetRepeatedUInt32(message, field, index)
                                  : reflection->GetUInt32(message, field);
      if (rules && rules->has_uint32()) {
        status = checkNumber(v, rules->uint32());
      } else if (rules && rules->has_fixed32()) {
        status = checkNumber(v, rules->fixed32());
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      const uint64_t v = repeated ? reflection->GetRepeatedUInt64(message, field, index)
                                  : reflection->GetUInt64(message, field);
      if (rules && rules->has_uint64()) {
        status = checkNumber(v, rules->uint64());
      } else if (rules && rules->has_fixed64()) {
        status = checkNumber(v, rules->fixed64());
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      const double v = repeated ? reflection->GetRepeatedDouble(message, field, index)
                                : reflection->GetDouble(message, field);
      if (rules && rules->has_double_()) {
        status = checkNumber(v, rules->double_());
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      const float v = repeated ? reflection->GetRepeatedFloat(message, field, index)
                               : reflection->GetFloat(message, field);
      if (rules && rules->has_float_()) {
        status = checkNumber(v, rules->float_());
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      const bool v = repeated ? reflection->GetRepeatedBool(message, field, index)
                              : reflection->GetBool(message, field);
      if (rules && rules->has_bool_() && rules->bool_().has_const_() && v != rules->bool_().const_()) {
        status = Status::error(std::string("value must equal ") +
                               (rules->bool_().const_() ? "true" : "false"));
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int v = repeated ? reflection->GetRepeatedEnumValue(message, field, index)
                             : reflection->GetEnumValue(message, field);
      if (rules && rules->has_enum_()) {
        status = checkEnum(v, field, rules->enum_());
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& v = repeated
                                 ? reflection->GetRepeatedStringReference(message, field, index, &scratch)
                                 : reflection->GetStringReference(message, field, &scratch);
      if (rules && rules->has_string()) {
        status = checkString(v, rules->string());
      } else if (rules && rules->has_bytes()) {
        status = checkBytes(v, rules->bytes());
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& v = repeated ? reflection->GetRepeatedMessage(message, field, index)
                                  : reflection->GetMessage(message, field);
      status = wellKnown(v, rules);
      if (status && recurse) {
        return this->message(v, path);
      }
      break;
    }
    }
    if (!status) {
      return status.within(path.str());
    }
    return status;
  }

  // Rules on well-known message types: Any, Duration, Timestamp and the wrappers.
  Status wellKnown(const Message& value, const validate::FieldRules* rules) {
    if (!rules) {
      return Status::ok();
    }
    const std::string type(value.GetDescriptor()->full_name());
    if (rules->has_any() && type == "google.protobuf.Any") {
      const auto& any = static_cast<const google::protobuf::Any&>(value);
      const auto& in = rules->any().in();
      const auto& not_in = rules->any().not_in();
      if (in.size() > 0 && std::find(in.begin(), in.end(), any.type_url()) == in.end()) {
        return Status::error("type URL must be one of the listed values");
      }
      if (std::find(not_in.begin(), not_in.end(), any.type_url()) != not_in.end()) {
        return Status::error("type URL must not be one of the listed values");
      }
      return Status::ok();
    }
    if (rules->has_duration() && type == "google.protobuf.Duration") {
      const auto& d = static_cast<const google::protobuf::Duration&>(value);
      return checkDurationOrTimestamp(value, nanos(d.seconds(), d.nanos()), rules->duration(), false);
    }
    if (rules->has_timestamp() && type == "google.protobuf.Timestamp") {
      const auto& t = static_cast<const google::protobuf::Timestamp&>(value);
      return checkDurationOrTimestamp(value, nanos(t.seconds(), t.nanos()), rules->timestamp(), true);
    }
    if (type.rfind("google.protobuf.", 0) == 0 && type.size() > 5 &&
        type.compare(type.size() - 5, 5, "Value") == 0) {
      // A wrapper: the rules of the wrapped type apply to its value field.
      const Descriptor* wrapper = value.GetDescriptor();
      const FieldDescriptor* inner = wrapper->FindFieldByNumber(1);
      if (inner && !inner->is_repeated()) {
        return single(value, value.GetReflection(), inner, rules, false, -1, Path{nullptr, {}, -1})
            .within("value");
      }
    }
    return Status::ok();
  }
};

} // namespace

Status validateMessage(const google::protobuf::Message& message) {
  Validator validator;
  return validator.message(message, Path{nullptr, {}, -1});
}

} // namespace Policy
} // namespace Cilium
