// Port ranges: splitting into disjoint pieces, merging, the wildcard port and 65535.
#include "test_policies.h"

namespace Cilium {
namespace Policy {
namespace Testing {
namespace {

std::vector<std::pair<uint32_t, uint32_t>> pieces(const PolicyMap& map, bool ingress = true) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  const EndpointPolicy* policy = map.snapshot()->find("10.1.2.3");
  EXPECT_NE(policy, nullptr);
  for (const auto& piece : policy->table(ingress).pieces()) {
    out.emplace_back(piece.first, piece.last);
  }
  return out;
}

TEST(PortTableTest, OverlappingRangesSplitIntoDisjointPieces) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- {port: 1000, end_port: 2000, rules: [{remote_policies: [1]}]}
- {port: 1500, end_port: 2500, rules: [{remote_policies: [2]}]}
- {port: 1700, rules: [{remote_policies: [3]}]}
)");
  EXPECT_EQ(pieces(*map),
            (std::vector<std::pair<uint32_t, uint32_t>>{
                {1000, 1499}, {1500, 1699}, {1700, 1700}, {1701, 2000}, {2001, 2500}}));
  EXPECT_FALSE(l4(*map, ingress(1, 999)));
  EXPECT_TRUE(l4(*map, ingress(1, 1000)));
  EXPECT_TRUE(l4(*map, ingress(1, 2000)));
  EXPECT_FALSE(l4(*map, ingress(1, 2001)));
  EXPECT_FALSE(l4(*map, ingress(2, 1499)));
  EXPECT_TRUE(l4(*map, ingress(2, 1500)));
  EXPECT_TRUE(l4(*map, ingress(2, 2500)));
  EXPECT_FALSE(l4(*map, ingress(2, 2501)));
  EXPECT_TRUE(l4(*map, ingress(3, 1700)));
  EXPECT_FALSE(l4(*map, ingress(3, 1699)));
  EXPECT_FALSE(l4(*map, ingress(3, 1701)));
  // Within the overlap both remotes are allowed.
  EXPECT_TRUE(l4(*map, ingress(1, 1700)) && l4(*map, ingress(2, 1700)));
}

TEST(PortTableTest, OrderOfEntriesDoesNotMatter) {
  const char* forward = R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- {port: 80, end_port: 8080, rules: [{remote_policies: [43]}]}
- {port: 4040, end_port: 9999, rules: [{remote_policies: [44]}]}
- {port: 92, rules: [{deny: true}]}
)";
  const char* backward = R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- {port: 92, rules: [{deny: true}]}
- {port: 4040, end_port: 9999, rules: [{remote_policies: [44]}]}
- {port: 80, end_port: 8080, rules: [{remote_policies: [43]}]}
)";
  auto a = mapWith(forward);
  auto b = mapWith(backward);
  EXPECT_EQ(pieces(*a), pieces(*b));
  for (uint32_t remote : {43u, 44u, 45u}) {
    for (uint16_t port : {79, 80, 91, 92, 93, 4039, 4040, 8080, 8081, 9999, 10000}) {
      EXPECT_EQ(l4(*a, ingress(remote, port)), l4(*b, ingress(remote, port)))
          << remote << " " << port;
    }
  }
  EXPECT_FALSE(l4(*a, ingress(43, 92)));
}

TEST(PortTableTest, RangesReachingPort65535) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- {port: 32768, end_port: 65534, rules: [{remote_policies: [1]}]}
- {port: 32768, end_port: 65535, rules: [{remote_policies: [2]}]}
- {port: 1024, end_port: 65535, rules: [{remote_policies: [3]}]}
- {port: 65535, rules: [{remote_policies: [4]}]}
)");
  EXPECT_EQ(pieces(*map), (std::vector<std::pair<uint32_t, uint32_t>>{
                              {1024, 32767}, {32768, 65534}, {65535, 65535}}));
  EXPECT_TRUE(l4(*map, ingress(1, 40000)));
  EXPECT_FALSE(l4(*map, ingress(1, 65535)));
  EXPECT_TRUE(l4(*map, ingress(2, 65535)));
  EXPECT_TRUE(l4(*map, ingress(3, 65535)));
  EXPECT_TRUE(l4(*map, ingress(4, 65535)));
  EXPECT_FALSE(l4(*map, ingress(4, 65534)));
  EXPECT_FALSE(l4(*map, ingress(3, 1023)));
}

