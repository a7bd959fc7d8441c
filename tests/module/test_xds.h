#pragma once

// Helpers for the module's tests: NPDS and NPHDS responses from JSON.
#include <google/protobuf/util/json_util.h>

#include <string>
#include <vector>

#include "cilium/api/npds.pb.h"
#include "cilium/api/nphds.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "gtest/gtest.h"

namespace Cilium {
namespace Module {
namespace Testing {

using envoy::service::discovery::v3::DiscoveryResponse;

template <class Message>
DiscoveryResponse response(const std::string& type_url, const std::string& version,
                           const std::vector<std::string>& resources) {
  DiscoveryResponse out;
  out.set_type_url(type_url);
  out.set_version_info(version);
  out.set_nonce("nonce-" + version);
  for (const std::string& json : resources) {
    Message message;
    const auto status = google::protobuf::util::JsonStringToMessage(json, &message);
    EXPECT_TRUE(status.ok()) << status.message() << " in " << json;
    out.add_resources()->PackFrom(message);
  }
  return out;
}

// NPDS: cilium.NetworkPolicy resources as JSON.
inline DiscoveryResponse policies(const std::string& version,
                                  const std::vector<std::string>& resources) {
  return response<cilium::NetworkPolicy>("type.googleapis.com/cilium.NetworkPolicy", version,
                                         resources);
}

// NPHDS: cilium.NetworkPolicyHosts resources as JSON.
inline DiscoveryResponse hosts(const std::string& version,
                               const std::vector<std::string>& resources) {
  return response<cilium::NetworkPolicyHosts>("type.googleapis.com/cilium.NetworkPolicyHosts",
                                              version, resources);
}

// Endpoint 10.1.2.3 (and f00d::3) lets identity 42 reach port 80 and sends port 8080 through
// an HTTP rule (GET /public only).
inline const std::string kPolicy = R"({
  "endpoint_ips": ["10.1.2.3", "f00d::3"], "endpoint_id": 7,
  "ingress_per_port_policies": [
    {"port": 80, "rules": [{"remote_policies": [42]}]},
    {"port": 8080, "rules": [{"remote_policies": [42], "http_rules": {"http_rules": [
      {"headers": [{"name": ":path", "string_match": {"exact": "/public"}},
                   {"name": ":method", "string_match": {"exact": "GET"}}]}]}}]}
  ]})";

}  // namespace Testing
}  // namespace Module
}  // namespace Cilium
