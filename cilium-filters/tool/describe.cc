#include "cilium-filters/tool/describe.h"

#include <set>

namespace Cilium {
namespace PolicyTool {
namespace {

using Policy::Explanation;
using Policy::FlowQuestion;
using Policy::ListTrace;
using Policy::PortRule;
using Policy::PortTable;
using Policy::Verdict;

std::string rangeText(uint32_t first, uint32_t last) {
  return first == last ? std::to_string(first) : std::to_string(first) + "-" + std::to_string(last);
}

std::string originText(const PortRule& rule) {
  const Policy::RuleOrigin& origin = rule.origin();
  if (origin.default_allow) {
    return "added: an entry without rules allows every remote";
  }
  std::string out = "entry [" + std::to_string(origin.entry) + "] port ";
  out += origin.port == 0 ? std::string("0 (wildcard)")
                          : rangeText(origin.port, origin.end_port ? origin.end_port : origin.port);
  out += ", rule [" + std::to_string(origin.index) + "]";
  if (!rule.name().empty()) {
    out += " \"" + rule.name() + "\"";
  }
  return out;
}

std::string verdictWord(Verdict verdict) {
  switch (verdict) {
    case Verdict::Allow:
      return "allowed";
    case Verdict::Deny:
      return "denied";
    case Verdict::Pass:
      return "passed";
    case Verdict::None:
      break;
  }
  return "no verdict";
}

std::string outcomeText(Policy::HeaderMatch::Outcome outcome) {
  switch (outcome) {
    case Policy::HeaderMatch::Outcome::Passed:
      return "passed";
    case Policy::HeaderMatch::Outcome::Failed:
      return "failed";
    case Policy::HeaderMatch::Outcome::NoSecretFail:
      return "failed: its secret is not available and it has no inline value";
  }
  return "";
}

void pairsText(std::string& out, const std::string& title,
               const std::vector<std::pair<std::string, std::string>>& pairs) {
  if (pairs.empty()) {
    return;
  }
  out += "  " + title + ":";
  for (const auto& [name, value] : pairs) {
    out += " " + name + "=\"" + value + "\"";
  }
  out += "\n";
}

// Every rule of the list, in evaluation order, with what happened to it.
void traceText(std::string& out, const PortTable& table, const PortTable::Piece& piece,
               const ListTrace& trace, const FlowQuestion& question, bool http) {
  const Policy::Slot* slots = table.slots(piece);
  const uint32_t count = piece.count;
  std::vector<const ListTrace::Step*> step_of(count, nullptr);
  for (const auto& step : trace.steps) {
    step_of[step.slot] = &step;
  }
  std::set<uint32_t> skipped;
  for (const auto& [from, to] : trace.jumps) {
    for (uint32_t i = from + 1; i < to && i < count; ++i) {
      skipped.insert(i);
    }
  }
  const ListTrace::Step* decided =
      trace.decided >= 0 ? &trace.steps[static_cast<size_t>(trace.decided)] : nullptr;
  for (uint32_t i = 0; i < count; ++i) {
    const PortRule& rule = table.rule(slots[i]);
    out += "  #" + std::to_string(i + 1) + " " + describeRule(table, rule) + "\n      ";
    const ListTrace::Step* step = step_of[i];
    if (step == nullptr) {
      if (skipped.count(i)) {
        out += "skipped: a pass rule above sent evaluation below its tier";
      } else if (decided != nullptr && i >= trace.stopped) {
        out += "not evaluated: the decision was already made";
      } else {
        out += "not evaluated";
      }
      out += "\n";
      continue;
    }
    if (step == decided) {
      out += "DECIDES: " + verdictWord(step->verdict);
    } else if (step->verdict == Verdict::Pass) {
      out +=
          "passes: evaluation continues below precedence " + std::to_string(rule.passPrecedence());
    } else if (step->verdict == Verdict::None) {
      const std::string_view sni = question.sni;
      PortRule::Miss miss =
          table.miss(slots[i], question.proxy_id, question.remote_id, http ? nullptr : &sni);
      if (miss == PortRule::Miss::None && http) {
        miss = PortRule::Miss::Http;
      }
      out += "does not apply: " + std::string(Policy::missName(miss));
    } else {
      out += verdictWord(step->verdict) + " (same precedence as the deciding rule)";
    }
    out += "\n";
    for (size_t h = 0; h < step->http.size(); ++h) {
      const auto& http_step = step->http[h];
      const auto& http_rule = rule.httpRules()[h];
      out += "      http_rules[" + std::to_string(h) + "]: ";
      if (!http_step.headers_matched) {
        out += "header " +
               http_rule.headers()[static_cast<size_t>(http_step.failed_matcher)].describe() +
               " did not match\n";
        continue;
      }
      out += http_rule.headers().empty() ? "no header matchers" : "headers matched";
      out += http_step.passed ? ", passes\n" : ", fails\n";
      for (size_t m = 0; m < http_step.header_matches.size(); ++m) {
        out += "        header_matches[" + std::to_string(m) + "] " +
               http_rule.headerMatches()[m].describe() + ": " +
               outcomeText(http_step.header_matches[m]) + "\n";
      }
    }
  }
}

// "allowed by rule #2 (...)": the rule that decided `trace` (whose `decided` is set).
std::string decidedBy(const FlowQuestion& question, const Explanation& e, const ListTrace& trace) {
  const auto& table = e.policy->table(question.ingress);
  const auto& step = trace.steps[static_cast<size_t>(trace.decided)];
  const PortRule& rule = table.rule(table.slots(*e.piece)[step.slot]);
  return verdictWord(step.verdict) + " by rule #" + std::to_string(step.slot + 1) + " (" +
         originText(rule) + ")";
}

std::string l4Summary(const FlowQuestion& question, const Explanation& e) {
  if (e.policy == nullptr) {
    return "denied: no policy for endpoint " + std::string(question.endpoint_ip);
  }
  if (e.piece == nullptr) {
    return "denied: no rules for port " + std::to_string(question.port) +
           (question.ingress ? " (ingress)" : " (egress)");
  }
  if (e.l4.empty) {
    return "allowed: the port's entry has no rules, so every remote is allowed";
  }
  if (e.l4.decided >= 0) {
    return decidedBy(question, e, e.l4);
  }
  return "denied: no rule applies";
}

std::string httpSummary(const FlowQuestion& question, const Explanation& e) {
  if (e.policy == nullptr) {
    return "denied: no policy for endpoint " + std::string(question.endpoint_ip);
  }
  if (!e.http_has_rules) {
    return "allowed: the port has no HTTP rules";
  }
  if (e.http.decided >= 0) {
    return decidedBy(question, e, e.http);
  }
  return "denied: no rule allows the request";
}

void requestText(std::string& out, const Policy::RequestHeaders* headers,
                 const Policy::HeaderLog* log) {
  if (headers == nullptr) {
    return;
  }
  out += "request headers after the check:";
  if (headers->entries().empty()) {
    out += " (none)";
  }
  out += "\n";
  for (const auto& entry : headers->entries()) {
    out += "  " + entry.name + ": " + entry.value + "\n";
  }
  if (log != nullptr) {
    pairsText(out, "logged as missing", log->missing());
    pairsText(out, "logged as rejected", log->rejected());
  }
}

// "rules #2, #5": positions in the piece's list, as explain numbers them.
std::string ruleList(const std::vector<uint32_t>& positions) {
  std::string out = positions.size() == 1 ? "rule " : "rules ";
  for (size_t i = 0; i < positions.size(); ++i) {
    out += (i ? ", #" : "#") + std::to_string(positions[i] + 1);
  }
  return out;
}

std::string sniOpen(const Explanation& e, const FlowQuestion& question) {
  std::string names;
  const auto& table = e.policy->table(question.ingress);
  for (uint32_t position : e.sni_rules) {
    for (const auto& name : table.rule(table.slots(*e.piece)[position]).serverNames()) {
      names += (names.empty() ? "" : ", ") + name.pattern();
    }
  }
  return "a TLS SNI decides it by the server_names of " + ruleList(e.sni_rules) + " (" + names +
         "): add --sni NAME, or --sni '' for a connection without one";
}

std::string httpOpen(const Explanation& e, const FlowQuestion& question) {
  (void)question;
  return "unknown without a request: the HTTP rules of " + ruleList(e.http_rules) +
         " decide each request; add its headers (--header :method=GET --header :path=/...)";
}

std::string l7Open(const Explanation& e, const FlowQuestion& question) {
  (void)question;
  return "unknown without a request: connections go to the l7_proto \"" + e.l7_proto +
         "\" parser and the l7_rules of " + ruleList(e.l7_rules) + " decide each request it parses";
}

// The HTTP rules of a rule, one line per header matcher and header match.
void httpRulesText(std::string& out, const PortRule& rule) {
  for (size_t h = 0; h < rule.httpRules().size(); ++h) {
    const auto& http_rule = rule.httpRules()[h];
    out += "      http_rules[" + std::to_string(h) + "]:";
    if (http_rule.headers().empty() && http_rule.headerMatches().empty()) {
      out += " any request\n";
      continue;
    }
    out += "\n";
    for (const auto& matcher : http_rule.headers()) {
      out += "        header " + matcher.describe() + "\n";
    }
    for (const auto& match : http_rule.headerMatches()) {
      out += "        header_matches " + match.describe() + "\n";
    }
  }
}

}  // namespace

std::string describeRule(const Policy::PortTable& table, const PortRule& rule) {
  std::string out;
  switch (rule.kind()) {
    case Verdict::Deny:
      out = "deny";
      break;
    case Verdict::Pass:
      out = "pass to " + std::to_string(rule.passPrecedence());
      break;
    default:
      out = "allow";
  }
  out += ", precedence " + std::to_string(rule.precedence());
  out += ", remotes ";
  const std::vector<uint32_t> remotes = table.remotes(rule);
  if (remotes.empty()) {
    out += "any";
  } else {
    out += "[";
    for (size_t i = 0; i < remotes.size(); ++i) {
      out += (i ? "," : "") + std::to_string(remotes[i]);
    }
    out += "]";
  }
  if (rule.proxyId() != 0) {
    out += ", proxy_id " + std::to_string(rule.proxyId());
  }
  if (!rule.serverNames().empty()) {
    out += ", server_names [";
    for (size_t i = 0; i < rule.serverNames().size(); ++i) {
      out += (i ? "," : "") + rule.serverNames()[i].pattern();
    }
    out += "]";
  }
  if (rule.hasHttpRules()) {
    out += ", " + std::to_string(rule.httpRules().size()) + " HTTP rule(s)";
  }
  if (!rule.l7Proto().empty()) {
    out += ", l7_proto " + rule.l7Proto();
  }
  out += "  [" + originText(rule) + "]";
  return out;
}

std::string describeQuestion(const FlowQuestion& question) {
  std::string out = question.ingress ? "ingress to " : "egress from ";
  out += std::string(question.endpoint_ip) + (question.ingress ? ", port " : " to port ");
  out += std::to_string(question.port) + ", remote identity " + std::to_string(question.remote_id);
  out += ", proxy_id " + std::to_string(question.proxy_id);
  out += question.sni.empty() ? ", no SNI" : ", SNI " + std::string(question.sni);
  return out;
}

Answer answerOf(const Explanation& e, bool sni_given) {
  if (e.sni_could_change && !sni_given) {
    return Answer::Undecided;
  }
  if (!e.l4_allowed) {
    return Answer::Denied;
  }
  if (e.http_asked && !e.http_allowed) {
    return Answer::Denied;
  }
  if ((!e.http_asked && e.http_could_change) || !e.l7_rules.empty()) {
    return Answer::Undecided;
  }
  return Answer::Allowed;
}

std::string answerWord(Answer answer) {
  switch (answer) {
    case Answer::Allowed:
      return "ALLOWED";
    case Answer::Denied:
      return "DENIED";
    case Answer::Undecided:
      return "UNDECIDED";
  }
  return "";
}

std::string describeCheck(const FlowQuestion& question, const Explanation& e,
                          const Policy::RequestHeaders* headers, const Policy::HeaderLog* log,
                          bool sni_given) {
  (void)headers;
  (void)log;
  const Answer answer = answerOf(e, sni_given);
  std::string out = answerWord(answer) + ": " + describeQuestion(question) + ": L4 ";
  if (e.sni_could_change && !sni_given) {
    out += l4Summary(question, e) + " without an SNI; " + sniOpen(e, question) + "\n";
    return out;
  }
  out += l4Summary(question, e);
  if (e.l4_allowed && e.http_asked && e.http_has_rules) {
    out += "; HTTP " + httpSummary(question, e);
  } else if (e.l4_allowed && !e.http_asked && e.http_could_change) {
    out += "; the HTTP verdict is " + httpOpen(e, question);
  }
  if (e.l4_allowed && !e.l7_rules.empty()) {
    out += "; the L7 verdict is " + l7Open(e, question);
  }
  return out + "\n";
}

std::string describeExplanation(const FlowQuestion& question, const Explanation& e,
                                const Policy::RequestHeaders* headers, const Policy::HeaderLog* log,
                                bool sni_given) {
  const Answer answer = answerOf(e, sni_given);
  std::string out = answerWord(answer) + ": " + describeQuestion(question) + "\n";
  out += "  L4:   " + l4Summary(question, e) +
         (e.sni_could_change && !sni_given ? " without an SNI" : "") + "\n";
  if (e.sni_could_change && !sni_given) {
    out += "  SNI:  " + sniOpen(e, question) + "\n";
  }
  if (e.l4_allowed && e.http_asked) {
    out += "  HTTP: " + httpSummary(question, e) + "\n";
  } else if (e.l4_allowed && e.http_could_change) {
    out += "  HTTP: " + httpOpen(e, question) + "\n";
  } else if (e.l4_allowed && e.piece != nullptr && e.piece->has_http) {
    out += "  HTTP: every request is allowed: a rule without HTTP rules allows this remote\n";
  }
  if (e.l4_allowed && !e.l7_rules.empty()) {
    out += "  L7:   " + l7Open(e, question) + "\n";
  }
  requestText(out, headers, log);
  if (e.policy == nullptr) {
    return out + "\nNo policy names this endpoint IP: everything to and from it is denied.\n";
  }
  out += "\npolicy of endpoint_id " + std::to_string(e.policy->endpointId()) + " (";
  for (int i = 0; i < e.policy->config().endpoint_ips_size(); ++i) {
    out += (i ? ", " : "") + e.policy->config().endpoint_ips(i);
  }
  out += ")\n";
  const PortTable& table = e.policy->table(question.ingress);
  if (e.piece == nullptr) {
    out += "No " + std::string(question.ingress ? "ingress" : "egress") + " rules cover port " +
           std::to_string(question.port) +
           (table.pieces().empty() && table.wildcard() == nullptr
                ? " (the direction has no per-port policies: it denies everything).\n"
                : ", and there is no wildcard port 0 entry.\n");
    return out;
  }
  out += "\nL4 (" +
         std::string(e.wildcard ? "wildcard port 0"
                                : "ports " + rangeText(e.piece->first, e.piece->last)) +
         ", rules in evaluation order):\n";
  if (e.l4.empty) {
    out += "  (no rules: every remote is allowed)\n";
  } else {
    traceText(out, table, *e.piece, e.l4, question, false);
  }
  if (e.http_asked) {
    out += "\nHTTP:\n";
    if (!e.http_has_rules) {
      out += "  (no HTTP rules on this port: the L4 decision stands)\n";
    } else {
      if (!e.piece->short_circuit) {
        out += "  (header_matches on this port: every rule of the deciding precedence runs)\n";
      }
      traceText(out, table, *e.piece, e.http, question, true);
    }
  } else if (e.l4_allowed && e.http_could_change) {
    out += "\nHTTP rules that decide each request (not evaluated: no --header given):\n";
    for (uint32_t position : e.http_rules) {
      const PortRule& rule = table.rule(table.slots(*e.piece)[position]);
      out += "  #" + std::to_string(position + 1) + " " + describeRule(table, rule) + "\n";
      httpRulesText(out, rule);
    }
  }
  return out;
}

}  // namespace PolicyTool
}  // namespace Cilium
