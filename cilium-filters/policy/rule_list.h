#pragma once

#include <cstdint>
#include <vector>

#include "cilium-filters/policy/port_rule.h"
#include "cilium-filters/policy/status.h"

namespace Cilium {
namespace Policy {

// How one rule list decided (for `explain`).
struct ListTrace {
  struct Step {
    uint32_t slot;   // position in the ordered list
    Verdict verdict; // what the rule said
    std::vector<HttpRuleTrace> http;
  };
  std::vector<Step> steps;                         // rules evaluated, in order
  std::vector<std::pair<uint32_t, uint32_t>> jumps; // a pass at slot .first went on at .second
  int decided{-1};      // index into steps of the rule whose verdict stands
  bool empty{false};    // no rules at all: every remote is allowed
  uint32_t stopped{0};  // evaluation ended before this slot
};

// The rules that apply to one piece of the port space, ordered for evaluation: precedence
// high to low and, at equal precedence, deny before allow before pass. Rules live in the
// direction's arena; the list holds their indices.
class RuleList {
public:
  struct Slot {
    uint32_t rule;
    uint32_t pass_next; // for pass rules: where evaluation continues
  };

  // Adds the rules of one PortNetworkPolicy entry. An entry without rules allows every
  // remote: once merged with rules, that is kept by the default-allow rule (arena index
  // `default_allow`). Single-port entries go in front, ranges at the back.
  void addEntry(const std::vector<uint32_t>& rules, bool in_front, uint32_t default_allow);
  // Adds the wildcard port's list to this one, with the same default-allow rule.
  void addWildcard(const RuleList& wildcard, uint32_t default_allow);

  // Orders the rules, then computes where each pass rule continues; fails when pass rules
  // of one tier disagree on their pass_precedence.
  Status finish(const std::vector<PortRule>& arena);

  bool onlyPasses(const std::vector<PortRule>& arena) const;
  bool hasHttpRules() const { return has_http_; }
  bool canShortCircuit() const { return short_circuit_; }
  const std::vector<Slot>& slots() const { return slots_; }

  // The list's verdict for one flow: `verdict_of(rule, step)` says what each rule says.
  // Without short-circuiting, every rule of the winning precedence runs (header actions).
  template <class F>
  Verdict evaluate(const std::vector<PortRule>& arena, bool short_circuit, F&& verdict_of,
                   ListTrace* trace) const {
    if (slots_.empty()) {
      if (trace) {
        trace->empty = true;
      }
      return Verdict::Allow;
    }
    Verdict verdict = Verdict::None;
    uint32_t verdict_precedence = 0;
    const uint32_t count = static_cast<uint32_t>(slots_.size());
    uint32_t index = 0;
    while (index < count) {
      const PortRule& rule = arena[slots_[index].rule];
      if (verdict != Verdict::None && rule.precedence() < verdict_precedence) {
        break;
      }
      ListTrace::Step* step = nullptr;
      if (trace) {
        step = &trace->steps.emplace_back(ListTrace::Step{index, Verdict::None, {}});
      }
      const Verdict said = verdict_of(rule, step);
      if (step) {
        step->verdict = said;
      }
      if (said == Verdict::Pass) {
        if (verdict == Verdict::None || verdict_precedence < rule.precedence()) {
          if (trace) {
            trace->jumps.emplace_back(index, slots_[index].pass_next);
          }
          index = slots_[index].pass_next;
          continue;
        }
      } else if (said != Verdict::None) {
        verdict = said;
        verdict_precedence = rule.precedence();
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

private:
  void note(const PortRule& rule);

  std::vector<Slot> slots_;
  bool initialized_{false};
  bool short_circuit_{true};
  bool has_http_{false};
  bool has_pass_{false};
  friend class PortTable;
};

} // namespace Policy
} // namespace Cilium
