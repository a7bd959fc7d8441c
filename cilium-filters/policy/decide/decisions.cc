#include "cilium-filters/policy/decide/decisions.h"

#include "envoy/config/core/v3/base.pb.h"

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

// The piece of the asked direction and port, or null (policy null too when none).
const PortTable::Piece* lookup(const PolicySnapshot& snapshot, const FlowQuestion& question,
                               const PortTable*& table) {
  const EndpointPolicy* policy = snapshot.find(question.endpoint_ip);
  if (policy == nullptr) {
    return nullptr;
  }
  table = &policy->table(question.ingress);
  return table->find(question.port);
}

TlsChoice chooseTls(const PolicySnapshot& snapshot, const FlowQuestion& question,
                    bool downstream) {
  TlsChoice choice;
  const PortTable* table = nullptr;
  const PortTable::Piece* piece = lookup(snapshot, question, table);
  if (piece == nullptr) {
    return choice;
  }
  if (piece->count == 0) {
    choice.kind = TlsChoice::Kind::Plain; // no rules: every remote, no TLS
    return choice;
  }
  const Slot* slots = table->slots(*piece);
  Verdict verdict = Verdict::None;
  uint32_t verdict_precedence = 0;
  uint32_t index = 0;
  while (index < piece->count) {
    const Slot& slot = slots[index];
    Verdict said = table->verdict(slot, question.proxy_id, question.remote_id);
    if (said != Verdict::None && slot.has(Slot::kServerNames) &&
        !table->rule(slot).matchesServerName(question.sni)) {
      said = Verdict::None;
    }
    if (said == Verdict::Pass) {
      if (verdict == Verdict::None || verdict_precedence < slot.precedence) {
        index = slot.pass_next;
        continue;
      }
    } else if (said == Verdict::Deny) {
      // An allow of higher precedence seen before stands.
      choice.kind = verdict == Verdict::Allow && verdict_precedence > slot.precedence
                        ? TlsChoice::Kind::Plain
                        : TlsChoice::Kind::Denied;
      return choice;
    } else if (said == Verdict::Allow) {
      const PortRule& rule = table->rule(slot);
      const cilium::PortNetworkPolicyRule* config = rule.config();
      const bool has_context =
          config != nullptr && (downstream ? config->has_downstream_tls_context()
                                           : config->has_upstream_tls_context());
      if (has_context) {
        choice.kind = TlsChoice::Kind::Tls;
        choice.context = downstream ? &config->downstream_tls_context()
                                    : &config->upstream_tls_context();
        choice.rule = &rule;
        return choice;
      }
      if (verdict == Verdict::None) {
        verdict = Verdict::Allow;
        verdict_precedence = slot.precedence;
        choice.rule = &rule;
      }
    }
    ++index;
  }
  choice.kind = verdict == Verdict::Allow ? TlsChoice::Kind::Plain : TlsChoice::Kind::Denied;
  if (choice.kind == TlsChoice::Kind::Denied) {
    choice.rule = nullptr;
  }
  return choice;
}

} // namespace

std::string l7Protocol(const PolicySnapshot& snapshot, const FlowQuestion& question) {
  const PortTable* table = nullptr;
  const PortTable::Piece* piece = lookup(snapshot, question, table);
  if (piece == nullptr) {
    return "";
  }
  const std::string* chosen = nullptr;
  const Verdict verdict = evaluate(
      table->slots(*piece), piece->count, true,
      [&](const Slot& slot, ListTrace::Step*) {
        const Verdict said = table->verdict(slot, question.proxy_id, question.remote_id);
        if (said != Verdict::Allow) {
          return said;
        }
        const PortRule& rule = table->rule(slot);
        if (rule.l7Proto().empty()) {
          return Verdict::None; // keep looking for a rule that names a parser
        }
        chosen = &rule.l7Proto();
        return Verdict::Allow;
      },
      nullptr);
  return verdict == Verdict::Allow && chosen != nullptr ? *chosen : std::string();
}

bool allowedL7(const PolicySnapshot& snapshot, const FlowQuestion& question,
               const envoy::config::core::v3::Metadata& metadata) {
  const PortTable* table = nullptr;
  const PortTable::Piece* piece = lookup(snapshot, question, table);
  if (piece == nullptr) {
    return false;
  }
  const Verdict verdict = evaluate(
      table->slots(*piece), piece->count, true,
      [&](const Slot& slot, ListTrace::Step*) {
        const Verdict said = table->verdict(slot, question.proxy_id, question.remote_id);
        return said == Verdict::Allow ? table->rule(slot).l7Verdict(metadata) : said;
      },
      nullptr);
  return verdict == Verdict::Allow;
}

TlsChoice downstreamTls(const PolicySnapshot& snapshot, const FlowQuestion& question) {
  return chooseTls(snapshot, question, true);
}

TlsChoice upstreamTls(const PolicySnapshot& snapshot, const FlowQuestion& question) {
  return chooseTls(snapshot, question, false);
}

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
