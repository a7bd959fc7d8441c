// cilium.bpf_metadata as a dynamic-module listener filter: on accept, what Cilium's
// bpf_metadata learns of a connection (both ends after proxy_protocol, the direction, the
// endpoint whose policy applies, the source's identity from NPHDS), kept in the connection's
// filter state for cilium.network and cilium.l7policy. It decides nothing itself.
#include <string>

#include "cilium-filters/module/abi/buffers.h"
#include "cilium-filters/module/abi/envoy_abi.h"
#include "cilium-filters/module/connection_facts.h"
#include "cilium-filters/module/runtime.h"
#include "cilium-filters/module/settings.h"

namespace Cilium {
namespace Module {
namespace {

constexpr std::string_view kFilterName = "cilium.bpf_metadata";

struct ListenerConfig {
  ListenerSettings settings;
};

}  // namespace
}  // namespace Module
}  // namespace Cilium

using Cilium::Module::ListenerConfig;
using Cilium::Module::Runtime;

extern "C" {

envoy_dynamic_module_type_listener_filter_config_module_ptr
envoy_dynamic_module_on_listener_filter_config_new(
    envoy_dynamic_module_type_listener_filter_config_envoy_ptr,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  auto& runtime = Runtime::get();
  if (Cilium::Module::view(name) != Cilium::Module::kFilterName) {
    runtime.log(Cilium::Module::LogLevel::Error, "libcilium: unknown listener filter \"" +
                                                     std::string(Cilium::Module::view(name)) +
                                                     "\"; this module has cilium.bpf_metadata");
    return nullptr;
  }
  auto filter_config = std::make_unique<ListenerConfig>();
  const auto status =
      Cilium::Module::parseListenerSettings(Cilium::Module::view(config), filter_config->settings);
  if (!status) {
    runtime.log(Cilium::Module::LogLevel::Error, "cilium.bpf_metadata: " + status.message());
    return nullptr;
  }
  runtime.store().setMaxProgramSize(filter_config->settings.max_program_size);
  runtime.attachListener(filter_config->settings.xds_target);
  return filter_config.release();
}

void envoy_dynamic_module_on_listener_filter_config_destroy(
    envoy_dynamic_module_type_listener_filter_config_module_ptr config_ptr) {
  delete static_cast<const ListenerConfig*>(config_ptr);
  Runtime::get().detachListener();
}

// The filter needs no state of its own: it is its configuration.
envoy_dynamic_module_type_listener_filter_module_ptr envoy_dynamic_module_on_listener_filter_new(
    envoy_dynamic_module_type_listener_filter_config_module_ptr config_ptr,
    envoy_dynamic_module_type_listener_filter_envoy_ptr) {
  return config_ptr;
}

void envoy_dynamic_module_on_listener_filter_destroy(
    envoy_dynamic_module_type_listener_filter_module_ptr) {}

envoy_dynamic_module_type_on_listener_filter_status
envoy_dynamic_module_on_listener_filter_on_accept(
    envoy_dynamic_module_type_listener_filter_envoy_ptr envoy_ptr,
    envoy_dynamic_module_type_listener_filter_module_ptr filter_ptr) {
  const auto& settings = static_cast<const ListenerConfig*>(filter_ptr)->settings;
  envoy_dynamic_module_type_envoy_buffer remote{nullptr, 0};
  envoy_dynamic_module_type_envoy_buffer local{nullptr, 0};
  uint32_t remote_port = 0;
  uint32_t local_port = 0;
  // The local address is the original destination: as restored by proxy_protocol (or
  // original_dst, or Cilium's TPROXY redirection) before us.
  if (!envoy_dynamic_module_callback_listener_filter_get_remote_address(envoy_ptr, &remote,
                                                                        &remote_port) ||
      !envoy_dynamic_module_callback_listener_filter_get_local_address(envoy_ptr, &local,
                                                                       &local_port)) {
    // Not IP: no facts, and the later filters refuse the connection (as Cilium's do).
    return envoy_dynamic_module_type_on_listener_filter_status_Continue;
  }
  Cilium::Module::ConnectionFacts facts;
  if (Cilium::Module::ConnectionFacts::fromAddresses(
          settings.ingress, settings.proxy_id, Cilium::Module::view(remote), remote_port,
          Cilium::Module::view(local), local_port, Runtime::get().store().hosts(), facts)) {
    const std::string encoded = facts.encode();
    envoy_dynamic_module_callback_listener_filter_set_filter_state(
        envoy_ptr, Cilium::Module::buffer(Cilium::Module::kConnectionFactsKey),
        Cilium::Module::buffer(encoded));
  }
  return envoy_dynamic_module_type_on_listener_filter_status_Continue;
}

}  // extern "C"
