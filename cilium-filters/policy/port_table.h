#pragma once

#include <cstdint>
#include <vector>

#include "cilium-filters/policy/rule_list.h"

namespace google {
namespace protobuf {
template <typename T> class RepeatedPtrField;
} // namespace protobuf
} // namespace google

namespace cilium {
class PortNetworkPolicy;
} // namespace cilium

namespace Cilium {
namespace Policy {

// One direction (ingress or egress) of an endpoint's policy: the port space split into
// disjoint pieces, each with every rule of the entries covering it plus the wildcard
// port's rules. A port without a piece uses the wildcard list; with neither it is denied.
class PortTable {
public:
  struct Piece {
    uint32_t first;
    uint32_t last;
    RuleList rules;
  };

  // Compiles the TCP entries of one direction; other protocols are ignored.
  static Status build(const google::protobuf::RepeatedPtrField<cilium::PortNetworkPolicy>& entries,
                      RegexCache& regexes, PortTable& out);

  // The piece covering `port`, else the wildcard piece, else null.
  const Piece* find(uint32_t port) const {
    size_t low = 0;
    size_t high = pieces_.size();
    while (low < high) {
      const size_t mid = (low + high) / 2;
      if (pieces_[mid].last < port) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    if (low < pieces_.size() && pieces_[low].first <= port) {
      return &pieces_[low];
    }
    return has_wildcard_ ? &wildcard_ : nullptr;
  }

  const std::vector<PortRule>& rules() const { return arena_; }
  const std::vector<Piece>& pieces() const { return pieces_; }
  const Piece* wildcard() const { return has_wildcard_ ? &wildcard_ : nullptr; }

private:
  // Makes piece boundaries at `first` and `last + 1` and fills the gaps in between.
  void cover(uint32_t first, uint32_t last);

  std::vector<PortRule> arena_; // [0] is the default-allow rule
  std::vector<Piece> pieces_;   // ports 1..65535, disjoint, in order
  Piece wildcard_{0, 0, {}};
  bool has_wildcard_{false};
};

} // namespace Policy
} // namespace Cilium
