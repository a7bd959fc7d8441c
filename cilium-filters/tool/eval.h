#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "cilium-filters/policy/base/secret_source.h"
#include "cilium-filters/policy/base/status.h"
#include "cilium-filters/policy/compile/policy_map.h"
#include "cilium-filters/policy/hosts/host_map_store.h"
#include "cilium-filters/policy/xds/discovery_fwd.h"

namespace Cilium {
namespace PolicyTool {

// The JSON-lines protocol of `cilium-policy eval`: one request per line, one reply each.
// The messages are in eval.proto; protobuf's JSON support reads and writes them.
//
//   {"update": <DiscoveryResponse as proto3 JSON>}
//       -> {"ok": true} | {"ok": false, "error": "..."}    (state unchanged on error)
//   {"delta_update": <DeltaDiscoveryResponse as proto3 JSON>}          (the same replies)
//       Both take cilium.NetworkPolicy (NPDS) or cilium.NetworkPolicyHosts (NPHDS)
//       resources: type_url decides, else the resources' type; with neither, NPDS.
//   {"resolve": {"ip": "10.1.2.3"}} -> {"identity": 42}    (0 when no host entry covers it)
//   {"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "remote_id": 42, "port": 80,
//              "proxy_id": 0, "sni": "", "headers": [[":path", "/"], ...]}}
//       -> {"l4": bool, "http": bool|null, "allowed": bool,
//           "headers": [[k, v], ...], "missing": [[k, v], ...], "rejected": [[k, v], ...]}
//   anything else -> {"error": "..."}
//
// "endpoint_ip", "ingress" and "port" are required; "remote_id", "proxy_id" and "sni"
// default to 0, 0 and "". Without "headers" no HTTP check runs and "http" is null.
// Replies are protobuf's compact JSON, strings escaped its way (e.g. "<" as "\u003c"),
// which every JSON reader reads back as the same text.
class EvalSession {
public:
  explicit EvalSession(
      std::shared_ptr<const Policy::SecretSource> secrets = std::make_shared<Policy::NoSecrets>());

  // The reply to one request line (a JSON object, no newline).
  std::string handle(std::string_view line);
  // Applies an update as {"update": ...} does (NPDS or NPHDS by its type), e.g. a policy
  // file given on the command line.
  Policy::Status apply(const envoy::service::discovery::v3::DiscoveryResponse& response);

  const Policy::PolicyMap& policies() const { return map_; }
  const Policy::HostMapStore& hosts() const { return hosts_; }

private:
  Policy::PolicyMap map_;
  Policy::HostMapStore hosts_;
};

// An update applied as "update" applies it: to the host map when its type_url (else its
// first resource) is cilium.NetworkPolicyHosts, else to the policies.
Policy::Status apply(Policy::PolicyMap& map, Policy::HostMapStore& hosts,
                     const envoy::service::discovery::v3::DiscoveryResponse& response);

// {"error": "<message>"}: the reply to a line that is not a request.
std::string errorReply(std::string_view message);

// Reads a DiscoveryResponse from proto3 JSON (field names in either spelling).
Policy::Status parseDiscoveryResponse(std::string_view json,
                                      envoy::service::discovery::v3::DiscoveryResponse& out);
Policy::Status parseDeltaDiscoveryResponse(
    std::string_view json, envoy::service::discovery::v3::DeltaDiscoveryResponse& out);

}  // namespace PolicyTool
}  // namespace Cilium
