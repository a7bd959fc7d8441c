// Compiles only when our ABI declarations agree with Envoy's own abi.h: built when that header
// is at hand (CMake: -DENVOY_SOURCE=<Envoy checkout> or the ENVOY_SOURCE environment variable;
// Bazel: @envoy//source/extensions/dynamic_modules/abi), never linked into the module.
//
// 1. Envoy's header first, then our function declarations with Envoy's types: a C function
//    declared twice with different parameter or result types is an error.
// 2. Our types again inside a namespace, each layout and enumerator compared with Envoy's.

// Envoy's header: its include path is given by the build (see above).
#include "source/extensions/dynamic_modules/abi/abi.h"

#define CILIUM_ABI_TYPES_FROM_ENVOY
#include <cstddef>
#include <cstring>
#include <string_view>

#include "cilium-filters/module/abi/envoy_abi.h"

namespace CiliumAbiCheck {
#include "cilium-filters/module/abi/envoy_abi_types.h"
}  // namespace CiliumAbiCheck

namespace {

constexpr bool same(const char* a, const char* b) { return std::string_view(a) == b; }
static_assert(same(CILIUM_ENVOY_ABI_VERSION, ENVOY_DYNAMIC_MODULES_ABI_VERSION),
              "Envoy's ABI version differs from the one envoy_abi.h was written for");

#define CILIUM_SAME_LAYOUT(type)                                                           \
  static_assert(sizeof(CiliumAbiCheck::type) == sizeof(::type), #type " differs in size"); \
  static_assert(alignof(CiliumAbiCheck::type) == alignof(::type), #type " differs in alignment")
#define CILIUM_SAME_FIELD(type, field)                                            \
  static_assert(offsetof(CiliumAbiCheck::type, field) == offsetof(::type, field), \
                #type "." #field " moved")
#define CILIUM_SAME_VALUE(name)                                                                 \
  static_assert(static_cast<long long>(CiliumAbiCheck::name) == static_cast<long long>(::name), \
                #name " has another value")

CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_envoy_buffer);
CILIUM_SAME_FIELD(envoy_dynamic_module_type_envoy_buffer, ptr);
CILIUM_SAME_FIELD(envoy_dynamic_module_type_envoy_buffer, length);
CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_module_buffer);
CILIUM_SAME_FIELD(envoy_dynamic_module_type_module_buffer, ptr);
CILIUM_SAME_FIELD(envoy_dynamic_module_type_module_buffer, length);
CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_module_http_header);
CILIUM_SAME_FIELD(envoy_dynamic_module_type_module_http_header, key_ptr);
CILIUM_SAME_FIELD(envoy_dynamic_module_type_module_http_header, key_length);
CILIUM_SAME_FIELD(envoy_dynamic_module_type_module_http_header, value_ptr);
CILIUM_SAME_FIELD(envoy_dynamic_module_type_module_http_header, value_length);
CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_envoy_http_header);
CILIUM_SAME_FIELD(envoy_dynamic_module_type_envoy_http_header, key_ptr);
CILIUM_SAME_FIELD(envoy_dynamic_module_type_envoy_http_header, key_length);
CILIUM_SAME_FIELD(envoy_dynamic_module_type_envoy_http_header, value_ptr);
CILIUM_SAME_FIELD(envoy_dynamic_module_type_envoy_http_header, value_length);

CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_http_header_type);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_http_header_type_RequestHeader);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_http_header_type_ResponseHeader);
CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_log_level);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_log_level_Debug);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_log_level_Info);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_log_level_Warn);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_log_level_Error);
CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_http_callout_result);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_http_callout_result_Success);
CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_http_stream_reset_reason);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_http_stream_reset_reason_ConnectionFailure);
CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_attribute_id);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_attribute_id_RequestProtocol);

CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_on_http_filter_request_headers_status);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_on_http_filter_request_headers_status_Continue);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_on_http_filter_request_headers_status_StopIteration);
CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_on_http_filter_request_body_status);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_on_http_filter_request_body_status_Continue);
CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_on_http_filter_request_trailers_status);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_on_http_filter_request_trailers_status_Continue);
CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_on_http_filter_response_headers_status);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_on_http_filter_response_headers_status_Continue);
CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_on_http_filter_response_body_status);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_on_http_filter_response_body_status_Continue);
CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_on_http_filter_response_trailers_status);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_on_http_filter_response_trailers_status_Continue);
CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_on_http_filter_local_reply_status);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_on_http_filter_local_reply_status_Continue);

CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_on_network_filter_data_status);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_on_network_filter_data_status_Continue);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_on_network_filter_data_status_StopIteration);
CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_network_connection_close_type);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_network_connection_close_type_AbortReset);
CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_network_connection_event);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_network_connection_event_RemoteClose);

CILIUM_SAME_LAYOUT(envoy_dynamic_module_type_on_listener_filter_status);
CILIUM_SAME_VALUE(envoy_dynamic_module_type_on_listener_filter_status_Continue);

}  // namespace
