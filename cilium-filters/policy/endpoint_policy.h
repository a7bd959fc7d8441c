#pragma once

#include <cstdint>
#include <memory>

#include "cilium-filters/policy/port_table.h"
#include "cilium/api/npds.pb.h"

namespace Cilium {
namespace Policy {

// One endpoint's compiled policy: its ingress and egress port tables, and the message it
// was compiled from (kept for config dumps, for reuse when an update repeats it, and for
// the TLS and L7 settings of its rules). Immutable once created; shared by snapshots.
class EndpointPolicy {
public:
  // Compiles `config` (already validated against its proto rules).
  static Status create(cilium::NetworkPolicy config, RegexCache& regexes,
                       std::shared_ptr<const EndpointPolicy>& out);

  EndpointPolicy(const EndpointPolicy&) = delete;
  EndpointPolicy& operator=(const EndpointPolicy&) = delete;

  const PortTable& table(bool ingress) const { return ingress ? ingress_ : egress_; }
  uint64_t endpointId() const { return config_.endpoint_id(); }
  const cilium::NetworkPolicy& config() const { return config_; }

private:
  explicit EndpointPolicy(cilium::NetworkPolicy config) : config_(std::move(config)) {}

  const cilium::NetworkPolicy config_;
  PortTable ingress_;
  PortTable egress_;
};

} // namespace Policy
} // namespace Cilium
