#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cilium-filters/policy/base/header_log.h"
#include "cilium-filters/policy/base/request_headers.h"
#include "cilium/api/accesslog.pb.h"

namespace Cilium {
namespace Policy {

// The connection facts every access-log entry carries.
struct AccessLogConnection {
  bool ingress{false};
  uint32_t proxy_id{0};
  std::string policy_name;
  uint32_t source_identity{0};
  uint32_t destination_identity{0};
  std::string source_address;       // "10.0.0.1:80" or "[f00d::1]:80"
  std::string destination_address;  // the same form
  uint64_t timestamp_ns{0};         // since the Unix epoch
};

// The downstream HTTP version. Cilium's log has no HTTP/3: it records HTTP/3 as HTTP/1.1,
// as it does any protocol it does not know.
enum class HttpVersion { Http10, Http11, Http2, Http3 };

// Response headers as Envoy hands them over, ":status" included.
using ResponseHeaderList = std::vector<std::pair<std::string, std::string>>;

// A connection that L4 policy denied: a Denied entry without HTTP details.
::cilium::LogEntry l4DeniedEntry(const AccessLogConnection& connection);

// An HTTP request forwarded (Request) or denied by policy (Denied). `headers` and
// `header_log` are the request's after the policy check: ":path", ":method", ":authority"
// and "x-forwarded-proto" fill path, method, host and scheme; every other entry, the other
// pseudo-headers included, goes to `headers` in order; the log's lists become
// missing_headers and rejected_headers.
::cilium::LogEntry httpRequestEntry(const AccessLogConnection& connection, HttpVersion version,
                                    const RequestHeaders& headers, const HeaderLog& header_log);
::cilium::LogEntry httpDeniedEntry(const AccessLogConnection& connection, HttpVersion version,
                                   const RequestHeaders& headers, const HeaderLog& header_log);

// The Response entry that follows `request` (an entry from the functions above): the
// request's connection and HTTP details repeated, the response's time, its ":status" as
// status (0 when absent or not a number) and its other headers (names in lower case) in
// place of the request's, after the request's "x-request-id", which is kept so that the
// agent can pair the two; the response's own "x-request-id" is left out when it is the same.
::cilium::LogEntry httpResponseEntry(const ::cilium::LogEntry& request, uint64_t timestamp_ns,
                                     const ResponseHeaderList& response_headers);
// The same, made of `request` itself (a filter that has sent it needs it no more): its
// connection and HTTP details are moved, not copied.
::cilium::LogEntry httpResponseEntry(::cilium::LogEntry&& request, uint64_t timestamp_ns,
                                     const ResponseHeaderList& response_headers);

}  // namespace Policy
}  // namespace Cilium
