#pragma once

#include <cstdint>
#include <string_view>

namespace Cilium {
namespace Policy {

// What one rule says about a flow. The order matters: at equal precedence rules are
// evaluated deny first, then allow, then pass (higher value first).
enum class Verdict : uint8_t {
  None = 0,  // the rule does not apply
  Pass = 1,  // skip the rest of this tier
  Allow = 2,
  Deny = 3,
};

constexpr std::string_view verdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::None:
      return "none";
    case Verdict::Pass:
      return "pass";
    case Verdict::Allow:
      return "allow";
    case Verdict::Deny:
      return "deny";
  }
  return "unknown";
}

}  // namespace Policy
}  // namespace Cilium
