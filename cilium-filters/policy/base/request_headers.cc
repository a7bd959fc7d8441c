#include "cilium-filters/policy/base/request_headers.h"

#include <algorithm>
#include <array>

namespace Cilium {
namespace Policy {
namespace {

// Envoy 1.32's built-in ("inline") request headers: INLINE_REQ_HEADERS and
// INLINE_REQ_RESP_HEADERS of envoy/http/header_map.h. Sorted for binary search.
constexpr std::array<std::string_view, 48> kInlineRequestHeaders = {
    ":authority",
    ":method",
    ":path",
    ":protocol",
    ":scheme",
    "connection",
    "content-length",
    "content-type",
    "expect",
    "grpc-timeout",
    "keep-alive",
    "proxy-connection",
    "proxy-status",
    "te",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "via",
    "x-client-trace-id",
    "x-envoy-attempt-count",
    "x-envoy-decorator-operation",
    "x-envoy-downstream-service-cluster",
    "x-envoy-downstream-service-node",
    "x-envoy-expected-rq-timeout-ms",
    "x-envoy-external-address",
    "x-envoy-force-trace",
    "x-envoy-hedge-on-per-try-timeout",
    "x-envoy-internal",
    "x-envoy-ip-tags",
    "x-envoy-is-timeout-retry",
    "x-envoy-max-retries",
    "x-envoy-original-path",
    "x-envoy-original-url",
    "x-envoy-retriable-header-names",
    "x-envoy-retriable-status-codes",
    "x-envoy-retry-grpc-on",
    "x-envoy-retry-on",
    "x-envoy-upstream-alt-stat-name",
    "x-envoy-upstream-rq-per-try-timeout-ms",
    "x-envoy-upstream-rq-timeout-alt-response",
    "x-envoy-upstream-rq-timeout-ms",
    "x-envoy-upstream-stream-duration-ms",
    "x-forwarded-client-cert",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-forwarded-proto",
    "x-request-id",
};

bool isPseudo(std::string_view name) { return !name.empty() && name.front() == ':'; }

}  // namespace

RequestHeaders::RequestHeaders(const std::vector<std::pair<std::string, std::string>>& headers) {
  entries_.reserve(headers.size());
  for (const auto& [name, value] : headers) {
    add(canonicalName(name), value);
  }
}

std::string RequestHeaders::canonicalName(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  if (out == "host") {
    return ":authority";
  }
  return out;
}

bool RequestHeaders::isInlineHeader(std::string_view name) {
  static_assert(std::is_sorted(kInlineRequestHeaders.begin(), kInlineRequestHeaders.end()));
  return std::binary_search(kInlineRequestHeaders.begin(), kInlineRequestHeaders.end(), name);
}

RequestHeaders::Value RequestHeaders::get(std::string_view name) const {
  Value value;
  for (const Entry& entry : entries_) {
    if (entry.name != name) {
      continue;
    }
    if (!value.present_) {
      value.present_ = true;
      value.single_ = entry.value;
    } else {
      if (!value.joined_) {
        value.joined_ = true;
        value.combined_.assign(value.single_);
      }
      value.combined_.append(",").append(entry.value);
    }
  }
  return value;
}

void RequestHeaders::add(std::string_view name, std::string_view value) {
  // A built-in header has one entry, which a second value joins. Whether the name is built in
  // is asked only when it is already there: most names come once.
  const auto same = std::find_if(entries_.begin(), entries_.end(),
                                 [name](const Entry& entry) { return entry.name == name; });
  if (same != entries_.end() && isInlineHeader(name)) {
    if (!value.empty()) {
      if (!same->value.empty()) {
        same->value.append(",");
      }
      same->value.append(value);
    }
    return;
  }
  auto position = entries_.end();
  if (isPseudo(name)) {
    position = std::find_if(entries_.begin(), entries_.end(),
                            [](const Entry& entry) { return !isPseudo(entry.name); });
  }
  entries_.insert(position, Entry{std::string(name), std::string(value)});
}

size_t RequestHeaders::remove(std::string_view name) {
  const size_t before = entries_.size();
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const Entry& entry) { return entry.name == name; }),
                 entries_.end());
  return before - entries_.size();
}

void RequestHeaders::set(std::string_view name, std::string_view value) {
  remove(name);
  add(name, value);
}

}  // namespace Policy
}  // namespace Cilium
