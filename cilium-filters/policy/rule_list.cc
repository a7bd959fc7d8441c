#include "cilium-filters/policy/rule_list.h"

#include <algorithm>

namespace Cilium {
namespace Policy {

void RuleList::addEntry(const std::vector<uint32_t>& rules, bool in_front, uint32_t default_allow) {
  const bool keep_allow_all = initialized_ && rules.empty() != slots_.empty();
  if (in_front) {
    // Each rule goes to the front in turn, so the entry's rules end up reversed; at equal
    // precedence and verdict that order does not change any decision.
    std::vector<Slot> front;
    front.reserve(rules.size() + 1);
    for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
      front.push_back(Slot{*it, 0});
    }
    if (keep_allow_all) {
      front.push_back(Slot{default_allow, 0});
    }
    slots_.insert(slots_.begin(), front.begin(), front.end());
  } else {
    if (keep_allow_all) {
      slots_.push_back(Slot{default_allow, 0});
    }
    for (uint32_t rule : rules) {
      slots_.push_back(Slot{rule, 0});
    }
  }
  initialized_ = true;
}

void RuleList::addWildcard(const RuleList& wildcard, uint32_t default_allow) {
  if (initialized_ && wildcard.slots_.empty() != slots_.empty()) {
    slots_.push_back(Slot{default_allow, 0});
  }
  slots_.insert(slots_.end(), wildcard.slots_.begin(), wildcard.slots_.end());
  initialized_ = true;
}

void RuleList::note(const PortRule& rule) {
  if (rule.hasHeaderMatches()) {
    short_circuit_ = false;
  }
  if (rule.hasHttpRules()) {
    has_http_ = true;
  }
  if (rule.kind() == Verdict::Pass) {
    has_pass_ = true;
  }
}

Status RuleList::finish(const std::vector<PortRule>& arena) {
  short_circuit_ = true;
  has_http_ = false;
  has_pass_ = false;
  for (const Slot& slot : slots_) {
    note(arena[slot.rule]);
  }
  std::stable_sort(slots_.begin(), slots_.end(), [&](const Slot& a, const Slot& b) {
    const PortRule& x = arena[a.rule];
    const PortRule& y = arena[b.rule];
    return x.precedence() > y.precedence() ||
           (x.precedence() == y.precedence() && x.kind() > y.kind());
  });
  if (!has_pass_) {
    return Status::ok();
  }
  // A pass rule's tier runs from its precedence down to its pass_precedence; every pass
  // rule inside one tier must name the same end.
  uint32_t tier_end = 0;
  const uint32_t count = static_cast<uint32_t>(slots_.size());
  for (uint32_t i = 0; i < count; ++i) {
    const PortRule& rule = arena[slots_[i].rule];
    if (rule.kind() != Verdict::Pass) {
      continue;
    }
    if (tier_end != 0 && rule.precedence() < tier_end) {
      tier_end = 0;
    }
    if (tier_end != 0 && rule.passPrecedence() != tier_end) {
      return Status::error("pass rules of one tier disagree: pass_precedence " +
                           std::to_string(rule.passPrecedence()) + " (rule at precedence " +
                           std::to_string(rule.precedence()) + ") != " +
                           std::to_string(tier_end));
    }
    tier_end = rule.passPrecedence();
    uint32_t next = i + 1;
    while (next < count && arena[slots_[next].rule].precedence() >= tier_end) {
      ++next;
    }
    slots_[i].pass_next = next;
  }
  return Status::ok();
}

bool RuleList::onlyPasses(const std::vector<PortRule>& arena) const {
  return !slots_.empty() && std::all_of(slots_.begin(), slots_.end(), [&](const Slot& slot) {
    return arena[slot.rule].kind() == Verdict::Pass;
  });
}

} // namespace Policy
} // namespace Cilium
