#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace Cilium {
namespace Policy {

// The canonical text of an IPv4 or IPv6 address ("F00D:0::1" becomes "f00d::1"), or the
// text unchanged when it is not an address. Policies are found by endpoint IP in this form.
std::string canonicalIp(std::string_view text);

// An IPv4 or IPv6 address as 128 bits (IPv4 in the low 32), for prefix matching.
struct IpAddress {
  bool v6{false};
  uint64_t high{0};
  uint64_t low{0};

  // Parses an address without prefix; false when it is neither IPv4 nor IPv6.
  static bool parse(std::string_view text, IpAddress& out);
  // The address in canonical text form.
  std::string text() const;
};

}  // namespace Policy
}  // namespace Cilium
