#include "cilium-filters/tool/field_names.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/struct.pb.h>

#include <algorithm>

namespace Cilium {
namespace PolicyTool {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Value;

// Messages proto3 JSON writes as something other than an object of fields: their content is
// protobuf's to check.
bool readAsWhole(const Descriptor& type) {
  const std::string& name = type.full_name();
  return name == "google.protobuf.Struct" || name == "google.protobuf.Value" ||
         name == "google.protobuf.ListValue" || name == "google.protobuf.Duration" ||
         name == "google.protobuf.Timestamp" || name == "google.protobuf.FieldMask" ||
         type.file()->name() == "google/protobuf/wrappers.proto";
}

const FieldDescriptor* findField(const Descriptor& type, const std::string& name) {
  const FieldDescriptor* field = type.FindFieldByName(name);
  if (field != nullptr) {
    return field;
  }
  for (int i = 0; i < type.field_count(); ++i) {
    if (type.field(i)->json_name() == name) {
      return type.field(i);
    }
  }
  return nullptr;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Levenshtein distance, ignoring ASCII case.
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      const size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

void walk(const Value& value, const Descriptor& type, const std::string& path, const VisitFn& visit,
          std::vector<UnknownField>& out);

void walkField(const Value& value, const FieldDescriptor& field, const std::string& path,
               const VisitFn& visit, std::vector<UnknownField>& out) {
  if (visit) {
    visit(path, value);
  }
  if (field.is_map()) {
    const FieldDescriptor* mapped = field.message_type()->map_value();
    if (value.has_struct_value() && mapped->message_type() != nullptr) {
      for (const auto& [key, item] : value.struct_value().fields()) {
        walk(item, *mapped->message_type(), path + "[\"" + key + "\"]", visit, out);
      }
    }
    return;
  }
  if (field.message_type() == nullptr) {
    return;
  }
  if (field.is_repeated()) {
    if (value.has_list_value()) {
      for (int i = 0; i < value.list_value().values_size(); ++i) {
        const std::string item_path = path + "[" + std::to_string(i) + "]";
        if (visit) {
          visit(item_path, value.list_value().values(i));
        }
        walk(value.list_value().values(i), *field.message_type(), item_path, visit, out);
      }
    }
    return;
  }
  walk(value, *field.message_type(), path, visit, out);
}

void walk(const Value& value, const Descriptor& type, const std::string& path, const VisitFn& visit,
          std::vector<UnknownField>& out) {
  if (!value.has_struct_value() || readAsWhole(type)) {
    return;
  }
  const Descriptor* read_as = &type;
  if (type.full_name() == "google.protobuf.Any") {
    const auto& fields = value.struct_value().fields();
    const auto found = fields.find("@type");
    if (found == fields.end() || !found->second.has_string_value()) {
      return;  // protobuf's parser says what an Any without "@type" lacks
    }
    const std::string& url = found->second.string_value();
    read_as = google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
        url.substr(url.rfind('/') + 1));
    if (read_as == nullptr || readAsWhole(*read_as)) {
      return;
    }
  }
  for (const auto& [name, member] : value.struct_value().fields()) {
    if (name == "@type" && read_as != &type) {
      continue;
    }
    const std::string member_path = path.empty() ? name : path + "." + name;
    const FieldDescriptor* field = findField(*read_as, name);
    if (field == nullptr) {
      out.push_back({path, name, read_as, closeFieldNames(name, *read_as), &member});
      continue;
    }
    walkField(member, *field, path.empty() ? field->name() : path + "." + field->name(), visit,
              out);
  }
}

}  // namespace

std::vector<UnknownField> unknownFields(const Value& document, const Descriptor& type,
                                        const std::string& path, const VisitFn& visit) {
  std::vector<UnknownField> out;
  if (visit) {
    visit(path, document);
  }
  walk(document, type, path, visit, out);
  // The walk visits a Struct's members in hash order: report them in the order of paths.
  std::stable_sort(out.begin(), out.end(), [](const UnknownField& a, const UnknownField& b) {
    return a.path != b.path ? a.path < b.path : a.name < b.name;
  });
  return out;
}

std::vector<std::string> closeFieldNames(std::string_view name, const Descriptor& type) {
  std::vector<std::pair<size_t, std::string>> scored;
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& field = *type.field(i);
    const size_t distance =
        std::min(editDistance(name, field.name()), editDistance(name, field.json_name()));
    // Close: a third of the longer name may differ (at least two characters).
    const size_t longest = std::max(name.size(), field.name().size());
    if (distance <= std::max<size_t>(2, longest / 3)) {
      scored.emplace_back(distance, field.name());
    }
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && i < 3; ++i) {
    out.push_back(scored[i].second);
  }
  return out;
}

std::string describeUnknownField(const UnknownField& field) {
  std::string out = "unknown field \"" + field.name + "\" in " + field.type->full_name();
  if (!field.close.empty()) {
    out += "; did you mean ";
    for (size_t i = 0; i < field.close.size(); ++i) {
      out += (i == 0                        ? ""
              : i + 1 == field.close.size() ? " or "
                                            : ", ") +
             ("\"" + field.close[i] + "\"");
    }
    return out + "?";
  }
  out += " (its fields: ";
  for (int i = 0; i < field.type->field_count(); ++i) {
    out += (i ? ", " : "") + field.type->field(i)->name();
  }
  return out + ")";
}

}  // namespace PolicyTool
}  // namespace Cilium
