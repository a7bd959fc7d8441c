// Rule order: precedence, deny before allow before pass, and pass tiers.
#include "test_policies.h"

namespace Cilium {
namespace Policy {
namespace Testing {
namespace {

const Pairs kGet = {{":method", "GET"}, {":path", "/ok"}};

TEST(RuleOrderTest, DenyWinsAtEqualPrecedenceFromAnyEntry) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- {port: 80, rules: [{remote_policies: [1, 2]}]}
- {port: 70, end_port: 90, rules: [{deny: true, remote_policies: [2]}]}
)");
  EXPECT_TRUE(l4(*map, ingress(1, 80)));
  EXPECT_FALSE(l4(*map, ingress(2, 80)));
  EXPECT_FALSE(l4(*map, ingress(1, 85)));
}

TEST(RuleOrderTest, HigherPrecedenceAllowBeatsLowerDeny) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- {port: 0, rules: [{deny: true, precedence: 5}]}
- {port: 80, rules: [{precedence: 6, remote_policies: [1]}, {precedence: 5, remote_policies: [2]}]}
)");
  EXPECT_TRUE(l4(*map, ingress(1, 80)));   // allow at 6 over the wildcard deny at 5
  EXPECT_FALSE(l4(*map, ingress(2, 80)));  // equal precedence: deny first
  EXPECT_FALSE(l4(*map, ingress(3, 80)));
}

TEST(RuleOrderTest, HigherPrecedenceDenyBeatsAllow) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- {port: 80, rules: [{precedence: 1000, deny: true, remote_policies: [1]},
                     {precedence: 10, remote_policies: [1, 2]}]}
)");
  EXPECT_FALSE(l4(*map, ingress(1, 80)));
  EXPECT_TRUE(l4(*map, ingress(2, 80)));
}

TEST(RuleOrderTest, RangesAtDifferentPrecedence) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- {port: 80, end_port: 8080, rules: [{remote_policies: [43], precedence: 0, deny: true}]}
- {port: 4040, end_port: 9999, rules: [{remote_policies: [43], precedence: 1}]}
)");
  EXPECT_FALSE(l4(*map, ingress(43, 80)));
  EXPECT_FALSE(l4(*map, ingress(43, 4039)));
  EXPECT_TRUE(l4(*map, ingress(43, 4040)));
  EXPECT_TRUE(l4(*map, ingress(43, 8080)));
  EXPECT_TRUE(l4(*map, ingress(43, 9999)));
  EXPECT_FALSE(l4(*map, ingress(43, 10000)));
}

TEST(RuleOrderTest, PassSkipsTheRestOfItsTier) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - {precedence: 300, pass_precedence: 101, remote_policies: [1]}
  - {precedence: 200, deny: true}
  - {precedence: 100, remote_policies: [1, 2]}
)");
  EXPECT_TRUE(l4(*map, ingress(1, 80)));   // passed over the deny at 200
  EXPECT_FALSE(l4(*map, ingress(2, 80)));  // denied at 200
  EXPECT_FALSE(l4(*map, ingress(3, 80)));
}

TEST(RuleOrderTest, PassCanSkipAnAllow) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - {precedence: 50, pass_precedence: 20, remote_policies: [1]}
  - {precedence: 30, remote_policies: [1, 2]}
  - {precedence: 10, deny: true, remote_policies: [1]}
  - {precedence: 5, remote_policies: [1]}
)");
  EXPECT_FALSE(l4(*map, ingress(1, 80)));  // the allow at 30 is skipped, the deny at 10 decides
  EXPECT_TRUE(l4(*map, ingress(2, 80)));
}

TEST(RuleOrderTest, PassLandsExactlyBelowItsPassPrecedence) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - {precedence: 9, pass_precedence: 5}
  - {precedence: 5, deny: true, remote_policies: [1]}
  - {precedence: 4, remote_policies: [1, 2]}
)");
  EXPECT_TRUE(l4(*map, ingress(1, 80)));  // precedence 5 is still in the tier: skipped
  EXPECT_TRUE(l4(*map, ingress(2, 80)));
  EXPECT_FALSE(l4(*map, ingress(3, 80)));
}

