// libFuzzer target: the update paths, NPDS and NPHDS, state of the world and delta. The
// input is a DiscoveryResponse, or a DeltaDiscoveryResponse when it starts with 'D', as
// proto3 JSON when it (then) starts with '{', else in the wire format; its resources' type
// picks the policy map or the host map. Whatever it holds, applying it must not crash, a
// refused update must leave the state in force exactly as it was, and the quick L4 answer
// must match the rule-by-rule one.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cilium-filters/policy/compile/policy_map.h"
#include "cilium-filters/policy/decide/decisions.h"
#include "cilium-filters/policy/hosts/host_map_store.h"
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

Policy::HostMapStore& hosts() {
  static Policy::HostMapStore* instance = new Policy::HostMapStore();
  return *instance;
}

template <class Response>
bool forHosts(const Response& response, const std::string& first) {
  return !response.type_url().empty() ? response.type_url() == Policy::kNetworkPolicyHostsTypeUrl
                                      : first == Policy::kNetworkPolicyHostsTypeUrl;
}

// Applies `response` to the map its type names; a refusal must change nothing.
template <class Response>
void applyUpdate(const Response& response, const std::string& first_type) {
  if (forHosts(response, first_type)) {
    const auto before = hosts().snapshot();
    const Policy::Status status = hosts().update(response);
    if (!status && (hosts().snapshot() != before || status.message().empty())) {
      std::abort();
    }
    if (status) {
      Policy::IpAddress address;
      for (const char* ip : {"10.0.0.1", "f00d::1", "0.0.0.0", "255.255.255.255"}) {
        Policy::IpAddress::parse(ip, address);
        (void)hosts().snapshot()->resolve(address);
      }
    }
    return;
  }
  Policy::PolicyMap& policies = map();
  const Policy::SnapshotPtr before = policies.snapshot();
  const Policy::Status status = policies.update(response);
  if (!status) {
    if (policies.snapshot() != before || status.message().empty()) {
      std::abort();  // a refused update changed the state, or gave no reason
    }
    return;
  }
  exercise(*policies.snapshot());
  envoy::service::discovery::v3::DiscoveryResponse baseline;
  if (!PolicyTool::parseDiscoveryResponse(kBaseline, baseline) || !policies.update(baseline)) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const bool delta = !input.empty() && input.front() == 'D';
  if (delta) {
    input.remove_prefix(1);
  }
  const bool json = !input.empty() && input.front() == '{';
  if (delta) {
    envoy::service::discovery::v3::DeltaDiscoveryResponse response;
    if (json ? !PolicyTool::parseDeltaDiscoveryResponse(input, response)
             : !response.ParseFromArray(input.data(), static_cast<int>(input.size()))) {
      return 0;
    }
    applyUpdate(response, response.resources_size() > 0
                              ? response.resources(0).resource().type_url()
                              : std::string());
    return 0;
  }
  envoy::service::discovery::v3::DiscoveryResponse response;
  if (json ? !PolicyTool::parseDiscoveryResponse(input, response)
           : !response.ParseFromArray(input.data(), static_cast<int>(input.size()))) {
    return 0;
  }
  applyUpdate(response,
              response.resources_size() > 0 ? response.resources(0).type_url() : std::string());
  return 0;
}
