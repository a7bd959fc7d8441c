#include "cilium-filters/policy/compile/rule_list.h"

namespace Cilium {
namespace Policy {

void RuleListBuilder::addEntry(uint32_t begin, uint32_t end, bool in_front,
                               uint32_t default_allow) {
  const bool empty_entry = begin == end;
  const bool keep_allow_all = initialized_ && empty_entry != rules_.empty();
  if (in_front) {
    const size_t added = (end - begin) + (keep_allow_all ? 1 : 0);
    rules_.insert(rules_.begin(), added, 0);
    size_t at = 0;
    for (uint32_t rule = end; rule > begin; --rule) {
      rules_[at++] = rule - 1;
    }
    if (keep_allow_all) {
      rules_[at] = default_allow;
    }
  } else {
    if (keep_allow_all) {
      rules_.push_back(default_allow);
    }
    for (uint32_t rule = begin; rule < end; ++rule) {
      rules_.push_back(rule);
    }
  }
  initialized_ = true;
}

void RuleListBuilder::addList(const std::vector<uint32_t>& rules, uint32_t default_allow) {
  if (initialized_ && rules.empty() != rules_.empty()) {
    rules_.push_back(default_allow);
  }
  rules_.insert(rules_.end(), rules.begin(), rules.end());
  initialized_ = true;
}

Status RuleListBuilder::order(const std::vector<PortRule>& arena, std::vector<Slot>& out) const {
  out.clear();
  bool has_pass = false;
  for (uint32_t index : rules_) {
    const PortRule& rule = arena[index];
    uint8_t flags = 0;
    if (!rule.serverNames().empty()) {
      flags |= Slot::kServerNames;
    }
    if (rule.hasHttpRules()) {
      flags |= Slot::kHttp;
    }
    has_pass = has_pass || rule.kind() == Verdict::Pass;
    const Slot slot{
        index,          rule.precedence(), 0,    rule.remotesBegin(), rule.remotesCount(),
        rule.proxyId(), rule.kind(),       flags};
    // Insertion sort: stable, and these lists are short.
    size_t at = out.size();
    out.push_back(slot);
    while (at > 0 &&
           (out[at - 1].precedence < slot.precedence ||
            (out[at - 1].precedence == slot.precedence && out[at - 1].verdict < slot.verdict))) {
      out[at] = out[at - 1];
      --at;
    }
    out[at] = slot;
  }
  if (!has_pass) {
    return Status::ok();
  }
  // A pass rule's tier runs from its precedence down to its pass_precedence; every pass
  // rule inside one tier must name the same end.
  uint32_t tier_end = 0;
  const uint32_t count = static_cast<uint32_t>(out.size());
  for (uint32_t i = 0; i < count; ++i) {
    if (out[i].verdict != Verdict::Pass) {
      continue;
    }
    const PortRule& rule = arena[out[i].rule];
    if (tier_end != 0 && rule.precedence() < tier_end) {
      tier_end = 0;
    }
    // Across the rules of a port (and the wildcard's): no validate rule spans messages.
    if (tier_end != 0 && rule.passPrecedence() != tier_end) {
      return Status::error("pass rules of one tier disagree: pass_precedence " +
                           std::to_string(rule.passPrecedence()) + " (rule at precedence " +
                           std::to_string(rule.precedence()) + ") != " + std::to_string(tier_end));
    }
    tier_end = rule.passPrecedence();
    uint32_t next = i + 1;
    while (next < count && out[next].precedence >= tier_end) {
      ++next;
    }
    out[i].pass_next = next;
  }
  return Status::ok();
}

}  // namespace Policy
}  // namespace Cilium
