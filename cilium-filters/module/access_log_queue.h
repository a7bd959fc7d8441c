#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "cilium-filters/policy/access_log/access_log_client.h"
#include "cilium-filters/policy/access_log/access_log_entry.h"
#include "cilium-filters/policy/base/header_log.h"
#include "cilium-filters/policy/base/request_headers.h"
#include "cilium/api/accesslog.pb.h"

namespace Cilium {
namespace Module {

struct AccessLogQueueOptions {
  // Items waiting at most; a filter's item beyond that is dropped (and counted), as an entry
  // the socket cannot take is. Half full wakes the sender at once.
  size_t capacity{8192};
  // How long the sender sleeps between two looks while items come, and at most when idle
  // (the wait doubles from the first to the second while nothing comes). Every look wakes
  // this thread and then the agent: at 1 ms that was about two more context switches a
  // request for a single busy connection (perf stat), at 10 ms a fifth of that.
  std::chrono::milliseconds busy_interval{10};
  std::chrono::milliseconds idle_interval{64};
  // Told, at most once a second, that items were dropped because the queue was full.
  std::function<void(const std::string&)> warning;
};

// What an HTTP request's access-log entries are made of, from its decision on: the filter
// fills it and hands it over; the queue's thread makes the Request (or Denied) entry of it
// and, once the response came, the Response entry.
struct HttpLogRecord {
  Policy::AccessLogConnection connection;
  Policy::HttpVersion version{Policy::HttpVersion::Http11};
  bool denied{false};
  Policy::RequestHeaders headers;  // after the policy's header actions
  Policy::HeaderLog header_log;
  // The Request or Denied entry, between the two: the queue's thread only.
  std::optional<::cilium::LogEntry> entry;
};

// Access-log entries off the request path. A filter hands over what an entry is made of (a
// move into a queue under a short lock: no system call, no wake-up); the queue's own thread
// builds the entries, serializes them and sends them through the engine's client, in the
// order they came. Building and sending on a worker thread cost it a third of a request's
// instructions, a system call per entry and the agent's wake-up, which on a busy node takes
// the worker's CPU in the middle of the request (`nox -s e2e -- bench` measured it). The
// sender looks every 10 ms while entries come, so an entry reaches the agent up to 10 ms later
// than it would have, in the same order; a request is never blocked.
class AccessLogQueue {
public:
  explicit AccessLogQueue(std::shared_ptr<Policy::AccessLogClient> client,
                          AccessLogQueueOptions options = {});
  ~AccessLogQueue();  // sends what is queued, then stops its thread
  AccessLogQueue(const AccessLogQueue&) = delete;
  AccessLogQueue& operator=(const AccessLogQueue&) = delete;

  // Any thread. An entry as it is (an L4 denial).
  void log(::cilium::LogEntry&& entry);
  // The Request or Denied entry of `record` (which the filter must not change any more).
  void logRequest(std::shared_ptr<HttpLogRecord> record);
  // The Response entry of `record`, after its logRequest().
  void logResponse(std::shared_ptr<HttpLogRecord> record, uint64_t timestamp_ns,
                   Policy::ResponseHeaderList response_headers);

  // Waits until every item queued before the call was handed to the client (tests).
  void flush();

  // Entries dropped here: refused by a full queue, or given up after a failed send in the
  // same batch (the failed one is the client's).
  uint64_t dropped() const;
  const Policy::AccessLogClient& client() const { return *client_; }

private:
  struct Response {
    std::shared_ptr<HttpLogRecord> record;
    uint64_t timestamp_ns;
    Policy::ResponseHeaderList headers;
  };
  using Item = std::variant<::cilium::LogEntry, std::shared_ptr<HttpLogRecord>, Response>;

  void push(Item&& item);
  bool send(Item& item);  // the sender's thread; false when the client dropped the entry
  void run();

  const std::shared_ptr<Policy::AccessLogClient> client_;
  const AccessLogQueueOptions options_;

  mutable std::mutex mutex_;         // guards what follows
  std::condition_variable wake_;     // the sender: half full, flush() or stopping
  std::condition_variable drained_;  // flush(): a batch was sent
  std::vector<Item> pending_;
  uint64_t queued_{0};  // items ever queued
  uint64_t sent_{0};    // items ever taken off the queue
  uint64_t dropped_{0};
  uint64_t dropped_since_warning_{0};
  std::chrono::steady_clock::time_point last_warning_{};
  bool flushing_{false};
  bool stopping_{false};

  std::thread sender_;  // last: starts once everything above exists
};

}  // namespace Module
}  // namespace Cilium
