#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cilium-filters/policy/base/ip_address.h"
#include "cilium-filters/policy/base/status.h"

namespace cilium {
class NetworkPolicyHosts;
}  // namespace cilium

namespace Cilium {
namespace Policy {

// Which security identity owns an address (NPHDS): every identity's IPs and CIDR prefixes,
// answered by longest-prefix match, IPv4 and IPv6 apart. Immutable once built.
class HostMap {
public:
  // The identity whose longest matching prefix covers `address`; 0 when none does.
  uint64_t resolve(const IpAddress& address) const;

  size_t size() const { return entries_.size(); }

  // A map of exactly these identities' hosts (a state-of-the-world update).
  static Status build(const std::vector<const cilium::NetworkPolicyHosts*>& hosts,
                      std::shared_ptr<const HostMap>& out);
  // `base` without the identities in `removed` or re-sent in `added`, plus `added`.
  static Status apply(const HostMap& base, const std::vector<uint64_t>& removed,
                      const std::vector<const cilium::NetworkPolicyHosts*>& added,
                      std::shared_ptr<const HostMap>& out);

private:
  struct Entry {
    bool v6;
    uint8_t length;
    uint64_t high;  // the prefix, bits past `length` zero
    uint64_t low;
    uint64_t identity;
  };
  struct Group {
    uint8_t length;
    uint32_t begin;  // its entries: entries_[begin, end)
    uint32_t end;
    uint32_t table;  // its open-addressing table: slots_[table, table + mask + 1)
    uint32_t mask;
  };
  // A slot of a group's hash table: the index of an entry plus one (0: empty).
  using Slot = uint32_t;

  static uint64_t hash(uint64_t high, uint64_t low);
  // Builds the groups' hash tables; fails on a prefix present twice.
  Status index();

  static Status add(const cilium::NetworkPolicyHosts& hosts, std::vector<Entry>& entries);
  static Status finish(std::vector<Entry> entries, std::shared_ptr<const HostMap>& out);

  std::vector<Entry> entries_;  // by family, then length (longest first), then as they came
  std::vector<Slot> slots_;
  std::vector<Group> v4_;  // one group per prefix length present, longest first
  std::vector<Group> v6_;
};

}  // namespace Policy
}  // namespace Cilium
