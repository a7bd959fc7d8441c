// Updates: all or nothing, every rejection, and what a new update replaces.
#include <google/protobuf/util/json_util.h>

#include "test_policies.h"

namespace Cilium {
namespace Policy {
namespace Testing {
namespace {

const char* kGood = R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 42
ingress_per_port_policies: [{port: 80, rules: [{remote_policies: [1]}]}]
)";

// Applies `bad` on top of kGood: it must be refused (with `reason` in the message) and
// leave kGood in force.
void expectRefused(const std::string& bad, const std::string& reason) {
  auto map = mapWith(kGood);
  const SnapshotPtr before = map->snapshot();
  const Status status = apply(*map, bad);
  EXPECT_FALSE(status.isOk()) << bad;
  EXPECT_NE(status.message().find(reason), std::string::npos)
      << "message: " << status.message() << "\nwanted: " << reason;
  EXPECT_EQ(map->snapshot(), before);
  EXPECT_TRUE(l4(*map, ingress(1, 80)));
}

TEST(PolicyMapTest, StartsEmptyAndReplacesTheWholeSet) {
  PolicyMap map;
  EXPECT_TRUE(map.snapshot()->policies().empty());
  ASSERT_TRUE(apply(map, R"(
- {endpoint_ips: ["10.1.2.3"], endpoint_id: 1, ingress_per_port_policies: [{port: 80}]}
- {endpoint_ips: ["10.1.2.4"], endpoint_id: 2, ingress_per_port_policies: [{port: 80}]}
)")
                  .isOk());
  EXPECT_TRUE(l4(map, Flow{"10.1.2.3", true, 1, 80}));
  EXPECT_TRUE(l4(map, Flow{"10.1.2.4", true, 1, 80}));
  ASSERT_TRUE(apply(map, R"(
- {endpoint_ips: ["10.1.2.4"], endpoint_id: 2, ingress_per_port_policies: [{port: 81}]}
)")
                  .isOk());
  EXPECT_FALSE(l4(map, Flow{"10.1.2.3", true, 1, 80}));
  EXPECT_FALSE(l4(map, Flow{"10.1.2.4", true, 1, 80}));
  EXPECT_TRUE(l4(map, Flow{"10.1.2.4", true, 1, 81}));
  ASSERT_TRUE(apply(map, "version_info: '9'").isOk());  // no resources: nothing allowed
  EXPECT_FALSE(l4(map, Flow{"10.1.2.4", true, 1, 81}));
}

TEST(PolicyMapTest, RefusedEndpoints) {
  expectRefused("{endpoint_ips: ['10.9.9.9'], endpoint_id: 0}", "endpoint_id");
  // The protos' rules, in protoc-gen-validate's words (message and field, as Envoy logs).
  expectRefused("{endpoint_ips: [], endpoint_id: 5}", "NetworkPolicyValidationError.EndpointIps");
  expectRefused("{endpoint_id: 5}", "NetworkPolicyValidationError.EndpointIps");
  expectRefused("{endpoint_ips: [''], endpoint_id: 5}", "EndpointIps[0]");
  expectRefused("{endpoint_ips: ['10.0.0.1', '10.0.0.2', '10.0.0.3'], endpoint_id: 5}",
                "NetworkPolicyValidationError.EndpointIps");
  expectRefused(R"(
- {endpoint_ips: ['10.0.0.1'], endpoint_id: 5}
- {endpoint_ips: ['10.0.0.2'], endpoint_id: 5}
)",
                "endpoint_id 5");
  expectRefused(R"(
- {endpoint_ips: ['10.0.0.1'], endpoint_id: 5}
- {endpoint_ips: ['10.0.0.1'], endpoint_id: 6}
)",
                "10.0.0.1");
  expectRefused("{endpoint_ips: ['10.0.0.1', '10.0.0.1'], endpoint_id: 5}", "10.0.0.1");
  // The same IPv6 address written two ways is one address.
  expectRefused("{endpoint_ips: ['f00d::1', 'F00D:0::1'], endpoint_id: 5}", "f00d");
}

TEST(PolicyMapTest, RefusedPorts) {
  expectRefused(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5,
                    ingress_per_port_policies: [{port: 80, end_port: 60}]})",
                "end_port 60 is below port 80");
  expectRefused(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5,
                    egress_per_port_policies: [{port: 0, end_port: 80}]})",
                "wildcard port 0");
  expectRefused(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5,
                    ingress_per_port_policies: [{port: 70000}]})",
                "PortNetworkPolicyValidationError.Port");
  expectRefused(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5,
                    ingress_per_port_policies: [{port: 1, end_port: 65536}]})",
                "PortNetworkPolicyValidationError.EndPort");
}

