#pragma once

#include <string_view>

#include "cilium-filters/module/abi/envoy_abi.h"

namespace Cilium {
namespace Module {

// Between Envoy's buffers and string views (no copies: mind the lifetimes the ABI gives).
inline std::string_view view(envoy_dynamic_module_type_envoy_buffer buffer) {
  return buffer.ptr == nullptr ? std::string_view() : std::string_view(buffer.ptr, buffer.length);
}
inline envoy_dynamic_module_type_module_buffer buffer(std::string_view text) {
  return envoy_dynamic_module_type_module_buffer{text.data(), text.size()};
}
// A null buffer: "none" where the ABI allows it (e.g. set_header's value removes the header).
inline envoy_dynamic_module_type_module_buffer noBuffer() {
  return envoy_dynamic_module_type_module_buffer{nullptr, 0};
}

}  // namespace Module
}  // namespace Cilium
