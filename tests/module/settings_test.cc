#include "cilium-filters/module/settings.h"

#include "gtest/gtest.h"

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
  ASSERT_TRUE(parseNetworkSettings(R"({"access_log_path": "/tmp/n.sock", "proxylib": ""})",
                                   settings)
                  .isOk());
  EXPECT_EQ(settings.access_log_path, "/tmp/n.sock");
}

} // namespace
} // namespace Module
} // namespace Cilium