TEST(PolicyMapTest, RefusedRules) {
  expectRefused(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5, ingress_per_port_policies:
                    [{port: 80, rules: [{precedence: 1000, pass_precedence: 2000}]}]})",
                "pass_precedence 2000 is above precedence 1000");
  expectRefused(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5, ingress_per_port_policies:
                    [{port: 80, rules: [{precedence: 1000, pass_precedence: 100},
                                        {precedence: 900, pass_precedence: 200}]}]})",
                "disagree");
  // A wildcard pass rule is part of every port's tier.
  expectRefused(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5, ingress_per_port_policies: [
                     {port: 0, rules: [{precedence: 900, pass_precedence: 700}]},
                     {port: 80, rules: [{precedence: 850, pass_precedence: 600}]}]})",
                "disagree");
  expectRefused(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5, ingress_per_port_policies:
                    [{port: 80, rules: [{server_names: ['a..b']}]}]})",
                "ServerNames[0]");
  expectRefused(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5, ingress_per_port_policies:
                    [{port: 80, rules: [{server_names: ['***.com']}]}]})",
                "ServerNames[0]");
  expectRefused(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5, ingress_per_port_policies:
                    [{port: 80, rules: [{proxy_id: 65536}]}]})",
                "PortNetworkPolicyRuleValidationError.ProxyId");
  expectRefused(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5, ingress_per_port_policies:
                    [{port: 80, rules: [{http_rules: {http_rules: []}}]}]})",
                "HttpNetworkPolicyRulesValidationError.HttpRules");
  expectRefused(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5, ingress_per_port_policies:
                    [{port: 80, rules: [{http_rules: {http_rules: [{header_matches: [{value: x}]}]}}]}]})",
                "HeaderMatchValidationError.Name");
  expectRefused(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5, ingress_per_port_policies:
                    [{port: 80, rules: [{http_rules: {http_rules: [{headers: [{name: ''}]}]}}]}]})",
                "HeaderMatcherValidationError.Name");
  expectRefused(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5, ingress_per_port_policies:
                    [{port: 80, rules: [{http_rules: {http_rules: [{headers: [
                      {name: x, safe_regex_match: {regex: '('}}]}]}}]}]})",
                "regex");
  expectRefused(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5, ingress_per_port_policies:
                    [{port: 80, rules: [{http_rules: {http_rules: [{headers: [
                      {name: x, string_match: {prefix: ''}}]}]}}]}]})",
                "StringMatcherValidationError.Prefix");
  expectRefused(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5, ingress_per_port_policies:
                    [{port: 9092, rules: [{kafka_rules: {kafka_rules: [{topic: 'a b'}]}}]}]})",
                "KafkaNetworkPolicyRuleValidationError.Topic");
  // The two members of the verdict oneof cannot both be set (the JSON is refused).
  expectRefused(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5, ingress_per_port_policies:
                    [{port: 80, rules: [{deny: true, pass_precedence: 1, precedence: 5}]}]})",
                "oneof");
}

TEST(PolicyMapTest, ErrorsInIgnoredEntriesStillFailProtoRules) {
  // Non-TCP entries are not compiled, but the protos' own rules still apply to them.
  expectRefused(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5, ingress_per_port_policies:
                    [{port: 53, protocol: UDP, rules: [{server_names: ['a..b']}]}]})",
                "ServerNames");
  auto map = mapWith(R"({endpoint_ips: ['10.0.0.1'], endpoint_id: 5, ingress_per_port_policies:
                         [{port: 53, end_port: 10, protocol: UDP}]})");
  EXPECT_FALSE(l4(*map, Flow{"10.0.0.1", true, 1, 53}));
}

