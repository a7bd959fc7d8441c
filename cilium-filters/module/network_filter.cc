// cilium.network as a dynamic-module network filter: the L4 verdict when a connection starts.
// It asks the engine whether the connection bpf_metadata described may be made; a denied one
// is logged (a Denied entry, as Cilium writes it) and closed.
#include <memory>
#include <string>

#include "cilium-filters/module/abi/buffers.h"
#include "cilium-filters/module/abi/envoy_abi.h"
#include "cilium-filters/module/connection_facts.h"
#include "cilium-filters/module/runtime.h"
#include "cilium-filters/module/settings.h"
#include "cilium-filters/policy/access_log/access_log_entry.h"
#include "cilium-filters/policy/decide/decisions.h"

namespace Cilium {
namespace Module {
namespace {

constexpr std::string_view kFilterName = "cilium.network";

struct NetworkConfig {
  NetworkSettings settings;
  std::shared_ptr<AccessLogQueue> access_log;
};

struct NetworkFilter {
  const NetworkConfig* config;
  bool denied{false};
};

bool readFacts(envoy_dynamic_module_type_network_filter_envoy_ptr envoy_ptr,
               ConnectionFacts& facts) {
  envoy_dynamic_module_type_envoy_buffer value{nullptr, 0};
  return envoy_dynamic_module_callback_network_get_filter_state_bytes(
             envoy_ptr, buffer(kConnectionFactsKey), &value) &&
         ConnectionFacts::decode(view(value), facts);
}

void close(envoy_dynamic_module_type_network_filter_envoy_ptr envoy_ptr, std::string_view why) {
  envoy_dynamic_module_callback_network_filter_close_with_details(
      envoy_ptr, envoy_dynamic_module_type_network_connection_close_type_AbortReset, buffer(why));
}

}  // namespace
}  // namespace Module
}  // namespace Cilium

using namespace Cilium::Module;

extern "C" {

envoy_dynamic_module_type_network_filter_config_module_ptr
envoy_dynamic_module_on_network_filter_config_new(
    envoy_dynamic_module_type_network_filter_config_envoy_ptr,
    envoy_dynamic_module_type_envoy_buffer name, envoy_dynamic_module_type_envoy_buffer config) {
  auto& runtime = Runtime::get();
  if (view(name) != kFilterName) {
    runtime.log(LogLevel::Error, "libcilium: unknown network filter \"" + std::string(view(name)) +
                                     "\"; this module has cilium.network");
    return nullptr;
  }
  auto filter_config = std::make_unique<NetworkConfig>();
  const auto status = parseNetworkSettings(view(config), filter_config->settings);
  if (!status) {
    runtime.log(LogLevel::Error, "cilium.network: " + status.message());
    return nullptr;
  }
  filter_config->access_log = runtime.accessLog(filter_config->settings.access_log_path);
  return filter_config.release();
}

void envoy_dynamic_module_on_network_filter_config_destroy(
    envoy_dynamic_module_type_network_filter_config_module_ptr config_ptr) {
  delete static_cast<const NetworkConfig*>(config_ptr);
}

envoy_dynamic_module_type_network_filter_module_ptr envoy_dynamic_module_on_network_filter_new(
    envoy_dynamic_module_type_network_filter_config_module_ptr config_ptr,
    envoy_dynamic_module_type_network_filter_envoy_ptr) {
  return new NetworkFilter{static_cast<const NetworkConfig*>(config_ptr)};
}

void envoy_dynamic_module_on_network_filter_destroy(
    envoy_dynamic_module_type_network_filter_module_ptr filter_ptr) {
  delete static_cast<const NetworkFilter*>(filter_ptr);
}

envoy_dynamic_module_type_on_network_filter_data_status
envoy_dynamic_module_on_network_filter_new_connection(
    envoy_dynamic_module_type_network_filter_envoy_ptr envoy_ptr,
    envoy_dynamic_module_type_network_filter_module_ptr filter_ptr) {
  auto* filter = const_cast<NetworkFilter*>(static_cast<const NetworkFilter*>(filter_ptr));
  ConnectionFacts facts;
  if (!readFacts(envoy_ptr, facts)) {
    filter->denied = true;
    close(envoy_ptr,
          "cilium.network: no Cilium policy filter state (cilium.bpf_metadata missing "
          "or the connection is not IP)");
    return envoy_dynamic_module_type_on_network_filter_data_status_StopIteration;
  }
  const PolicyStore& store = Runtime::get().store();
  const Cilium::Policy::HostMap* hosts = store.hosts();
  envoy_dynamic_module_type_envoy_buffer sni{nullptr, 0};
  if (!envoy_dynamic_module_callback_network_filter_get_requested_server_name(envoy_ptr, &sni)) {
    sni = {nullptr, 0};
  }
  const auto question = facts.question(facts.remoteIdentity(hosts), view(sni));
  if (Cilium::Policy::allowedL4(store.policies(), question)) {
    return envoy_dynamic_module_type_on_network_filter_data_status_Continue;
  }
  filter->denied = true;
  // Without a path of its own (an HTTP listener, as Cilium's agent writes it) the denial goes
  // to the socket the other filters name: issue 17 wants every denied connection logged.
  std::shared_ptr<AccessLogQueue> access_log = filter->config->access_log;
  if (!access_log) {
    access_log = Runtime::get().anyAccessLog();
  }
  if (access_log) {
    access_log->log(Cilium::Policy::l4DeniedEntry(
        facts.logConnection(facts.destinationIdentity(hosts), Runtime::nowNs())));
  }
  close(envoy_ptr, "cilium.network: access denied");
  return envoy_dynamic_module_type_on_network_filter_data_status_StopIteration;
}

envoy_dynamic_module_type_on_network_filter_data_status envoy_dynamic_module_on_network_filter_read(
    envoy_dynamic_module_type_network_filter_envoy_ptr,
    envoy_dynamic_module_type_network_filter_module_ptr filter_ptr, size_t, bool) {
  return static_cast<const NetworkFilter*>(filter_ptr)->denied
             ? envoy_dynamic_module_type_on_network_filter_data_status_StopIteration
             : envoy_dynamic_module_type_on_network_filter_data_status_Continue;
}

}  // extern "C"
