#include "cilium-filters/policy/ip_address.h"

#include <arpa/inet.h>

namespace Cilium {
namespace Policy {

std::string canonicalIp(std::string_view text) {
  const std::string input(text);
  char buffer[INET6_ADDRSTRLEN];
  in_addr v4;
  if (inet_pton(AF_INET, input.c_str(), &v4) == 1 &&
      inet_ntop(AF_INET, &v4, buffer, sizeof(buffer)) != nullptr) {
    return buffer;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, input.c_str(), &v6) == 1 &&
      inet_ntop(AF_INET6, &v6, buffer, sizeof(buffer)) != nullptr) {
    return buffer;
  }
  return input;
}

} // namespace Policy
} // namespace Cilium
