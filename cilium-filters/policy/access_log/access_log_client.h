#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "cilium-filters/policy/base/status.h"
#include "cilium/api/accesslog.pb.h"

namespace Cilium {
namespace Policy {

struct AccessLogClientOptions {
  // Receives the warnings, at most one per `warning_interval`; each says why the latest
  // entry was dropped and how many were dropped since the previous warning. Called from the
  // thread whose entry was dropped, outside the client's lock. Empty: warnings go to stderr.
  std::function<void(const std::string&)> warning_sink;
  std::chrono::steady_clock::duration warning_interval{std::chrono::seconds(1)};
  // Sends tried per entry; a broken connection is reopened between two tries. At least 1.
  int max_attempts{2};
  // How long a send may wait for room in a full socket before the entry is dropped: zero
  // (never wait) on a request path; a sender thread of its own may wait a little, so that a
  // burst of entries is not dropped while the agent catches up.
  std::chrono::milliseconds full_wait{0};
  // Where the rate limit reads the time; empty: std::chrono::steady_clock::now.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

// What a client has done since it was made.
struct AccessLogClientCounters {
  uint64_t sent{0};
  uint64_t dropped{0};
  uint64_t connects{0};  // connections opened
  uint64_t warnings{0};  // warnings given to the sink
};

// Sends access-log entries to Cilium's agent, each serialized as one message over a
// SOCK_SEQPACKET Unix socket at `path` ("@name" is a Linux abstract socket). It never
// blocks (beyond `full_wait`): it connects when an entry is sent, without waiting; an entry
// the socket cannot take (the agent is not there or does not read fast enough) is dropped,
// counted and reported by the returned status and a rate-limited warning. Safe for
// concurrent use.
// Linux only: elsewhere every send fails with a status saying so.
class AccessLogClient {
public:
  explicit AccessLogClient(std::string path, AccessLogClientOptions options = {});
  ~AccessLogClient();
  AccessLogClient(const AccessLogClient&) = delete;
  AccessLogClient& operator=(const AccessLogClient&) = delete;

  // Ok when the entry was handed to the socket whole; otherwise why it was dropped.
  Status log(const ::cilium::LogEntry& entry);
  // The same for an entry already serialized.
  Status send(std::string_view message);

  AccessLogClientCounters counters() const;
  const std::string& path() const { return path_; }

private:
  // Owns one file descriptor.
  class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    void reset();

  private:
    int fd_{-1};
  };

  Status sendLocked(std::string_view message);
  Status connectLocked();
  // Counts a dropped entry and gives the warning the rate limit allows, after unlocking.
  Status drop(std::unique_lock<std::mutex>& lock, Status reason);

  const std::string path_;
  const AccessLogClientOptions options_;

  mutable std::mutex mutex_;
  UniqueFd socket_;
  AccessLogClientCounters counters_;
  uint64_t dropped_since_warning_{0};
  bool warned_{false};
  std::chrono::steady_clock::time_point last_warning_;
};

}  // namespace Policy
}  // namespace Cilium
