// TLS and L7 choices as data: which TLS context applies, which parser a connection gets, and
// the l7_rules metadata matchers.
#include <google/protobuf/util/json_util.h>

#include "envoy/config/core/v3/base.pb.h"
#include "test_policies.h"

namespace Cilium {
namespace Policy {
namespace Testing {
namespace {

const char* kTls = R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
egress_per_port_policies:
- port: 443
  rules:
  - remote_policies: [1]
    server_names: ["api.example.com"]
    upstream_tls_context: {tls_sds_secret: "client-cert", server_names: ["api.example.com"],
                           alpn_protocols: ["h2", "http/1.1"]}
  - remote_policies: [2]
  - {remote_policies: [3], deny: true}
ingress_per_port_policies:
- port: 8443
  rules:
  - precedence: 5
    remote_policies: [4]
  - precedence: 1
    remote_policies: [4, 5]
    downstream_tls_context: {tls_sds_secret: "server-cert"}
  - {precedence: 3, deny: true, remote_policies: [5]}
)";

TEST(TlsChoiceTest, UpstreamContextOfTheMatchingAllowRule) {
  auto map = mapWith(kTls);
  Flow flow = egress(1, 443);
  flow.sni = "api.example.com";
  TlsChoice choice = upstreamTls(*map->snapshot(), flow.question());
  ASSERT_EQ(choice.kind, TlsChoice::Kind::Tls);
  EXPECT_EQ(choice.context->tls_sds_secret(), "client-cert");
  EXPECT_EQ(choice.context->alpn_protocols_size(), 2);
  EXPECT_EQ(choice.context->server_names(0), "api.example.com");
  // Without the SNI the rule does not apply: identity 1 is then denied.
  flow.sni = "";
  EXPECT_EQ(upstreamTls(*map->snapshot(), flow.question()).kind, TlsChoice::Kind::Denied);
  EXPECT_EQ(upstreamTls(*map->snapshot(), egress(2, 443).question()).kind, TlsChoice::Kind::Plain);
  EXPECT_EQ(upstreamTls(*map->snapshot(), egress(3, 443).question()).kind, TlsChoice::Kind::Denied);
  EXPECT_EQ(upstreamTls(*map->snapshot(), egress(2, 444).question()).kind, TlsChoice::Kind::Denied);
  // The downstream side of the same rules has no context: plain.
  flow.sni = "api.example.com";
  EXPECT_EQ(downstreamTls(*map->snapshot(), flow.question()).kind, TlsChoice::Kind::Plain);
}

TEST(TlsChoiceTest, PrecedenceBetweenPlainAllowTlsAndDeny) {
  auto map = mapWith(kTls);
  // 4: a plain allow at 5 is seen first, but the search goes on to the allow with a context.
  TlsChoice four = downstreamTls(*map->snapshot(), ingress(4, 8443).question());
  ASSERT_EQ(four.kind, TlsChoice::Kind::Tls);
  EXPECT_EQ(four.context->tls_sds_secret(), "server-cert");
  // 5: the deny at 3 comes before the allow at 1.
  EXPECT_EQ(downstreamTls(*map->snapshot(), ingress(5, 8443).question()).kind,
            TlsChoice::Kind::Denied);
  auto higher_allow = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - {precedence: 9, remote_policies: [5]}
  - {precedence: 3, deny: true}
  - {precedence: 1, downstream_tls_context: {}}
)");
  // An allow of higher precedence than the deny stands, without TLS.
  EXPECT_EQ(downstreamTls(*higher_allow->snapshot(), ingress(5, 80).question()).kind,
            TlsChoice::Kind::Plain);
  EXPECT_EQ(downstreamTls(*higher_allow->snapshot(), ingress(6, 80).question()).kind,
            TlsChoice::Kind::Denied);
}

TEST(L7Test, ParserOfTheFirstAllowRuleThatNamesOne) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 9000
  rules:
  - {remote_policies: [1]}
  - {remote_policies: [1, 2], l7_proto: "r2d2"}
  - {remote_policies: [3], deny: true}
  - {remote_policies: [3], l7_proto: "r2d2"}
)");
  EXPECT_EQ(l7Protocol(*map->snapshot(), ingress(1, 9000).question()), "r2d2");
  EXPECT_EQ(l7Protocol(*map->snapshot(), ingress(2, 9000).question()), "r2d2");
  EXPECT_EQ(l7Protocol(*map->snapshot(), ingress(3, 9000).question()), "");
  EXPECT_EQ(l7Protocol(*map->snapshot(), ingress(4, 9000).question()), "");
  EXPECT_EQ(l7Protocol(*map->snapshot(), ingress(1, 9001).question()), "");
}

