#pragma once

#include <cstdint>
#include <vector>

#include "cilium-filters/policy/compile/regex.h"
#include "cilium-filters/policy/compile/rule_list.h"

namespace Cilium {
namespace Policy {

// What compiling the policies of one update shares: compiled regular expressions (equal
// patterns recur across endpoints) and scratch buffers, reused from policy to policy.
struct CompileContext {
  explicit CompileContext(uint32_t max_program_size = kDefaultMaxProgramSize)
      : regexes(max_program_size) {}

  RegexCache regexes;
  RuleListBuilder builder;
  std::vector<Slot> ordered;
  std::vector<uint32_t> bounds;
  std::vector<uint32_t> wildcard_rules;
  std::vector<uint32_t> remotes;
  std::vector<uint64_t> l4;     // (identity << 8 | verdict) runs of the table being built
  std::vector<uint32_t> index;  // the L4 index of the policy being built
};

}  // namespace Policy
}  // namespace Cilium
