#include "cilium-filters/policy/base/header_log.h"

namespace Cilium {
namespace Policy {

void HeaderLog::add(Pairs& pairs, std::string_view name, std::string_view value) {
  for (const auto& [n, v] : pairs) {
    if (n == name && v == value) {
      return;
    }
  }
  pairs.emplace_back(std::string(name), std::string(value));
}

}  // namespace Policy
}  // namespace Cilium
