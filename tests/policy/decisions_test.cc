// L4 and HTTP decisions: endpoints, listeners (proxy_id), SNI and HTTP rules.
#include "test_policies.h"

namespace Cilium {
namespace Policy {
namespace Testing {
namespace {

TEST(DecisionsTest, UnknownEndpointIsDenied) {
  PolicyMap map;
  EXPECT_FALSE(l4(map, ingress(1, 80)));
  EXPECT_FALSE(http(map, ingress(1, 80), {{":path", "/"}}).allowed);
  auto with_policy = mapWith(R"(
endpoint_ips: ["10.1.2.3", "f00d::a0f:0:0:1"]
endpoint_id: 7
ingress_per_port_policies: [{port: 80}]
)");
  EXPECT_TRUE(l4(*with_policy, ingress(1, 80)));
  EXPECT_FALSE(l4(*with_policy, Flow{"10.1.2.4", true, 1, 80}));
  EXPECT_TRUE(l4(*with_policy, Flow{"f00d::a0f:0:0:1", true, 1, 80}));
  // IPv6 is found whatever way the address is written.
  EXPECT_TRUE(l4(*with_policy, Flow{"F00D:0:0:0:A0F:0:0:1", true, 1, 80}));
}

TEST(DecisionsTest, HttpCheckWithoutHttpRulesLeavesItToL4) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies: [{port: 80, rules: [{remote_policies: [1]}]}]
)");
  EXPECT_TRUE(http(*map, ingress(1, 80), {{":path", "/x"}}).allowed);
  EXPECT_TRUE(http(*map, ingress(2, 80), {{":path", "/x"}}).allowed);  // L4 denies this one
  EXPECT_FALSE(l4(*map, ingress(2, 80)));
  EXPECT_TRUE(http(*map, ingress(1, 81), {}).allowed);  // no rules for the port at all
}

TEST(DecisionsTest, ProxyIdSelectsTheListener) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- {port: 80, rules: [{proxy_id: 42}]}
- {port: 81, rules: [{proxy_id: 0, remote_policies: [5]}]}
)");
  Flow flow = ingress(1, 80);
  flow.proxy_id = 42;
  EXPECT_TRUE(l4(*map, flow));
  flow.proxy_id = 43;
  EXPECT_FALSE(l4(*map, flow));
  flow.proxy_id = 0;
  EXPECT_FALSE(l4(*map, flow));
  Flow other = ingress(5, 81);
  other.proxy_id = 9;
  EXPECT_TRUE(l4(*map, other));
}

TEST(DecisionsTest, ServerNamesConstrainL4) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
egress_per_port_policies:
- port: 443
  rules:
  - {server_names: ["*.cilium.io", "example.com"], remote_policies: [1]}
  - {remote_policies: [2]}
)");
  auto flow = [](uint32_t remote, const char* sni) {
    Flow f = egress(remote, 443);
    f.sni = sni;
    return f;
  };
  EXPECT_TRUE(l4(*map, flow(1, "docs.cilium.io")));
  EXPECT_TRUE(l4(*map, flow(1, "EXAMPLE.com")));
  EXPECT_FALSE(l4(*map, flow(1, "cilium.io")));
  EXPECT_FALSE(l4(*map, flow(1, "")));  // no SNI never matches server_names
  EXPECT_TRUE(l4(*map, flow(2, "")));   // a rule without server_names matches any SNI
  EXPECT_TRUE(l4(*map, flow(2, "anything.org")));
}

TEST(DecisionsTest, ServerNamesOnDenyRules) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
egress_per_port_policies:
- port: 443
  rules:
  - {deny: true, server_names: ["**.evil.com"]}
  - {}
)");
  Flow f = egress(1, 443);
  f.sni = "a.b.evil.com";
  EXPECT_FALSE(l4(*map, f));
  f.sni = "evil.com";
  EXPECT_TRUE(l4(*map, f));
  f.sni = "";
  EXPECT_TRUE(l4(*map, f));
}

TEST(DecisionsTest, HttpHeaderMatchersAllMustMatchInOneRule) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - http_rules:
      http_rules:
      - headers:
        - {name: ":method", exact_match: "GET"}
        - {name: ":path", safe_regex_match: {regex: "/public/.*"}}
      - headers:
        - {name: ":method", exact_match: "POST"}
        - {name: ":path", exact_match: "/submit"}
)");
  EXPECT_TRUE(allowed(*map, ingress(1, 80), {{":method", "GET"}, {":path", "/public/a"}}));
  EXPECT_FALSE(allowed(*map, ingress(1, 80), {{":method", "GET"}, {":path", "/submit"}}));
  EXPECT_TRUE(allowed(*map, ingress(1, 80), {{":method", "POST"}, {":path", "/submit"}}));
  EXPECT_FALSE(allowed(*map, ingress(1, 80), {{":method", "POST"}, {":path", "/public/a"}}));
  EXPECT_FALSE(allowed(*map, ingress(1, 80), {}));
}

