// The compact L4 index that answers most connection checks must agree with evaluating the
// rules one by one (what `explain` shows), on many generated policies and questions.
#include <random>

#include "test_policies.h"

namespace Cilium {
namespace Policy {
namespace Testing {
namespace {

// `wide` policies have many port ranges and many identities per rule, so that the index's
// sorted lists are searched rather than counted.
cilium::NetworkPolicy randomPolicy(std::mt19937& random, bool wide = false) {
  auto pick = [&](int n) { return static_cast<int>(random() % static_cast<uint32_t>(n)); };
  cilium::NetworkPolicy policy;
  policy.add_endpoint_ips("10.1.2.3");
  policy.set_endpoint_id(1);
  for (bool ingress : {true, false}) {
    const int entries = wide ? 30 + pick(20) : pick(5);
    for (int e = 0; e < entries; ++e) {
      auto* entry =
          ingress ? policy.add_ingress_per_port_policies() : policy.add_egress_per_port_policies();
      const int port = pick(4) == 0 ? 0 : 1 + pick(wide ? 400 : 20);
      entry->set_port(static_cast<uint32_t>(port));
      if (port != 0 && pick(2) == 0) {
        entry->set_end_port(static_cast<uint32_t>(port + pick(10)));
      }
      const int rules = pick(4);
      for (int r = 0; r < rules; ++r) {
        auto* rule = entry->add_rules();
        rule->set_precedence(static_cast<uint32_t>(pick(4)) * 10);
        switch (pick(5)) {
          case 0:
            rule->set_deny(true);
            break;
          case 1:
            if (!wide && rule->precedence() > 0) {
              rule->set_pass_precedence(rule->precedence() - static_cast<uint32_t>(pick(2)) * 5);
            }
            break;
          default:
            break;
        }
        const int remotes = wide ? pick(60) : pick(4);
        for (int i = 0; i < remotes; ++i) {
          rule->add_remote_policies(static_cast<uint32_t>(1 + pick(wide ? 100 : 6)));
        }
        if (!wide && pick(6) == 0) {
          rule->set_proxy_id(static_cast<uint32_t>(1 + pick(2)));
        }
        if (pick(6) == 0) {
          rule->add_server_names(pick(2) ? "*.example.com" : "api.example.com");
        }
      }
    }
  }
  return policy;
}

TEST(L4IndexTest, AgreesWithRuleByRuleEvaluation) {
  std::mt19937 random(20261201);
  int compared = 0;
  int accepted = 0;
  for (int round = 0; round < 600; ++round) {
    PolicyMap map;
    std::vector<cilium::NetworkPolicy> policies{randomPolicy(random)};
    if (!map.update(std::move(policies))) {
      continue;  // e.g. pass tiers that disagree
    }
    ++accepted;
    const SnapshotPtr snapshot = map.snapshot();
    for (bool ingress : {true, false}) {
      for (uint32_t port = 0; port <= 32; ++port) {
        for (uint32_t remote = 0; remote <= 7; ++remote) {
          for (uint16_t proxy_id : {0, 1}) {
            for (const char* sni : {"", "api.example.com", "other.org"}) {
              FlowQuestion question;
              question.endpoint_ip = "10.1.2.3";
              question.ingress = ingress;
              question.port = static_cast<uint16_t>(port);
              question.remote_id = remote;
              question.proxy_id = proxy_id;
              question.sni = sni;
              const Explanation full =
                  explain(*snapshot, question, nullptr, nullptr, map.secrets());
              ASSERT_EQ(allowedL4(*snapshot, question), full.l4_allowed)
                  << "round " << round << " ingress " << ingress << " port " << port << " remote "
                  << remote << " proxy " << proxy_id << " sni '" << sni << "'";
              ++compared;
            }
          }
        }
      }
    }
  }
  EXPECT_GT(accepted, 200);
  EXPECT_GT(compared, 100000);
}

TEST(L4IndexTest, AgreesOnWidePolicies) {
  std::mt19937 random(20261202);
  auto pick = [&](int n) { return static_cast<uint32_t>(random() % static_cast<uint32_t>(n)); };
  int compared = 0;
  int searched = 0;  // questions on a piece with more identities than are counted linearly
  for (int round = 0; round < 60; ++round) {
    PolicyMap map;
    std::vector<cilium::NetworkPolicy> policies{randomPolicy(random, true)};
    if (!map.update(std::move(policies))) {
      continue;
    }
    const SnapshotPtr snapshot = map.snapshot();
    const EndpointPolicy* policy = snapshot->find("10.1.2.3");
    ASSERT_NE(policy, nullptr);
    for (int q = 0; q < 3000; ++q) {
      FlowQuestion question;
      question.endpoint_ip = "10.1.2.3";
      question.ingress = pick(2) == 0;
      question.port = static_cast<uint16_t>(pick(420));
      question.remote_id = pick(102);
      question.proxy_id = static_cast<uint16_t>(pick(2));
      question.sni = pick(3) == 0 ? "api.example.com" : "";
      const Explanation full = explain(*snapshot, question, nullptr, nullptr, map.secrets());
      ASSERT_EQ(allowedL4(*snapshot, question), full.l4_allowed)
          << "round " << round << " ingress " << question.ingress << " port " << question.port
          << " remote " << question.remote_id << " proxy " << question.proxy_id << " sni '"
          << question.sni << "'";
      ++compared;
      const PortTable& table = policy->table(question.ingress);
      const PortTable::Piece* piece = table.find(question.port);
      if (piece != nullptr && piece->l4_table && piece->l4_count > PortTable::kLinearRank) {
        ++searched;
      }
    }
  }
  EXPECT_GT(compared, 100000);
  EXPECT_GT(searched, 1000);
}

}  // namespace
}  // namespace Testing
}  // namespace Policy
}  // namespace Cilium
