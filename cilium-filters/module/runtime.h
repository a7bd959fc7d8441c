#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "cilium-filters/module/access_log_queue.h"
#include "cilium-filters/module/policy_store.h"
#include "cilium-filters/module/xds_client.h"
#include "cilium-filters/policy/access_log/access_log_client.h"

namespace Cilium {
namespace Module {

enum class LogLevel { Debug, Info, Warn, Error };

// What the module shares across filter configurations in one Envoy: the policy store, the
// xDS client feeding it, and one access-log client per socket path.
//
// The first cilium.bpf_metadata configuration starts the xDS client on the target it names
// (later ones naming another target are told so in the log; Cilium's agent serves one); the
// last one to be destroyed stops it, so no thread of ours outlives the filters. In Envoy's
// validation mode nothing is started.
class Runtime {
public:
  // The one instance (never destroyed: its threads are stopped by detachListener()).
  static Runtime& get();

  PolicyStore& store() { return store_; }

  void attachListener(const std::string& xds_target);
  void detachListener();

  // The shared access log of `path` (a client and the queue that feeds it); null for "".
  std::shared_ptr<AccessLogQueue> accessLog(const std::string& path);
  // A client some filter configuration of this Envoy named and still uses (the agent has one
  // access-log socket); null when none does. For cilium.network on HTTP listeners, which
  // Cilium's agent configures without a path, leaving the logging to cilium.l7policy.
  std::shared_ptr<AccessLogQueue> anyAccessLog();

  // Where the module's messages go (set once, by the ABI layer, before any filter exists).
  void setLogSink(std::function<void(LogLevel, std::string_view)> sink) {
    log_sink_ = std::move(sink);
  }
  void log(LogLevel level, std::string_view text) const;
  // No xDS client is started (Envoy only validates its configuration).
  void setValidationOnly(bool value) { validation_only_ = value; }

  // Nanoseconds since the Unix epoch, for access-log entries.
  static uint64_t nowNs();

private:
  Runtime() = default;

  PolicyStore store_;
  std::function<void(LogLevel, std::string_view)> log_sink_;
  bool validation_only_{false};

  std::mutex mutex_;  // guards what follows (configuration time only, never the request path)
  size_t listeners_{0};
  std::unique_ptr<XdsClient> xds_;
  std::map<std::string, std::weak_ptr<AccessLogQueue>> access_logs_;
};

}  // namespace Module
}  // namespace Cilium
