#include "cilium-filters/policy/base/request_headers.h"

#include "gtest/gtest.h"

namespace Cilium {
namespace Policy {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs entries(const RequestHeaders& headers) {
  Pairs out;
  for (const auto& entry : headers.entries()) {
    out.emplace_back(entry.name, entry.value);
  }
  return out;
}

TEST(RequestHeadersTest, NamesAreLowerCaseAndHostIsAuthority) {
  RequestHeaders headers(Pairs{{"X-Token", "a"}, {"Host", "example.com"}});
  EXPECT_EQ(entries(headers), (Pairs{{":authority", "example.com"}, {"x-token", "a"}}));
  EXPECT_EQ(RequestHeaders::canonicalName("HOST"), ":authority");
  EXPECT_EQ(RequestHeaders::canonicalName("X-A"), "x-a");
}

TEST(RequestHeadersTest, PseudoHeadersStayInFront) {
  RequestHeaders headers(Pairs{{"x-a", "1"}, {":path", "/"}, {"x-b", "2"}, {":method", "GET"}});
  EXPECT_EQ(entries(headers),
            (Pairs{{":path", "/"}, {":method", "GET"}, {"x-a", "1"}, {"x-b", "2"}}));
}

TEST(RequestHeadersTest, RepeatedValuesJoinWithComma) {
  RequestHeaders headers(Pairs{{"x-a", "1"}, {"x-b", "b"}, {"x-a", "2"}});
  EXPECT_EQ(headers.get("x-a").get(), "1,2");
  EXPECT_TRUE(headers.get("x-b").present());
  EXPECT_FALSE(headers.get("x-c").present());
  EXPECT_EQ(headers.entries().size(), 3u);
}

TEST(RequestHeadersTest, BuiltInHeadersKeepOneEntry) {
  // Envoy keeps one entry for its built-in request headers and appends further values.
  RequestHeaders headers(Pairs{{"user-agent", "a"}, {"user-agent", "b"}, {":path", "/x"}});
  EXPECT_EQ(entries(headers), (Pairs{{":path", "/x"}, {"user-agent", "a,b"}}));
  headers.add("x-forwarded-proto", "");
  headers.add("x-forwarded-proto", "https");
  EXPECT_EQ(headers.get("x-forwarded-proto").get(), "https");
}

TEST(RequestHeadersTest, SetReplacesEveryValue) {
  RequestHeaders headers(Pairs{{"x-a", "1"}, {"x-b", "b"}, {"x-a", "2"}});
  headers.set("x-a", "3");
  EXPECT_EQ(entries(headers), (Pairs{{"x-b", "b"}, {"x-a", "3"}}));
  EXPECT_EQ(headers.remove("x-a"), 1u);
  EXPECT_EQ(headers.remove("x-a"), 0u);
  EXPECT_EQ(entries(headers), (Pairs{{"x-b", "b"}}));
}

}  // namespace
}  // namespace Policy
}  // namespace Cilium