TEST(PortTableTest, SinglePortWithZeroEndPortAndDuplicates) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- {port: 80, end_port: 0, rules: [{remote_policies: [43]}]}
- {port: 80, rules: [{remote_policies: [43]}]}
- {port: 80, end_port: 80, rules: [{remote_policies: [44]}]}
)");
  EXPECT_EQ(pieces(*map), (std::vector<std::pair<uint32_t, uint32_t>>{{80, 80}}));
  EXPECT_TRUE(l4(*map, ingress(43, 80)));
  EXPECT_TRUE(l4(*map, ingress(44, 80)));
  EXPECT_FALSE(l4(*map, ingress(43, 81)));
}

TEST(PortTableTest, WildcardPortRulesApplyToEverySpecificPort) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- {port: 0, rules: [{remote_policies: [1]}]}
- {port: 80, rules: [{remote_policies: [2]}]}
)");
  EXPECT_TRUE(l4(*map, ingress(1, 80)));
  EXPECT_TRUE(l4(*map, ingress(2, 80)));
  EXPECT_TRUE(l4(*map, ingress(1, 8080)));
  EXPECT_FALSE(l4(*map, ingress(2, 8080)));
  EXPECT_TRUE(l4(*map, ingress(1, 0)));
}

TEST(PortTableTest, WildcardDenyReachesSpecificPorts) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- {port: 0, rules: [{deny: true, remote_policies: [5]}]}
- {port: 80, rules: []}
)");
  EXPECT_FALSE(l4(*map, ingress(5, 80)));
  EXPECT_TRUE(l4(*map, ingress(6, 80)));
  EXPECT_FALSE(l4(*map, ingress(6, 81)));
}

TEST(PortTableTest, EmptyRulesAllowEveryRemoteAndSurviveMerging) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- {port: 80, rules: [{remote_policies: [1]}]}
- {port: 80}
- {port: 90, end_port: 100}
- {port: 95, rules: [{remote_policies: [2]}]}
)");
  EXPECT_TRUE(l4(*map, ingress(1, 80)));
  EXPECT_TRUE(l4(*map, ingress(99, 80)));
  EXPECT_TRUE(l4(*map, ingress(99, 95)));
  EXPECT_TRUE(l4(*map, ingress(99, 90)));
  EXPECT_FALSE(l4(*map, ingress(99, 101)));

  auto everything = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies: [{}]
)");
  for (uint16_t port : {1, 80, 65535}) {
    EXPECT_TRUE(l4(*everything, ingress(12345, port)));
  }
  EXPECT_FALSE(l4(*everything, egress(12345, 80)));
}

TEST(PortTableTest, DirectionWithoutPoliciesDeniesEverything) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
egress_per_port_policies:
- {port: 0}
)");
  EXPECT_FALSE(l4(*map, ingress(1, 80)));
  EXPECT_TRUE(l4(*map, egress(1, 80)));
}

TEST(PortTableTest, NonTcpEntriesAreIgnored) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- {port: 53, protocol: UDP}
- {port: 80, protocol: TCP, rules: [{remote_policies: [1]}]}
- {port: 90, end_port: 10, protocol: UDP}
- {port: 100, protocol: UDP, rules: [{precedence: 1, pass_precedence: 5}]}
)");
  EXPECT_FALSE(l4(*map, ingress(1, 53)));
  EXPECT_TRUE(l4(*map, ingress(1, 80)));
  EXPECT_EQ(pieces(*map), (std::vector<std::pair<uint32_t, uint32_t>>{{80, 80}}));
}

TEST(PortTableTest, PassOnlyPiecesAreDeleted) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- {port: 80, end_port: 81, rules: [{precedence: 10, pass_precedence: 1}]}
- {port: 80}
)");
  EXPECT_EQ(pieces(*map), (std::vector<std::pair<uint32_t, uint32_t>>{{80, 80}}));
  EXPECT_TRUE(l4(*map, ingress(43, 80)));
  EXPECT_FALSE(l4(*map, ingress(43, 81)));

  auto wildcard = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- {port: 0, rules: [{precedence: 10, pass_precedence: 1}]}
- {port: 80}
)");
  EXPECT_TRUE(l4(*wildcard, ingress(43, 80)));
  EXPECT_FALSE(l4(*wildcard, ingress(43, 8080)));  // the pass-only wildcard is gone
}

}  // namespace
}  // namespace Testing
}  // namespace Policy
}  // namespace Cilium
