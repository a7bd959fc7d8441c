#include "cilium-filters/policy/access_log/access_log_entry.h"

#include <charconv>
#include <string_view>
#include <utility>

namespace Cilium {
namespace Policy {
namespace {

constexpr std::string_view kPath = ":path";
constexpr std::string_view kMethod = ":method";
constexpr std::string_view kAuthority = ":authority";
constexpr std::string_view kStatus = ":status";
// Envoy's router sets ":scheme" from the upstream connection; the downstream scheme the
// agent wants is in x-forwarded-proto.
constexpr std::string_view kForwardedProto = "x-forwarded-proto";
constexpr std::string_view kRequestId = "x-request-id";

::cilium::LogEntry connectionEntry(const AccessLogConnection& connection,
                                   ::cilium::EntryType type) {
  ::cilium::LogEntry entry;
  entry.set_timestamp(connection.timestamp_ns);
  entry.set_is_ingress(connection.ingress);
  entry.set_entry_type(type);
  entry.set_policy_name(connection.policy_name);
  entry.set_proxy_id(connection.proxy_id);
  entry.set_source_security_id(connection.source_identity);
  entry.set_destination_security_id(connection.destination_identity);
  entry.set_source_address(connection.source_address);
  entry.set_destination_address(connection.destination_address);
  return entry;
}

::cilium::HttpProtocol protocolOf(HttpVersion version) {
  switch (version) {
    case HttpVersion::Http10:
      return ::cilium::HTTP10;
    case HttpVersion::Http2:
      return ::cilium::HTTP2;
    case HttpVersion::Http11:
    case HttpVersion::Http3:
      break;
  }
  return ::cilium::HTTP11;
}

void addPairs(const HeaderLog::Pairs& pairs,
              google::protobuf::RepeatedPtrField<::cilium::KeyValue>* out) {
  for (const auto& [name, value] : pairs) {
    ::cilium::KeyValue* kv = out->Add();
    kv->set_key(name);
    kv->set_value(value);
  }
}

void addHeader(::cilium::HttpLogEntry& http, std::string_view name, std::string_view value) {
  ::cilium::KeyValue* kv = http.add_headers();
  kv->set_key(name.data(), name.size());
  kv->set_value(value.data(), value.size());
}

::cilium::LogEntry requestEntry(const AccessLogConnection& connection, ::cilium::EntryType type,
                                HttpVersion version, const RequestHeaders& headers,
                                const HeaderLog& header_log) {
  ::cilium::LogEntry entry = connectionEntry(connection, type);
  ::cilium::HttpLogEntry& http = *entry.mutable_http();
  http.set_http_protocol(protocolOf(version));
  for (const auto& header : headers.entries()) {
    if (header.name == kPath) {
      http.set_path(header.value);
    } else if (header.name == kMethod) {
      http.set_method(header.value);
    } else if (header.name == kAuthority) {
      http.set_host(header.value);
    } else if (header.name == kForwardedProto) {
      http.set_scheme(header.value);
    } else {
      addHeader(http, header.name, header.value);
    }
  }
  addPairs(header_log.missing(), http.mutable_missing_headers());
  addPairs(header_log.rejected(), http.mutable_rejected_headers());
  return entry;
}

std::string lowerCase(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

// The whole value as a decimal number, or 0.
uint32_t statusOf(std::string_view value) {
  uint32_t status = 0;
  const char* end = value.data() + value.size();
  auto [ptr, error] = std::from_chars(value.data(), end, status);
  return error == std::errc() && ptr == end ? status : 0;
}

}  // namespace

::cilium::LogEntry l4DeniedEntry(const AccessLogConnection& connection) {
  return connectionEntry(connection, ::cilium::Denied);
}

::cilium::LogEntry httpRequestEntry(const AccessLogConnection& connection, HttpVersion version,
                                    const RequestHeaders& headers, const HeaderLog& header_log) {
  return requestEntry(connection, ::cilium::Request, version, headers, header_log);
}

::cilium::LogEntry httpDeniedEntry(const AccessLogConnection& connection, HttpVersion version,
                                   const RequestHeaders& headers, const HeaderLog& header_log) {
  return requestEntry(connection, ::cilium::Denied, version, headers, header_log);
}

::cilium::LogEntry httpResponseEntry(const ::cilium::LogEntry& request, uint64_t timestamp_ns,
                                     const ResponseHeaderList& response_headers) {
  return httpResponseEntry(::cilium::LogEntry(request), timestamp_ns, response_headers);
}

::cilium::LogEntry httpResponseEntry(::cilium::LogEntry&& request, uint64_t timestamp_ns,
                                     const ResponseHeaderList& response_headers) {
  ::cilium::LogEntry entry = std::move(request);
  entry.set_entry_type(::cilium::Response);
  entry.set_timestamp(timestamp_ns);
  ::cilium::HttpLogEntry& http = *entry.mutable_http();

  std::string request_id;
  for (const auto& header : http.headers()) {
    if (header.key() == kRequestId) {
      request_id = header.value();
      break;
    }
  }
  http.clear_headers();
  if (!request_id.empty()) {
    addHeader(http, kRequestId, request_id);
  }

  for (const auto& [raw_name, value] : response_headers) {
    const std::string name = lowerCase(raw_name);
    if (name == kStatus) {
      http.set_status(statusOf(value));
    } else if (name == kRequestId && value == request_id) {
      continue;
    } else {
      addHeader(http, name, value);
    }
  }
  return entry;
}

}  // namespace Policy
}  // namespace Cilium
