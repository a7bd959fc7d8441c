#include "cilium-filters/policy/base/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace Cilium {
namespace Policy {

std::string canonicalIp(std::string_view text) {
  IpAddress address;
  return IpAddress::parse(text, address) ? address.text() : std::string(text);
}

bool IpAddress::parse(std::string_view text, IpAddress& out) {
  char buffer[64];
  // inet_pton reads up to a NUL: one inside the text would hide what follows it.
  if (text.size() >= sizeof(buffer) || text.find('\0') != std::string_view::npos) {
    return false;
  }
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  unsigned char bytes[16];
  if (inet_pton(AF_INET, buffer, bytes) == 1) {
    out.v6 = false;
    out.high = 0;
    out.low = uint64_t{bytes[0]} << 24 | uint64_t{bytes[1]} << 16 | uint64_t{bytes[2]} << 8 |
              uint64_t{bytes[3]};
    return true;
  }
  if (inet_pton(AF_INET6, buffer, bytes) == 1) {
    out.v6 = true;
    out.high = out.low = 0;
    for (int i = 0; i < 8; ++i) {
      out.high = out.high << 8 | bytes[i];
      out.low = out.low << 8 | bytes[8 + i];
    }
    return true;
  }
  return false;
}

std::string IpAddress::text() const {
  unsigned char bytes[16];
  for (int b = 0; b < 8; ++b) {
    bytes[b] = static_cast<unsigned char>(high >> (56 - 8 * b));
    bytes[8 + b] = static_cast<unsigned char>(low >> (56 - 8 * b));
  }
  char buffer[INET6_ADDRSTRLEN] = "";
  inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ? bytes : bytes + 12, buffer, sizeof(buffer));
  return buffer;
}

}  // namespace Policy
}  // namespace Cilium
