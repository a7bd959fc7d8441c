// NPHDS: which identity owns an address, by longest prefix; strict host entries; deltas.
#include <google/protobuf/util/json_util.h>

#include "cilium-filters/policy/hosts/host_map_store.h"
#include "cilium/api/nphds.pb.h"
#include "cilium/api/nphds.pb.validate.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "gtest/gtest.h"

namespace Cilium {
namespace Policy {
namespace {

cilium::NetworkPolicyHosts hosts(uint64_t identity, std::vector<std::string> addresses) {
  cilium::NetworkPolicyHosts out;
  out.set_policy(identity);
  for (auto& address : addresses) {
    out.add_host_addresses(address);
  }
  return out;
}

Status build(const std::vector<cilium::NetworkPolicyHosts>& all,
             std::shared_ptr<const HostMap>& out) {
  std::vector<const cilium::NetworkPolicyHosts*> pointers;
  for (const auto& h : all) {
    pointers.push_back(&h);
  }
  return HostMap::build(pointers, out);
}

uint64_t resolve(const HostMap& map, const char* ip) {
  IpAddress address;
  EXPECT_TRUE(IpAddress::parse(ip, address)) << ip;
  return map.resolve(address);
}

TEST(HostMapTest, LongestPrefixWins) {
  std::shared_ptr<const HostMap> map;
  ASSERT_TRUE(build({hosts(1, {"10.0.0.0/8", "0.0.0.0/0"}), hosts(2, {"10.1.0.0/16"}),
                     hosts(3, {"10.1.2.3", "10.1.2.0/31"}), hosts(4, {"::/0", "f00d::/16"}),
                     hosts(5, {"f00d::1/128", "f00d:1::/32"})},
                    map)
                  .isOk());
  EXPECT_EQ(resolve(*map, "10.1.2.3"), 3u);
  EXPECT_EQ(resolve(*map, "10.1.2.1"), 3u);  // 10.1.2.0/31
  EXPECT_EQ(resolve(*map, "10.1.2.4"), 2u);
  EXPECT_EQ(resolve(*map, "10.2.0.1"), 1u);
  EXPECT_EQ(resolve(*map, "192.168.0.1"), 1u);  // 0.0.0.0/0
  EXPECT_EQ(resolve(*map, "f00d::1"), 5u);
  EXPECT_EQ(resolve(*map, "f00d:1::9"), 5u);
  EXPECT_EQ(resolve(*map, "f00d:2::9"), 4u);
  EXPECT_EQ(resolve(*map, "2001:db8::1"), 4u);
  // IPv4 and IPv6 are apart: ::/0 does not cover IPv4.
  std::shared_ptr<const HostMap> v6_only;
  ASSERT_TRUE(build({hosts(4, {"::/0"})}, v6_only).isOk());
  EXPECT_EQ(resolve(*v6_only, "10.0.0.1"), 0u);
  EXPECT_EQ(resolve(*v6_only, "::ffff:10.0.0.1"), 4u);
}

TEST(HostMapTest, NoEntryIsIdentityZero) {
  std::shared_ptr<const HostMap> map;
  ASSERT_TRUE(build({hosts(7, {"10.0.0.1"})}, map).isOk());
  EXPECT_EQ(resolve(*map, "10.0.0.2"), 0u);
  ASSERT_TRUE(build({}, map).isOk());
  EXPECT_EQ(resolve(*map, "10.0.0.1"), 0u);
  EXPECT_EQ(map->size(), 0u);
}

TEST(HostMapTest, AddressesParseWholeOrNotAtAll) {
  IpAddress address;
  ASSERT_TRUE(IpAddress::parse("F00D:0::1", address));
  EXPECT_EQ(address.text(), "f00d::1");
  ASSERT_TRUE(IpAddress::parse("10.1.2.3", address));
  EXPECT_EQ(address.text(), "10.1.2.3");
  // A NUL would end the text for inet_pton: what follows it must not be ignored.
  EXPECT_FALSE(IpAddress::parse(std::string("10.1.2.3\0junk", 13), address));
  EXPECT_FALSE(IpAddress::parse("10.1.2.3 ", address));
  EXPECT_FALSE(IpAddress::parse(std::string(70, '1'), address));
  EXPECT_EQ(canonicalIp(std::string("10.1.2.3\0x", 10)), std::string("10.1.2.3\0x", 10));
  EXPECT_EQ(canonicalIp("F00D:0::1"), "f00d::1");
}

TEST(HostMapTest, StrictEntries) {
  std::shared_ptr<const HostMap> map;
  for (const char* bad : {"10.0.0.1/33", "f00d::/129", "10.0.0.1/24", "10.0.0.0/", "10.0.0.0/08",
                          "10.0.0.0/ 8", "10.0.0.0/8x", "10.0.0.0/-1", "10.0.0.256", "host.name",
                          "f00d::1/64", "10.0.0.0/1000", "", "10.0.0.0/8/8"}) {
    EXPECT_FALSE(build({hosts(1, {bad})}, map).isOk()) << bad;
  }
  for (const char* good :
       {"10.0.0.0/8", "10.0.0.1/32", "0.0.0.0/0", "::/0", "f00d::/16", "f00d::1", "10.0.0.0/0"}) {
    if (std::string(good) == "10.0.0.0/0") {
      EXPECT_FALSE(build({hosts(1, {good})}, map).isOk()) << good;  // host bits past /0
      continue;
    }
    EXPECT_TRUE(build({hosts(1, {good})}, map).isOk()) << good;
  }
}

TEST(HostMapTest, DuplicatesAreRefused) {
  std::shared_ptr<const HostMap> map;
  const Status twice = build({hosts(1, {"10.0.0.1"}), hosts(2, {"10.0.0.1/32"})}, map);
  EXPECT_FALSE(twice.isOk());
  EXPECT_NE(twice.message().find("duplicate host entry 10.0.0.1/32"), std::string::npos)
      << twice.message();
  EXPECT_FALSE(build({hosts(1, {"f00d::1", "F00D:0::1"})}, map).isOk());
  // The same text twice in one identity (the message's "unique" rule) is a duplicate too.
  const Status repeated = build({hosts(1, {"10.0.0.0/8", "10.1.2.3", "10.0.0.0/8"})}, map);
  EXPECT_NE(repeated.message().find("duplicate host entry 10.0.0.0/8 for identity 1, already "
                                    "mapped to identity 1"),
            std::string::npos)
      << repeated.message();
  // The first of two identities keeps a prefix; the second is the one refused.
  const Status later = build({hosts(5, {"192.0.2.0/24"}), hosts(6, {"192.0.2.0/24"})}, map);
  EXPECT_NE(later.message().find("for identity 6, already mapped to identity 5"), std::string::npos)
      << later.message();
  // The same prefix at another length is not a duplicate.
  EXPECT_TRUE(build({hosts(1, {"10.0.0.0/8"}), hosts(2, {"10.0.0.0/16"})}, map).isOk());
}

TEST(HostMapTest, DeltaDropsRemovedAndResentIdentities) {
  std::shared_ptr<const HostMap> base;
  ASSERT_TRUE(
      build({hosts(1, {"10.0.0.0/8"}), hosts(2, {"10.1.0.0/16"}), hosts(3, {"10.2.0.1"})}, base)
          .isOk());
  std::shared_ptr<const HostMap> next;
  const auto resent = hosts(2, {"10.3.0.0/16"});
  ASSERT_TRUE(HostMap::apply(*base, {3}, {&resent}, next).isOk());
  EXPECT_EQ(resolve(*next, "10.1.0.1"), 1u);  // 2's old prefix is gone
  EXPECT_EQ(resolve(*next, "10.3.0.1"), 2u);
  EXPECT_EQ(resolve(*next, "10.2.0.1"), 1u);  // 3 removed
  EXPECT_EQ(resolve(*base, "10.2.0.1"), 3u);  // the base is untouched
  // A delta that clashes with what stays is refused as a whole.
  const auto clash = hosts(4, {"10.0.0.0/8"});
  EXPECT_FALSE(HostMap::apply(*base, {}, {&clash}, next).isOk());
}

TEST(HostMapTest, StoreKeepsStateOnRefusal) {
  HostMapStore store;
  envoy::service::discovery::v3::DiscoveryResponse good;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(R"({"resources": [{
      "@type": "type.googleapis.com/cilium.NetworkPolicyHosts",
      "policy": 9, "host_addresses": ["10.9.0.0/16"]}]})",
                                                          &good)
                  .ok());
  ASSERT_TRUE(store.update(good).isOk());
  envoy::service::discovery::v3::DeltaDiscoveryResponse bad;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(R"({"removed_resources": ["x9"]})", &bad).ok());
  EXPECT_FALSE(store.update(bad).isOk());
  envoy::service::discovery::v3::DiscoveryResponse wrong_type;
  wrong_type.set_type_url("type.googleapis.com/cilium.NetworkPolicy");
  EXPECT_FALSE(store.update(wrong_type).isOk());
  IpAddress address;
  ASSERT_TRUE(IpAddress::parse("10.9.1.1", address));
  EXPECT_EQ(store.snapshot()->resolve(address), 9u);
}

