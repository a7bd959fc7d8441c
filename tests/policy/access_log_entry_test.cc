#include "cilium-filters/policy/access_log/access_log_entry.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace Cilium {
namespace Policy {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

AccessLogConnection connection() {
  AccessLogConnection c;
  c.ingress = true;
  c.proxy_id = 42;
  c.policy_name = "10.1.2.3";
  c.source_identity = 1001;
  c.destination_identity = 2002;
  c.source_address = "10.0.0.7:45678";
  c.destination_address = "[f00d::1]:80";
  c.timestamp_ns = 1'700'000'000'123'456'789ULL;
  return c;
}

Pairs pairs(const google::protobuf::RepeatedPtrField<::cilium::KeyValue>& kvs) {
  Pairs out;
  for (const auto& kv : kvs) {
    out.emplace_back(kv.key(), kv.value());
  }
  return out;
}

void expectConnection(const ::cilium::LogEntry& entry) {
  EXPECT_TRUE(entry.is_ingress());
  EXPECT_EQ(entry.proxy_id(), 42u);
  EXPECT_EQ(entry.policy_name(), "10.1.2.3");
  EXPECT_EQ(entry.source_security_id(), 1001u);
  EXPECT_EQ(entry.destination_security_id(), 2002u);
  EXPECT_EQ(entry.source_address(), "10.0.0.7:45678");
  EXPECT_EQ(entry.destination_address(), "[f00d::1]:80");
}

RequestHeaders request() {
  return RequestHeaders(Pairs{{":method", "POST"},
                              {":path", "/api/v1?x=1"},
                              {"Host", "svc.example:8080"},
                              {":scheme", "http"},
                              {"x-forwarded-proto", "https"},
                              {"x-request-id", "rid-1"},
                              {"X-Token", "[redacted]"},
                              {"accept", "a"},
                              {"accept", "b"}});
}

TEST(AccessLogEntryTest, L4DenialHasConnectionFactsOnly) {
  const ::cilium::LogEntry entry = l4DeniedEntry(connection());
  EXPECT_EQ(entry.entry_type(), ::cilium::Denied);
  EXPECT_EQ(entry.timestamp(), 1'700'000'000'123'456'789ULL);
  expectConnection(entry);
  EXPECT_EQ(entry.l7_case(), ::cilium::LogEntry::L7_NOT_SET);
  EXPECT_EQ(entry.cilium_rule_ref(), "");

  AccessLogConnection egress = connection();
  egress.ingress = false;
  EXPECT_FALSE(l4DeniedEntry(egress).is_ingress());
}

TEST(AccessLogEntryTest, RequestSplitsTheFourFieldsFromOtherHeaders) {
  const ::cilium::LogEntry entry =
      httpRequestEntry(connection(), HttpVersion::Http11, request(), HeaderLog());
  EXPECT_EQ(entry.entry_type(), ::cilium::Request);
  EXPECT_EQ(entry.timestamp(), 1'700'000'000'123'456'789ULL);
  expectConnection(entry);
  ASSERT_TRUE(entry.has_http());
  const ::cilium::HttpLogEntry& http = entry.http();
  EXPECT_EQ(http.http_protocol(), ::cilium::HTTP11);
  EXPECT_EQ(http.scheme(), "https");  // x-forwarded-proto, not :scheme
  EXPECT_EQ(http.host(), "svc.example:8080");
  EXPECT_EQ(http.path(), "/api/v1?x=1");
  EXPECT_EQ(http.method(), "POST");
  EXPECT_EQ(http.status(), 0u);
  // Like Cilium: other pseudo-headers stay; each entry once, in the map's order.
  EXPECT_EQ(pairs(http.headers()), (Pairs{{":scheme", "http"},
                                          {"x-request-id", "rid-1"},
                                          {"x-token", "[redacted]"},
                                          {"accept", "a"},
                                          {"accept", "b"}}));
  EXPECT_TRUE(http.missing_headers().empty());
  EXPECT_TRUE(http.rejected_headers().empty());
}

TEST(AccessLogEntryTest, RequestWithoutTheFourFieldsLeavesThemEmpty) {
  const ::cilium::LogEntry entry = httpRequestEntry(
      connection(), HttpVersion::Http2, RequestHeaders(Pairs{{"x-a", "1"}}), HeaderLog());
  const ::cilium::HttpLogEntry& http = entry.http();
  EXPECT_EQ(http.scheme(), "");
  EXPECT_EQ(http.host(), "");
  EXPECT_EQ(http.path(), "");
  EXPECT_EQ(http.method(), "");
  EXPECT_EQ(pairs(http.headers()), (Pairs{{"x-a", "1"}}));
}

TEST(AccessLogEntryTest, HttpVersions) {
  const std::vector<std::pair<HttpVersion, ::cilium::HttpProtocol>> cases = {
      {HttpVersion::Http10, ::cilium::HTTP10},
      {HttpVersion::Http11, ::cilium::HTTP11},
      {HttpVersion::Http2, ::cilium::HTTP2},
      {HttpVersion::Http3, ::cilium::HTTP11},  // Cilium's log knows no HTTP/3
  };
  for (const auto& [version, protocol] : cases) {
    const ::cilium::LogEntry entry =
        httpRequestEntry(connection(), version, request(), HeaderLog());
    EXPECT_EQ(entry.http().http_protocol(), protocol) << static_cast<int>(version);
    EXPECT_EQ(httpDeniedEntry(connection(), version, request(), HeaderLog()).http().http_protocol(),
              protocol)
        << static_cast<int>(version);
  }
}

TEST(AccessLogEntryTest, DeniedCarriesMissingAndRejectedHeaders) {
  // The headers as the check left them: x-token removed, x-added inserted.
  RequestHeaders headers = request();
  headers.remove("x-token");
  headers.add("x-added", "inserted");
  HeaderLog log;
  log.addMissing("x-added", "inserted");
  log.addMissing("x-secret", "[redacted]");
  log.addRejected("x-token", "[redacted]");
  log.addRejected("user-agent", "curl/8");

  const ::cilium::LogEntry entry = httpDeniedEntry(connection(), HttpVersion::Http10, headers, log);
  EXPECT_EQ(entry.entry_type(), ::cilium::Denied);
  expectConnection(entry);
  const ::cilium::HttpLogEntry& http = entry.http();
  EXPECT_EQ(http.method(), "POST");
  EXPECT_EQ(pairs(http.missing_headers()),
            (Pairs{{"x-added", "inserted"}, {"x-secret", "[redacted]"}}));
  EXPECT_EQ(pairs(http.rejected_headers()),
            (Pairs{{"x-token", "[redacted]"}, {"user-agent", "curl/8"}}));
  EXPECT_EQ(pairs(http.headers()), (Pairs{{":scheme", "http"},
                                          {"x-request-id", "rid-1"},
                                          {"accept", "a"},
                                          {"accept", "b"},
                                          {"x-added", "inserted"}}));
}

TEST(AccessLogEntryTest, ResponseRepeatsTheRequestWithResponseHeaders) {
  HeaderLog log;
  log.addMissing("x-m", "1");
  log.addRejected("x-r", "[redacted]");
  const ::cilium::LogEntry request_entry =
      httpRequestEntry(connection(), HttpVersion::Http2, request(), log);
  const ::cilium::LogEntry entry =
      httpResponseEntry(request_entry, 1'700'000'001'000'000'000ULL,
                        Pairs{{":status", "404"},
                              {"Content-Type", "text/plain"},
                              {"x-request-id", "rid-1"},  // the same: not repeated
                              {"server", "envoy"}});
  EXPECT_EQ(entry.entry_type(), ::cilium::Response);
  EXPECT_EQ(entry.timestamp(), 1'700'000'001'000'000'000ULL);
  expectConnection(entry);
  const ::cilium::HttpLogEntry& http = entry.http();
  EXPECT_EQ(http.http_protocol(), ::cilium::HTTP2);
  EXPECT_EQ(http.scheme(), "https");
  EXPECT_EQ(http.host(), "svc.example:8080");
  EXPECT_EQ(http.path(), "/api/v1?x=1");
  EXPECT_EQ(http.method(), "POST");
  EXPECT_EQ(http.status(), 404u);
  EXPECT_EQ(
      pairs(http.headers()),
      (Pairs{{"x-request-id", "rid-1"}, {"content-type", "text/plain"}, {"server", "envoy"}}));
  EXPECT_EQ(pairs(http.missing_headers()), (Pairs{{"x-m", "1"}}));
  EXPECT_EQ(pairs(http.rejected_headers()), (Pairs{{"x-r", "[redacted]"}}));
  // The request entry is left as it was.
  EXPECT_EQ(request_entry.entry_type(), ::cilium::Request);
  EXPECT_EQ(request_entry.http().headers_size(), 5);
}

TEST(AccessLogEntryTest, ResponseKeepsADifferentRequestIdAndOddStatuses) {
  const ::cilium::LogEntry request_entry =
      httpRequestEntry(connection(), HttpVersion::Http11, request(), HeaderLog());
  const ::cilium::LogEntry entry =
      httpResponseEntry(request_entry, 7, Pairs{{":status", "503"}, {"x-request-id", "rid-2"}});
  EXPECT_EQ(entry.http().status(), 503u);
  EXPECT_EQ(pairs(entry.http().headers()),
            (Pairs{{"x-request-id", "rid-1"}, {"x-request-id", "rid-2"}}));

  const ::cilium::LogEntry no_id = httpRequestEntry(
      connection(), HttpVersion::Http11, RequestHeaders(Pairs{{":path", "/"}}), HeaderLog());
  for (const char* status : {"", "abc", "20x", "-1", "99999999999"}) {
    const ::cilium::LogEntry response =
        httpResponseEntry(no_id, 7, Pairs{{":status", status}, {"x-a", "1"}});
    EXPECT_EQ(response.http().status(), 0u) << status;
    EXPECT_EQ(pairs(response.http().headers()), (Pairs{{"x-a", "1"}})) << status;
  }
  EXPECT_EQ(httpResponseEntry(no_id, 7, Pairs{}).http().status(), 0u);
}

TEST(AccessLogEntryTest, DeniedRequestsResponseIsA403Response) {
  const ::cilium::LogEntry denied =
      httpDeniedEntry(connection(), HttpVersion::Http11, request(), HeaderLog());
  const ::cilium::LogEntry response = httpResponseEntry(denied, 9, Pairs{{":status", "403"}});
  EXPECT_EQ(response.entry_type(), ::cilium::Response);
  EXPECT_EQ(response.http().status(), 403u);
  EXPECT_EQ(pairs(response.http().headers()), (Pairs{{"x-request-id", "rid-1"}}));
}

TEST(AccessLogEntryTest, EntriesSurviveTheWire) {
  HeaderLog log;
  log.addRejected("x-r", "[redacted]");
  const ::cilium::LogEntry entry =
      httpDeniedEntry(connection(), HttpVersion::Http2, request(), log);
  ::cilium::LogEntry decoded;
  ASSERT_TRUE(decoded.ParseFromString(entry.SerializeAsString()));
  EXPECT_EQ(decoded.DebugString(), entry.DebugString());
  EXPECT_EQ(decoded.http().rejected_headers(0).value(), "[redacted]");
}

}  // namespace
}  // namespace Policy
}  // namespace Cilium