TEST(DecisionsTest, DenyRuleIgnoresHttp) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - remote_policies: [1]
    http_rules: {http_rules: [{headers: [{name: ":path", exact_match: "/a"}]}]}
  - {deny: true, remote_policies: [2]}
)");
  EXPECT_FALSE(http(*map, ingress(2, 80), {{":path", "/a"}}).allowed);
  EXPECT_TRUE(http(*map, ingress(1, 80), {{":path", "/a"}}).allowed);
}

TEST(DecisionsTest, HeaderMatchesRunInEveryRuleOfTheWinningPrecedence) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - remote_policies: [1]
    http_rules:
      http_rules:
      - headers: [{name: ":path", prefix_match: "/"}]
        header_matches: [{name: "x-one", value: "1", mismatch_action: ADD_ON_MISMATCH}]
  - remote_policies: [1]
    http_rules:
      http_rules:
      - header_matches: [{name: "x-two", value: "2", mismatch_action: ADD_ON_MISMATCH}]
  - precedence: 0
    remote_policies: [1]
    http_rules:
      http_rules:
      - headers: [{name: ":path", exact_match: "/nope"}]
        header_matches: [{name: "x-three", value: "3", mismatch_action: ADD_ON_MISMATCH}]
)");
  const HttpResult r = http(*map, ingress(1, 80), {{":path", "/p"}});
  EXPECT_TRUE(r.allowed);
  // Both rules whose headers matched ran their actions; the third's headers did not match.
  EXPECT_EQ(r.headers, (Pairs{{":path", "/p"}, {"x-two", "2"}, {"x-one", "1"}}));
  EXPECT_EQ(r.log.missing().size(), 2u);
}

TEST(DecisionsTest, HeaderActionsShowEvenWhenDenied) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - http_rules:
      http_rules:
      - header_matches:
        - {name: "x-keep", value: "k", mismatch_action: ADD_ON_MISMATCH}
        - {name: "x-must", value: "m"}
        - {name: "x-drop", match_action: DELETE_ON_MATCH}
)");
  const HttpResult r = http(*map, ingress(9, 80), {{":path", "/"}, {"x-drop", "d"}});
  EXPECT_FALSE(r.allowed);  // x-must is missing and fails
  EXPECT_EQ(r.headers, (Pairs{{":path", "/"}, {"x-keep", "k"}}));
  EXPECT_EQ(r.log.missing(), (Pairs{{"x-keep", "k"}, {"x-must", "m"}}));
  EXPECT_EQ(r.log.rejected(), (Pairs{{"x-drop", ""}}));
}

TEST(DecisionsTest, MissingSecretDropsTheRequest) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - remote_policies: [43]
    http_rules:
      http_rules:
      - headers: [{name: ':path', exact_match: '/allowed'}]
        header_matches:
        - {name: 'bearer-token', value_sds_secret: 'not-there', mismatch_action: REPLACE_ON_MISMATCH}
)");
  const HttpResult r = http(*map, ingress(43, 80), {{":path", "/allowed"}});
  EXPECT_FALSE(r.allowed);
  EXPECT_TRUE(r.log.missing().empty() && r.log.rejected().empty());
  EXPECT_EQ(r.headers, (Pairs{{":path", "/allowed"}}));

  auto with_secret = mapWith(
      R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - remote_policies: [43]
    http_rules:
      http_rules:
      - header_matches:
        - {name: 'bearer-token', value_sds_secret: 'tok', mismatch_action: REPLACE_ON_MISMATCH}
)",
      std::make_shared<StaticSecrets>(std::map<std::string, std::string>{{"tok", "Bearer x"}}));
  const HttpResult s = http(*with_secret, ingress(43, 80), {{"bearer-token", "wrong"}});
  EXPECT_TRUE(s.allowed);
  EXPECT_EQ(s.headers, (Pairs{{"bearer-token", "Bearer x"}}));
  EXPECT_EQ(s.log.rejected(), (Pairs{{"bearer-token", "[redacted]"}}));
  EXPECT_EQ(s.log.missing(), (Pairs{{"bearer-token", "[redacted]"}}));
}

TEST(DecisionsTest, ExplainMatchesTheDecisions) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - {precedence: 300, pass_precedence: 101, remote_policies: [1]}
  - {precedence: 200, deny: true}
  - precedence: 100
    remote_policies: [1, 2]
    http_rules: {http_rules: [{headers: [{name: ":path", exact_match: "/a"}]}]}
)");
  for (uint32_t remote : {1u, 2u, 3u}) {
    for (const char* path : {"/a", "/b"}) {
      const Flow flow = ingress(remote, 80);
      RequestHeaders headers(Pairs{{":path", path}});
      HeaderLog log;
      const Explanation e =
          explain(*map->snapshot(), flow.question(), &headers, &log, map->secrets());
      EXPECT_EQ(e.l4_allowed, l4(*map, flow)) << remote << path;
      EXPECT_EQ(e.http_allowed, http(*map, flow, {{":path", path}}).allowed) << remote << path;
    }
  }
}

}  // namespace
}  // namespace Testing
}  // namespace Policy
}  // namespace Cilium
