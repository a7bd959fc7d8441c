#include "cilium-filters/policy/hosts/host_map.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "cilium/api/nphds.pb.h"

namespace Cilium {
namespace Policy {
namespace {

// The 128 bits of a prefix of `length` (out of `width`) bits kept, the rest cleared.
void mask(uint64_t& high, uint64_t& low, unsigned length, unsigned width) {
  // Bits are counted from the top of the `width`-bit address held in the low bits.
  const unsigned clear = width - length;  // low-order bits to clear
  if (clear >= 128) {
    high = low = 0;
    return;
  }
  if (clear >= 64) {
    low = 0;
    high &= clear == 64 ? ~uint64_t{0} : ~((uint64_t{1} << (clear - 64)) - 1);
  } else if (clear > 0) {
    low &= ~((uint64_t{1} << clear) - 1);
  }
}

// Reads "<address>[/<length>]" as Cilium's agent writes them: the length in decimal without
// leading zeros, at most the address's width, and no bits set past it.
// protoc-gen-validate has rules for IP addresses but none for CIDR prefixes (and
// nphds.proto, shared with Cilium's Go API, asks only for non-empty, unique entries).
Status parseHost(const std::string& host, bool& v6, uint64_t& high, uint64_t& low,
                 unsigned& length) {
  std::string_view address = host;
  bool have_length = false;
  unsigned parsed = 0;
  const size_t slash = host.find('/');
  if (slash != std::string::npos) {
    have_length = true;
    const std::string_view digits = std::string_view(host).substr(slash + 1);
    const bool digits_only =
        !digits.empty() && digits.size() <= 3 &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits_only || (digits.size() > 1 && digits[0] == '0')) {
      return Status::error("invalid prefix length in '" + host + "'");
    }
    std::from_chars(digits.data(), digits.data() + digits.size(), parsed);
    address = address.substr(0, slash);
  }
  IpAddress ip;
  if (!IpAddress::parse(address, ip)) {
    return Status::error("invalid host entry '" + host + "'");
  }
  v6 = ip.v6;
  high = ip.high;
  low = ip.low;
  const unsigned width = v6 ? 128 : 32;
  length = have_length ? parsed : width;
  if (length > width) {
    return Status::error("invalid prefix length in '" + host + "'");
  }
  uint64_t masked_high = high;
  uint64_t masked_low = low;
  mask(masked_high, masked_low, length, width);
  if (masked_high != high || masked_low != low) {
    return Status::error("bits past the prefix length are set in '" + host + "'");
  }
  return Status::ok();
}

// Where an entry's group comes: IPv4 before IPv6, longer prefixes first.
size_t groupOf(bool v6, unsigned length) { return v6 ? 33 + (128 - length) : 32 - length; }
constexpr size_t kGroups = 33 + 129;

}  // namespace

uint64_t HostMap::hash(uint64_t high, uint64_t low) {
  // splitmix64 finalizer over both halves.
  uint64_t x = high * 0x9e3779b97f4a7c15ULL ^ low;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t HostMap::resolve(const IpAddress& address) const {
  const unsigned width = address.v6 ? 128 : 32;
  for (const Group& group : address.v6 ? v6_ : v4_) {
    uint64_t high = address.high;
    uint64_t low = address.low;
    mask(high, low, group.length, width);
    const Slot* table = slots_.data() + group.table;
    for (uint64_t at = hash(high, low);; ++at) {
      const Slot slot = table[at & group.mask];
      if (slot == 0) {
        break;
      }
      const Entry& entry = entries_[slot - 1];
      if (entry.high == high && entry.low == low) {
        return entry.identity;
      }
    }
  }
  return 0;
}

Status HostMap::index() {
  // One open-addressing table per prefix length, at most half full.
  size_t total = 0;
  for (auto* groups : {&v4_, &v6_}) {
    for (Group& group : *groups) {
      uint32_t capacity = 2;
      while (capacity < 2 * (group.end - group.begin)) {
        capacity *= 2;
      }
      group.table = static_cast<uint32_t>(total);
      group.mask = capacity - 1;
      total += capacity;
    }
  }
  slots_.assign(total, 0);
  for (auto* groups : {&v4_, &v6_}) {
    for (const Group& group : *groups) {
      Slot* table = slots_.data() + group.table;
      for (uint32_t i = group.begin; i < group.end; ++i) {
        const Entry& entry = entries_[i];
        uint64_t at = hash(entry.high, entry.low);
        for (; table[at & group.mask] != 0; ++at) {
          const Entry& other = entries_[table[at & group.mask] - 1];
          if (other.high == entry.high && other.low == entry.low) {
            const IpAddress address{entry.v6, entry.high, entry.low};
            return Status::error("duplicate host entry " + address.text() + "/" +
                                 std::to_string(entry.length) + " for identity " +
                                 std::to_string(entry.identity) + ", already mapped to identity " +
                                 std::to_string(other.identity));
          }
        }
        table[at & group.mask] = i + 1;
      }
    }
  }
  return Status::ok();
}

Status HostMap::add(const cilium::NetworkPolicyHosts& hosts, std::vector<Entry>& entries) {
  for (const std::string& host : hosts.host_addresses()) {
    Entry entry{false, 0, 0, 0, hosts.policy()};
    unsigned length = 0;
    Status status = parseHost(host, entry.v6, entry.high, entry.low, length);
    if (!status) {
      return status.within("identity " + std::to_string(hosts.policy()));
    }
    entry.length = static_cast<uint8_t>(length);
    entries.push_back(entry);
  }
  return Status::ok();
}

Status HostMap::finish(std::vector<Entry> entries, std::shared_ptr<const HostMap>& out) {
  // Grouped by family and length in one counting pass (a group's entries keep their order):
  // lookups go through the groups' hash tables, which also find a prefix sent twice, so
  // nothing needs the entries sorted by prefix.
  std::array<uint32_t, kGroups + 1> start{};
  for (const Entry& entry : entries) {
    ++start[groupOf(entry.v6, entry.length) + 1];
  }
  for (size_t g = 0; g < kGroups; ++g) {
    start[g + 1] += start[g];
  }
  auto map = std::make_shared<HostMap>();
  map->entries_.resize(entries.size());
  std::array<uint32_t, kGroups> next{};
  std::copy(start.begin(), start.begin() + kGroups, next.begin());
  for (const Entry& entry : entries) {
    map->entries_[next[groupOf(entry.v6, entry.length)]++] = entry;
  }
  for (size_t g = 0; g < kGroups; ++g) {
    if (start[g] == start[g + 1]) {
      continue;
    }
    const bool v6 = g > 32;
    const auto length = static_cast<uint8_t>(v6 ? 128 - (g - 33) : 32 - g);
    (v6 ? map->v6_ : map->v4_).push_back(Group{length, start[g], start[g + 1], 0, 0});
  }
  Status status = map->index();
  if (status) {
    out = std::move(map);
  }
  return status;
}

Status HostMap::build(const std::vector<const cilium::NetworkPolicyHosts*>& hosts,
                      std::shared_ptr<const HostMap>& out) {
  std::vector<Entry> entries;
  size_t count = 0;
  for (const auto* h : hosts) {
    count += static_cast<size_t>(h->host_addresses_size());
  }
  entries.reserve(count);
  for (const auto* h : hosts) {
    Status status = add(*h, entries);
    if (!status) {
      return status;
    }
  }
  return finish(std::move(entries), out);
}

Status HostMap::apply(const HostMap& base, const std::vector<uint64_t>& removed,
                      const std::vector<const cilium::NetworkPolicyHosts*>& added,
                      std::shared_ptr<const HostMap>& out) {
  std::vector<uint64_t> dropped = removed;
  for (const auto* h : added) {
    dropped.push_back(h->policy());
  }
  std::sort(dropped.begin(), dropped.end());
  std::vector<Entry> entries;
  entries.reserve(base.entries_.size());
  for (const Entry& entry : base.entries_) {
    if (!std::binary_search(dropped.begin(), dropped.end(), entry.identity)) {
      entries.push_back(entry);
    }
  }
  for (const auto* h : added) {
    Status status = add(*h, entries);
    if (!status) {
      return status;
    }
  }
  return finish(std::move(entries), out);
}

}  // namespace Policy
}  // namespace Cilium
