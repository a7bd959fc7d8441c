#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cilium-filters/policy/access_log/access_log_entry.h"
#include "cilium-filters/policy/base/ip_address.h"
#include "cilium-filters/policy/decide/decisions.h"
#include "cilium-filters/policy/hosts/host_map.h"

namespace Cilium {
namespace Module {

// Cilium's reserved identity of addresses the host map does not know.
inline constexpr uint32_t kWorldIdentity = 2;

// The identity NPHDS gives `address`; WORLD when no prefix covers it (or no map is known).
uint32_t resolveIdentity(const Policy::HostMap* hosts, const Policy::IpAddress& address);

// What cilium.bpf_metadata learns of a connection when it is accepted, kept in the
// connection's filter state for cilium.network and cilium.l7policy: the direction, the
// listener's proxy_id, both ends (after proxy_protocol: the remote address and the local,
// i.e. original destination, address) and the source's identity at accept time.
class ConnectionFacts {
public:
  // The facts of a connection between `remote` and `local` (IP address texts). False when
  // either is not an IP address (the later filters then find no facts and refuse).
  static bool fromAddresses(bool ingress, uint16_t proxy_id, std::string_view remote,
                            uint32_t remote_port, std::string_view local, uint32_t local_port,
                            const Policy::HostMap* hosts, ConnectionFacts& out);

  // The form kept in filter state (a fixed-size record as hex text, then both addresses as
  // the access log writes them, so that no request formats them again), and back.
  std::string encode() const;
  static bool decode(std::string_view text, ConnectionFacts& out);

  bool ingress() const { return ingress_; }
  uint16_t proxyId() const { return proxy_id_; }
  uint16_t destinationPort() const { return destination_port_; }
  uint32_t sourceIdentity() const { return source_identity_; }
  // The endpoint whose policy applies: the destination for ingress, the source for egress.
  const std::string& endpointIp() const { return endpoint_ip_; }
  // "10.0.0.1:80" or "[f00d::1]:80", as Cilium's access log writes addresses.
  const std::string& sourceAddress() const { return source_address_; }
  const std::string& destinationAddress() const { return destination_address_; }

  // The other end's identity: the source's for ingress, the destination's (resolved now,
  // with `hosts`) for egress.
  uint32_t remoteIdentity(const Policy::HostMap* hosts) const;
  // What the access log records as the destination identity: 0 for ingress (as Cilium does),
  // the destination's identity for egress.
  uint32_t destinationIdentity(const Policy::HostMap* hosts) const;

  // The engine's question about this connection; valid while these facts live.
  Policy::FlowQuestion question(uint32_t remote_identity, std::string_view sni = {}) const;
  // The connection part of its access-log entries.
  Policy::AccessLogConnection logConnection(uint32_t destination_identity,
                                            uint64_t timestamp_ns) const;

private:
  // The address texts and the endpoint's IP, from the addresses (at accept time).
  void fillTexts();
  // The endpoint's IP, from the address texts.
  void fillEndpoint();

  bool ingress_{false};
  uint16_t proxy_id_{0};
  uint16_t source_port_{0};
  uint16_t destination_port_{0};
  uint32_t source_identity_{0};
  Policy::IpAddress source_;
  Policy::IpAddress destination_;
  std::string source_address_;
  std::string destination_address_;
  std::string endpoint_ip_;
};

// The filter-state key the facts are kept under.
inline constexpr std::string_view kConnectionFactsKey = "cilium.policy.connection";

}  // namespace Module
}  // namespace Cilium
