// The module's entry point: Envoy calls it once when it loads libcilium.so.
#include <string>

#include "cilium-filters/module/abi/buffers.h"
#include "cilium-filters/module/abi/envoy_abi.h"
#include "cilium-filters/module/runtime.h"

namespace {

envoy_dynamic_module_type_log_level levelOf(Cilium::Module::LogLevel level) {
  switch (level) {
    case Cilium::Module::LogLevel::Debug:
      return envoy_dynamic_module_type_log_level_Debug;
    case Cilium::Module::LogLevel::Info:
      return envoy_dynamic_module_type_log_level_Info;
    case Cilium::Module::LogLevel::Warn:
      return envoy_dynamic_module_type_log_level_Warn;
    case Cilium::Module::LogLevel::Error:
      return envoy_dynamic_module_type_log_level_Error;
  }
  return envoy_dynamic_module_type_log_level_Info;
}

}  // namespace

extern "C" envoy_dynamic_module_type_abi_version_module_ptr envoy_dynamic_module_on_program_init() {
  auto& runtime = Cilium::Module::Runtime::get();
  runtime.setLogSink([](Cilium::Module::LogLevel level, std::string_view text) {
    envoy_dynamic_module_callback_log(levelOf(level), Cilium::Module::buffer(text));
  });
  runtime.setValidationOnly(envoy_dynamic_module_callback_is_validation_mode());
  return CILIUM_ENVOY_ABI_VERSION;
}
