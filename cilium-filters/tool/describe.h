#pragma once

#include <string>

#include "cilium-filters/policy/decide/decisions.h"

namespace Cilium {
namespace PolicyTool {

// One line naming a rule: its verdict, selectors and where it came from.
std::string describeRule(const Policy::PortTable& table, const Policy::PortRule& rule);

// The question as a phrase: "ingress to 10.1.2.3 port 80 from identity 43 ...".
std::string describeQuestion(const Policy::FlowQuestion& question);

// What an explanation answers. Undecided: the answer depends on what the question left out
// (an SNI, when `sni_given` is false and server_names decide; the request, when HTTP rules
// or l7_rules decide and no headers were given).
enum class Answer { Allowed, Denied, Undecided };
Answer answerOf(const Policy::Explanation& explanation, bool sni_given);
// "ALLOWED", "DENIED", "UNDECIDED".
std::string answerWord(Answer answer);

// The text of `cilium-policy check` (one line: the answer, the question, the verdicts and
// what is left open) and `cilium-policy explain` (that, then every rule of the port, what it
// said and why the others did not decide). `headers`/`log` are the request after the
// check, when one was asked.
std::string describeCheck(const Policy::FlowQuestion& question,
                          const Policy::Explanation& explanation,
                          const Policy::RequestHeaders* headers, const Policy::HeaderLog* log,
                          bool sni_given = false);
std::string describeExplanation(const Policy::FlowQuestion& question,
                                const Policy::Explanation& explanation,
                                const Policy::RequestHeaders* headers, const Policy::HeaderLog* log,
                                bool sni_given = false);

}  // namespace PolicyTool
}  // namespace Cilium
