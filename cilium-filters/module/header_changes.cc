#include "cilium-filters/module/header_changes.h"

#include <algorithm>
#include <string_view>

namespace Cilium {
namespace Module {
namespace {

std::vector<std::string> valuesOf(const Policy::RequestHeaders& headers, std::string_view name) {
  std::vector<std::string> values;
  for (const auto& entry : headers.entries()) {
    if (entry.name == name) {
      values.push_back(entry.value);
    }
  }
  return values;
}

}  // namespace

std::vector<HeaderChange> headerChanges(const Policy::RequestHeaders& before,
                                        const Policy::RequestHeaders& after) {
  std::vector<std::string> names;
  auto note = [&names](const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(name);
    }
  };
  for (const auto& entry : after.entries()) {
    note(entry.name);
  }
  for (const auto& entry : before.entries()) {
    note(entry.name);
  }
  std::vector<HeaderChange> changes;
  for (const std::string& name : names) {
    std::vector<std::string> now = valuesOf(after, name);
    if (now != valuesOf(before, name)) {
      changes.push_back(HeaderChange{name, std::move(now)});
    }
  }
  return changes;
}

}  // namespace Module
}  // namespace Cilium
