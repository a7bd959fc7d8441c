// The protos' validate rules, as protoc-gen-validate's generated validators check them.
#include "cilium-filters/policy/xds/proto_rules.h"

#include <google/protobuf/util/json_util.h>

#include "cilium/api/npds.pb.h"
#include "cilium/api/npds.pb.validate.h"
#include "cilium/api/nphds.pb.h"
#include "cilium/api/nphds.pb.validate.h"
#include "envoy/config/route/v3/route_components.pb.validate.h"
#include "envoy/type/matcher/v3/metadata.pb.h"
#include "envoy/type/matcher/v3/metadata.pb.validate.h"
#include "gtest/gtest.h"

namespace Cilium {
namespace Policy {
namespace {

template <class Message>
Status check(const std::string& json) {
  Message message;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, &message);
  EXPECT_TRUE(parsed.ok()) << json;
  return checkProtoRules(message);
}

bool contains(const Status& status, const std::string& text) {
  return status.message().find(text) != std::string::npos;
}

TEST(ProtoRulesTest, AcceptsAValidPolicy) {
  const Status status = check<cilium::NetworkPolicy>(R"({
    "endpoint_ips": ["10.1.2.3", "f00d::1"], "endpoint_id": 1,
    "ingress_per_port_policies": [{"port": 65535, "end_port": 65535, "rules": [
      {"proxy_id": 65535, "server_names": ["*.a.b", "**.c", "x"],
       "http_rules": {"http_rules": [{"headers": [{"name": ":path", "exact_match": "/"}],
                                      "header_matches": [{"name": "x"}]}]}}]}]})");
  EXPECT_TRUE(status.isOk()) << status.message();
}

TEST(ProtoRulesTest, NamesTheFieldPath) {
  const Status status = check<cilium::NetworkPolicy>(R"({
    "endpoint_ips": ["10.1.2.3"], "endpoint_id": 1,
    "egress_per_port_policies": [{"port": 1}, {"port": 2, "rules": [
      {}, {"server_names": ["ok", "not ok"]}]}]})");
  ASSERT_FALSE(status.isOk());
  // protoc-gen-validate's words, as Envoy logs them: each level names the message and the
  // field, "caused by" the level below.
  for (const char* level : {"NetworkPolicyValidationError.EgressPerPortPolicies[1]",
                            "PortNetworkPolicyValidationError.Rules[1]",
                            "PortNetworkPolicyRuleValidationError.ServerNames[1]",
                            "value does not match regex pattern"}) {
    EXPECT_TRUE(contains(status, level)) << status.message() << "\nwanted: " << level;
  }
}

TEST(ProtoRulesTest, RepeatedCounts) {
  EXPECT_FALSE(check<cilium::NetworkPolicy>(R"({"endpoint_id": 1})").isOk());
  using cilium::NetworkPolicy;
  EXPECT_FALSE(
      check<NetworkPolicy>(R"({"endpoint_ips": ["a", "b", "c"], "endpoint_id": 1})").isOk());
  EXPECT_TRUE(check<NetworkPolicy>(R"({"endpoint_ips": ["a", "b"], "endpoint_id": 1})").isOk());
  EXPECT_TRUE(contains(check<NetworkPolicy>(R"({"endpoint_ips": [""], "endpoint_id": 1})"),
                       "NetworkPolicyValidationError.EndpointIps[0]: value length must be"));
}

TEST(ProtoRulesTest, UniqueItems) {
  EXPECT_TRUE(
      check<cilium::NetworkPolicyHosts>(R"({"policy": 1, "host_addresses": ["a", "b"]})").isOk());
  const Status status =
      check<cilium::NetworkPolicyHosts>(R"({"policy": 1, "host_addresses": ["a", "a"]})");
  EXPECT_FALSE(status.isOk());
  EXPECT_TRUE(contains(status, "unique")) << status.message();
}

