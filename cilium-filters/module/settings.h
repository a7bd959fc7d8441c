#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cilium-filters/policy/base/status.h"
#include "cilium-filters/policy/compile/regex.h"

namespace Cilium {
namespace Module {

// Cilium's agent socket for xDS when BpfMetadata names none (Cilium's default).
inline constexpr std::string_view kDefaultXdsTarget = "unix:/var/run/cilium/envoy/sockets/xds.sock";
// What a denied request gets when L7Policy.denied_403_body is empty (Cilium's default).
inline constexpr std::string_view kDefaultDeniedBody = "Access denied";

// cilium.bpf_metadata's configuration: what the module uses of cilium.BpfMetadata.
struct ListenerSettings {
  bool ingress{false};
  uint16_t proxy_id{0};
  // Where NPDS and NPHDS are served: a gRPC target such as "unix:/run/cilium/xds.sock".
  std::string xds_target{kDefaultXdsTarget};
  // The RE2 program-size limit for the policies' regexes whose matcher sets none: Envoy's
  // runtime key re2.max_program_size.error_level, which the 1.38 ABI does not let a module
  // read, so it comes from the environment variable below (Envoy's default when unset).
  uint32_t max_program_size{Policy::kDefaultMaxProgramSize};
};

// Raises (or lowers) the regex limit as re2.max_program_size.error_level does for Envoy's own
// regexes: a whole number from 1 to 4294967295, in Envoy's environment.
inline constexpr const char* kMaxProgramSizeVariable = "CILIUM_RE2_MAX_PROGRAM_SIZE_ERROR_LEVEL";
// Reads that variable's value (null: unset, Envoy's default of 100).
Policy::Status parseMaxProgramSize(const char* value, uint32_t& out);

// cilium.network's configuration (cilium.NetworkFilter).
struct NetworkSettings {
  std::string access_log_path;  // "": no access log
};

// cilium.l7policy's configuration (cilium.L7Policy).
struct HttpSettings {
  std::string access_log_path;  // "": no access log
  // The body of a 403 answer, ending in CRLF as Cilium sends it.
  std::string denied_body;
};

// Each reads the filter_config Envoy hands over: the message as proto3 JSON (a
// google.protobuf.StringValue's text, or a google.protobuf.Struct that Envoy serialized to
// JSON). Empty text is the message's defaults. Unknown fields are refused, naming the field.
// The listener's also reads kMaxProgramSizeVariable from the environment.
Policy::Status parseListenerSettings(std::string_view json, ListenerSettings& out);
Policy::Status parseNetworkSettings(std::string_view json, NetworkSettings& out);
Policy::Status parseHttpSettings(std::string_view json, HttpSettings& out);

}  // namespace Module
}  // namespace Cilium
