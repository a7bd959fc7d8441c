#pragma once

#include <string>
#include <string_view>

namespace Cilium {
namespace Policy {

// The canonical text of an IPv4 or IPv6 address ("F00D:0::1" becomes "f00d::1"), or the
// text unchanged when it is not an address. Policies are found by endpoint IP in this form.
std::string canonicalIp(std::string_view text);

} // namespace Policy
} // namespace Cilium
