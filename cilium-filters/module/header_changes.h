#pragma once

#include <string>
#include <vector>

#include "cilium-filters/policy/base/request_headers.h"

namespace Cilium {
namespace Module {

// One request header the policy check changed: its values afterwards (none: removed).
struct HeaderChange {
  std::string name;
  std::vector<std::string> values;
};

// What turns Envoy's request headers `before` the check into the engine's `after` it: for
// each header whose values differ, its new values (the order of first appearance in `after`,
// then the removed ones). Unchanged headers are left alone.
std::vector<HeaderChange> headerChanges(const Policy::RequestHeaders& before,
                                        const Policy::RequestHeaders& after);

}  // namespace Module
}  // namespace Cilium
