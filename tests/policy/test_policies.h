#pragma once

// Helpers for the engine's tests: policies written as YAML (the way NPDS resources read),
// questions as short calls.
#include <string>
#include <utility>
#include <vector>

#include "cilium-filters/policy/compile/policy_map.h"
#include "cilium-filters/policy/decide/decisions.h"
#include "cilium-filters/tool/policy_file.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "gtest/gtest.h"

namespace Cilium {
namespace Policy {
namespace Testing {

// Applies a YAML policy document (a DiscoveryResponse, a NetworkPolicy or a list) to `map`.
inline Status apply(PolicyMap& map, const std::string& yaml) {
  envoy::service::discovery::v3::DiscoveryResponse response;
  Status status = PolicyTool::parsePolicyText(yaml, response);
  if (!status) {
    return status;
  }
  return map.update(response);
}

// A map holding one policy; the test fails when the policy is refused.
inline std::shared_ptr<PolicyMap> mapWith(
    const std::string& yaml,
    std::shared_ptr<const SecretSource> secrets = std::make_shared<NoSecrets>()) {
  auto map = std::make_shared<PolicyMap>(std::move(secrets));
  const Status status = apply(*map, yaml);
  EXPECT_TRUE(status.isOk()) << status.message();
  return map;
}

struct Flow {
  Flow(std::string ip_, bool ingress_, uint32_t remote_, uint16_t port_)
      : ip(std::move(ip_)), ingress(ingress_), remote(remote_), port(port_) {}

  std::string ip;
  bool ingress;
  uint32_t remote;
  uint16_t port;
  uint16_t proxy_id{0};
  std::string sni;

  FlowQuestion question() const {
    FlowQuestion q;
    q.endpoint_ip = ip;
    q.ingress = ingress;
    q.remote_id = remote;
    q.port = port;
    q.proxy_id = proxy_id;
    q.sni = sni;
    return q;
  }
};

inline Flow ingress(uint32_t remote, uint16_t port) { return Flow{"10.1.2.3", true, remote, port}; }
inline Flow egress(uint32_t remote, uint16_t port) { return Flow{"10.1.2.3", false, remote, port}; }

inline bool l4(const PolicyMap& map, const Flow& flow) {
  return allowedL4(*map.snapshot(), flow.question());
}

// The outcome of an HTTP check: the verdict, the headers after it and what was logged.
struct HttpResult {
  bool allowed{false};
  std::vector<std::pair<std::string, std::string>> headers;
  HeaderLog log;
};

inline HttpResult http(const PolicyMap& map, const Flow& flow,
                       std::vector<std::pair<std::string, std::string>> request) {
  RequestHeaders headers(request);
  HttpResult result;
  result.allowed =
      allowedHttp(*map.snapshot(), flow.question(), headers, result.log, map.secrets());
  for (const auto& entry : headers.entries()) {
    result.headers.emplace_back(entry.name, entry.value);
  }
  return result;
}

// L4 and HTTP both allow, as the proxy asks them in turn for one request.
inline bool allowed(const PolicyMap& map, const Flow& flow,
                    std::vector<std::pair<std::string, std::string>> request = {}) {
  return l4(map, flow) && http(map, flow, std::move(request)).allowed;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

}  // namespace Testing
}  // namespace Policy
}  // namespace Cilium
