// libFuzzer target: the update path. The input is a DiscoveryResponse, as proto3 JSON when
// it starts with '{', else in the wire format. Whatever it holds, applying it must not
// crash, a refused update must leave the policies in force exactly as they were, and the
// quick L4 answer must match the rule-by-rule one.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cilium-filters/policy/decisions.h"
#include "cilium-filters/policy/policy_map.h"
#include "cilium-filters/tool/eval.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace {

using namespace Cilium;

constexpr std::string_view kBaseline = R"({"resources": [{
  "@type": "type.googleapis.com/cilium.NetworkPolicy",
  "endpoint_ips": ["10.0.0.1", "f00d::1"], "endpoint_id": 1,
  "ingress_per_port_policies": [{"port": 80, "rules": [{"remote_policies": [7]}]}]}]})";

Policy::PolicyMap& map() {
  static Policy::PolicyMap* instance = [] {
    auto* m = new Policy::PolicyMap();
    envoy::service::discovery::v3::DiscoveryResponse baseline;
    if (!PolicyTool::parseDiscoveryResponse(kBaseline, baseline) || !m->update(baseline)) {
      std::abort();
    }
    return m;
  }();
  return *instance;
}

// Asks every policy a few questions, L4 and HTTP, to run the decision code on it.
void exercise(const Policy::PolicySnapshot& snapshot) {
  static const Policy::StaticSecrets secrets(std::map<std::string, std::string>{{"s", "v"}});
  for (const auto& policy : snapshot.policies()) {
    for (const std::string& ip : policy->config().endpoint_ips()) {
      for (bool ingress : {true, false}) {
        for (uint16_t port : {0, 1, 80, 443, 65535}) {
          Policy::FlowQuestion q;
          q.endpoint_ip = ip;
          q.ingress = ingress;
          q.port = port;
          q.remote_id = port;
          q.sni = port == 443 ? "a.example.com" : "";
          // The compact index and the rule-by-rule evaluation must agree.
          if (Policy::allowedL4(snapshot, q) !=
              Policy::explain(snapshot, q, nullptr, nullptr, secrets).l4_allowed) {
            std::abort();
          }
          Policy::RequestHeaders headers(std::vector<std::pair<std::string, std::string>>{
              {":path", "/a"}, {":method", "GET"}, {"x-token", "v"}, {"host", "example.com"}});
          Policy::HeaderLog log;
          Policy::allowedHttp(snapshot, q, headers, log, secrets);
        }
      }
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  envoy::service::discovery::v3::DiscoveryResponse response;
  if (!input.empty() && input.front() == '{') {
    if (!PolicyTool::parseDiscoveryResponse(input, response)) {
      return 0;
    }
  } else if (!response.ParseFromArray(data, static_cast<int>(size))) {
    return 0;
  }
  Policy::PolicyMap& policies = map();
  const Policy::SnapshotPtr before = policies.snapshot();
  const Policy::Status status = policies.update(response);
  if (!status) {
    if (policies.snapshot() != before || status.message().empty()) {
      std::abort(); // a refused update changed the state, or gave no reason
    }
    return 0;
  }
  exercise(*policies.snapshot());
  envoy::service::discovery::v3::DiscoveryResponse baseline;
  if (!PolicyTool::parseDiscoveryResponse(kBaseline, baseline) || !policies.update(baseline)) {
    std::abort();
  }
  return 0;
}