TEST(PolicyMapTest, ResourceTypes) {
  PolicyMap map;
  envoy::service::discovery::v3::DiscoveryResponse response;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(R"({
    "type_url": "type.googleapis.com/cilium.NetworkPolicy",
    "resources": [{
      "@type": "type.googleapis.com/envoy.service.discovery.v3.Resource",
      "name": "42",
      "resource": {"@type": "type.googleapis.com/cilium.NetworkPolicy",
                   "endpoint_ips": ["10.1.2.3"], "endpoint_id": 42,
                   "ingress_per_port_policies": [{"port": 80}]}
    }]})",
                                                          &response)
                  .ok());
  ASSERT_TRUE(map.update(response).isOk());
  EXPECT_TRUE(l4(map, ingress(1, 80)));

  response.set_type_url("type.googleapis.com/cilium.NetworkPolicyHosts");
  const Status wrong_type = map.update(response);
  EXPECT_FALSE(wrong_type.isOk());
  EXPECT_NE(wrong_type.message().find("type_url"), std::string::npos);

  envoy::service::discovery::v3::DiscoveryResponse other;
  other.add_resources()->PackFrom(envoy::service::discovery::v3::DiscoveryRequest());
  EXPECT_FALSE(map.update(other).isOk());
  EXPECT_TRUE(l4(map, ingress(1, 80)));
}

const char* kTwo = R"(
- {endpoint_ips: ["10.1.2.3"], endpoint_id: 1, ingress_per_port_policies: [{port: 80}]}
- {endpoint_ips: ["10.1.2.4"], endpoint_id: 2, ingress_per_port_policies: [{port: 80}]}
)";

// The agent re-sends every policy under a new version (a restart, a resync): the snapshot in
// force stays, so the update costs a comparison and readers keep what they hold.
TEST(PolicyMapTest, AnUnchangedUpdateKeepsTheSnapshot) {
  envoy::service::discovery::v3::DiscoveryResponse two;
  ASSERT_TRUE(PolicyTool::parsePolicyText(kTwo, two).isOk());
  PolicyMap map;
  ASSERT_TRUE(map.update(two).isOk());
  const SnapshotPtr first = map.snapshot();
  two.set_version_info("2");
  ASSERT_TRUE(map.update(two).isOk());
  EXPECT_EQ(map.snapshot(), first);
  // Another order is another snapshot, of the same compiled policies.
  two.mutable_resources()->SwapElements(0, 1);
  ASSERT_TRUE(map.update(two).isOk());
  EXPECT_NE(map.snapshot(), first);
  EXPECT_EQ(map.snapshot()->names(), (std::vector<std::string>{"2", "1"}));
  EXPECT_EQ(map.snapshot()->byEndpointId(1), first->byEndpointId(1));
  // One policy changed: a new snapshot that decides by it.
  const SnapshotPtr swapped = map.snapshot();
  ASSERT_TRUE(apply(map, R"(
- {endpoint_ips: ["10.1.2.4"], endpoint_id: 2, ingress_per_port_policies: [{port: 81}]}
- {endpoint_ips: ["10.1.2.3"], endpoint_id: 1, ingress_per_port_policies: [{port: 80}]}
)")
                  .isOk());
  EXPECT_NE(map.snapshot(), swapped);
  EXPECT_TRUE(l4(map, Flow{"10.1.2.4", true, 1, 81}));
  EXPECT_FALSE(l4(map, Flow{"10.1.2.4", true, 1, 80}));
  EXPECT_TRUE(l4(map, Flow{"10.1.2.3", true, 1, 80}));
}

