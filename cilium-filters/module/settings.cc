#include "cilium-filters/module/settings.h"

#include <google/protobuf/util/json_util.h>

#include <cstdlib>
#include <string>

#include "cilium/api/bpf_metadata.pb.h"
#include "cilium/api/l7policy.pb.h"
#include "cilium/api/network_filter.pb.h"

namespace Cilium {
namespace Module {
namespace {

Policy::Status fromJson(std::string_view json, google::protobuf::Message& message) {
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Policy::Status::ok();
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &message, options);
  if (!status.ok()) {
    return Policy::Status::error(message.GetDescriptor()->full_name() +
                                 " as JSON: " + std::string(status.message()));
  }
  return Policy::Status::ok();
}

// The xDS target of a ConfigSource: its first gRPC service's Google gRPC target URI, or the
// Envoy gRPC cluster name is of no use to us (the module has no cluster manager).
Policy::Status xdsTarget(const cilium::BpfMetadata& config, std::string& out) {
  if (!config.has_cilium_config_source()) {
    return Policy::Status::ok();
  }
  const auto& source = config.cilium_config_source();
  if (!source.has_api_config_source() || source.api_config_source().grpc_services_size() == 0) {
    return Policy::Status::ok();
  }
  const auto& service = source.api_config_source().grpc_services(0);
  if (!service.has_google_grpc()) {
    return Policy::Status::error(
        "cilium_config_source: the module reaches the agent through "
        "grpc_services[0].google_grpc.target_uri (e.g. "
        "unix:/var/run/cilium/envoy/sockets/xds.sock); an envoy_grpc cluster is not available "
        "to a dynamic module");
  }
  if (service.google_grpc().target_uri().empty()) {
    return Policy::Status::error("cilium_config_source: google_grpc.target_uri is empty");
  }
  out = service.google_grpc().target_uri();
  return Policy::Status::ok();
}

}  // namespace

Policy::Status parseListenerSettings(std::string_view json, ListenerSettings& out) {
  cilium::BpfMetadata config;
  Policy::Status status = fromJson(json, config);
  if (!status) {
    return status;
  }
  if (config.proxy_id() > 65535) {
    return Policy::Status::error("cilium.BpfMetadata.proxy_id: must be at most 65535");
  }
  ListenerSettings settings;
  settings.ingress = config.is_ingress();
  settings.proxy_id = static_cast<uint16_t>(config.proxy_id());
  status = xdsTarget(config, settings.xds_target);
  if (!status) {
    return status;
  }
  status = parseMaxProgramSize(std::getenv(kMaxProgramSizeVariable), settings.max_program_size);
  if (!status) {
    return status;
  }
  out = std::move(settings);
  return Policy::Status::ok();
}

Policy::Status parseMaxProgramSize(const char* value, uint32_t& out) {
  if (value == nullptr || *value == '\0') {
    out = Policy::kDefaultMaxProgramSize;
    return Policy::Status::ok();
  }
  const std::string text(value);
  const bool digits =
      text.size() <= 10 && text.find_first_not_of("0123456789") == std::string::npos;
  const unsigned long long number = digits ? std::strtoull(text.c_str(), nullptr, 10) : 0;
  if (!digits || number == 0 || number > UINT32_MAX) {
    return Policy::Status::error(std::string(kMaxProgramSizeVariable) + "=" + text +
                                 ": must be a whole number from 1 to 4294967295 (the RE2 "
                                 "program-size limit, as re2.max_program_size.error_level)");
  }
  out = static_cast<uint32_t>(number);
  return Policy::Status::ok();
}

Policy::Status parseNetworkSettings(std::string_view json, NetworkSettings& out) {
  cilium::NetworkFilter config;
  Policy::Status status = fromJson(json, config);
  if (!status) {
    return status;
  }
  out.access_log_path = config.access_log_path();
  return Policy::Status::ok();
}

Policy::Status parseHttpSettings(std::string_view json, HttpSettings& out) {
  cilium::L7Policy config;
  Policy::Status status = fromJson(json, config);
  if (!status) {
    return status;
  }
  out.access_log_path = config.access_log_path();
  out.denied_body =
      config.denied_403_body().empty() ? std::string(kDefaultDeniedBody) : config.denied_403_body();
  const std::string_view body = out.denied_body;
  if (body.size() < 2 || body.substr(body.size() - 2) != "\r\n") {
    out.denied_body += "\r\n";
  }
  return Policy::Status::ok();
}

}  // namespace Module
}  // namespace Cilium
