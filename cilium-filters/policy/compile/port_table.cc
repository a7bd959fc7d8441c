#include "cilium-filters/policy/compile/port_table.h"

#include "cilium/api/npds.pb.h"

namespace Cilium {
namespace Policy {
namespace {

constexpr uint32_t kDefaultAllow = 0;

std::string rangeText(uint32_t first, uint32_t last) {
  return first == last ? std::to_string(first) : std::to_string(first) + "-" + std::to_string(last);
}

// One TCP entry, compiled: its ports and its rules, rules()[begin, end).
struct Entry {
  uint32_t first;
  uint32_t last;
  uint32_t begin;
  uint32_t end;
};

}  // namespace

void PortTable::tabulate(const std::vector<Slot>& ordered, CompileContext& context, Piece& piece) {
  std::vector<uint32_t>& remotes = context.remotes;
  std::vector<uint64_t>& l4 = context.l4;
  const uint32_t count = static_cast<uint32_t>(ordered.size());
  // Identities no rule names are selected only by rules without remote_policies.
  piece.l4_other = evaluate(
      ordered.data(), count, true,
      [](const Slot& slot, ListTrace::Step*) {
        return slot.remotes_count == 0 && !slot.has(Slot::kServerNames) ? slot.verdict
                                                                        : Verdict::None;
      },
      nullptr);
  remotes.clear();
  for (const Slot& slot : ordered) {
    remotes.insert(remotes.end(), remotes_.begin() + slot.remotes_begin,
                   remotes_.begin() + slot.remotes_begin + slot.remotes_count);
  }
  std::sort(remotes.begin(), remotes.end());
  remotes.erase(std::unique(remotes.begin(), remotes.end()), remotes.end());
  piece.l4_begin = static_cast<uint32_t>(l4.size());
  for (uint32_t remote : remotes) {
    const Verdict said = evaluate(
        ordered.data(), count, true,
        [&](const Slot& slot, ListTrace::Step*) {
          // Without SNI, rules with server_names never apply.
          return slot.has(Slot::kServerNames) ? Verdict::None : verdict(slot, 0, remote);
        },
        nullptr);
    if (said != piece.l4_other) {
      l4.push_back(uint64_t{remote} << 8 | static_cast<uint8_t>(said));
    }
  }
  piece.l4_count = static_cast<uint32_t>(l4.size()) - piece.l4_begin;
}

void PortTable::indexEntry(const Piece& piece, uint32_t number, const CompileContext& context,
                           size_t base, std::vector<uint32_t>& out) const {
  (void)base;
  if (!piece.l4_table) {
    out.push_back(0);
    out.push_back(number);
    return;
  }
  out.push_back(kTabulated | (piece.l4_without_sni_only ? kServerNameRules : 0) |
                uint32_t{static_cast<uint8_t>(piece.l4_other)} << 8);
  out.push_back(piece.l4_count);
  out.push_back(number);
  for (uint32_t i = 0; i < piece.l4_count; ++i) {
    out.push_back(static_cast<uint32_t>(context.l4[piece.l4_begin + i] >> 8));
  }
  const size_t verdicts = out.size();
  out.resize(verdicts + (piece.l4_count + 3) / 4, 0);
  uint8_t* bytes = reinterpret_cast<uint8_t*>(out.data() + verdicts);
  for (uint32_t i = 0; i < piece.l4_count; ++i) {
    bytes[i] = static_cast<uint8_t>(context.l4[piece.l4_begin + i] & 0xff);
  }
}

void PortTable::indexL4(const CompileContext& context, std::vector<uint32_t>& out) const {
  // Offsets are relative to the start of this direction's index.
  const size_t base = out.size();
  const uint32_t n = static_cast<uint32_t>(pieces_.size());
  out.resize(base + 2 + 3 * size_t{n}, 0);
  out[base] = n;
  for (uint32_t i = 0; i < n; ++i) {
    out[base + 2 + i] = pieces_[i].last;
    out[base + 2 + n + i] = pieces_[i].first;
  }
  for (uint32_t i = 0; i < n; ++i) {
    out[base + 2 + 2 * n + i] = static_cast<uint32_t>(out.size() - base);
    indexEntry(pieces_[i], i, context, base, out);
  }
  if (has_wildcard_) {
    out[base + 1] = static_cast<uint32_t>(out.size() - base);
    indexEntry(wildcard_, kWildcardPiece, context, base, out);
  }
}

PortRule::Miss PortTable::miss(const Slot& slot, uint16_t proxy_id, uint32_t remote,
                               const std::string_view* sni) const {
  if (slot.proxy_id != 0 && slot.proxy_id != proxy_id) {
    return PortRule::Miss::ProxyId;
  }
  if (verdict(slot, proxy_id, remote) == Verdict::None) {
    return PortRule::Miss::Remote;
  }
  if (sni && !rules_[slot.rule].matchesServerName(*sni)) {
    return PortRule::Miss::ServerName;
  }
  return PortRule::Miss::None;
}

std::vector<uint32_t> PortTable::remotes(const PortRule& rule) const {
  const auto begin = remotes_.begin() + rule.remotesBegin();
  return std::vector<uint32_t>(begin, begin + rule.remotesCount());
}

Status PortTable::build(
    const google::protobuf::RepeatedPtrField<cilium::PortNetworkPolicy>& entries,
    CompileContext& context, PortTable& out, std::vector<uint32_t>& l4_index) {
  out.rules_.clear();
  out.remotes_.clear();
  out.slots_.clear();
  context.l4.clear();
  out.pieces_.clear();
  out.has_wildcard_ = false;
  out.rules_.push_back(PortRule::defaultAllow());

  // Compile every TCP entry's rules, in order.
  std::vector<Entry> ranges;
  std::vector<Entry> wildcards;
  size_t rule_count = 0;
  size_t remote_count = 0;
  for (const auto& entry : entries) {
    rule_count += static_cast<size_t>(entry.rules_size());
    for (const auto& rule : entry.rules()) {
      remote_count += static_cast<size_t>(rule.remote_policies_size());
    }
  }
  out.rules_.reserve(rule_count + 1);
  out.remotes_.reserve(remote_count);
  for (int e = 0; e < entries.size(); ++e) {
    const cilium::PortNetworkPolicy& entry = entries[e];
    if (entry.protocol() != envoy::config::core::v3::SocketAddress::TCP) {
      continue;  // the proxy only sees TCP
    }
    uint32_t first = entry.port();
    uint32_t last = entry.end_port();
    // Relations between two fields: beyond what a validate rule (one field each) can say.
    if (last < first) {
      if (last != 0) {
        return Status::error("[" + std::to_string(e) + "]: end_port " + std::to_string(last) +
                             " is below port " + std::to_string(first));
      }
      last = first;
    }
    if (first == 0 && last != 0) {
      return Status::error("[" + std::to_string(e) +
                           "]: a range may not start at the wildcard port 0 (0-" +
                           std::to_string(last) + ")");
    }
    const uint32_t begin = static_cast<uint32_t>(out.rules_.size());
    for (int r = 0; r < entry.rules_size(); ++r) {
      const RuleOrigin origin{e, r, entry.port(), entry.end_port(), false};
      out.rules_.emplace_back();
      Status status = PortRule::create(entry.rules(r), origin, context.regexes, out.remotes_,
                                       out.rules_.back());
      if (!status) {
        return status.within("[" + std::to_string(e) + "].rules[" + std::to_string(r) + "]");
      }
    }
    const Entry compiled{first, last, begin, static_cast<uint32_t>(out.rules_.size())};
    (first == 0 ? wildcards : ranges).push_back(compiled);
  }

  RuleListBuilder& builder = context.builder;
  std::vector<Slot>& ordered = context.ordered;
  // The wildcard port's own list: its entries are single ports, so each goes in front.
  std::vector<uint32_t>& wildcard_rules = context.wildcard_rules;
  wildcard_rules.clear();
  builder.reset();
  if (!wildcards.empty()) {
    for (const Entry& entry : wildcards) {
      builder.addEntry(entry.begin, entry.end, true, kDefaultAllow);
    }
    wildcard_rules = builder.rules();
  }

  // Every port where some entry starts or ends is a boundary; between two boundaries the
  // same entries cover every port, so each such piece (when covered) gets one list.
  std::vector<uint32_t>& bounds = context.bounds;
  bounds.clear();
  for (const Entry& entry : ranges) {
    bounds.push_back(entry.first);
    bounds.push_back(entry.last + 1);
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  out.pieces_.reserve(bounds.size());
  out.slots_.reserve(rule_count * 2 + bounds.size());

  auto emit = [&](uint32_t first, uint32_t last, Piece* into) -> Status {
    Status status = builder.order(out.rules_, ordered);
    if (!status) {
      return status.within(first == 0 ? std::string("wildcard port 0")
                                      : "port " + rangeText(first, last));
    }
    const bool only_passes =
        !ordered.empty() && std::all_of(ordered.begin(), ordered.end(), [](const Slot& slot) {
          return slot.verdict == Verdict::Pass;
        });
    if (only_passes) {
      // Pass rules alone reach no verdict: the piece goes, and its ports fall back to the
      // wildcard (or are denied) instead of counting as "no HTTP rules".
      return Status::ok();
    }
    Piece piece{first,
                last,
                static_cast<uint32_t>(out.slots_.size()),
                static_cast<uint32_t>(ordered.size()),
                true,
                false,
                true,
                false,
                Verdict::Allow,
                0,
                0};
    for (const Slot& slot : ordered) {
      if (out.rules_[slot.rule].hasHeaderMatches()) {
        piece.short_circuit = false;
      }
      if (slot.has(Slot::kHttp)) {
        piece.has_http = true;
      }
      if (slot.proxy_id != 0) {
        piece.l4_table = false;
      }
      if (slot.has(Slot::kServerNames)) {
        piece.l4_without_sni_only = true;
      }
    }
    if (piece.l4_table) {
      out.tabulate(ordered, context, piece);
    }
    out.slots_.insert(out.slots_.end(), ordered.begin(), ordered.end());
    if (into) {
      *into = piece;
    } else {
      out.pieces_.push_back(piece);
    }
    return Status::ok();
  };

  for (size_t b = 0; b + 1 < bounds.size(); ++b) {
    const uint32_t first = bounds[b];
    const uint32_t last = bounds[b + 1] - 1;
    builder.reset();
    for (const Entry& entry : ranges) {
      if (entry.first <= first && first <= entry.last) {
        builder.addEntry(entry.begin, entry.end, entry.first == entry.last, kDefaultAllow);
      }
    }
    if (!builder.initialized()) {
      continue;  // a gap between entries
    }
    if (!wildcards.empty()) {
      builder.addList(wildcard_rules, kDefaultAllow);
    }
    Status status = emit(first, last, nullptr);
    if (!status) {
      return status;
    }
  }
  if (!wildcards.empty()) {
    builder.reset();
    builder.addList(wildcard_rules, kDefaultAllow);
    Piece wildcard{};
    const size_t slots_before = out.slots_.size();
    Status status = emit(0, 0, &wildcard);
    if (!status) {
      return status;
    }
    out.has_wildcard_ = out.slots_.size() != slots_before || wildcard_rules.empty();
    if (out.has_wildcard_) {
      out.wildcard_ = wildcard;
    }
  }
  out.indexL4(context, l4_index);
  return Status::ok();
}

}  // namespace Policy
}  // namespace Cilium