// The same policies under other resource names are a change (the names are the state a
// delta update removes by); under the same names, none.
TEST(PolicyMapTest, AnUnchangedUpdateHasTheSameNames) {
  // The policy wrapped in a Resource named `name`, or bare when `name` is empty.
  auto response = [](const std::string& name) {
    const std::string policy = R"({"@type": "type.googleapis.com/cilium.NetworkPolicy",
        "endpoint_ips": ["10.1.2.3"], "endpoint_id": 42, "ingress_per_port_policies": [{"port": 80}]})";
    const std::string resource =
        name.empty() ? policy
                     : R"({"@type": "type.googleapis.com/envoy.service.discovery.v3.Resource",
                          "name": ")" +
                           name + R"(", "resource": )" + policy + "}";
    envoy::service::discovery::v3::DiscoveryResponse out;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(
                    R"({"type_url": "type.googleapis.com/cilium.NetworkPolicy", "resources": [)" +
                        resource + "]}",
                    &out)
                    .ok());
    return out;
  };
  PolicyMap map;
  ASSERT_TRUE(map.update(response("web")).isOk());
  const SnapshotPtr web = map.snapshot();
  ASSERT_TRUE(map.update(response("web")).isOk());
  EXPECT_EQ(map.snapshot(), web);
  ASSERT_TRUE(map.update(response("api")).isOk());
  EXPECT_NE(map.snapshot(), web);
  EXPECT_EQ(map.snapshot()->names(), std::vector<std::string>{"api"});
  ASSERT_TRUE(map.update(response("")).isOk());  // bare: named by its endpoint id
  EXPECT_EQ(map.snapshot()->names(), std::vector<std::string>{"42"});
  const SnapshotPtr bare = map.snapshot();
  ASSERT_TRUE(map.update(response("42")).isOk());  // that very name, given by a wrapper
  EXPECT_EQ(map.snapshot(), bare);
  ASSERT_TRUE(map.update(response("")).isOk());
  EXPECT_EQ(map.snapshot(), bare);
}

// A delta update does not refuse two policies with one endpoint id; the same resources sent
// as a state of the world are refused, as they would be without a snapshot in force.
TEST(PolicyMapTest, AnUnchangedUpdateIsStillChecked) {
  PolicyMap map;
  envoy::service::discovery::v3::DeltaDiscoveryResponse delta;
  const std::string policy = R"({"@type": "type.googleapis.com/cilium.NetworkPolicy",
      "endpoint_ips": ["IP"], "endpoint_id": 7})";
  auto with = [&policy](const std::string& ip) {
    return std::string(policy).replace(policy.find("IP"), 2, ip);
  };
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  R"({"resources": [{"name": "a", "resource": )" + with("10.0.0.1") +
                      R"(}, {"name": "b", "resource": )" + with("10.0.0.2") + "}]}",
                  &delta)
                  .ok());
  ASSERT_TRUE(map.update(delta).isOk());
  const SnapshotPtr both = map.snapshot();
  ASSERT_EQ(both->policies().size(), 2u);
  envoy::service::discovery::v3::DiscoveryResponse world;
  world.set_type_url("type.googleapis.com/cilium.NetworkPolicy");
  for (int i = 0; i < 2; ++i) {
    envoy::service::discovery::v3::Resource resource;
    resource.set_name(delta.resources(i).name());
    *resource.mutable_resource() = delta.resources(i).resource();
    world.add_resources()->PackFrom(resource);
  }
  const Status status = map.update(world);
  EXPECT_FALSE(status.isOk());
  EXPECT_NE(status.message().find("endpoint_id 7 appears twice"), std::string::npos)
      << status.message();
  EXPECT_EQ(map.snapshot(), both);
}

// Each update's policies, down to their rules' strings, live on the update's arena: an update
// of 10,000 policies is freed in a few blocks, not message by message.
TEST(PolicyMapTest, PoliciesLiveOnTheUpdatesArena) {
  auto map = mapWith(kGood);
  const cilium::NetworkPolicy& config = map->snapshot()->find("10.1.2.3")->config();
  ASSERT_NE(config.GetArena(), nullptr);
  EXPECT_EQ(config.ingress_per_port_policies(0).rules(0).GetArena(), config.GetArena());
  std::vector<cilium::NetworkPolicy> policies(1);
  policies[0].set_endpoint_id(7);
  policies[0].add_endpoint_ips("10.0.0.7");
  ASSERT_TRUE(map->update(std::move(policies)).isOk());
  EXPECT_NE(map->snapshot()->find("10.0.0.7")->config().GetArena(), nullptr);
}

TEST(PolicyMapTest, SnapshotsOutliveUpdates) {
  auto map = mapWith(kGood);
  const SnapshotPtr old = map->snapshot();
  ASSERT_TRUE(apply(*map, "version_info: '2'").isOk());
  EXPECT_TRUE(allowedL4(*old, ingress(1, 80).question()));
  EXPECT_FALSE(l4(*map, ingress(1, 80)));
}

}  // namespace
}  // namespace Testing
}  // namespace Policy
}  // namespace Cilium
