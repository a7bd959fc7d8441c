// The event hooks Envoy resolves for our three filter kinds that Cilium's filters have no
// use for (HTTP callouts and streams, timers, per-route configuration, watermarks, bodies
// and trailers): Envoy refuses a module lacking any of them, so each is defined, doing
// nothing or letting the data through.
#include "cilium-filters/module/abi/envoy_abi.h"

extern "C" {

// --- HTTP filter ---
envoy_dynamic_module_type_http_filter_per_route_config_module_ptr
envoy_dynamic_module_on_http_filter_per_route_config_new(envoy_dynamic_module_type_envoy_buffer,
                                                         envoy_dynamic_module_type_envoy_buffer) {
  return nullptr;  // no per-route configuration
}
void envoy_dynamic_module_on_http_filter_per_route_config_destroy(
    envoy_dynamic_module_type_http_filter_per_route_config_module_ptr) {}
envoy_dynamic_module_type_on_http_filter_request_body_status
envoy_dynamic_module_on_http_filter_request_body(envoy_dynamic_module_type_http_filter_envoy_ptr,
                                                 envoy_dynamic_module_type_http_filter_module_ptr,
                                                 bool) {
  return envoy_dynamic_module_type_on_http_filter_request_body_status_Continue;
}
envoy_dynamic_module_type_on_http_filter_request_trailers_status
envoy_dynamic_module_on_http_filter_request_trailers(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr) {
  return envoy_dynamic_module_type_on_http_filter_request_trailers_status_Continue;
}
envoy_dynamic_module_type_on_http_filter_response_body_status
envoy_dynamic_module_on_http_filter_response_body(envoy_dynamic_module_type_http_filter_envoy_ptr,
                                                  envoy_dynamic_module_type_http_filter_module_ptr,
                                                  bool) {
  return envoy_dynamic_module_type_on_http_filter_response_body_status_Continue;
}
envoy_dynamic_module_type_on_http_filter_response_trailers_status
envoy_dynamic_module_on_http_filter_response_trailers(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr) {
  return envoy_dynamic_module_type_on_http_filter_response_trailers_status_Continue;
}
void envoy_dynamic_module_on_http_filter_stream_complete(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr) {}
void envoy_dynamic_module_on_http_filter_http_callout_done(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr, uint64_t,
    envoy_dynamic_module_type_http_callout_result, envoy_dynamic_module_type_envoy_http_header*,
    size_t, envoy_dynamic_module_type_envoy_buffer*, size_t) {}
void envoy_dynamic_module_on_http_filter_http_stream_headers(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr, uint64_t,
    envoy_dynamic_module_type_envoy_http_header*, size_t, bool) {}
void envoy_dynamic_module_on_http_filter_http_stream_data(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr, uint64_t,
    const envoy_dynamic_module_type_envoy_buffer*, size_t, bool) {}
void envoy_dynamic_module_on_http_filter_http_stream_trailers(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr, uint64_t,
    envoy_dynamic_module_type_envoy_http_header*, size_t) {}
void envoy_dynamic_module_on_http_filter_http_stream_complete(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr, uint64_t) {}
void envoy_dynamic_module_on_http_filter_http_stream_reset(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr, uint64_t,
    envoy_dynamic_module_type_http_stream_reset_reason) {}
void envoy_dynamic_module_on_http_filter_scheduled(envoy_dynamic_module_type_http_filter_envoy_ptr,
                                                   envoy_dynamic_module_type_http_filter_module_ptr,
                                                   uint64_t) {}
void envoy_dynamic_module_on_http_filter_config_scheduled(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr,
    envoy_dynamic_module_type_http_filter_config_module_ptr, uint64_t) {}
void envoy_dynamic_module_on_http_filter_config_http_callout_done(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr,
    envoy_dynamic_module_type_http_filter_config_module_ptr, uint64_t,
    envoy_dynamic_module_type_http_callout_result, envoy_dynamic_module_type_envoy_http_header*,
    size_t, envoy_dynamic_module_type_envoy_buffer*, size_t) {}
void envoy_dynamic_module_on_http_filter_config_http_stream_headers(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr,
    envoy_dynamic_module_type_http_filter_config_module_ptr, uint64_t,
    envoy_dynamic_module_type_envoy_http_header*, size_t, bool) {}
void envoy_dynamic_module_on_http_filter_config_http_stream_data(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr,
    envoy_dynamic_module_type_http_filter_config_module_ptr, uint64_t,
    const envoy_dynamic_module_type_envoy_buffer*, size_t, bool) {}
void envoy_dynamic_module_on_http_filter_config_http_stream_trailers(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr,
    envoy_dynamic_module_type_http_filter_config_module_ptr, uint64_t,
    envoy_dynamic_module_type_envoy_http_header*, size_t) {}
void envoy_dynamic_module_on_http_filter_config_http_stream_complete(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr,
    envoy_dynamic_module_type_http_filter_config_module_ptr, uint64_t) {}
void envoy_dynamic_module_on_http_filter_config_http_stream_reset(
    envoy_dynamic_module_type_http_filter_config_envoy_ptr,
    envoy_dynamic_module_type_http_filter_config_module_ptr, uint64_t,
    envoy_dynamic_module_type_http_stream_reset_reason) {}
void envoy_dynamic_module_on_http_filter_downstream_above_write_buffer_high_watermark(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr) {}
void envoy_dynamic_module_on_http_filter_downstream_below_write_buffer_low_watermark(
    envoy_dynamic_module_type_http_filter_envoy_ptr,
    envoy_dynamic_module_type_http_filter_module_ptr) {}
envoy_dynamic_module_type_on_http_filter_local_reply_status
envoy_dynamic_module_on_http_filter_local_reply(envoy_dynamic_module_type_http_filter_envoy_ptr,
                                                envoy_dynamic_module_type_http_filter_module_ptr,
                                                uint32_t, envoy_dynamic_module_type_envoy_buffer,
                                                bool) {
  return envoy_dynamic_module_type_on_http_filter_local_reply_status_Continue;
}

// --- network filter ---
envoy_dynamic_module_type_on_network_filter_data_status
envoy_dynamic_module_on_network_filter_write(envoy_dynamic_module_type_network_filter_envoy_ptr,
                                             envoy_dynamic_module_type_network_filter_module_ptr,
                                             size_t, bool) {
  return envoy_dynamic_module_type_on_network_filter_data_status_Continue;
}
void envoy_dynamic_module_on_network_filter_event(
    envoy_dynamic_module_type_network_filter_envoy_ptr,
    envoy_dynamic_module_type_network_filter_module_ptr,
    envoy_dynamic_module_type_network_connection_event) {}
void envoy_dynamic_module_on_network_filter_http_callout_done(
    envoy_dynamic_module_type_network_filter_envoy_ptr,
    envoy_dynamic_module_type_network_filter_module_ptr, uint64_t,
    envoy_dynamic_module_type_http_callout_result, envoy_dynamic_module_type_envoy_http_header*,
    size_t, envoy_dynamic_module_type_envoy_buffer*, size_t) {}
void envoy_dynamic_module_on_network_filter_scheduled(
    envoy_dynamic_module_type_network_filter_envoy_ptr,
    envoy_dynamic_module_type_network_filter_module_ptr, uint64_t) {}
void envoy_dynamic_module_on_network_filter_config_scheduled(
    envoy_dynamic_module_type_network_filter_config_module_ptr, uint64_t) {}
void envoy_dynamic_module_on_network_filter_above_write_buffer_high_watermark(
    envoy_dynamic_module_type_network_filter_envoy_ptr,
    envoy_dynamic_module_type_network_filter_module_ptr) {}
void envoy_dynamic_module_on_network_filter_below_write_buffer_low_watermark(
    envoy_dynamic_module_type_network_filter_envoy_ptr,
    envoy_dynamic_module_type_network_filter_module_ptr) {}

// --- listener filter ---
envoy_dynamic_module_type_on_listener_filter_status envoy_dynamic_module_on_listener_filter_on_data(
    envoy_dynamic_module_type_listener_filter_envoy_ptr,
    envoy_dynamic_module_type_listener_filter_module_ptr, size_t) {
  return envoy_dynamic_module_type_on_listener_filter_status_Continue;
}
void envoy_dynamic_module_on_listener_filter_on_close(
    envoy_dynamic_module_type_listener_filter_envoy_ptr,
    envoy_dynamic_module_type_listener_filter_module_ptr) {}
size_t envoy_dynamic_module_on_listener_filter_get_max_read_bytes(
    envoy_dynamic_module_type_listener_filter_envoy_ptr,
    envoy_dynamic_module_type_listener_filter_module_ptr) {
  return 0;  // cilium.bpf_metadata reads no data
}
void envoy_dynamic_module_on_listener_filter_scheduled(
    envoy_dynamic_module_type_listener_filter_envoy_ptr,
    envoy_dynamic_module_type_listener_filter_module_ptr, uint64_t) {}
void envoy_dynamic_module_on_listener_filter_config_scheduled(
    envoy_dynamic_module_type_listener_filter_config_envoy_ptr,
    envoy_dynamic_module_type_listener_filter_config_module_ptr, uint64_t) {}
void envoy_dynamic_module_on_listener_filter_http_callout_done(
    envoy_dynamic_module_type_listener_filter_envoy_ptr,
    envoy_dynamic_module_type_listener_filter_module_ptr, uint64_t,
    envoy_dynamic_module_type_http_callout_result, envoy_dynamic_module_type_envoy_http_header*,
    size_t, envoy_dynamic_module_type_envoy_buffer*, size_t) {}

}  // extern "C"
