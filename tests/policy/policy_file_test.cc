#include "cilium-filters/tool/policy_file.h"

#include "cilium-filters/policy/policy_map.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "gtest/gtest.h"

namespace Cilium {
namespace PolicyTool {
namespace {

using envoy::service::discovery::v3::DiscoveryResponse;

TEST(PolicyFileTest, DiscoveryResponseInYaml) {
  DiscoveryResponse response;
  const Policy::Status status = parsePolicyText(R"(
version_info: "1"
resources:
- "@type": type.googleapis.com/cilium.NetworkPolicy
  endpoint_ips: ["10.1.2.3"]
  endpoint_id: 42
  ingress_per_port_policies:
  - port: 80
    rules:
    - remote_policies: [ 43 ]
      deny: false
)", response);
  ASSERT_TRUE(status.isOk()) << status.message();
  EXPECT_EQ(response.version_info(), "1");
  ASSERT_EQ(response.resources_size(), 1);
  std::vector<cilium::NetworkPolicy> policies;
  ASSERT_TRUE(Policy::PolicyMap::unpack(response, policies).isOk());
  EXPECT_EQ(policies[0].endpoint_id(), 42u);
  EXPECT_EQ(policies[0].ingress_per_port_policies(0).rules(0).remote_policies(0), 43u);
}

TEST(PolicyFileTest, BarePolicyAndListInJson) {
  DiscoveryResponse one;
  ASSERT_TRUE(parsePolicyText(R"({"endpoint_ips": ["10.1.2.3"], "endpointId": 7})", one).isOk());
  EXPECT_EQ(one.resources_size(), 1);
  DiscoveryResponse two;
  ASSERT_TRUE(parsePolicyText(R"([{"endpoint_ips": ["a"], "endpoint_id": 1},
                                  {"endpoint_ips": ["b"], "endpoint_id": 2}])", two).isOk());
  EXPECT_EQ(two.resources_size(), 2);
}

TEST(PolicyFileTest, QuotedScalarsStayStrings) {
  std::string json;
  ASSERT_TRUE(yamlToJson("a: '80'\nb: 80\nc: true\nd: ~\ne: x y\nf: \"true\"\n", json).isOk());
  EXPECT_EQ(json, R"({"a":"80","b":80,"c":true,"d":null,"e":"x y","f":"true"})");
}

TEST(PolicyFileTest, Errors) {
  DiscoveryResponse response;
  EXPECT_FALSE(parsePolicyText("a: [", response).isOk());
  EXPECT_FALSE(parsePolicyText("resources: 5", response).isOk());
  EXPECT_FALSE(parsePolicyText("{endpoint_ips: [a], endpoint_id: 1, bogus: 2}", response).isOk());
  const Policy::Status missing = loadPolicyFile("/nonexistent/policy.yaml", response);
  EXPECT_FALSE(missing.isOk());
  EXPECT_NE(missing.message().find("/nonexistent/policy.yaml"), std::string::npos);
}

} // namespace
} // namespace PolicyTool
} // namespace Cilium