TEST(RuleOrderTest, PassAtEqualPrecedenceComesAfterDenyAndAllow) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - {precedence: 10, pass_precedence: 2}
  - {precedence: 10, deny: true, remote_policies: [1]}
  - {precedence: 10, remote_policies: [2]}
  - {precedence: 1, remote_policies: [1, 3]}
)");
  EXPECT_FALSE(l4(*map, ingress(1, 80)));  // the deny at 10 is seen before the pass
  EXPECT_TRUE(l4(*map, ingress(2, 80)));
  EXPECT_TRUE(l4(*map, ingress(3, 80)));  // passed down to the allow at 1
}

TEST(RuleOrderTest, WildcardPassIsInheritedBySpecificPorts) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- {port: 0, rules: [{precedence: 100, pass_precedence: 40, remote_policies: [7]}]}
- port: 80
  rules:
  - {precedence: 50, deny: true}
  - {precedence: 30, remote_policies: [7, 8]}
)");
  EXPECT_TRUE(l4(*map, ingress(7, 80)));
  EXPECT_FALSE(l4(*map, ingress(8, 80)));
}

TEST(RuleOrderTest, TwoPassTiers) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 0
  rules:
  - {precedence: 500, pass_precedence: 400, remote_policies: [1]}
  - {precedence: 300, pass_precedence: 200, remote_policies: [2]}
- port: 80
  rules:
  - {precedence: 250, deny: true}
  - {precedence: 100, remote_policies: [1, 2, 3]}
)");
  EXPECT_FALSE(l4(*map, ingress(1, 80)));  // its tier ends above the deny
  EXPECT_TRUE(l4(*map, ingress(2, 80)));
  EXPECT_FALSE(l4(*map, ingress(3, 80)));
}

TEST(RuleOrderTest, HttpRestrictionsOfOneRuleDoNotLimitAnother) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - remote_policies: [1]
    http_rules: {http_rules: [{headers: [{name: ":path", exact_match: "/only"}]}]}
  - remote_policies: [2]
)");
  EXPECT_TRUE(allowed(*map, ingress(1, 80), {{":path", "/only"}}));
  EXPECT_FALSE(allowed(*map, ingress(1, 80), {{":path", "/other"}}));
  EXPECT_TRUE(allowed(*map, ingress(2, 80), {{":path", "/other"}}));
  EXPECT_FALSE(allowed(*map, ingress(3, 80), {{":path", "/only"}}));
}

TEST(RuleOrderTest, DefaultAllowOverridesAnotherEntrysHttpRules) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - http_rules: {http_rules: [{headers: [{name: ":path", exact_match: "/allowed"}]}]}
- port: 80
)");
  EXPECT_TRUE(allowed(*map, ingress(43, 80), {{":path", "/allowed"}}));
  EXPECT_TRUE(allowed(*map, ingress(40, 80), {{":path", "/anything"}}));
  EXPECT_FALSE(allowed(*map, ingress(43, 8080), kGet));
}

TEST(RuleOrderTest, LowerPrecedenceAllowIsNotConsultedOnceHigherDecided) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - precedence: 20
    remote_policies: [1]
    http_rules: {http_rules: [{headers: [{name: ":path", exact_match: "/a"}]}]}
  - {precedence: 10, deny: true}
)");
  EXPECT_TRUE(allowed(*map, ingress(1, 80), {{":path", "/a"}}));
  // The HTTP rule at 20 does not match, so the deny at 10 decides.
  EXPECT_FALSE(allowed(*map, ingress(1, 80), {{":path", "/b"}}));
}

}  // namespace
}  // namespace Testing
}  // namespace Policy
}  // namespace Cilium
