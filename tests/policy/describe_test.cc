#include "cilium-filters/tool/describe.h"

#include <algorithm>

#include "test_policies.h"

namespace Cilium {
namespace Policy {
namespace Testing {
namespace {

std::string explained(const PolicyMap& map, const Flow& flow, const Pairs* request,
                      bool check = false, bool sni_given = true) {
  std::unique_ptr<RequestHeaders> headers;
  if (request) {
    headers = std::make_unique<RequestHeaders>(*request);
  }
  HeaderLog log;
  const Explanation e =
      explain(*map.snapshot(), flow.question(), headers.get(), &log, map.secrets());
  return check
             ? PolicyTool::describeCheck(flow.question(), e, headers.get(), &log, sni_given)
             : PolicyTool::describeExplanation(flow.question(), e, headers.get(), &log, sni_given);
}

PolicyTool::Answer answer(const PolicyMap& map, const Flow& flow, const Pairs* request,
                          bool sni_given) {
  std::unique_ptr<RequestHeaders> headers;
  if (request) {
    headers = std::make_unique<RequestHeaders>(*request);
  }
  HeaderLog log;
  return PolicyTool::answerOf(
      explain(*map.snapshot(), flow.question(), headers.get(), &log, map.secrets()), sni_given);
}

size_t lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

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

TEST(DescribeTest, HttpRulesWithoutARequestLeaveTheAnswerOpen) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - remote_policies: [42]
    http_rules: {http_rules: [{headers: [{name: ":path", exact_match: "/public"}]}]}
  - remote_policies: [43]
)");
  // Identity 42 passes L4 by a rule with HTTP rules: without headers the answer is open.
  // (Rules of one entry are evaluated last first: 42's rule is #2.)
  EXPECT_EQ(answer(*map, ingress(42, 80), nullptr, true), PolicyTool::Answer::Undecided);
  std::string text = explained(*map, ingress(42, 80), nullptr, true);
  EXPECT_EQ(lines(text), 1u) << text;
  EXPECT_EQ(text.rfind("UNDECIDED: ", 0), 0u) << text;
  EXPECT_NE(text.find("L4 allowed by rule #2"), std::string::npos) << text;
  EXPECT_NE(text.find("unknown without a request: the HTTP rules of rule #2"), std::string::npos)
      << text;
  text = explained(*map, ingress(42, 80), nullptr);
  EXPECT_EQ(text.find("ALLOWED"), std::string::npos) << text;
  EXPECT_NE(text.find(":path exact \"/public\""), std::string::npos) << text;
  // With the request the answer is decided either way.
  const Pairs good = {{":path", "/public"}};
  const Pairs bad = {{":path", "/private"}};
  EXPECT_EQ(answer(*map, ingress(42, 80), &good, true), PolicyTool::Answer::Allowed);
  EXPECT_EQ(answer(*map, ingress(42, 80), &bad, true), PolicyTool::Answer::Denied);
  // Identity 43's rule has no HTTP rules: every request passes, so the answer is allowed.
  EXPECT_EQ(answer(*map, ingress(43, 80), nullptr, true), PolicyTool::Answer::Allowed);
  // Identity 44 is denied at L4, whatever the request.
  EXPECT_EQ(answer(*map, ingress(44, 80), nullptr, true), PolicyTool::Answer::Denied);
  text = explained(*map, ingress(44, 80), nullptr, true);
  EXPECT_EQ(text.rfind("DENIED: ", 0), 0u) << text;
  EXPECT_EQ(lines(text), 1u) << text;
}

TEST(DescribeTest, ServerNamesWithoutAnSniLeaveTheAnswerOpen) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
egress_per_port_policies:
- port: 443
  rules:
  - {remote_policies: [42], server_names: ["*.example.com"]}
)");
  Flow flow = egress(42, 443);
  EXPECT_EQ(answer(*map, flow, nullptr, false), PolicyTool::Answer::Undecided);
  const std::string text = explained(*map, flow, nullptr, true, false);
  EXPECT_NE(text.find("server_names of rule #1 (*.example.com)"), std::string::npos) << text;
  EXPECT_NE(text.find("--sni"), std::string::npos) << text;
  // --sni '' asks about a connection without one: denied.
  EXPECT_EQ(answer(*map, flow, nullptr, true), PolicyTool::Answer::Denied);
  flow.sni = "www.example.com";
  EXPECT_EQ(answer(*map, flow, nullptr, true), PolicyTool::Answer::Allowed);
  flow.sni = "www.example.org";
  EXPECT_EQ(answer(*map, flow, nullptr, true), PolicyTool::Answer::Denied);
}

TEST(DescribeTest, DenyByServerNameIsOpenToo) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
egress_per_port_policies:
- port: 443
  rules:
  - {deny: true, server_names: ["bad.example.com"]}
  - {}
)");
  EXPECT_EQ(answer(*map, egress(42, 443), nullptr, false), PolicyTool::Answer::Undecided);
  EXPECT_EQ(answer(*map, egress(42, 443), nullptr, true), PolicyTool::Answer::Allowed);
}

TEST(DescribeTest, L7RulesOfAParserLeaveTheAnswerOpen) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 9092
  rules:
  - l7_proto: kafka
    l7_rules:
      l7_allow_rules:
      - metadata_rule: [{filter: kafka, path: [{key: topic}], value: {string_match: {exact: t}}}]
)");
  EXPECT_EQ(answer(*map, ingress(1, 9092), nullptr, true), PolicyTool::Answer::Undecided);
  const std::string text = explained(*map, ingress(1, 9092), nullptr, true);
  EXPECT_NE(text.find("l7_proto \"kafka\""), std::string::npos) << text;
}

}  // namespace
}  // namespace Testing
}  // namespace Policy
}  // namespace Cilium
