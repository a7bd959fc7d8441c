#pragma once

#include <string>

#include "cilium-filters/policy/decide/decisions.h"

namespace Cilium {
namespace PolicyTool {

// One line naming a rule: its verdict, selectors and where it came from.
std::string describeRule(const Policy::PortTable& table, const Policy::PortRule& rule);

// The question as a phrase: "ingress to 10.1.2.3 port 80 from identity 43 ...".
std::string describeQuestion(const Policy::FlowQuestion& question);

// The text of `cilium-policy check` (short) and `cilium-policy explain` (every rule of the
// port, what it said and why the others did not decide). `headers`/`log` are the request
// after the check, when one was asked.
std::string describeCheck(const Policy::FlowQuestion& question,
                          const Policy::Explanation& explanation,
                          const Policy::RequestHeaders* headers, const Policy::HeaderLog* log);
std::string describeExplanation(const Policy::FlowQuestion& question,
                                const Policy::Explanation& explanation,
                                const Policy::RequestHeaders* headers,
                                const Policy::HeaderLog* log);

} // namespace PolicyTool
} // namespace Cilium
