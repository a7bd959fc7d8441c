#include "cilium-filters/policy/decide/decisions.h"

#include "envoy/config/core/v3/base.pb.h"

namespace Cilium {
namespace Policy {
namespace {

const PortTable::Piece* pieceFor(const EndpointPolicy& policy, const FlowQuestion& question) {
  return policy.table(question.ingress).find(question.port);
}

// What rules with server_names say when the SNI is not known: `Match` as the SNI decides,
// `Allows` as if the SNI matched exactly the allow rules', `Denies` the deny rules'.
enum class SniAssumption : uint8_t { Match, Allows, Denies };

bool decideL4(const PortTable& table, const PortTable::Piece* piece, const FlowQuestion& question,
              ListTrace* trace, SniAssumption sni = SniAssumption::Match) {
  if (piece == nullptr) {
    return false;
  }
  const Verdict verdict = evaluate(
      table.slots(*piece), piece->count, true,
      [&](const Slot& slot, ListTrace::Step*) {
        const Verdict said = table.verdict(slot, question.proxy_id, question.remote_id);
        if (said == Verdict::None || !slot.has(Slot::kServerNames)) {
          return said;
        }
        switch (sni) {
          case SniAssumption::Allows:
            return said == Verdict::Allow ? said : Verdict::None;
          case SniAssumption::Denies:
            return said == Verdict::Deny ? said : Verdict::None;
          case SniAssumption::Match:
            break;
        }
        return table.rule(slot).matchesServerName(question.sni) ? said : Verdict::None;
      },
      trace);
  return verdict == Verdict::Allow;
}

// Whether a slot selects the flow as an allow rule (proxy_id, remote and SNI).
bool selectsAsAllow(const PortTable& table, const Slot& slot, const FlowQuestion& question) {
  return table.verdict(slot, question.proxy_id, question.remote_id) == Verdict::Allow &&
         (!slot.has(Slot::kServerNames) || table.rule(slot).matchesServerName(question.sni));
}

// The verdict of the HTTP check (decideHttp) when every HTTP rule fails: allowed means no
// request can be denied.
bool httpAllowsAnyRequest(const PortTable& table, const PortTable::Piece& piece,
                          const FlowQuestion& question, ListTrace* trace) {
  const Verdict verdict = evaluate(
      table.slots(piece), piece.count, piece.short_circuit,
      [&](const Slot& slot, ListTrace::Step*) {
        const Verdict said = table.verdict(slot, question.proxy_id, question.remote_id);
        return said == Verdict::Allow && slot.has(Slot::kHttp) ? Verdict::None : said;
      },
      trace);
  return verdict == Verdict::Allow;
}

// What the question leaves open (see Explanation): the SNI, the request, the L7 parser.
void openQuestions(const PolicySnapshot& snapshot, const PortTable& table,
                   const FlowQuestion& question, bool headers_given, Explanation& out) {
  const PortTable::Piece& piece = *out.piece;
  const Slot* slots = table.slots(piece);
  if (question.sni.empty()) {
    const bool if_allowed = decideL4(table, &piece, question, nullptr, SniAssumption::Allows);
    const bool if_denied = decideL4(table, &piece, question, nullptr, SniAssumption::Denies);
    if (if_allowed != out.l4_allowed || if_denied != out.l4_allowed) {
      out.sni_could_change = true;
      for (uint32_t i = 0; i < piece.count; ++i) {
        if (slots[i].has(Slot::kServerNames) &&
            table.verdict(slots[i], question.proxy_id, question.remote_id) != Verdict::None) {
          out.sni_rules.push_back(i);
        }
      }
    }
  }
  if (!out.l4_allowed) {
    return;
  }
  if (!headers_given && piece.has_http) {
    ListTrace pessimistic;
    if (!httpAllowsAnyRequest(table, piece, question, &pessimistic)) {
      out.http_could_change = true;
      for (uint32_t i = 0; i < piece.count && i < pessimistic.stopped; ++i) {
        if (slots[i].has(Slot::kHttp) &&
            table.verdict(slots[i], question.proxy_id, question.remote_id) == Verdict::Allow) {
          out.http_rules.push_back(i);
        }
      }
    }
  }
  out.l7_proto = l7Protocol(snapshot, question);
  if (!out.l7_proto.empty()) {
    for (uint32_t i = 0; i < piece.count; ++i) {
      const PortRule& rule = table.rule(slots[i]);
      if (rule.l7Proto() == out.l7_proto && selectsAsAllow(table, slots[i], question) &&
          !(rule.l7AllowRules().empty() && rule.l7DenyRules().empty())) {
        out.l7_rules.push_back(i);
      }
    }
  }
}

bool decideHttp(const PortTable& table, const PortTable::Piece* piece, const FlowQuestion& question,
                RequestHeaders& headers, HeaderLog& log, const SecretSource& secrets,
                ListTrace* trace) {
  if (piece == nullptr || !piece->has_http) {
    return true;  // L4 policy decides alone
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

TlsChoice chooseTls(const PolicySnapshot& snapshot, const FlowQuestion& question, bool downstream) {
  TlsChoice choice;
  const PortTable* table = nullptr;
  const PortTable::Piece* piece = lookup(snapshot, question, table);
  if (piece == nullptr) {
    return choice;
  }
  if (piece->count == 0) {
    choice.kind = TlsChoice::Kind::Plain;  // no rules: every remote, no TLS
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
          config != nullptr &&
          (downstream ? config->has_downstream_tls_context() : config->has_upstream_tls_context());
      if (has_context) {
        choice.kind = TlsChoice::Kind::Tls;
        choice.context =
            downstream ? &config->downstream_tls_context() : &config->upstream_tls_context();
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

}  // namespace

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
          return Verdict::None;  // keep looking for a rule that names a parser
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
  return decideHttp(policy->table(question.ingress), pieceFor(*policy, question), question, headers,
                    log, secrets, nullptr);
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
  if (out.piece != nullptr) {
    openQuestions(snapshot, table, question, headers != nullptr, out);
  }
  if (headers != nullptr) {
    HeaderLog scratch;
    out.http_has_rules = out.piece != nullptr && out.piece->has_http;
    out.http_allowed =
        decideHttp(table, out.piece, question, *headers, log ? *log : scratch, secrets, &out.http);
  }
  return out;
}

}  // namespace Policy
}  // namespace Cilium
