#include "cilium-filters/policy/proto_validate.h"

#include <google/protobuf/util/json_util.h>

#include "cilium/api/npds.pb.h"
#include "cilium/api/nphds.pb.h"
#include "envoy/type/matcher/v3/metadata.pb.h"
#include "gtest/gtest.h"

namespace Cilium {
namespace Policy {
namespace {

template <class Message> Status check(const std::string& json) {
  Message message;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, &message);
  EXPECT_TRUE(parsed.ok()) << json;
  return validateMessage(message);
}

TEST(ProtoValidateTest, AcceptsAValidPolicy) {
  const Status status = check<cilium::NetworkPolicy>(R"({
    "endpoint_ips": ["10.1.2.3", "f00d::1"], "endpoint_id": 1,
    "ingress_per_port_policies": [{"port": 65535, "end_port": 65535, "rules": [
      {"proxy_id": 65535, "server_names": ["*.a.b", "**.c", "x"],
       "http_rules": {"http_rules": [{"headers": [{"name": ":path", "exact_match": "/"}],
                                      "header_matches": [{"name": "x"}]}]}}]}]})");
  EXPECT_TRUE(status.isOk()) << status.message();
}

TEST(ProtoValidateTest, NamesTheFieldPath) {
  const Status status = check<cilium::NetworkPolicy>(R"({
    "endpoint_ips": ["10.1.2.3"], "endpoint_id": 1,
    "egress_per_port_policies": [{"port": 1}, {"port": 2, "rules": [
      {}, {"server_names": ["ok", "not ok"]}]}]})");
  ASSERT_FALSE(status.isOk());
  EXPECT_EQ(status.message().rfind("egress_per_port_policies[1].rules[1].server_names[1]: ", 0), 0u)
      << status.message();
}

TEST(ProtoValidateTest, RepeatedCounts) {
  EXPECT_FALSE(check<cilium::NetworkPolicy>(R"({"endpoint_id": 1})").isOk());
  EXPECT_FALSE(
      check<cilium::NetworkPolicy>(R"({"endpoint_ips": ["a", "b", "c"], "endpoint_id": 1})").isOk());
  EXPECT_TRUE(check<cilium::NetworkPolicy>(R"({"endpoint_ips": ["a", "b"], "endpoint_id": 1})").isOk());
}

TEST(ProtoValidateTest, UniqueItems) {
  EXPECT_TRUE(check<cilium::NetworkPolicyHosts>(R"({"policy": 1, "host_addresses": ["a", "b"]})")
                  .isOk());
  const Status status =
      check<cilium::NetworkPolicyHosts>(R"({"policy": 1, "host_addresses": ["a", "a"]})");
  EXPECT_FALSE(status.isOk());
  EXPECT_NE(status.message().find("unique"), std::string::npos);
}

TEST(ProtoValidateTest, RequiredMessagesAndOneofsInEnvoyTypes) {
  using envoy::type::matcher::v3::MetadataMatcher;
  const Status valid = check<MetadataMatcher>(R"({"filter": "f", "path": [{"key": "k"}],
                                                  "value": {"string_match": {"exact": "v"}}})");
  EXPECT_TRUE(valid.isOk()) << valid.message();
  EXPECT_FALSE(check<MetadataMatcher>(R"({"filter": "f", "path": [{"key": "k"}]})").isOk());
  EXPECT_FALSE(check<MetadataMatcher>(R"({"filter": "f", "path": [{"key": "k"}], "value": {}})")
                   .isOk());
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

TEST(ProtoValidateTest, StringLengthCountsCharacters) {
  // topic: max_len 255 in characters; the pattern allows ASCII only anyway.
  std::string topic(255, 'a');
  EXPECT_TRUE(check<cilium::KafkaNetworkPolicyRule>("{\"topic\": \"" + topic + "\"}").isOk());
  EXPECT_FALSE(check<cilium::KafkaNetworkPolicyRule>("{\"topic\": \"" + topic + "a\"}").isOk());
  EXPECT_FALSE(check<cilium::KafkaNetworkPolicyRule>(R"({"client_id": "a/b"})").isOk());
}

TEST(ProtoValidateTest, HeaderNameRulesAsEnvoyChecksThem) {
  // min_len 1 holds; the well-known header-name regex is not checked by Envoy's C++ validator.
  EXPECT_FALSE(check<envoy::config::route::v3::HeaderMatcher>(R"({"name": ""})").isOk());
  EXPECT_TRUE(check<envoy::config::route::v3::HeaderMatcher>(R"({"name": "x y"})").isOk());
}

} // namespace
} // namespace Policy
} // namespace Cilium
