// cilium.l7policy as a dynamic-module HTTP filter: the HTTP verdict from the request headers.
// It turns Envoy's request headers into the engine's, asks the engine, applies the header
// actions the engine made back to Envoy's headers, answers a denied request with 403, and
// has Cilium's access-log entries written (Request or Denied, then Response) by the module's
// access-log queue, off the request path.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cilium-filters/module/abi/buffers.h"
#include "cilium-filters/module/abi/envoy_abi.h"
#include "cilium-filters/module/connection_facts.h"
#include "cilium-filters/module/header_changes.h"
#include "cilium-filters/module/runtime.h"
#include "cilium-filters/module/settings.h"
#include "cilium-filters/policy/access_log/access_log_entry.h"
#include "cilium-filters/policy/decide/decisions.h"

namespace Cilium {
namespace Module {
namespace {

constexpr std::string_view kFilterName = "cilium.l7policy";

struct HttpConfig {
  HttpSettings settings;
  std::shared_ptr<AccessLogQueue> access_log;
};

struct HttpFilter {
  const HttpConfig* config;
  // What the Request or Denied entry was made of, which the Response entry repeats.
  std::shared_ptr<HttpLogRecord> log_record;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;
// Envoy's headers in place: valid until the filter changes them.
using RawHeaders = std::vector<envoy_dynamic_module_type_envoy_http_header>;

std::string_view keyOf(const envoy_dynamic_module_type_envoy_http_header& header) {
  return {header.key_ptr, header.key_length};
}
std::string_view valueOf(const envoy_dynamic_module_type_envoy_http_header& header) {
  return {header.value_ptr, header.value_length};
}

RawHeaders rawHeaders(envoy_dynamic_module_type_http_filter_envoy_ptr envoy_ptr,
                      envoy_dynamic_module_type_http_header_type type) {
  const size_t count = envoy_dynamic_module_callback_http_get_headers_size(envoy_ptr, type);
  RawHeaders raw(count);
  if (count != 0 && !envoy_dynamic_module_callback_http_get_headers(envoy_ptr, type, raw.data())) {
    raw.clear();
  }
  return raw;
}

HeaderList readHeaders(envoy_dynamic_module_type_http_filter_envoy_ptr envoy_ptr,
                       envoy_dynamic_module_type_http_header_type type) {
  const RawHeaders raw = rawHeaders(envoy_ptr, type);
  HeaderList headers;
  headers.reserve(raw.size());
  for (const auto& header : raw) {
    headers.emplace_back(keyOf(header), valueOf(header));
  }
  return headers;
}

// Whether RequestHeaders::canonicalName() would leave `name` as it is (Envoy's names are lower
// case, and Host is ":authority", so almost always).
bool isCanonical(std::string_view name) {
  return name != "host" &&
         std::none_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// The request headers as the engine keeps them (what RequestHeaders' constructor does, without
// copying Envoy's headers twice).
Policy::RequestHeaders requestHeaders(const RawHeaders& raw) {
  Policy::RequestHeaders headers;
  headers.reserve(raw.size());
  for (const auto& header : raw) {
    const std::string_view key = keyOf(header);
    if (isCanonical(key)) {
      headers.add(key, valueOf(header));
    } else {
      headers.add(Policy::RequestHeaders::canonicalName(key), valueOf(header));
    }
  }
  return headers;
}

// Whether `headers` are exactly Envoy's, in order: then there is nothing to apply (the common
// case; Envoy's names are already canonical).
bool sameAsEnvoys(const Policy::RequestHeaders& headers, const RawHeaders& raw) {
  const auto& entries = headers.entries();
  if (entries.size() != raw.size()) {
    return false;
  }
  for (size_t i = 0; i < raw.size(); ++i) {
    if (entries[i].name != keyOf(raw[i]) || entries[i].value != valueOf(raw[i])) {
      return false;
    }
  }
  return true;
}

void applyChanges(envoy_dynamic_module_type_http_filter_envoy_ptr envoy_ptr,
                  const std::vector<HeaderChange>& changes) {
  constexpr auto kRequest = envoy_dynamic_module_type_http_header_type_RequestHeader;
  for (const HeaderChange& change : changes) {
    if (change.values.size() == 1) {
      envoy_dynamic_module_callback_http_set_header(envoy_ptr, kRequest, buffer(change.name),
                                                    buffer(change.values.front()));
      continue;
    }
    envoy_dynamic_module_callback_http_set_header(envoy_ptr, kRequest, buffer(change.name),
                                                  noBuffer());
    for (const std::string& value : change.values) {
      envoy_dynamic_module_callback_http_add_header(envoy_ptr, kRequest, buffer(change.name),
                                                    buffer(value));
    }
  }
}

Policy::HttpVersion httpVersion(envoy_dynamic_module_type_http_filter_envoy_ptr envoy_ptr) {
  envoy_dynamic_module_type_envoy_buffer protocol{nullptr, 0};
  if (!envoy_dynamic_module_callback_http_filter_get_attribute_string(
          envoy_ptr, envoy_dynamic_module_type_attribute_id_RequestProtocol, &protocol)) {
    return Policy::HttpVersion::Http11;
  }
  const std::string_view text = view(protocol);
  if (text == "HTTP/1.0") {
    return Policy::HttpVersion::Http10;
  }
  if (text == "HTTP/2") {
    return Policy::HttpVersion::Http2;
  }
  if (text == "HTTP/3") {
    return Policy::HttpVersion::Http3;
  }
  return Policy::HttpVersion::Http11;
}

void sendResponse(envoy_dynamic_module_type_http_filter_envoy_ptr envoy_ptr, uint32_t status,
                  std::string_view body, std::string_view details) {
  envoy_dynamic_module_callback_http_send_response(envoy_ptr, status, nullptr, 0, buffer(body),
                                                   details.empty() ? noBuffer() : buffer(details));
}

// The Request or Denied entry, made by the queue's thread of what the decision saw.
std::shared_ptr<HttpLogRecord> logRequest(const HttpConfig& config, const ConnectionFacts& facts,
                                          uint32_t destination_identity, bool denied,
                                          Policy::HttpVersion version,
                                          Policy::RequestHeaders&& headers,
                                          Policy::HeaderLog&& header_log) {
  auto record = std::make_shared<HttpLogRecord>();
  record->connection = facts.logConnection(destination_identity, Runtime::nowNs());
  record->version = version;
  record->denied = denied;
  record->headers = std::move(headers);
  record->header_log = std::move(header_log);
  config.access_log->logRequest(record);
  return record;
}

}  // namespace
}  // namespace Module
}  // namespace Cilium

using namespace Cilium::Module;

extern "C" {

envoy_dynamic_module_type_http_filter_config_module_ptr
envoy_dynamic_module_on_http_filter_config_new(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  auto& runtime = Runtime::get();
  if (view(name) != kFilterName) {
    runtime.log(LogLevel::Error, "libcilium: unknown HTTP filter \"" + std::string(view(name)) +
                                     "\"; this module has cilium.l7policy");
    return nullptr;
  }
  auto filter_config = std::make_unique<HttpConfig>();
  const auto status = parseHttpSettings(view(config), filter_config->settings);
  if (!status) {
    runtime.log(LogLevel::Error, "cilium.l7policy: " + status.message());
    return nullptr;
  }
  filter_config->access_log = runtime.accessLog(filter_config->settings.access_log_path);
  return filter_config.release();
}

void envoy_dynamic_module_on_http_filter_config_destroy(
    envoy_dynamic_module_type_http_filter_config_module_ptr config_ptr) {
  delete static_cast<const HttpConfig*>(config_ptr);
}

envoy_dynamic_module_type_http_filter_module_ptr envoy_dynamic_module_on_http_filter_new(
    envoy_dynamic_module_type_http_filter_config_module_ptr config_ptr,
    envoy_dynamic_module_type_http_filter_envoy_ptr) {
  return new HttpFilter{static_cast<const HttpConfig*>(config_ptr), nullptr};
}

void envoy_dynamic_module_on_http_filter_destroy(
    envoy_dynamic_module_type_http_filter_module_ptr filter_ptr) {
  delete static_cast<const HttpFilter*>(filter_ptr);
}

envoy_dynamic_module_type_on_http_filter_request_headers_status
envoy_dynamic_module_on_http_filter_request_headers(
    envoy_dynamic_module_type_http_filter_envoy_ptr envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr filter_ptr, bool) {
  auto* filter = const_cast<HttpFilter*>(static_cast<const HttpFilter*>(filter_ptr));
  const HttpConfig& config = *filter->config;

  ConnectionFacts facts;
  envoy_dynamic_module_type_envoy_buffer state{nullptr, 0};
  if (!envoy_dynamic_module_callback_http_get_filter_state_bytes(
          envoy_ptr, buffer(kConnectionFactsKey), &state) ||
      !ConnectionFacts::decode(view(state), facts)) {
    // As Cilium's filter: a local error, not a policy verdict.
    sendResponse(envoy_ptr, 500, "", "cilium.l7policy:_Cilium_policy_filter_state_not_found");
    return envoy_dynamic_module_type_on_http_filter_request_headers_status_StopIteration;
  }

  const PolicyStore& store = Runtime::get().store();
  const Cilium::Policy::HostMap* hosts = store.hosts();
  const uint32_t destination_identity = facts.destinationIdentity(hosts);
  const uint32_t remote_identity = facts.ingress() ? facts.sourceIdentity() : destination_identity;

  const RawHeaders raw =
      rawHeaders(envoy_ptr, envoy_dynamic_module_type_http_header_type_RequestHeader);
  Cilium::Policy::RequestHeaders headers = requestHeaders(raw);
  Cilium::Policy::HeaderLog header_log;
  const bool allowed = Cilium::Policy::allowedHttp(
      store.policies(), facts.question(remote_identity), headers, header_log, store.secrets());
  if (!sameAsEnvoys(headers, raw)) {
    // Before the first change: `raw` points into Envoy's headers.
    applyChanges(envoy_ptr, headerChanges(requestHeaders(raw), headers));
  }

  if (config.access_log) {
    filter->log_record =
        logRequest(config, facts, destination_identity, !allowed, httpVersion(envoy_ptr),
                   std::move(headers), std::move(header_log));
  }
  if (!allowed) {
    sendResponse(envoy_ptr, 403, config.settings.denied_body, "");
    // Envoy does not run this filter's response hooks for its own local reply: the Response
    // entry is written here, with the headers Envoy's local reply carries at that point.
    if (filter->log_record) {
      config.access_log->logResponse(
          std::move(filter->log_record), Runtime::nowNs(),
          {{":status", "403"},
           {"content-length", std::to_string(config.settings.denied_body.size())},
           {"content-type", "text/plain"}});
    }
    return envoy_dynamic_module_type_on_http_filter_request_headers_status_StopIteration;
  }
  return envoy_dynamic_module_type_on_http_filter_request_headers_status_Continue;
}

envoy_dynamic_module_type_on_http_filter_response_headers_status
envoy_dynamic_module_on_http_filter_response_headers(
    envoy_dynamic_module_type_http_filter_envoy_ptr envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr filter_ptr, bool) {
  auto* filter = const_cast<HttpFilter*>(static_cast<const HttpFilter*>(filter_ptr));
  if (filter->log_record) {
    filter->config->access_log->logResponse(
        std::move(filter->log_record), Runtime::nowNs(),
        readHeaders(envoy_ptr, envoy_dynamic_module_type_http_header_type_ResponseHeader));
  }
  return envoy_dynamic_module_type_on_http_filter_response_headers_status_Continue;
}

}  // extern "C"
