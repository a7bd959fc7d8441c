#include "cilium-filters/policy/access_log/access_log_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <latch>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace Cilium {
namespace Policy {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

::cilium::LogEntry entry(const std::string& policy_name, size_t header_bytes = 0) {
  ::cilium::LogEntry e;
  e.set_timestamp(1'700'000'000'000'000'000ULL);
  e.set_entry_type(::cilium::Request);
  e.set_policy_name(policy_name);
  e.set_proxy_id(7);
  e.set_source_security_id(1);
  e.set_destination_security_id(2);
  e.set_source_address("10.0.0.1:40000");
  e.set_destination_address("10.0.0.2:80");
  ::cilium::HttpLogEntry* http = e.mutable_http();
  http->set_method("GET");
  http->set_path("/");
  if (header_bytes > 0) {
    ::cilium::KeyValue* kv = http->add_headers();
    kv->set_key("x-big");
    kv->set_value(std::string(header_bytes, 'b'));
  }
  return e;
}

#if defined(__linux__)

std::vector<std::string> policyNames(const std::vector<std::string>& messages) {
  std::vector<std::string> names;
  for (const auto& message : messages) {
    ::cilium::LogEntry decoded;
    names.push_back(decoded.ParseFromString(message) ? decoded.policy_name() : "<undecodable>");
  }
  return names;
}

class Fd {
public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  void reset() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  int get() const { return fd_; }

private:
  int fd_;
};

// Cilium's agent's side of the access log: a SOCK_SEQPACKET Unix socket server that
// accepts every connection and, unless paused, reads one message at a time on its thread.
class AgentServer {
public:
  explicit AgentServer(std::string path) : path_(std::move(path)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path_.empty() || path_.size() >= sizeof(address.sun_path)) {
      error_ = "unusable path " + path_;
      return;
    }
    const bool abstract = path_.front() == '@';
    std::memcpy(address.sun_path, path_.data(), path_.size());
    if (abstract) {
      address.sun_path[0] = '\0';
    }
    const auto length =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size() + (abstract ? 0 : 1));
    listener_ = Fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    int pipe_fds[2];
    if (listener_.get() < 0 ||
        ::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0 ||
        ::listen(listener_.get(), 16) != 0 || ::pipe2(pipe_fds, O_CLOEXEC) != 0) {
      error_ = std::strerror(errno);
      return;
    }
    wake_read_ = Fd(pipe_fds[0]);
    wake_write_ = Fd(pipe_fds[1]);
    thread_ = std::thread([this] { run(); });
  }

  ~AgentServer() {
    if (thread_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
      }
      wake();
      thread_.join();
    }
    if (error_.empty() && path_.front() != '@') {
      ::unlink(path_.c_str());
    }
  }

  const std::string& error() const { return error_; }

  void setReading(bool reading) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      reading_ = reading;
    }
    wake();
  }

  // Closes every accepted connection, as an agent that restarts its reader does.
  void closeConnections() {
    std::unique_lock<std::mutex> lock(mutex_);
    close_requested_ = true;
    wake();
    changed_.wait(lock, [this] { return !close_requested_; });
  }

  // The messages received so far, once there are at least `count` or after `timeout`.
  std::vector<std::string> waitForMessages(size_t count,
                                           std::chrono::milliseconds timeout = 2000ms) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return messages_.size() >= count; });
    return messages_;
  }

  size_t accepted() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return accepted_;
  }
  size_t truncated() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return truncated_;
  }