// The store does not run protoc-gen-validate's Validate() on each NetworkPolicyHosts (it costs
// as much as the parse): the map must refuse every update the message's rules refuse.
TEST(HostMapStoreTest, ValidateRulesRefusedWithoutValidate) {
  const std::vector<std::vector<std::string>> lists = {{""},
                                                       {"10.0.0.1", ""},
                                                       {"10.0.0.1", "10.0.0.1"},
                                                       {"f00d::/64", "10.0.0.0/8", "f00d::/64"},
                                                       {},
                                                       {"10.0.0.1"},
                                                       {"10.0.0.0/8", "10.0.0.0/16"}};
  for (const auto& list : lists) {
    const cilium::NetworkPolicyHosts message = hosts(7, list);
    std::string why;
    const bool valid = Validate(message, &why);
    envoy::service::discovery::v3::DiscoveryResponse response;
    response.set_type_url("type.googleapis.com/cilium.NetworkPolicyHosts");
    response.add_resources()->PackFrom(message);
    HostMapStore store;
    const Status status = store.update(response);
    if (!valid) {
      EXPECT_FALSE(status.isOk()) << message.ShortDebugString() << " (" << why << ")";
    } else {
      EXPECT_TRUE(status.isOk()) << message.ShortDebugString() << ": " << status.message();
    }
  }
}

}  // namespace
}  // namespace Policy
}  // namespace Cilium
