#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "cilium-filters/policy/base/status.h"
#include "cilium-filters/policy/compile/port_rule.h"

namespace Cilium {
namespace Policy {

// One rule in a piece's evaluation order, with what an L4 decision needs copied next to it
// (so a check reads a few adjacent cache lines, not every rule object).
struct Slot {
  uint32_t rule;  // index into the table's rules
  uint32_t precedence;
  uint32_t pass_next;      // pass rules: the position where evaluation continues
  uint32_t remotes_begin;  // into the table's remote identities
  uint32_t remotes_count;  // 0: every remote
  uint16_t proxy_id;
  Verdict verdict;
  uint8_t flags;

  static constexpr uint8_t kServerNames = 1;  // the rule has server_names
  static constexpr uint8_t kHttp = 2;         // the rule has HTTP rules
  bool has(uint8_t flag) const { return (flags & flag) != 0; }
};

// How one rule list decided (for `explain`).
struct ListTrace {
  struct Step {
    uint32_t slot;    // position in the ordered list
    Verdict verdict;  // what the rule said
    std::vector<HttpRuleTrace> http;
  };
  std::vector<Step> steps;                           // rules evaluated, in order
  std::vector<std::pair<uint32_t, uint32_t>> jumps;  // a pass at .first went on at .second
  int decided{-1};      // index into steps of the rule whose verdict stands
  bool empty{false};    // no rules at all: every remote is allowed
  uint32_t stopped{0};  // evaluation ended before this position
};

// Builds one piece's rule list the way entries merge: an entry without rules allows every
// remote, which survives merging through the explicit default-allow rule; single-port
// entries go in front (their rules reversed, as each is put in front in turn), ranges and
// the wildcard port's rules at the back. Then orders it: precedence high to low and, at
// equal precedence, deny before allow before pass; and computes where each pass continues.
class RuleListBuilder {
public:
  void reset() {
    rules_.clear();
    initialized_ = false;
  }
  bool initialized() const { return initialized_; }
  void addEntry(uint32_t begin, uint32_t end, bool in_front, uint32_t default_allow);
  void addList(const std::vector<uint32_t>& rules, uint32_t default_allow);
  const std::vector<uint32_t>& rules() const { return rules_; }

  // The ordered slots; fails when pass rules of one tier disagree on pass_precedence.
  Status order(const std::vector<PortRule>& arena, std::vector<Slot>& out) const;

private:
  std::vector<uint32_t> rules_;
  bool initialized_{false};
};

// The verdict of an ordered list for one flow; `verdict_of(slot, step)` says what each rule
// says. Without short-circuiting, every rule of the winning precedence runs (header actions).
template <class F>
Verdict evaluate(const Slot* slots, uint32_t count, bool short_circuit, F&& verdict_of,
                 ListTrace* trace) {
  if (count == 0) {
    if (trace) {
      trace->empty = true;
    }
    return Verdict::Allow;
  }
  Verdict verdict = Verdict::None;
  uint32_t verdict_precedence = 0;
  uint32_t index = 0;
  while (index < count) {
    const Slot& slot = slots[index];
    if (verdict != Verdict::None && slot.precedence < verdict_precedence) {
      break;
    }
    ListTrace::Step* step = nullptr;
    if (trace) {
      step = &trace->steps.emplace_back(ListTrace::Step{index, Verdict::None, {}});
    }
    const Verdict said = verdict_of(slot, step);
    if (step) {
      step->verdict = said;
    }
    if (said == Verdict::Pass) {
      if (verdict == Verdict::None || verdict_precedence < slot.precedence) {
        if (trace) {
          trace->jumps.emplace_back(index, slot.pass_next);
        }
        index = slot.pass_next;
        continue;
      }
    } else if (said != Verdict::None) {
      verdict = said;
      verdict_precedence = slot.precedence;
      if (trace) {
        trace->decided = static_cast<int>(trace->steps.size()) - 1;
      }
      if (said == Verdict::Deny || short_circuit) {
        if (trace) {
          trace->stopped = index + 1;
        }
        return verdict;
      }
    }
    ++index;
  }
  if (trace) {
    trace->stopped = index;
  }
  return verdict;
}

}  // namespace Policy
}  // namespace Cilium
