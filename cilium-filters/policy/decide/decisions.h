#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cilium-filters/policy/base/header_log.h"
#include "cilium-filters/policy/base/request_headers.h"
#include "cilium-filters/policy/base/secret_source.h"
#include "cilium-filters/policy/compile/policy_snapshot.h"

namespace Cilium {
namespace Policy {

// A flow the proxy asks about: a connection (and, for HTTP, a request on it).
struct FlowQuestion {
  std::string_view endpoint_ip;  // the local endpoint the policy belongs to
  bool ingress{true};            // towards the endpoint (else from it)
  uint32_t remote_id{0};         // security identity of the other end
  uint16_t port{0};              // destination port
  uint16_t proxy_id{0};          // the listener's proxy_id
  std::string_view sni;          // TLS server name, "" when none
};

// May the connection be made? Unknown endpoints and ports without rules are denied.
bool allowedL4(const PolicySnapshot& snapshot, const FlowQuestion& question);

// May the request pass? True when the port has no HTTP rules. `headers` are changed as
// the header actions say and `log` gets what the access log records.
bool allowedHttp(const PolicySnapshot& snapshot, const FlowQuestion& question,
                 RequestHeaders& headers, HeaderLog& log, const SecretSource& secrets);

// The proxylib parser a connection is handed to: the l7_proto of the first allow rule that
// selects it and names one (rules without l7_proto are passed over); "" when none does.
std::string l7Protocol(const PolicySnapshot& snapshot, const FlowQuestion& question);

// May a request that a generic L7 parser described by `metadata` pass? Allow rules with
// l7_rules decide by them (deny rules first, then allow rules); other rules as for L4.
bool allowedL7(const PolicySnapshot& snapshot, const FlowQuestion& question,
               const envoy::config::core::v3::Metadata& metadata);

// Which TLS applies to a connection, by the rules that select it (with its SNI): the first
// allow rule carrying a TLS context gives it (downstream for the side the proxy terminates,
// upstream for the side it originates); an allowed connection without one is plain; else
// the connection is denied. A deny stops the search unless an allow of higher precedence
// was seen.
struct TlsChoice {
  enum class Kind : uint8_t { Denied, Plain, Tls };
  Kind kind{Kind::Denied};
  const cilium::TLSContext* context{nullptr};  // for Tls
  const PortRule* rule{nullptr};               // the rule that gave it
};
TlsChoice downstreamTls(const PolicySnapshot& snapshot, const FlowQuestion& question);
TlsChoice upstreamTls(const PolicySnapshot& snapshot, const FlowQuestion& question);

// How a decision came about, for people (`cilium-policy explain`).
struct Explanation {
  const EndpointPolicy* policy{nullptr};   // null: no policy for the endpoint IP
  const PortTable::Piece* piece{nullptr};  // null: no rules for the port
  bool wildcard{false};                    // the piece is the wildcard port's
  bool l4_allowed{false};
  ListTrace l4;
  bool http_asked{false};
  bool http_has_rules{false};
  bool http_allowed{false};
  ListTrace http;

  // What the question leaves open; rules are named by their position in the piece's list.
  // Without an SNI: whether one could change the L4 verdict (rules with server_names that
  // select the flow decide it), and those rules.
  bool sni_could_change{false};
  std::vector<uint32_t> sni_rules;
  // Without request headers, on an allowed connection whose allow rules carry HTTP rules:
  // whether a request could be denied, and the rules whose HTTP rules decide it.
  bool http_could_change{false};
  std::vector<uint32_t> http_rules;
  // On an allowed connection handed to a proxylib parser (l7_proto) whose rules carry
  // l7_rules: each parsed request is decided by those rules, which the question lacks.
  std::string l7_proto;
  std::vector<uint32_t> l7_rules;
};

// The same decisions as above, with their traces; `headers` null: no HTTP check.
Explanation explain(const PolicySnapshot& snapshot, const FlowQuestion& question,
                    RequestHeaders* headers, HeaderLog* log, const SecretSource& secrets);

}  // namespace Policy
}  // namespace Cilium
