#include "cilium-filters/policy/decisions.h"

namespace Cilium {
namespace Policy {
namespace {

const PortTable::Piece* pieceFor(const EndpointPolicy& policy, const FlowQuestion& question) {
  return policy.table(question.ingress).find(question.port);
}

bool decideL4(const PortTable& table, const PortTable::Piece* piece, const FlowQuestion& question,
              ListTrace* trace) {
  if (piece == nullptr) {
    return false;
  }
  const Verdict verdict = piece->rules.evaluate(
      table.rules(), true,
      [&](const PortRule& rule, ListTrace::Step*) {
        return rule.verdictForSni(question.proxy_id, question.remote_id, question.sni);
      },
      trace);
  return verdict == Verdict::Allow;
}

bool decideHttp(const PortTable& table, const PortTable::Piece* piece, const FlowQuestion& question,
                RequestHeaders& headers, HeaderLog& log, const SecretSource& secrets,
                ListTrace* trace) {
  if (piece == nullptr || !piece->rules.hasHttpRules()) {
    return true; // L4 policy decides alone
  }
  const Verdict verdict = piece->rules.evaluate(
      table.rules(), piece->rules.canShortCircuit(),
      [&](const PortRule& rule, ListTrace::Step* step) {
        return rule.verdictForHttp(question.proxy_id, question.remote_id, headers, log, secrets,
                                   step ? &step->http : nullptr);
      },
      trace);
  return verdict == Verdict::Allow;
}

} // namespace

bool allowedL4(const PolicySnapshot& snapshot, const FlowQuestion& question) {
  const EndpointPolicy* policy = snapshot.find(question.endpoint_ip);
  if (policy == nullptr) {
    return false;
  }
  return decideL4(policy->table(question.ingress), pieceFor(*policy, question), question, nullptr);
}

bool allowedHttp(const PolicySnapshot& snapshot, const FlowQuestion& question,
                 RequestHeaders& headers, HeaderLog& log, const SecretSource& secrets) {
  const EndpointPolicy* policy = snapshot.find(question.endpoint_ip);
  if (policy == nullptr) {
    return false;
  }
  return decideHttp(policy->table(question.ingress), pieceFor(*policy, question), question,
                    headers, log, secrets, nullptr);
}

Explanation explain(const PolicySnapshot& snapshot, const FlowQuestion& question,
                    RequestHeaders* headers, HeaderLog* log, const SecretSource& secrets) {
  Explanation out;
  out.http_asked = headers != nullptr;
  out.policy = snapshot.find(question.endpoint_ip);
  if (out.policy == nullptr) {
    return out;
  }
  const PortTable& table = out.policy->table(question.ingress);
  out.piece = table.find(question.port);
  out.wildcard = out.piece != nullptr && out.piece == table.wildcard();
  out.l4_allowed = decideL4(table, out.piece, question, &out.l4);
  if (headers != nullptr) {
    HeaderLog scratch;
    out.http_has_rules = out.piece != nullptr && out.piece->rules.hasHttpRules();
    out.http_allowed = decideHttp(table, out.piece, question, *headers, log ? *log : scratch,
                                  secrets, &out.http);
  }
  return out;
}

} // namespace Policy
} // namespace Cilium