envoy::config::core::v3::Metadata metadata(const std::string& json) {
  envoy::config::core::v3::Metadata out;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &out).ok()) << json;
  return out;
}

TEST(L7Test, MetadataRulesDenyFirstThenAllow) {
  auto map = mapWith(R"(
endpoint_ips: ["10.1.2.3"]
endpoint_id: 7
ingress_per_port_policies:
- port: 9000
  rules:
  - remote_policies: [1]
    l7_proto: "r2d2"
    l7_rules:
      l7_deny_rules:
      - metadata_rule:
        - {filter: "r2d2", path: [{key: "cmd"}], value: {string_match: {exact: "HALT"}}}
      l7_allow_rules:
      - metadata_rule:
        - {filter: "r2d2", path: [{key: "cmd"}], value: {string_match: {prefix: "READ"}}}
        - {filter: "r2d2", path: [{key: "file"}, {key: "size"}], value: {double_match: {range: {start: 0, end: 100}}}}
      - metadata_rule:
        - {filter: "r2d2", path: [{key: "admin"}], value: {bool_match: true}}
  - remote_policies: [2]
    l7_proto: "r2d2"
)");
  const auto snapshot = map->snapshot();
  const Flow flow = ingress(1, 9000);  // the question points into it
  const auto q = flow.question();
  EXPECT_TRUE(allowedL7(*snapshot, q, metadata(R"({"filter_metadata": {"r2d2":
      {"cmd": "READ-1", "file": {"size": 42}}}})")));
  EXPECT_FALSE(allowedL7(*snapshot, q, metadata(R"({"filter_metadata": {"r2d2":
      {"cmd": "READ-1", "file": {"size": 420}}}})")));
  EXPECT_TRUE(
      allowedL7(*snapshot, q, metadata(R"({"filter_metadata": {"r2d2": {"admin": true}}})")));
  EXPECT_FALSE(allowedL7(*snapshot, q, metadata(R"({"filter_metadata": {"r2d2":
      {"admin": true, "cmd": "HALT"}}})")));
  EXPECT_FALSE(
      allowedL7(*snapshot, q, metadata(R"({"filter_metadata": {"other": {"admin": true}}})")));
  // No l7_rules: every request of a selected remote.
  EXPECT_TRUE(allowedL7(*snapshot, ingress(2, 9000).question(), metadata("{}")));
  EXPECT_FALSE(allowedL7(*snapshot, ingress(3, 9000).question(), metadata("{}")));
}

TEST(L7Test, ValueMatcherKinds) {
  auto check = [](const std::string& value_matcher, const std::string& value, bool invert) {
    auto map = mapWith(R"({"endpoint_ips": ["10.1.2.3"], "endpoint_id": 7,
      "ingress_per_port_policies": [{"port": 1, "rules": [{"l7_proto": "p", "l7_rules":
      {"l7_allow_rules": [{"metadata_rule": [{"filter": "f", "path": [{"key": "k"}],
      "invert": )" + std::string(invert ? "true" : "false") +
                       R"(, "value": )" + value_matcher + "}]}]}}]}]}");
    return allowedL7(
        *map->snapshot(), ingress(1, 1).question(),
        metadata(value.empty() ? std::string("{}")
                               : R"({"filter_metadata": {"f": {"k": )" + value + "}}}"));
  };
  EXPECT_TRUE(check(R"({"null_match": {}})", "null", false));
  EXPECT_FALSE(check(R"({"null_match": {}})", "", false));
  EXPECT_TRUE(check(R"({"double_match": {"exact": 2.5}})", "2.5", false));
  EXPECT_FALSE(check(R"({"double_match": {"exact": 2.5}})", R"("2.5")", false));
  EXPECT_TRUE(check(R"({"present_match": true})", "false", false));
  EXPECT_FALSE(check(R"({"present_match": true})", "", false));
  EXPECT_TRUE(check(R"({"present_match": true})", "", true));
  EXPECT_TRUE(check(R"({"list_match": {"one_of": {"string_match": {"exact": "b"}}}})",
                    R"(["a", "b"])", false));
  EXPECT_FALSE(check(R"({"list_match": {"one_of": {"string_match": {"exact": "c"}}}})",
                     R"(["a", "b"])", false));
  EXPECT_TRUE(check(R"({"or_match": {"value_matchers": [{"bool_match": true},
                        {"string_match": {"suffix": "z"}}]}})",
                    R"("xyz")", false));
  EXPECT_FALSE(check(R"({"string_match": {"exact": "x"}})", "1", false));
}

}  // namespace
}  // namespace Testing
}  // namespace Policy
}  // namespace Cilium
