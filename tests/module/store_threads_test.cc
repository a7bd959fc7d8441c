// Workers read the policy and host snapshots without a lock while updates replace them
// (run under ThreadSanitizer by `nox -s sanitize`).
#include <atomic>
#include <thread>
#include <vector>

#include "cilium-filters/module/policy_store.h"
#include "cilium-filters/policy/decide/decisions.h"
#include "gtest/gtest.h"
#include "tests/module/test_xds.h"

namespace Cilium {
namespace Module {
namespace {

TEST(StoreThreads, LookupsRaceUpdates) {
  PolicyStore store;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> allowed{0};
  std::atomic<uint64_t> lookups{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 2; ++i) {
    workers.emplace_back([&] {
      Policy::IpAddress source;
      Policy::IpAddress::parse("198.51.100.7", source);
      while (!done.load()) {
        const Policy::HostMap* hosts = store.hosts();
        const uint64_t remote = hosts->resolve(source);
        Policy::FlowQuestion question;
        question.endpoint_ip = "10.1.2.3";
        question.ingress = true;
        question.remote_id = static_cast<uint32_t>(remote == 0 ? 2 : remote);
        question.port = 80;
        if (Policy::allowedL4(store.policies(), question)) {
          allowed.fetch_add(1);
        }
        // The counted path too (tools and tests keep snapshots that way).
        EXPECT_LE(store.policySnapshot()->policies().size(), 1u);
        EXPECT_NE(store.hostSnapshot(), nullptr);
        lookups.fetch_add(1);
      }
      store.collect();  // harmless from any thread
    });
  }
  for (int version = 1; version <= 200; ++version) {
    const std::string v = std::to_string(version);
    ASSERT_TRUE(store.updatePolicies(Testing::policies(v, {Testing::kPolicy})).isOk());
    ASSERT_TRUE(store
                    .updateHosts(Testing::hosts(
                        v, {R"({"policy": )" + std::to_string(version % 2 ? 42 : 43) +
                            R"(, "host_addresses": ["198.51.100.0/24"]})"}))
                    .isOk());
    store.collect();
  }
  // Let the readers see the last state before stopping them.
  const uint64_t seen = lookups.load();
  while (lookups.load() < seen + 100) {
    std::this_thread::yield();
  }
  done = true;
  for (auto& worker : workers) {
    worker.join();
  }
  EXPECT_GT(allowed.load(), 0u);
  // Version 200 maps the source to 43, which the policy does not allow.
  Policy::IpAddress source;
  Policy::IpAddress::parse("198.51.100.7", source);
  EXPECT_EQ(store.hosts()->resolve(source), 43u);
  EXPECT_EQ(store.collect(), 0u);
}

}  // namespace
}  // namespace Module
}  // namespace Cilium
