#include "cilium-filters/tool/describe.h"

#include "test_policies.h"

namespace Cilium {
namespace Policy {
namespace Testing {
namespace {

std::string explained(const PolicyMap& map, const Flow& flow, const Pairs* request) {
  std::unique_ptr<RequestHeaders> headers;
  if (request) {
    headers = std::make_unique<RequestHeaders>(*request);
  }
  HeaderLog log;
  const Explanation e =
      explain(*map.snapshot(), flow.question(), headers.get(), &log, map.secrets());
  return PolicyTool::describeExplanation(flow.question(), e, headers.get(), &log);
}

TEST(DescribeTest, SaysWhichRuleDecidedAndWhyOthersDidNot) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - {name: "let-one-through", precedence: 300, pass_precedence: 101, remote_policies: [1]}
  - {name: "block", precedence: 200, deny: true}
  - {name: "web", precedence: 100, remote_policies: [1, 2], proxy_id: 5}
)");
  Flow flow = ingress(1, 80);
  flow.proxy_id = 5;
  std::string text = explained(*map, flow, nullptr);
  EXPECT_NE(text.find("ALLOWED"), std::string::npos) << text;
  EXPECT_NE(text.find("allowed by rule #3"), std::string::npos) << text;
  EXPECT_NE(text.find("\"web\""), std::string::npos) << text;
  EXPECT_NE(text.find("skipped: a pass rule"), std::string::npos) << text;

  flow.remote = 2;
  text = explained(*map, flow, nullptr);
  EXPECT_NE(text.find("DENIED"), std::string::npos) << text;
  EXPECT_NE(text.find("does not apply: does not select the remote identity"), std::string::npos)
      << text;
  EXPECT_NE(text.find("DECIDES: denied"), std::string::npos) << text;

  flow.remote = 1;
  flow.proxy_id = 6;
  text = explained(*map, flow, nullptr);
  EXPECT_NE(text.find("names another listener"), std::string::npos) << text;
}

TEST(DescribeTest, HttpAndMissingPolicy) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - http_rules: {http_rules: [{headers: [{name: ":path", exact_match: "/a"}]}]}
)");
  const Pairs request = {{":path", "/b"}};
  std::string text = explained(*map, ingress(1, 80), &request);
  EXPECT_NE(text.find("HTTP: denied"), std::string::npos) << text;
  EXPECT_NE(text.find(":path exact \"/a\" did not match"), std::string::npos) << text;

  text = explained(*map, Flow{"10.9.9.9", true, 1, 80}, nullptr);
  EXPECT_NE(text.find("no policy for endpoint 10.9.9.9"), std::string::npos) << text;
  text = explained(*map, ingress(1, 81), nullptr);
  EXPECT_NE(text.find("no rules for port 81"), std::string::npos) << text;
}

} // namespace
} // namespace Testing
} // namespace Policy
} // namespace Cilium
