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
)",
                                                response);
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
                                  {"endpoint_ips": ["b"], "endpoint_id": 2}])",
                              two)
                  .isOk());
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
  ASSERT_TRUE(
      parsePolicyText("{endpoint_ips: ['10.1.2.3'], endpoint_id: 18446744073709551615}", response)
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
  EXPECT_NE(
      missing.message().find("cannot read /nonexistent/policy.yaml: No such file or directory"),
      std::string::npos)
      << missing.message();
  // A relative path is named absolutely; a folder is not a file.
  const Policy::Status relative = loadPolicyFile("no-such-policy.yaml", response);
  EXPECT_NE(relative.message().find(absolutePath("no-such-policy.yaml")), std::string::npos)
      << relative.message();
  EXPECT_EQ(absolutePath("no-such-policy.yaml").front(), '/');
  const Policy::Status folder = loadPolicyFile("/", response);
  EXPECT_NE(folder.message().find("Is a directory"), std::string::npos) << folder.message();
}

TEST(PolicyFileTest, UnknownFieldsNameTheMessageBeingReadAndTheClosestFields) {
  PolicyDocument document;
  std::vector<Problem> problems;
  const Policy::Status status = parsePolicyDocument(R"(endpoint_ips: ['10.1.2.3']
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - remote_policy: [42]
    http_rules: {http_rules: [{headers: [{name: ':path', exact_matc: /}]}]}
)",
                                                    document, problems);
  EXPECT_FALSE(status.isOk());
  ASSERT_EQ(problems.size(), 2u) << status.message();
  EXPECT_EQ(problems[1].line, 7);
  EXPECT_EQ(problems[1].where,
            "ingress_per_port_policies[0].rules[0].http_rules.http_rules[0].headers[0]");
  EXPECT_NE(
      problems[1].message.find("unknown field \"exact_matc\" in "
                               "envoy.config.route.v3.HeaderMatcher; did you mean \"exact_match\""),
      std::string::npos)
      << problems[1].message;
  EXPECT_EQ(problems[0].line, 6);
  EXPECT_EQ(problems[0].message,
            "unknown field \"remote_policy\" in cilium.PortNetworkPolicyRule; did you mean "
            "\"remote_policies\"?");
  // A misspelt policy field at the top is the policy's, not the DiscoveryResponse's.
  problems.clear();
  EXPECT_FALSE(
      parsePolicyDocument("endpoint_ip: ['10.1.2.3']\nendpoint_id: 7\n", document, problems)
          .isOk());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].message.find("in cilium.NetworkPolicy; did you mean \"endpoint_ips\""),
            std::string::npos)
      << problems[0].message;
  // Inside a DiscoveryResponse, a resource is read as the type its "@type" names.
  problems.clear();
  EXPECT_FALSE(parsePolicyDocument(R"(resources:
- "@type": type.googleapis.com/cilium.NetworkPolicy
  endpoint_ips: ['10.1.2.3']
  egress_per_port_policy: []
)",
                                   document, problems)
                   .isOk());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].where, "resources[0]");
  EXPECT_EQ(problems[0].line, 4);
  EXPECT_NE(problems[0].message.find("did you mean \"egress_per_port_policies\""),
            std::string::npos)
      << problems[0].message;
  // parsePolicyText puts them all in its message.
  DiscoveryResponse response;
  const auto text = parsePolicyText("{endpoint_ips: [a], endpoint_id: 1, bogus: 2}", response);
  EXPECT_NE(text.message().find("unknown field \"bogus\" in cilium.NetworkPolicy (its fields: "),
            std::string::npos)
      << text.message();
}

TEST(PolicyFileTest, LinesOfPaths) {
  PolicyDocument document;
  std::vector<Problem> problems;
  ASSERT_TRUE(parsePolicyDocument("- endpoint_ips: ['10.1.2.3']\n  endpoint_id: 7\n"
                                  "- endpoint_ips: ['10.1.2.4']\n  endpoint_id: 8\n"
                                  "  ingress_per_port_policies:\n  - port: 80\n",
                                  document, problems)
                  .isOk());
  ASSERT_EQ(document.policy_paths.size(), 2u);
  EXPECT_EQ(document.policy_paths[1], "[1]");
  EXPECT_EQ(document.lineOf("[1]"), 3);
  EXPECT_EQ(document.lineOf("[1].ingress_per_port_policies[0]"), 6);
  EXPECT_EQ(document.lineOf("[1].ingress_per_port_policies[0].rules[3]"), 6);
}

}  // namespace
}  // namespace PolicyTool
}  // namespace Cilium
