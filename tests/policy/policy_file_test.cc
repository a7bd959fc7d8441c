#include "cilium-filters/tool/policy_file.h"

#include <google/protobuf/struct.pb.h>

#include "cilium-filters/policy/compile/policy_map.h"
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
  google::protobuf::Value value;
  ASSERT_TRUE(
      yamlToValue("a: '80'\nb: 80\nc: true\nd: ~\ne: x y\nf: \"true\"\ng: [1.5, -2e3]\n", value)
          .isOk());
  const auto& fields = value.struct_value().fields();
  EXPECT_EQ(fields.at("a").string_value(), "80");
  EXPECT_EQ(fields.at("b").number_value(), 80);
  EXPECT_TRUE(fields.at("c").bool_value());
  EXPECT_EQ(fields.at("d").kind_case(), google::protobuf::Value::kNullValue);
  EXPECT_EQ(fields.at("e").string_value(), "x y");
  EXPECT_EQ(fields.at("f").string_value(), "true");
  EXPECT_EQ(fields.at("g").list_value().values(0).number_value(), 1.5);
  EXPECT_EQ(fields.at("g").list_value().values(1).number_value(), -2000);
}

TEST(PolicyFileTest, IntegersBeyondADoubleKeepTheirDigits) {
  google::protobuf::Value value;
  ASSERT_TRUE(yamlToValue("a: 9007199254740993\nb: 9007199254740991\n", value).isOk());
  EXPECT_EQ(value.struct_value().fields().at("a").string_value(), "9007199254740993");
  EXPECT_EQ(value.struct_value().fields().at("b").number_value(), 9007199254740991.0);
  DiscoveryResponse response;
  ASSERT_TRUE(parsePolicyText("{endpoint_ips: ['10.1.2.3'], endpoint_id: 18446744073709551615}",
                              response)
                  .isOk());
  std::vector<cilium::NetworkPolicy> policies;
  ASSERT_TRUE(Policy::PolicyMap::unpack(response, policies).isOk());
  EXPECT_EQ(policies[0].endpoint_id(), 18446744073709551615u);
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
