#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cilium-filters/policy/compile/port_table.h"
#include "cilium/api/npds.pb.h"

namespace google {
namespace protobuf {
class Arena;
}  // namespace protobuf
}  // namespace google

namespace Cilium {
namespace Policy {

// One endpoint's compiled policy: its ingress and egress port tables, and the message it
// was compiled from (kept for config dumps, for reuse when an update repeats it, and for
// the TLS and L7 settings of its rules). Immutable once created; shared by snapshots.
//
// The message lives on a protobuf arena shared by the policies parsed from one update, so
// building and freeing thousands of them costs little; the arena goes with the last of them.
class EndpointPolicy {
public:
  using ArenaPtr = std::shared_ptr<google::protobuf::Arena>;

  // Checks `config` (its proto rules and a non-zero endpoint_id) and compiles it. `config`
  // lives on `arena`; `wire` is the encoding it arrived in (also on the arena), kept to
  // recognise it when an update repeats it unchanged (empty: none).
  static Status create(const cilium::NetworkPolicy* config, std::string_view wire, ArenaPtr arena,
                       CompileContext& context, std::shared_ptr<const EndpointPolicy>& out);

  EndpointPolicy(const EndpointPolicy&) = delete;
  EndpointPolicy& operator=(const EndpointPolicy&) = delete;

  const PortTable& table(bool ingress) const { return ingress ? ingress_ : egress_; }
  uint64_t endpointId() const { return config_->endpoint_id(); }
  const cilium::NetworkPolicy& config() const { return *config_; }
  // The endpoint IPs in canonical form (see canonicalIp).
  const std::vector<std::string>& ips() const { return ips_; }
  std::string_view wire() const { return wire_; }
  // std::hash of wire(), made once: each later update that finds this policy unchanged
  // indexes it again by this hash.
  size_t wireHash() const { return wire_hash_; }
  // Both directions' compact L4 indexes (see PortTable::quick) in one array: word 0 is
  // where the egress one starts, the ingress one starts at word 1.
  const uint32_t* l4Index() const { return l4_index_.data(); }
  static const uint32_t* l4Index(const uint32_t* both, bool ingress) {
    return ingress ? both + 1 : both + both[0];
  }

private:
  EndpointPolicy(const cilium::NetworkPolicy* config, std::string_view wire, ArenaPtr arena)
      : arena_(std::move(arena)),
        config_(config),
        wire_(wire),
        wire_hash_(std::hash<std::string_view>()(wire)) {}

  // The tables first: a check reads their headers right after finding the policy.
  PortTable ingress_;
  PortTable egress_;
  const ArenaPtr arena_;
  const cilium::NetworkPolicy* const config_;
  const std::string_view wire_;
  const size_t wire_hash_;
  std::vector<std::string> ips_;
  std::vector<uint32_t> l4_index_;
};

}  // namespace Policy
}  // namespace Cilium
