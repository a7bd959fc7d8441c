// Delta NPDS: resources by name, removed by name, the shared space of names and endpoint IPs,
// all or nothing as for state-of-the-world updates.
#include <google/protobuf/util/json_util.h>

#include "test_policies.h"

namespace Cilium {
namespace Policy {
namespace Testing {
namespace {

using envoy::service::discovery::v3::DeltaDiscoveryResponse;

std::string resource(const std::string& name, const std::string& ip, uint64_t id, int port = 80) {
  return R"({"name": ")" + name +
         R"(", "resource": {"@type": "type.googleapis.com/cilium.NetworkPolicy",
      "endpoint_ips": [")" +
         ip + R"("], "endpoint_id": )" + std::to_string(id) +
         R"(, "ingress_per_port_policies": [{"port": )" + std::to_string(port) + "}]}}";
}

Status delta(PolicyMap& map, const std::string& resources, const std::string& removed = "") {
  DeltaDiscoveryResponse response;
  const std::string json =
      R"({"resources": [)" + resources + R"(], "removed_resources": [)" + removed + "]}";
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &response).ok()) << json;
  return map.update(response);
}

TEST(PolicyDeltaTest, AddReplaceRemoveByName) {
  PolicyMap map;
  ASSERT_TRUE(delta(map, resource("a", "10.0.0.1", 1) + "," + resource("b", "10.0.0.2", 2)).isOk());
  EXPECT_TRUE(l4(map, Flow{"10.0.0.1", true, 9, 80}));
  EXPECT_TRUE(l4(map, Flow{"10.0.0.2", true, 9, 80}));
  // Sent again under its name: replaces (the IP may move).
  ASSERT_TRUE(delta(map, resource("a", "10.0.0.3", 1, 81)).isOk());
  EXPECT_FALSE(l4(map, Flow{"10.0.0.1", true, 9, 80}));
  EXPECT_TRUE(l4(map, Flow{"10.0.0.3", true, 9, 81}));
  EXPECT_TRUE(l4(map, Flow{"10.0.0.2", true, 9, 80}));  // untouched
  ASSERT_TRUE(delta(map, "", R"("b", "never-there")").isOk());
  EXPECT_FALSE(l4(map, Flow{"10.0.0.2", true, 9, 80}));
  EXPECT_EQ(map.snapshot()->names(), std::vector<std::string>{"a"});
}

TEST(PolicyDeltaTest, NamesAndIpsShareOneSpace) {
  PolicyMap map;
  ASSERT_TRUE(delta(map, resource("a", "10.0.0.1", 1)).isOk());
  const SnapshotPtr before = map.snapshot();
  EXPECT_FALSE(delta(map, "", R"("10.0.0.1")").isOk());  // an IP is not a resource name
  EXPECT_FALSE(delta(map, resource("10.0.0.1", "10.0.0.9", 9)).isOk());  // a name that is an IP
  EXPECT_FALSE(delta(map, resource("b", "10.0.0.1", 2)).isOk());         // an IP taken
  EXPECT_FALSE(delta(map, resource("b", "a", 2)).isOk());                // an IP that is a name
  EXPECT_EQ(map.snapshot(), before);
  // Moving an IP from one policy to another in one delta works when the first goes.
  ASSERT_TRUE(delta(map, resource("b", "10.0.0.1", 2), R"("a")").isOk());
  EXPECT_EQ(map.snapshot()->find("10.0.0.1")->endpointId(), 2u);
}

TEST(PolicyDeltaTest, AllOrNothing) {
  PolicyMap map;
  ASSERT_TRUE(delta(map, resource("a", "10.0.0.1", 1)).isOk());
  const SnapshotPtr before = map.snapshot();
  EXPECT_FALSE(delta(map, resource("b", "10.0.0.2", 0)).isOk());         // endpoint_id 0
  EXPECT_FALSE(delta(map, resource("", "10.0.0.2", 2)).isOk());          // no name
  EXPECT_FALSE(delta(map, resource("b c", "10.0.0.2", 2)).isOk());       // white space
  EXPECT_FALSE(delta(map, resource("b", "10.0.0.2", 2, 70000)).isOk());  // proto rules
  EXPECT_FALSE(delta(map, resource("b", "10.0.0.2", 2) + "," + resource("c", "10.0.0.2", 3))
                   .isOk());  // one IP twice
  EXPECT_EQ(map.snapshot(), before);
  // Removal plus addition in one delta works ...
  ASSERT_TRUE(delta(map, resource("b", "10.0.0.2", 2), R"("a")").isOk());
  EXPECT_EQ(map.snapshot()->names(), std::vector<std::string>{"b"});
  // ... and a bad one leaves everything as it was.
  const SnapshotPtr good = map.snapshot();
  EXPECT_FALSE(delta(map, resource("c", "10.0.0.3", 3) + R"(, {"name": "d", "resource": {
      "@type": "type.googleapis.com/cilium.NetworkPolicyHosts", "policy": 1}})",
                     R"("b")")
                   .isOk());
  EXPECT_EQ(map.snapshot(), good);
}

TEST(PolicyDeltaTest, AfterStateOfTheWorldNamesAreEndpointIds) {
  auto map = mapWith(R"(
- {endpoint_ips: ["10.0.0.1"], endpoint_id: 1, ingress_per_port_policies: [{port: 80}]}
- {endpoint_ips: ["10.0.0.2"], endpoint_id: 2, ingress_per_port_policies: [{port: 80}]}
)");
  ASSERT_TRUE(delta(*map, "", R"("1")").isOk());
  EXPECT_FALSE(l4(*map, Flow{"10.0.0.1", true, 9, 80}));
  EXPECT_TRUE(l4(*map, Flow{"10.0.0.2", true, 9, 80}));
}

TEST(PolicyDeltaTest, UnchangedPoliciesAreReused) {
  PolicyMap map;
  ASSERT_TRUE(delta(map, resource("a", "10.0.0.1", 1) + "," + resource("b", "10.0.0.2", 2)).isOk());
  const auto a = map.snapshot()->byEndpointId(1);
  ASSERT_TRUE(
      delta(map, resource("a", "10.0.0.1", 1) + "," + resource("b", "10.0.0.2", 2, 81)).isOk());
  EXPECT_EQ(map.snapshot()->byEndpointId(1), a);  // the same compiled policy
  EXPECT_NE(map.snapshot()->byEndpointId(2), nullptr);
  EXPECT_TRUE(l4(map, Flow{"10.0.0.2", true, 9, 81}));
}

}  // namespace
}  // namespace Testing
}  // namespace Policy
}  // namespace Cilium
