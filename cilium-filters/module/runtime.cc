#include "cilium-filters/module/runtime.h"

#include <chrono>
#include <utility>

namespace Cilium {
namespace Module {

Runtime& Runtime::get() {
  static Runtime* const runtime = new Runtime();
  return *runtime;
}

void Runtime::log(LogLevel level, std::string_view text) const {
  if (log_sink_) {
    log_sink_(level, text);
  }
}

uint64_t Runtime::nowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

void Runtime::attachListener(const std::string& xds_target) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++listeners_;
  if (validation_only_) {
    return;
  }
  if (xds_) {
    if (xds_->target() != xds_target) {
      log(LogLevel::Warn, "cilium.bpf_metadata: policies keep coming from " + xds_->target() +
                              "; this listener names " + xds_target);
    }
    return;
  }
  XdsClientOptions options;
  options.target = xds_target;
  options.log = [this](const std::string& text) { log(LogLevel::Warn, text); };
  options.idle = [this] { store_.collect(); };
  xds_ = std::make_unique<XdsClient>(std::move(options));
  xds_->subscribePolicies([this](const envoy::service::discovery::v3::DiscoveryResponse& r) {
    return store_.updatePolicies(r);
  });
  xds_->subscribeHosts([this](const envoy::service::discovery::v3::DiscoveryResponse& r) {
    return store_.updateHosts(r);
  });
  xds_->start();
  log(LogLevel::Info, "cilium: NPDS and NPHDS from " + xds_target);
}

void Runtime::detachListener() {
  std::unique_ptr<XdsClient> stopping;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (listeners_ > 0 && --listeners_ == 0) {
      stopping = std::move(xds_);
    }
  }
  if (stopping) {
    stopping->stop();
  }
}

std::shared_ptr<AccessLogQueue> Runtime::accessLog(const std::string& path) {
  if (path.empty()) {
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto& slot = access_logs_[path];
  std::shared_ptr<AccessLogQueue> queue = slot.lock();
  if (!queue) {
    auto warn = [this](const std::string& text) { log(LogLevel::Warn, text); };
    Policy::AccessLogClientOptions options;
    options.warning_sink = warn;
    // Only the queue's thread sends: it may wait a little for an agent that is behind.
    options.full_wait = std::chrono::milliseconds(100);
    AccessLogQueueOptions queue_options;
    queue_options.warning = warn;
    queue = std::make_shared<AccessLogQueue>(
        std::make_shared<Policy::AccessLogClient>(path, std::move(options)), queue_options);
    slot = queue;
  }
  return queue;
}

std::shared_ptr<AccessLogQueue> Runtime::anyAccessLog() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [path, slot] : access_logs_) {
    if (auto client = slot.lock()) {
      return client;
    }
  }
  return nullptr;
}

}  // namespace Module
}  // namespace Cilium