TEST(ProtoRulesTest, RequiredMessagesAndOneofsInEnvoyTypes) {
  using envoy::type::matcher::v3::MetadataMatcher;
  const Status valid = check<MetadataMatcher>(R"({"filter": "f", "path": [{"key": "k"}],
                                                  "value": {"string_match": {"exact": "v"}}})");
  EXPECT_TRUE(valid.isOk()) << valid.message();
  EXPECT_FALSE(check<MetadataMatcher>(R"({"filter": "f", "path": [{"key": "k"}]})").isOk());
  EXPECT_FALSE(
      check<MetadataMatcher>(R"({"filter": "f", "path": [{"key": "k"}], "value": {}})").isOk());
  EXPECT_FALSE(check<MetadataMatcher>(R"({"filter": "", "path": [{"key": "k"}],
                                          "value": {"present_match": true}})")
                   .isOk());
  EXPECT_FALSE(check<MetadataMatcher>(R"({"filter": "f", "path": [],
                                          "value": {"present_match": true}})")
                   .isOk());
  // or_match needs two or more matchers.
  EXPECT_FALSE(check<MetadataMatcher>(R"({"filter": "f", "path": [{"key": "k"}],
      "value": {"or_match": {"value_matchers": [{"present_match": true}]}}})")
                   .isOk());
}

// The validators of Envoy's messages are reached only through the ones embedding them
// (each registers itself): this fails if their code is not linked in.
TEST(ProtoRulesTest, EnvoyMessagesInsideOursAreChecked) {
  const Status header = check<cilium::NetworkPolicy>(R"({
    "endpoint_ips": ["10.1.2.3"], "endpoint_id": 1, "ingress_per_port_policies": [{"port": 80,
      "rules": [{"http_rules": {"http_rules": [{"headers": [{"name": ""}]}]}}]}]})");
  EXPECT_TRUE(contains(header, "HeaderMatcherValidationError.Name")) << header.message();
  const Status metadata = check<cilium::NetworkPolicy>(R"({
    "endpoint_ips": ["10.1.2.3"], "endpoint_id": 1, "ingress_per_port_policies": [{"port": 80,
      "rules": [{"l7_proto": "x", "l7_rules": {"l7_allow_rules": [{"metadata_rule": [
        {"filter": "f", "path": [{"key": "k"}]}]}]}}]}]})");
  EXPECT_TRUE(contains(metadata, "MetadataMatcherValidationError.Value")) << metadata.message();
}

TEST(ProtoRulesTest, StringLengthCountsCharacters) {
  // topic: max_len 255 in characters; the pattern allows ASCII only anyway.
  std::string topic(255, 'a');
  EXPECT_TRUE(check<cilium::KafkaNetworkPolicyRule>("{\"topic\": \"" + topic + "\"}").isOk());
  EXPECT_FALSE(check<cilium::KafkaNetworkPolicyRule>("{\"topic\": \"" + topic + "a\"}").isOk());
  EXPECT_FALSE(check<cilium::KafkaNetworkPolicyRule>(R"({"client_id": "a/b"})").isOk());
}

TEST(ProtoRulesTest, HeaderNameRulesAsEnvoyChecksThem) {
  // min_len 1, and well_known_regex HTTP_HEADER_NAME with strict: false, which
  // protoc-gen-validate turns into a pattern refusing only NUL, CR and LF (Envoy 1.38.3
  // refuses such a route the same way).
  using envoy::config::route::v3::HeaderMatcher;
  EXPECT_FALSE(check<HeaderMatcher>(R"({"name": ""})").isOk());
  EXPECT_TRUE(check<HeaderMatcher>(R"({"name": "x y"})").isOk());
  const Status newline = check<HeaderMatcher>(R"({"name": "x\ny"})");
  EXPECT_TRUE(contains(newline, "HeaderMatcherValidationError.Name: value does not match regex"))
      << newline.message();
  EXPECT_FALSE(check<HeaderMatcher>(R"({"name": "x\u0000y"})").isOk());
}

}  // namespace
}  // namespace Policy
}  // namespace Cilium
