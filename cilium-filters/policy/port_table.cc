#include "cilium-filters/policy/port_table.h"

#include <algorithm>

#include "cilium/api/npds.pb.h"

namespace Cilium {
namespace Policy {
namespace {

constexpr uint32_t kDefaultAllow = 0;

std::string rangeText(uint32_t first, uint32_t last) {
  return first == last ? std::to_string(first)
                       : std::to_string(first) + "-" + std::to_string(last);
}

} // namespace

void PortTable::cover(uint32_t first, uint32_t last) {
  size_t i = 0;
  while (i < pieces_.size() && pieces_[i].last < first) {
    ++i;
  }
  if (i < pieces_.size() && pieces_[i].first < first) {
    Piece tail = pieces_[i];
    tail.first = first;
    pieces_[i].last = first - 1;
    pieces_.insert(pieces_.begin() + static_cast<std::ptrdiff_t>(++i), std::move(tail));
  }
  uint32_t next = first;
  while (next <= last) {
    if (i == pieces_.size() || pieces_[i].first > last) {
      pieces_.insert(pieces_.begin() + static_cast<std::ptrdiff_t>(i), Piece{next, last, {}});
      return;
    }
    if (pieces_[i].first > next) {
      pieces_.insert(pieces_.begin() + static_cast<std::ptrdiff_t>(i),
                     Piece{next, pieces_[i].first - 1, {}});
      ++i;
      next = pieces_[i].first;
    }
    if (pieces_[i].last > last) {
      Piece tail = pieces_[i];
      tail.first = last + 1;
      pieces_[i].last = last;
      pieces_.insert(pieces_.begin() + static_cast<std::ptrdiff_t>(i + 1), std::move(tail));
      return;
    }
    next = pieces_[i].last + 1;
    ++i;
  }
}

Status PortTable::build(const google::protobuf::RepeatedPtrField<cilium::PortNetworkPolicy>& entries,
                        RegexCache& regexes, PortTable& out) {
  out.arena_.clear();
  out.pieces_.clear();
  out.has_wildcard_ = false;
  out.wildcard_ = Piece{0, 0, {}};
  out.arena_.push_back(PortRule::defaultAllow(RuleOrigin{}));

  std::vector<uint32_t> indices;
  for (int e = 0; e < entries.size(); ++e) {
    const cilium::PortNetworkPolicy& entry = entries[e];
    if (entry.protocol() != envoy::config::core::v3::SocketAddress::TCP) {
      continue; // the proxy only sees TCP
    }
    const std::string where = "[" + std::to_string(e) + "]";
    uint32_t first = entry.port();
    uint32_t last = entry.end_port();
    if (last < first) {
      if (last != 0) {
        return Status::error(where + ": end_port " + std::to_string(last) + " is below port " +
                             std::to_string(first));
      }
      last = first;
    }
    if (first == 0 && last != 0) {
      return Status::error(where + ": a range may not start at the wildcard port 0 (0-" +
                           std::to_string(last) + ")");
    }
    indices.clear();
    for (int r = 0; r < entry.rules_size(); ++r) {
      RuleOrigin origin{e, r, entry.port(), entry.end_port(), false};
      PortRule rule;
      Status status = PortRule::create(entry.rules(r), origin, regexes, rule);
      if (!status) {
        return status.within(where + ".rules[" + std::to_string(r) + "]");
      }
      indices.push_back(static_cast<uint32_t>(out.arena_.size()));
      out.arena_.push_back(std::move(rule));
    }
    const bool single = first == last;
    if (first == 0) {
      out.wildcard_.rules.addEntry(indices, true, kDefaultAllow);
      out.has_wildcard_ = true;
      continue;
    }
    out.cover(first, last);
    for (Piece& piece : out.pieces_) {
      if (piece.first >= first && piece.last <= last) {
        piece.rules.addEntry(indices, single, kDefaultAllow);
      }
    }
  }

  for (Piece& piece : out.pieces_) {
    if (out.has_wildcard_) {
      piece.rules.addWildcard(out.wildcard_.rules, kDefaultAllow);
    }
    Status status = piece.rules.finish(out.arena_);
    if (!status) {
      return status.within("port " + rangeText(piece.first, piece.last));
    }
  }
  if (out.has_wildcard_) {
    Status status = out.wildcard_.rules.finish(out.arena_);
    if (!status) {
      return status.within("wildcard port 0");
    }
  }
  // A piece left with only pass rules cannot reach a verdict: it goes, and its ports fall
  // back to the wildcard (or are denied) instead of counting as "no HTTP rules".
  out.pieces_.erase(std::remove_if(out.pieces_.begin(), out.pieces_.end(),
                                   [&](const Piece& piece) {
                                     return piece.rules.onlyPasses(out.arena_);
                                   }),
                    out.pieces_.end());
  if (out.has_wildcard_ && out.wildcard_.rules.onlyPasses(out.arena_)) {
    out.has_wildcard_ = false;
  }
  return Status::ok();
}

} // namespace Policy
} // namespace Cilium
