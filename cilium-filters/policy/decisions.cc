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
  const Verdict verdict = evaluate(
      table.slots(*piece), piece->count, true,
      [&](const Slot& slot, ListTrace::Step*) {
        const Verdict said = table.verdict(slot, question.proxy_id, question.remote_id);
        if (said != Verdict::None && slot.has(Slot::kServerNames) &&
            !table.rule(slot).matchesServerName(question.sni)) {
          return Verdict::None;
        }
        return said;
      },
      trace);
  return verdict == Verdict::Allow;
}

bool decideHttp(const PortTable& table, const PortTable::Piece* piece, const FlowQuestion& question,
                RequestHeaders& headers, HeaderLog& log, const SecretSource& secrets,
                ListTrace* trace) {
  if (piece == nullptr || !piece->has_http) {
    return true; // L4 policy decides alone
  }
  const Verdict verdict = evaluate(
      table.slots(*piece), piece->count, piece->short_circuit,
      [&](const Slot& slot, ListTrace::Step* step) {
        const Verdict said = table.verdict(slot, question.proxy_id, question.remote_id);
        if (said != Verdict::Allow || !slot.has(Slot::kHttp)) {
          return said;
        }
        return table.rule(slot).httpAllows(headers, log, secrets, step ? &step->http : nullptr)
                   ? Verdict::Allow
                   : Verdict::None;
      },
      trace);
  return verdict == Verdict::Allow;
}

} // namespace

bool allowedL4(const PolicySnapshot& snapshot, const FlowQuestion& question) {
  const PolicySnapshot::Target* target = snapshot.findTarget(question.endpoint_ip);
  if (target == nullptr) {
    return false;
  }
  uint32_t piece = 0;
  switch (PortTable::quick(EndpointPolicy::l4Index(target->l4, question.ingress), question.port,
                           question.remote_id, !question.sni.empty(), piece)) {
  case PortTable::Quick::Allow:
    return true;
  case PortTable::Quick::Deny:
    return false;
  case PortTable::Quick::Evaluate:
    break;
  }
  const PortTable& table = target->policy->table(question.ingress);
  return decideL4(table, &table.piece(piece), question, nullptr);
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
    out.http_has_rules = out.piece != nullptr && out.piece->has_http;
    out.http_allowed = decideHttp(table, out.piece, question, *headers, log ? *log : scratch,
                                  secrets, &out.http);
  }
  return out;
}

} // namespace Policy
} // namespace Cilium
