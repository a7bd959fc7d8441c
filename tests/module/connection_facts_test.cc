#include "cilium-filters/module/connection_facts.h"

#include "cilium-filters/module/policy_store.h"
#include "gtest/gtest.h"
#include "tests/module/test_xds.h"

namespace Cilium {
namespace Module {
namespace {

class ConnectionFactsTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto status = store_.updateHosts(Testing::hosts(
        "1", {R"({"policy": 42, "host_addresses": ["198.51.100.0/24", "2001:db8::/64"]})",
              R"({"policy": 7, "host_addresses": ["10.1.2.3", "f00d::3"]})"}));
    ASSERT_TRUE(status.isOk()) << status.message();
  }
  PolicyStore store_;
};

TEST_F(ConnectionFactsTest, IngressAsksForTheDestinationsPolicyAboutTheSource) {
  ConnectionFacts facts;
  ASSERT_TRUE(ConnectionFacts::fromAddresses(true, 3, "198.51.100.7", 40000, "10.1.2.3", 80,
                                             store_.hosts(), facts));
  EXPECT_EQ(facts.endpointIp(), "10.1.2.3");
  EXPECT_EQ(facts.sourceIdentity(), 42u);
  EXPECT_EQ(facts.remoteIdentity(store_.hosts()), 42u);
  EXPECT_EQ(facts.destinationIdentity(store_.hosts()), 0u);  // Cilium logs 0 for ingress
  const auto question = facts.question(facts.remoteIdentity(store_.hosts()), "sni.example");
  EXPECT_EQ(question.endpoint_ip, "10.1.2.3");
  EXPECT_TRUE(question.ingress);
  EXPECT_EQ(question.remote_id, 42u);
  EXPECT_EQ(question.port, 80);
  EXPECT_EQ(question.proxy_id, 3);
  EXPECT_EQ(question.sni, "sni.example");
  const auto log = facts.logConnection(0, 5);
  EXPECT_EQ(log.policy_name, "10.1.2.3");
  EXPECT_EQ(log.source_address, "198.51.100.7:40000");
  EXPECT_EQ(log.destination_address, "10.1.2.3:80");
  EXPECT_EQ(log.source_identity, 42u);
  EXPECT_EQ(log.proxy_id, 3u);
  EXPECT_EQ(log.timestamp_ns, 5u);
}

TEST_F(ConnectionFactsTest, EgressAsksForTheSourcesPolicyAboutTheDestination) {
  ConnectionFacts facts;
  ASSERT_TRUE(ConnectionFacts::fromAddresses(false, 0, "10.1.2.3", 5000, "198.51.100.9", 443,
                                             store_.hosts(), facts));
  EXPECT_EQ(facts.endpointIp(), "10.1.2.3");
  EXPECT_EQ(facts.sourceIdentity(), 7u);
  EXPECT_EQ(facts.remoteIdentity(store_.hosts()), 42u);
  EXPECT_EQ(facts.destinationIdentity(store_.hosts()), 42u);
  EXPECT_EQ(facts.destinationPort(), 443);
}

TEST_F(ConnectionFactsTest, UnknownAddressesAreWorld) {
  ConnectionFacts facts;
  ASSERT_TRUE(ConnectionFacts::fromAddresses(true, 0, "203.0.113.1", 1, "10.1.2.3", 80,
                                             store_.hosts(), facts));
  EXPECT_EQ(facts.sourceIdentity(), kWorldIdentity);
  ASSERT_TRUE(ConnectionFacts::fromAddresses(false, 0, "10.1.2.3", 1, "203.0.113.1", 80,
                                             store_.hosts(), facts));
  EXPECT_EQ(facts.remoteIdentity(store_.hosts()), 2u);
  EXPECT_EQ(facts.remoteIdentity(nullptr), 2u);
}

TEST_F(ConnectionFactsTest, Ipv6AddressesAreBracketedAndCanonical) {
  ConnectionFacts facts;
  ASSERT_TRUE(ConnectionFacts::fromAddresses(true, 0, "2001:DB8::7", 40000, "f00d:0::3", 80,
                                             store_.hosts(), facts));
  EXPECT_EQ(facts.endpointIp(), "f00d::3");
  EXPECT_EQ(facts.sourceIdentity(), 42u);
  EXPECT_EQ(facts.sourceAddress(), "[2001:db8::7]:40000");
  EXPECT_EQ(facts.destinationAddress(), "[f00d::3]:80");
}

TEST_F(ConnectionFactsTest, SurvivesFilterStateAndRefusesAnythingElse) {
  ConnectionFacts facts;
  ASSERT_TRUE(ConnectionFacts::fromAddresses(false, 65535, "f00d::3", 65535, "198.51.100.1", 8080,
                                             store_.hosts(), facts));
  const std::string text = facts.encode();
  ConnectionFacts back;
  ASSERT_TRUE(ConnectionFacts::decode(text, back));
  EXPECT_EQ(back.endpointIp(), "f00d::3");
  EXPECT_FALSE(back.ingress());
  EXPECT_EQ(back.proxyId(), 65535);
  EXPECT_EQ(back.sourceIdentity(), 7u);
  EXPECT_EQ(back.sourceAddress(), "[f00d::3]:65535");
  EXPECT_EQ(back.destinationAddress(), "198.51.100.1:8080");
  EXPECT_FALSE(ConnectionFacts::decode("", back));
  EXPECT_FALSE(ConnectionFacts::decode(text.substr(1), back));
  std::string wrong = text;
  wrong[0] = 'g';
  EXPECT_FALSE(ConnectionFacts::decode(wrong, back));
  wrong = text;
  wrong[1] = '1';  // another record version
  EXPECT_FALSE(ConnectionFacts::decode(wrong, back));
  EXPECT_FALSE(ConnectionFacts::decode(text + "0", back));  // the texts' lengths disagree
  wrong = text;
  wrong.replace(wrong.find('['), 1, "(");  // the endpoint's text must be bracketed IPv6
  EXPECT_FALSE(ConnectionFacts::decode(wrong, back));
}

TEST_F(ConnectionFactsTest, NonIpAddressesGiveNoFacts) {
  ConnectionFacts facts;
  EXPECT_FALSE(ConnectionFacts::fromAddresses(true, 0, "/tmp/sock", 0, "10.1.2.3", 80,
                                              store_.hosts(), facts));
  EXPECT_FALSE(ConnectionFacts::fromAddresses(true, 0, "10.0.0.1", 70000, "10.1.2.3", 80,
                                              store_.hosts(), facts));
}

}  // namespace
}  // namespace Module
}  // namespace Cilium