private:
  void wake() {
    const char byte = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_write_.get(), &byte, 1);
  }

  void run() {
    std::vector<Fd> connections;
    std::vector<char> buffer(512 * 1024);
    while (true) {
      bool reading;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_) {
          return;
        }
        if (close_requested_) {
          connections.clear();
          close_requested_ = false;
          changed_.notify_all();
        }
        reading = reading_;
      }
      std::vector<pollfd> fds = {{wake_read_.get(), POLLIN, 0}, {listener_.get(), POLLIN, 0}};
      if (reading) {
        for (const Fd& connection : connections) {
          fds.push_back({connection.get(), POLLIN, 0});
        }
      }
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        continue;
      }
      if (fds[0].revents != 0) {
        char bytes[64];
        [[maybe_unused]] ssize_t n = ::read(wake_read_.get(), bytes, sizeof(bytes));
      }
      if (fds[1].revents != 0) {
        Fd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (connection.get() >= 0) {
          connections.push_back(std::move(connection));
          std::lock_guard<std::mutex> lock(mutex_);
          ++accepted_;
        }
      }
      std::vector<int> closed;
      for (size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents == 0) {
          continue;
        }
        iovec io{buffer.data(), buffer.size()};
        msghdr header{};
        header.msg_iov = &io;
        header.msg_iovlen = 1;
        const ssize_t n = ::recvmsg(fds[i].fd, &header, MSG_DONTWAIT);
        if (n > 0) {
          std::lock_guard<std::mutex> lock(mutex_);
          if ((header.msg_flags & MSG_TRUNC) != 0) {
            ++truncated_;
          }
          messages_.emplace_back(buffer.data(), static_cast<size_t>(n));
          changed_.notify_all();
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          closed.push_back(fds[i].fd);
        }
      }
      connections.erase(std::remove_if(connections.begin(), connections.end(),
                                       [&](const Fd& fd) {
                                         return std::find(closed.begin(), closed.end(), fd.get()) !=
                                                closed.end();
                                       }),
                        connections.end());
    }
  }

  const std::string path_;
  std::string error_;
  Fd listener_;
  Fd wake_read_;
  Fd wake_write_;
  std::thread thread_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool stop_{false};
  bool reading_{true};
  bool close_requested_{false};
  size_t accepted_{0};
  size_t truncated_{0};
  std::vector<std::string> messages_;
};

