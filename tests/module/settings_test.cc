#include "cilium-filters/module/settings.h"

#include <cstdlib>

#include "cilium-filters/module/policy_store.h"
#include "gtest/gtest.h"
#include "test_xds.h"

namespace Cilium {
namespace Module {
namespace {

TEST(ListenerSettings, ReadsDirectionProxyIdAndTheAgentSocket) {
  ListenerSettings settings;
  const auto status = parseListenerSettings(R"({
    "is_ingress": true, "proxy_id": 17, "bpf_root": "/sys/fs/bpf", "use_nphds": true,
    "cilium_config_source": {"api_config_source": {"api_type": "GRPC",
      "transport_api_version": "V3",
      "grpc_services": [{"google_grpc": {"target_uri": "unix:/tmp/x/xds.sock",
                                          "stat_prefix": "xds"}}]}}})",
                                            settings);
  ASSERT_TRUE(status.isOk()) << status.message();
  EXPECT_TRUE(settings.ingress);
  EXPECT_EQ(settings.proxy_id, 17);
  EXPECT_EQ(settings.xds_target, "unix:/tmp/x/xds.sock");
}

TEST(ListenerSettings, EmptyConfigurationIsEgressOnCiliumsSocket) {
  ListenerSettings settings;
  ASSERT_TRUE(parseListenerSettings("", settings).isOk());
  EXPECT_FALSE(settings.ingress);
  EXPECT_EQ(settings.xds_target, "unix:/var/run/cilium/envoy/sockets/xds.sock");
  ASSERT_TRUE(parseListenerSettings("{}", settings).isOk());
  EXPECT_EQ(settings.xds_target, kDefaultXdsTarget);
}

TEST(ListenerSettings, RefusesWhatItCannotHonour) {
  ListenerSettings settings;
  auto status = parseListenerSettings(R"({"is_ingres": true})", settings);
  EXPECT_FALSE(status.isOk());
  EXPECT_NE(status.message().find("cilium.BpfMetadata"), std::string::npos) << status.message();
  EXPECT_FALSE(parseListenerSettings(R"({"proxy_id": 70000})", settings).isOk());
  status = parseListenerSettings(R"({"cilium_config_source": {"api_config_source": {
      "grpc_services": [{"envoy_grpc": {"cluster_name": "xds-grpc-cilium"}}]}}})",
                                 settings);
  EXPECT_FALSE(status.isOk());
  EXPECT_NE(status.message().find("google_grpc.target_uri"), std::string::npos);
  EXPECT_FALSE(parseListenerSettings("not json", settings).isOk());
}

TEST(HttpSettings, DeniedBodyDefaultsAndEndsInCrLf) {
  HttpSettings settings;
  ASSERT_TRUE(parseHttpSettings(R"({"access_log_path": "/tmp/a.sock"})", settings).isOk());
  EXPECT_EQ(settings.access_log_path, "/tmp/a.sock");
  EXPECT_EQ(settings.denied_body, "Access denied\r\n");
  ASSERT_TRUE(parseHttpSettings(R"({"denied_403_body": "No"})", settings).isOk());
  EXPECT_EQ(settings.denied_body, "No\r\n");
  ASSERT_TRUE(parseHttpSettings(R"({"denied_403_body": "No\r\n"})", settings).isOk());
  EXPECT_EQ(settings.denied_body, "No\r\n");
  ASSERT_TRUE(parseHttpSettings(R"({"denied_403_body": "x"})", settings).isOk());
  EXPECT_EQ(settings.denied_body, "x\r\n");
  EXPECT_FALSE(parseHttpSettings(R"({"policy_name": "x"})", settings).isOk());
}

TEST(NetworkSettings, ReadsTheAccessLogPath) {
  NetworkSettings settings;
  ASSERT_TRUE(
      parseNetworkSettings(R"({"access_log_path": "/tmp/n.sock", "proxylib": ""})", settings)
          .isOk());
  EXPECT_EQ(settings.access_log_path, "/tmp/n.sock");
}

// A path regex of 134 RE2 instructions (cilium/cilium#48773 took two nodes down with one).
const std::string kLongRegexPolicy = R"json({
  "endpoint_ips": ["10.1.2.3"], "endpoint_id": 7,
  "ingress_per_port_policies": [{"port": 80, "rules": [{"http_rules": {"http_rules": [
    {"headers": [{"name": ":path", "safe_regex_match": {"regex":
      "/api/v1/(users|teams|projects|reports|settings)/[a-z0-9-]{1,12}/(view|edit)"}}]}]}}]}]})json";

// The environment variable is read when a listener's configuration is parsed.
class ScopedVariable {
public:
  explicit ScopedVariable(const char* value) {
    if (value == nullptr) {
      unsetenv(kMaxProgramSizeVariable);
    } else {
      setenv(kMaxProgramSizeVariable, value, 1);
    }
  }
  ~ScopedVariable() { unsetenv(kMaxProgramSizeVariable); }
};

TEST(ListenerSettings, RegexLimitIsEnvoysDefaultUnlessTheEnvironmentRaisesIt) {
  ListenerSettings settings;
  {
    ScopedVariable unset(nullptr);
    ASSERT_TRUE(parseListenerSettings("{}", settings).isOk());
    EXPECT_EQ(settings.max_program_size, 100u);
  }
  {
    ScopedVariable raised("1000");
    ASSERT_TRUE(parseListenerSettings("{}", settings).isOk());
    EXPECT_EQ(settings.max_program_size, 1000u);
  }
  for (const char* bad : {"lots", "0", "-5", "4294967296", "1e3"}) {
    ScopedVariable wrong(bad);
    const auto status = parseListenerSettings("{}", settings);
    EXPECT_FALSE(status.isOk()) << bad;
    EXPECT_NE(status.message().find(kMaxProgramSizeVariable), std::string::npos)
        << status.message();
  }
}

TEST(PolicyStore, RefusesARegexOverTheLimitUntilTheLimitIsRaised) {
  PolicyStore store;
  const auto response = Testing::policies("1", {kLongRegexPolicy});
  const auto refused = store.updatePolicies(response);
  ASSERT_FALSE(refused.isOk());
  EXPECT_NE(refused.message().find("above the limit of 100"), std::string::npos)
      << refused.message();
  EXPECT_EQ(store.policies().find("10.1.2.3"), nullptr);

  ScopedVariable raised("200");
  ListenerSettings settings;
  ASSERT_TRUE(parseListenerSettings("{}", settings).isOk());
  store.setMaxProgramSize(settings.max_program_size);
  const auto accepted = store.updatePolicies(response);
  ASSERT_TRUE(accepted.isOk()) << accepted.message();
  EXPECT_NE(store.policies().find("10.1.2.3"), nullptr);
}

}  // namespace
}  // namespace Module
}  // namespace Cilium
