#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

#include "cilium-filters/policy/compile/compile_context.h"
#include "cilium-filters/policy/compile/rule_list.h"

namespace google {
namespace protobuf {
template <typename T>
class RepeatedPtrField;
}  // namespace protobuf
}  // namespace google

namespace cilium {
class PortNetworkPolicy;
}  // namespace cilium

namespace Cilium {
namespace Policy {

// One direction (ingress or egress) of an endpoint's policy: the port space split into
// disjoint pieces, each with every rule of the entries covering it plus the wildcard port's
// rules, in evaluation order. A port without a piece uses the wildcard port's list; with
// neither it is denied. Everything lives in a few flat arrays.
class PortTable {
public:
  struct Piece {
    uint32_t first;
    uint32_t last;
    uint32_t begin;  // its slots are slots()[begin, begin + count)
    uint32_t count;
    bool short_circuit;  // no rule has header_matches: the first verdict stands
    bool has_http;       // some rule has HTTP rules
    // When no rule names a listener or server names, the L4 verdict depends only on the
    // remote identity: it is worked out at compile time for every identity the rules name
    // (kept when it differs from l4_other, which stands for every other identity).
    bool l4_table;
    bool l4_without_sni_only;  // some rule has server_names: tabulated for "no SNI" only
    Verdict l4_other;
    uint32_t l4_begin;
    uint32_t l4_count;
  };

  // Compiles the TCP entries of one direction (other protocols are ignored), appending the
  // direction's compact L4 index (see quick) to `l4_index`.
  static Status build(const google::protobuf::RepeatedPtrField<cilium::PortNetworkPolicy>& entries,
                      CompileContext& context, PortTable& out, std::vector<uint32_t>& l4_index);

  // The piece covering `port`, else the wildcard port's, else null.
  const Piece* find(uint32_t port) const {
    const auto it = std::lower_bound(pieces_.begin(), pieces_.end(), port,
                                     [](const Piece& piece, uint32_t p) { return piece.last < p; });
    if (it != pieces_.end() && it->first <= port) {
      return &*it;
    }
    return has_wildcard_ ? &wildcard_ : nullptr;
  }

  // What a slot's rule says about (proxy_id, remote), before SNI and HTTP: its verdict when
  // it names no other listener and selects the remote, else None.
  Verdict verdict(const Slot& slot, uint16_t proxy_id, uint32_t remote) const {
    if (slot.proxy_id != 0 && slot.proxy_id != proxy_id) {
      return Verdict::None;
    }
    if (slot.remotes_count != 0) {
      const uint32_t* begin = remotes_.data() + slot.remotes_begin;
      const uint32_t* end = begin + slot.remotes_count;
      if (!std::binary_search(begin, end, remote)) {
        return Verdict::None;
      }
    }
    return slot.verdict;
  }

  // The L4 decision through the compact index (see l4Index): Allow or Deny, or Evaluate
  // when the piece's rules depend on more than the remote identity (`piece` is then set).
  enum class Quick : uint8_t { Allow, Deny, Evaluate };
  static Quick quick(const uint32_t* index, uint32_t port, uint32_t remote, bool has_sni,
                     uint32_t& piece) {
    const uint32_t count = index[0];
    const uint32_t* lasts = index + 2;
    uint32_t low = rank(lasts, count, port);
    const uint32_t* entry;
    if (low < count && lasts[count + low] <= port) {
      entry = index + lasts[2 * count + low];
    } else if (index[1] != 0) {
      entry = index + index[1];
    } else {
      return Quick::Deny;
    }
    const uint32_t head = entry[0];
    if ((head & kTabulated) == 0 || (has_sni && (head & kServerNameRules) != 0)) {
      piece = entry[(head & kTabulated) == 0 ? 1 : 2];
      return Quick::Evaluate;
    }
    Verdict verdict = static_cast<Verdict>(head >> 8);
    const uint32_t named = entry[1];
    const uint32_t* identities = entry + 3;
    low = rank(identities, named, remote);
    if (low < named && identities[low] == remote) {
      verdict = static_cast<Verdict>(reinterpret_cast<const uint8_t*>(identities + named)[low]);
    }
    return verdict == Verdict::Allow ? Quick::Allow : Quick::Deny;
  }
  // How many of the `count` sorted keys are below `key`: counted without branches (and
  // vectorised) for the short lists policies have, searched for long ones.
  static uint32_t rank(const uint32_t* keys, uint32_t count, uint32_t key) {
    if (count <= kLinearRank) {
      uint32_t below = 0;
      for (uint32_t i = 0; i < count; ++i) {
        below += keys[i] < key ? 1 : 0;
      }
      return below;
    }
    uint32_t low = 0;
    uint32_t high = count;
    while (low < high) {
      const uint32_t mid = (low + high) / 2;
      if (keys[mid] < key) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    return low;
  }
  static constexpr uint32_t kLinearRank = 32;

  // A piece by the number quick() gives.
  const Piece& piece(uint32_t number) const {
    return number == kWildcardPiece ? wildcard_ : pieces_[number];
  }
  static constexpr uint32_t kWildcardPiece = 0xffffffff;
  static constexpr uint32_t kTabulated = 1;        // entry head: the verdicts are tabulated
  static constexpr uint32_t kServerNameRules = 2;  // ... for connections without SNI only

  // The compact L4 index (written by build): what an L4 check needs in one small array, so
  // that a check reads a line or two after finding the endpoint. Layout (32-bit words):
  // piece count n; offset of the wildcard entry (0: none); n piece ends; n piece starts; n
  // entry offsets. An entry is either [flags | verdict for other identities << 8, k, piece
  // number, k sorted identities, their k verdicts as bytes (padded to a word)] or
  // [0, piece number] when the piece must be evaluated rule by rule; kServerNameRules says
  // the table holds for connections without SNI only. The identities are contiguous so
  // that counting the ones below a remote is a vectorised loop.

  // Why a rule does not apply (`sni` null: SNI not asked).
  PortRule::Miss miss(const Slot& slot, uint16_t proxy_id, uint32_t remote,
                      const std::string_view* sni) const;

  const Slot* slots(const Piece& piece) const { return slots_.data() + piece.begin; }
  const PortRule& rule(const Slot& slot) const { return rules_[slot.rule]; }
  // The remote identities a rule selects (empty: every remote).
  std::vector<uint32_t> remotes(const PortRule& rule) const;

  const std::vector<PortRule>& rules() const { return rules_; }
  const std::vector<Piece>& pieces() const { return pieces_; }
  const Piece* wildcard() const { return has_wildcard_ ? &wildcard_ : nullptr; }

private:
  void tabulate(const std::vector<Slot>& ordered, CompileContext& context, Piece& piece);
  void indexL4(const CompileContext& context, std::vector<uint32_t>& out) const;
  void indexEntry(const Piece& piece, uint32_t number, const CompileContext& context, size_t base,
                  std::vector<uint32_t>& out) const;

  std::vector<PortRule> rules_;    // [0] is the default-allow rule
  std::vector<uint32_t> remotes_;  // every rule's remote identities, one run each
  std::vector<Slot> slots_;        // every piece's ordered rules, one run each
  std::vector<Piece> pieces_;      // ports 1..65535, disjoint, in order
  Piece wildcard_{0, 0, 0, 0, true, false, false, false, Verdict::Allow, 0, 0};
  bool has_wildcard_{false};
};

}  // namespace Policy
}  // namespace Cilium
