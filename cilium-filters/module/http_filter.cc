// cilium.l7policy as a dynamic-module HTTP filter: the HTTP verdict from the request headers.
// It turns Envoy's request headers into the engine's, asks the engine, applies the header
// actions the engine made back to Envoy's headers, answers a denied request with 403, and
// writes Cilium's access-log entries (Request or Denied, then Response).
#include <memory>
#include <optional>
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
  std::shared_ptr<Policy::AccessLogClient> access_log;
};

struct HttpFilter {
  const HttpConfig* config;
  // The Request or Denied entry, which the Response entry repeats.
  std::optional<::cilium::LogEntry> request_entry;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

HeaderList readHeaders(envoy_dynamic_module_type_http_filter_envoy_ptr envoy_ptr,
                       envoy_dynamic_module_type_http_header_type type) {
  const size_t count = envoy_dynamic_module_callback_http_get_headers_size(envoy_ptr, type);
  std::vector<envoy_dynamic_module_type_envoy_http_header> raw(count);
  HeaderList headers;
  if (count == 0 || !envoy_dynamic_module_callback_http_get_headers(envoy_ptr, type, raw.data())) {
    return headers;
  }
  headers.reserve(count);
  for (const auto& header : raw) {
    headers.emplace_back(std::string(header.key_ptr, header.key_length),
                         std::string(header.value_ptr, header.value_length));
  }
  return headers;
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

void log(const HttpConfig& config, const ::cilium::LogEntry& entry) {
  if (config.access_log) {
    config.access_log->log(entry);
  }
}

} // namespace
} // namespace Module
} // namespace Cilium

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
  return new HttpFilter{static_cast<const HttpConfig*>(config_ptr), std::nullopt};
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

  const Cilium::Policy::RequestHeaders before(
      readHeaders(envoy_ptr, envoy_dynamic_module_type_http_header_type_RequestHeader));
  Cilium::Policy::RequestHeaders headers = before;
  Cilium::Policy::HeaderLog header_log;
  const bool allowed = Cilium::Policy::allowedHttp(store.policies(),
                                                   facts.question(remote_identity), headers,
                                                   header_log, store.secrets());
  applyChanges(envoy_ptr, headerChanges(before, headers));

  const auto connection = facts.logConnection(destination_identity, Runtime::nowNs());
  const auto version = httpVersion(envoy_ptr);
  if (!allowed) {
    filter->request_entry =
        Cilium::Policy::httpDeniedEntry(connection, version, headers, header_log);
    log(config, *filter->request_entry);
    sendResponse(envoy_ptr, 403, config.settings.denied_body, "");
    // Envoy does not run this filter's response hooks for its own local reply: the Response
    // entry is written here, with the headers Envoy's local reply carries at that point.
    if (config.access_log) {
      log(config, Cilium::Policy::httpResponseEntry(
                      *filter->request_entry, Runtime::nowNs(),
                      {{":status", "403"},
                       {"content-length", std::to_string(config.settings.denied_body.size())},
                       {"content-type", "text/plain"}}));
    }
    return envoy_dynamic_module_type_on_http_filter_request_headers_status_StopIteration;
  }
  filter->request_entry =
      Cilium::Policy::httpRequestEntry(connection, version, headers, header_log);
  log(config, *filter->request_entry);
  return envoy_dynamic_module_type_on_http_filter_request_headers_status_Continue;
}

envoy_dynamic_module_type_on_http_filter_response_headers_status
envoy_dynamic_module_on_http_filter_response_headers(
    envoy_dynamic_module_type_http_filter_envoy_ptr envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr filter_ptr, bool) {
  const auto* filter = static_cast<const HttpFilter*>(filter_ptr);
  if (filter->request_entry && filter->config->access_log) {
    log(*filter->config,
        Cilium::Policy::httpResponseEntry(
            *filter->request_entry, Runtime::nowNs(),
            readHeaders(envoy_ptr, envoy_dynamic_module_type_http_header_type_ResponseHeader)));
  }
  return envoy_dynamic_module_type_on_http_filter_response_headers_status_Continue;
}

} // extern "C"