class AccessLogClientTest : public testing::Test {
protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "cilium-alog-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    dir_ = pattern;
    path_ = (dir_ / "access_log.sock").string();
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  AccessLogClientOptions quiet() {
    AccessLogClientOptions options;
    options.warning_sink = [this](const std::string& warning) {
      std::lock_guard<std::mutex> lock(warnings_mutex_);
      warnings_.push_back(warning);
    };
    return options;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::mutex warnings_mutex_;
  std::vector<std::string> warnings_;
};

TEST_F(AccessLogClientTest, EachEntryArrivesAsOneWholeMessage) {
  AgentServer server(path_);
  ASSERT_EQ(server.error(), "");
  AccessLogClient client(path_, quiet());
  const ::cilium::LogEntry small = entry("small");
  const ::cilium::LogEntry big = entry("big", 100 * 1024);
  const Status status = client.log(small);
  ASSERT_TRUE(status) << status.message();
  ASSERT_TRUE(client.log(big));
  ASSERT_TRUE(client.log(entry("third")));

  const std::vector<std::string> messages = server.waitForMessages(3);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(server.truncated(), 0u);
  EXPECT_EQ(messages[0].size(), small.ByteSizeLong());
  EXPECT_EQ(messages[1].size(), big.ByteSizeLong());
  ::cilium::LogEntry decoded;
  ASSERT_TRUE(decoded.ParseFromString(messages[1]));
  EXPECT_EQ(decoded.DebugString(), big.DebugString());
  ASSERT_TRUE(decoded.ParseFromString(messages[0]));
  EXPECT_EQ(decoded.DebugString(), small.DebugString());
  EXPECT_EQ(policyNames(messages), (std::vector<std::string>{"small", "big", "third"}));

  const AccessLogClientCounters counters = client.counters();
  EXPECT_EQ(counters.sent, 3u);
  EXPECT_EQ(counters.dropped, 0u);
  EXPECT_EQ(counters.connects, 1u);
  EXPECT_EQ(server.accepted(), 1u);
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(AccessLogClientTest, ConnectsOnceTheServerIsThere) {
  AccessLogClient client(path_, quiet());
  const Status before = client.log(entry("lost"));
  EXPECT_FALSE(before);
  EXPECT_EQ(before.message().find(path_ + ": cannot connect: "), 0u) << before.message();
  EXPECT_EQ(client.counters().dropped, 1u);
  EXPECT_EQ(client.counters().connects, 0u);

  AgentServer server(path_);
  ASSERT_EQ(server.error(), "");
  EXPECT_TRUE(client.log(entry("kept")));
  EXPECT_EQ(policyNames(server.waitForMessages(1)), (std::vector<std::string>{"kept"}));
  EXPECT_EQ(client.counters().connects, 1u);
  EXPECT_EQ(client.counters().sent, 1u);
}

TEST_F(AccessLogClientTest, ReconnectsWhenTheServerClosesTheConnection) {
  AgentServer server(path_);
  ASSERT_EQ(server.error(), "");
  AccessLogClient client(path_, quiet());
  ASSERT_TRUE(client.log(entry("first")));
  ASSERT_EQ(server.waitForMessages(1).size(), 1u);

  server.closeConnections();
  // The first try finds the connection broken; the second goes over a new one.
  const Status status = client.log(entry("second"));
  EXPECT_TRUE(status) << status.message();
  EXPECT_EQ(policyNames(server.waitForMessages(2)), (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(client.counters().connects, 2u);
  EXPECT_EQ(client.counters().dropped, 0u);
  EXPECT_EQ(server.accepted(), 2u);
}

TEST_F(AccessLogClientTest, OneTryDropsTheEntryOnABrokenConnection) {
  AgentServer server(path_);
  ASSERT_EQ(server.error(), "");
  AccessLogClientOptions options = quiet();
  options.max_attempts = 1;
  AccessLogClient client(path_, options);
  ASSERT_TRUE(client.log(entry("first")));
  ASSERT_EQ(server.waitForMessages(1).size(), 1u);

  server.closeConnections();
  const Status status = client.log(entry("dropped"));
  EXPECT_FALSE(status);
  EXPECT_NE(status.message().find(": cannot send: "), std::string::npos) << status.message();
  EXPECT_TRUE(client.log(entry("next")));  // the next entry connects afresh
  EXPECT_EQ(policyNames(server.waitForMessages(2)), (std::vector<std::string>{"first", "next"}));
  EXPECT_EQ(client.counters().dropped, 1u);
  EXPECT_EQ(client.counters().connects, 2u);
}

TEST_F(AccessLogClientTest, SurvivesAServerRestart) {
  AccessLogClient client(path_, quiet());
  {
    AgentServer server(path_);
    ASSERT_EQ(server.error(), "");
    ASSERT_TRUE(client.log(entry("before")));
    ASSERT_EQ(server.waitForMessages(1).size(), 1u);
  }
  EXPECT_FALSE(client.log(entry("while away")));
  AgentServer server(path_);
  ASSERT_EQ(server.error(), "");
  EXPECT_TRUE(client.log(entry("after")));
  EXPECT_EQ(policyNames(server.waitForMessages(1)), (std::vector<std::string>{"after"}));
  EXPECT_EQ(client.counters().connects, 2u);
  EXPECT_EQ(client.counters().dropped, 1u);
}

TEST_F(AccessLogClientTest, AFullSocketDropsEntriesWithoutBlocking) {
  AgentServer server(path_);
  ASSERT_EQ(server.error(), "");
  server.setReading(false);
  AccessLogClientOptions options = quiet();
  options.warning_interval = 1h;
  AccessLogClient client(path_, options);
  const ::cilium::LogEntry filler = entry("filler", 1024);

  // Fill the socket on another thread, so that a client that blocks fails the test instead
  // of hanging it.
  std::atomic<bool> give_up{false};
  Status status = Status::ok();
  Clock::duration slowest{};
  size_t sent = 0;
  auto filling = std::async(std::launch::async, [&] {
    for (size_t i = 0; i < 100000 && status && !give_up; ++i) {
      const auto start = Clock::now();
      status = client.log(filler);
      slowest = std::max(slowest, Clock::now() - start);
      sent += status ? 1 : 0;
    }
  });
  if (filling.wait_for(1s) != std::future_status::ready) {
    ADD_FAILURE() << "the client blocked on a full socket";
    give_up = true;
    server.setReading(true);
  }
  filling.wait();
  ASSERT_FALSE(status) << "the socket never filled up";
  EXPECT_NE(status.message().find("is full"), std::string::npos) << status.message();
  EXPECT_LT(slowest, 100ms);
  EXPECT_GT(sent, 0u);
  // Still full: dropped again, at once.
  const auto start = Clock::now();
  EXPECT_FALSE(client.log(filler));
  EXPECT_LT(Clock::now() - start, 100ms);

  // The connection was kept: once the server reads, everything sent arrives, in order,
  // and new entries go through the same connection.
  server.setReading(true);
  EXPECT_EQ(server.waitForMessages(sent).size(), sent);
  EXPECT_TRUE(client.log(entry("after")));
  const std::vector<std::string> messages = server.waitForMessages(sent + 1);
  ASSERT_EQ(messages.size(), sent + 1);
  std::vector<std::string> expected(sent, "filler");
  expected.push_back("after");
  EXPECT_EQ(policyNames(messages), expected);
  const AccessLogClientCounters counters = client.counters();
  EXPECT_EQ(counters.sent, sent + 1);
  EXPECT_EQ(counters.dropped, 2u);
  EXPECT_EQ(counters.connects, 1u);
  EXPECT_EQ(warnings_.size(), 1u);  // two drops within one interval
}

TEST_F(AccessLogClientTest, AFullSocketIsWaitedForWhenTheCallerMayWait) {
  AgentServer server(path_);
  ASSERT_EQ(server.error(), "");
  server.setReading(false);
  AccessLogClientOptions options = quiet();
  options.full_wait = 200ms;
  options.warning_interval = 1h;
  AccessLogClient client(path_, options);
  const ::cilium::LogEntry filler = entry("filler", 1024);
  // Fill the socket: the entry that finds it full waits for room, then is dropped.
  size_t sent = 0;
  Status status = Status::ok();
  while (sent < 100000 && (status = client.log(filler))) {
    ++sent;
  }
  ASSERT_FALSE(status) << "the socket never filled up";
  // Once the server reads again, an entry that finds the socket full waits and goes out.
  auto reading = std::async(std::launch::async, [&server] {
    std::this_thread::sleep_for(50ms);
    server.setReading(true);
  });
  const auto start = Clock::now();
  EXPECT_TRUE(client.log(entry("waited")));
  EXPECT_GE(Clock::now() - start, 40ms);
  reading.wait();
  EXPECT_EQ(client.counters().dropped, 1u);
  const auto names = policyNames(server.waitForMessages(sent + 1));
  ASSERT_EQ(names.size(), sent + 1);
  EXPECT_EQ(names.back(), "waited");
}

TEST_F(AccessLogClientTest, AnEntryTooLargeForTheSocketIsDroppedAlone) {
  AgentServer server(path_);
  ASSERT_EQ(server.error(), "");
  AccessLogClient client(path_, quiet());
  const Status status = client.log(entry("huge", 4 * 1024 * 1024));
  EXPECT_FALSE(status);
  EXPECT_NE(status.message().find("is larger than the socket"), std::string::npos)
      << status.message();
  EXPECT_TRUE(client.log(entry("next")));
  EXPECT_EQ(policyNames(server.waitForMessages(1)), (std::vector<std::string>{"next"}));
  EXPECT_EQ(client.counters().connects, 1u);
}

TEST_F(AccessLogClientTest, ConcurrentCallersEachSendWholeEntries) {
  AgentServer server(path_);
  ASSERT_EQ(server.error(), "");
  constexpr int kRounds = 20;  // fresh clients, so that callers race to connect
  constexpr int kThreads = 4;
  constexpr int kEntries = 10;
  uint64_t sent = 0;
  for (int round = 0; round < kRounds; ++round) {
    AccessLogClient client(path_, quiet());
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&client, &start, round, t] {
        start.arrive_and_wait();
        for (int i = 0; i < kEntries; ++i) {
          client.log(
              entry(std::to_string(round) + "-" + std::to_string(t) + "-" + std::to_string(i)));
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
    const AccessLogClientCounters counters = client.counters();
    EXPECT_EQ(counters.sent + counters.dropped, uint64_t{kThreads * kEntries});
    EXPECT_GT(counters.sent, 0u);
    ASSERT_EQ(counters.connects, 1u) << "round " << round;
    sent += counters.sent;
  }
  const std::vector<std::string> names = policyNames(server.waitForMessages(sent));
  EXPECT_EQ(names.size(), sent);
  const std::set<std::string> unique(names.begin(), names.end());
  EXPECT_EQ(unique.size(), names.size());
  EXPECT_EQ(unique.count("<undecodable>"), 0u);
}

TEST_F(AccessLogClientTest, AbstractSocketNames) {
  const std::string name = "@cilium-alog-test-" + std::to_string(::getpid());
  AgentServer server(name);
  ASSERT_EQ(server.error(), "");
  AccessLogClient client(name, quiet());
  EXPECT_TRUE(client.log(entry("abstract")));
  EXPECT_EQ(policyNames(server.waitForMessages(1)), (std::vector<std::string>{"abstract"}));
}

TEST_F(AccessLogClientTest, UnusablePathsAreReported) {
  AccessLogClient empty("", quiet());
  EXPECT_NE(empty.log(entry("x")).message().find("empty"), std::string::npos);
  AccessLogClient long_path("/tmp/" + std::string(200, 'a'), quiet());
  EXPECT_NE(long_path.log(entry("x")).message().find("longer than"), std::string::npos);
  EXPECT_EQ(long_path.counters().dropped, 1u);
}

#else

TEST(AccessLogClientTest, ThisPlatformHasNoSeqpacketUnixSockets) {
  AccessLogClientOptions options;
  options.warning_sink = [](const std::string&) {};
  AccessLogClient client("/tmp/cilium-access-log.sock", options);
  const Status status = client.log(entry("x"));
  EXPECT_FALSE(status);
  EXPECT_NE(status.message().find("SOCK_SEQPACKET"), std::string::npos) << status.message();
  EXPECT_EQ(client.counters().dropped, 1u);
}

#endif

// Needs no server: nothing listens at the path, so every entry is dropped.
TEST(AccessLogClientWarningsTest, AtMostOneWarningPerInterval) {
  auto now = Clock::time_point() + 1h;
  std::vector<std::string> warnings;
  AccessLogClientOptions options;
  options.warning_sink = [&warnings](const std::string& warning) { warnings.push_back(warning); };
  options.warning_interval = 1s;
  options.clock = [&now] { return now; };
  AccessLogClient client("/nonexistent-cilium-dir/access_log.sock", options);

  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(client.log(entry("x")));
  }
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("1 entry dropped; the latest: "), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("/nonexistent-cilium-dir/access_log.sock"), std::string::npos)
      << warnings[0];

  now += 999ms;
  EXPECT_FALSE(client.log(entry("x")));
  EXPECT_EQ(warnings.size(), 1u);

  now += 1ms;
  EXPECT_FALSE(client.log(entry("x")));
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[1].find("11 entries dropped since the last warning"), std::string::npos)
      << warnings[1];

  const AccessLogClientCounters counters = client.counters();
  EXPECT_EQ(counters.dropped, 12u);
  EXPECT_EQ(counters.warnings, 2u);
  EXPECT_EQ(counters.sent, 0u);
}

}  // namespace
}  // namespace Policy
}  // namespace Cilium
