// The types of Envoy's dynamic-module ABI that libcilium.so uses (Envoy 1.38, ABI "v0.1.0").
//
// Our own declarations of facts from Envoy's source/extensions/dynamic_modules/abi/abi.h
// (v1.38.0): the names, layouts and enumerator values. Only what the module needs is here.
// Included by envoy_abi.h, and a second time by abi_check.cc inside a namespace, where each
// layout and value is compared with Envoy's own header: so no include guard.
//
// NOLINT(namespace-envoy): these are C declarations shared with Envoy.

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {

// --- buffers and headers -------------------------------------------------------------------
// A pointer into memory Envoy owns (valid as long as the hook that handed it over says).
typedef const char* envoy_dynamic_module_type_buffer_envoy_ptr;
// A pointer into memory the module owns.
typedef const char* envoy_dynamic_module_type_buffer_module_ptr;
typedef const char* envoy_dynamic_module_type_abi_version_module_ptr;

typedef struct envoy_dynamic_module_type_envoy_buffer {
  envoy_dynamic_module_type_buffer_envoy_ptr ptr;
  size_t length;
} envoy_dynamic_module_type_envoy_buffer;

typedef struct envoy_dynamic_module_type_module_buffer {
  envoy_dynamic_module_type_buffer_module_ptr ptr;
  size_t length;
} envoy_dynamic_module_type_module_buffer;

typedef struct envoy_dynamic_module_type_module_http_header {
  envoy_dynamic_module_type_buffer_module_ptr key_ptr;
  size_t key_length;
  envoy_dynamic_module_type_buffer_module_ptr value_ptr;
  size_t value_length;
} envoy_dynamic_module_type_module_http_header;

typedef struct envoy_dynamic_module_type_envoy_http_header {
  envoy_dynamic_module_type_buffer_envoy_ptr key_ptr;
  size_t key_length;
  envoy_dynamic_module_type_buffer_envoy_ptr value_ptr;
  size_t value_length;
} envoy_dynamic_module_type_envoy_http_header;

// --- enumerations (only the enumerators we use; their values are Envoy's) ------------------
typedef enum envoy_dynamic_module_type_http_header_type {
  envoy_dynamic_module_type_http_header_type_RequestHeader = 0,
  envoy_dynamic_module_type_http_header_type_ResponseHeader = 2,
} envoy_dynamic_module_type_http_header_type;

typedef enum envoy_dynamic_module_type_log_level {
  envoy_dynamic_module_type_log_level_Debug = 1,
  envoy_dynamic_module_type_log_level_Info = 2,
  envoy_dynamic_module_type_log_level_Warn = 3,
  envoy_dynamic_module_type_log_level_Error = 4,
} envoy_dynamic_module_type_log_level;

typedef enum envoy_dynamic_module_type_http_callout_result {
  envoy_dynamic_module_type_http_callout_result_Success = 0,
} envoy_dynamic_module_type_http_callout_result;

typedef enum envoy_dynamic_module_type_http_stream_reset_reason {
  envoy_dynamic_module_type_http_stream_reset_reason_ConnectionFailure = 0,
} envoy_dynamic_module_type_http_stream_reset_reason;

typedef enum envoy_dynamic_module_type_attribute_id {
  envoy_dynamic_module_type_attribute_id_RequestProtocol = 10,
} envoy_dynamic_module_type_attribute_id;

// --- HTTP filter ---------------------------------------------------------------------------
typedef void* envoy_dynamic_module_type_http_filter_config_envoy_ptr;
typedef const void* envoy_dynamic_module_type_http_filter_config_module_ptr;
typedef const void* envoy_dynamic_module_type_http_filter_per_route_config_module_ptr;
typedef void* envoy_dynamic_module_type_http_filter_envoy_ptr;
typedef const void* envoy_dynamic_module_type_http_filter_module_ptr;

typedef enum envoy_dynamic_module_type_on_http_filter_request_headers_status {
  envoy_dynamic_module_type_on_http_filter_request_headers_status_Continue = 0,
  envoy_dynamic_module_type_on_http_filter_request_headers_status_StopIteration = 1,
} envoy_dynamic_module_type_on_http_filter_request_headers_status;

typedef enum envoy_dynamic_module_type_on_http_filter_request_body_status {
  envoy_dynamic_module_type_on_http_filter_request_body_status_Continue = 0,
} envoy_dynamic_module_type_on_http_filter_request_body_status;

typedef enum envoy_dynamic_module_type_on_http_filter_request_trailers_status {
  envoy_dynamic_module_type_on_http_filter_request_trailers_status_Continue = 0,
} envoy_dynamic_module_type_on_http_filter_request_trailers_status;

typedef enum envoy_dynamic_module_type_on_http_filter_response_headers_status {
  envoy_dynamic_module_type_on_http_filter_response_headers_status_Continue = 0,
} envoy_dynamic_module_type_on_http_filter_response_headers_status;

typedef enum envoy_dynamic_module_type_on_http_filter_response_body_status {
  envoy_dynamic_module_type_on_http_filter_response_body_status_Continue = 0,
} envoy_dynamic_module_type_on_http_filter_response_body_status;

typedef enum envoy_dynamic_module_type_on_http_filter_response_trailers_status {
  envoy_dynamic_module_type_on_http_filter_response_trailers_status_Continue = 0,
} envoy_dynamic_module_type_on_http_filter_response_trailers_status;

typedef enum envoy_dynamic_module_type_on_http_filter_local_reply_status {
  envoy_dynamic_module_type_on_http_filter_local_reply_status_Continue = 0,
} envoy_dynamic_module_type_on_http_filter_local_reply_status;

// --- network filter ------------------------------------------------------------------------
typedef void* envoy_dynamic_module_type_network_filter_config_envoy_ptr;
typedef const void* envoy_dynamic_module_type_network_filter_config_module_ptr;
typedef void* envoy_dynamic_module_type_network_filter_envoy_ptr;
typedef const void* envoy_dynamic_module_type_network_filter_module_ptr;

typedef enum envoy_dynamic_module_type_on_network_filter_data_status {
  envoy_dynamic_module_type_on_network_filter_data_status_Continue = 0,
  envoy_dynamic_module_type_on_network_filter_data_status_StopIteration = 1,
} envoy_dynamic_module_type_on_network_filter_data_status;

typedef enum envoy_dynamic_module_type_network_connection_close_type {
  envoy_dynamic_module_type_network_connection_close_type_AbortReset = 4,
} envoy_dynamic_module_type_network_connection_close_type;

typedef enum envoy_dynamic_module_type_network_connection_event {
  envoy_dynamic_module_type_network_connection_event_RemoteClose = 0,
} envoy_dynamic_module_type_network_connection_event;

// --- listener filter -----------------------------------------------------------------------
typedef void* envoy_dynamic_module_type_listener_filter_config_envoy_ptr;
typedef const void* envoy_dynamic_module_type_listener_filter_config_module_ptr;
typedef void* envoy_dynamic_module_type_listener_filter_envoy_ptr;
typedef const void* envoy_dynamic_module_type_listener_filter_module_ptr;

typedef enum envoy_dynamic_module_type_on_listener_filter_status {
  envoy_dynamic_module_type_on_listener_filter_status_Continue = 0,
} envoy_dynamic_module_type_on_listener_filter_status;

}  // extern "C"
