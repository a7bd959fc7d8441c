// Worker threads decide with snapshots while updates build and swap in the next ones: every
// answer must come from one consistent snapshot. Run under ThreadSanitizer by
// `nox -s sanitize` (the policy_threads_test binary), and as a plain test everywhere else.
#include <google/protobuf/util/json_util.h>

#include <atomic>
#include <thread>

#include "cilium-filters/policy/hosts/host_map_store.h"
#include "test_policies.h"

namespace Cilium {
namespace Policy {
namespace Testing {
namespace {

// Generation g allows remote g on port 1000 + g % 50 of endpoint 10.0.0.1, and HTTP GET /g.
std::string generation(uint64_t g) {
  const std::string port = std::to_string(1000 + g % 50);
  return R"({"resources": [{"@type": "type.googleapis.com/cilium.NetworkPolicy",
    "endpoint_ips": ["10.0.0.1"], "endpoint_id": )" +
         std::to_string(g + 1) + R"(, "ingress_per_port_policies": [{"port": )" + port +
         R"(, "rules": [{"remote_policies": [)" + std::to_string(g) +
         R"(], "http_rules": {"http_rules": [{"headers": [{"name": ":path", "exact_match": "/)" +
         std::to_string(g) + R"("}]}]}}]}]}, {"@type": "type.googleapis.com/cilium.NetworkPolicy",
    "endpoint_ips": ["10.0.0.2"], "endpoint_id": 1000000, "ingress_per_port_policies": [{"port": 80}]}]})";
}

TEST(ThreadsTest, ReadersSeeWholeSnapshotsWhileUpdatesSwap) {
  constexpr uint64_t kGenerations = 300;
  std::vector<envoy::service::discovery::v3::DiscoveryResponse> updates(kGenerations);
  for (uint64_t g = 0; g < kGenerations; ++g) {
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(generation(g), &updates[g]).ok());
  }
  PolicyMap map;
  ASSERT_TRUE(map.update(updates[0]).isOk());
  HostMapStore hosts;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> checks{0};
  std::atomic<uint64_t> wrong{0};

  auto reader = [&] {
    const NoSecrets secrets;
    while (!done.load(std::memory_order_relaxed)) {
      const SnapshotPtr snapshot = map.snapshot();
      const EndpointPolicy* policy = snapshot->find("10.0.0.1");
      if (policy == nullptr) {
        ++wrong;
        continue;
      }
      const uint64_t g = policy->endpointId() - 1;
      FlowQuestion q;
      q.endpoint_ip = "10.0.0.1";
      q.remote_id = static_cast<uint32_t>(g);
      q.port = static_cast<uint16_t>(1000 + g % 50);
      RequestHeaders headers(
          std::vector<std::pair<std::string, std::string>>{{":path", "/" + std::to_string(g)}});
      HeaderLog log;
      const bool ok = allowedL4(*snapshot, q) && allowedHttp(*snapshot, q, headers, log, secrets);
      q.remote_id += 1;  // another generation's remote: denied in this one
      if (!ok || allowedL4(*snapshot, q) || snapshot->find("10.0.0.2") == nullptr) {
        ++wrong;
      }
      IpAddress address;
      IpAddress::parse("10.1.2.3", address);
      (void)hosts.snapshot()->resolve(address);
      ++checks;
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back(reader);
  }
  envoy::service::discovery::v3::DiscoveryResponse host_update;
  for (uint64_t g = 1; g < kGenerations; ++g) {
    ASSERT_TRUE(map.update(updates[g]).isOk());
    host_update.Clear();
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                    R"({"resources": [{"@type": "type.googleapis.com/cilium.NetworkPolicyHosts",
                        "policy": )" +
                        std::to_string(g) + R"(, "host_addresses": ["10.1.0.0/16"]}]})",
                    &host_update)
                    .ok());
    ASSERT_TRUE(hosts.update(host_update).isOk());
  }
  done = true;
  for (auto& thread : readers) {
    thread.join();
  }
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_GT(checks.load(), 0u);
}

}  // namespace
}  // namespace Testing
}  // namespace Policy
}  // namespace Cilium
