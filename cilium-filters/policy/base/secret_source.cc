#include "cilium-filters/policy/base/secret_source.h"

namespace Cilium {
namespace Policy {

std::optional<std::string> StaticSecrets::value(const std::string& name) const {
  auto found = values_.find(name);
  if (found == values_.end()) {
    return std::nullopt;
  }
  return found->second;
}

}  // namespace Policy
}  // namespace Cilium
