// The module's access-log queue: entries handed over by filter threads reach the agent's
// socket whole, each thread's in order, none lost while the queue has room, and the queue
// never blocks. Also built into module_threads_test (ThreadSanitizer).
#include "cilium-filters/module/access_log_queue.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace Cilium {
namespace Module {
namespace {

// The agent's end: a SOCK_SEQPACKET server that takes one connection and reads every message
// until the client goes away.
class Agent {
public:
  explicit Agent(const std::string& path) : path_(path) {
    listener_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.data(), path.size());
    const bool ready =
        listener_ >= 0 &&
        ::bind(listener_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0 &&
        ::listen(listener_, 4) == 0;
    EXPECT_TRUE(ready) << std::strerror(errno);
    reader_ = std::thread([this] { read(); });
  }
  ~Agent() {
    ::shutdown(listener_, SHUT_RDWR);
    reader_.join();
    ::close(listener_);
    ::unlink(path_.c_str());
  }
  // Waits until `count` entries came (or 10 s passed); the entries, in arrival order.
  std::vector<::cilium::LogEntry> entries(size_t count) {
    for (int i = 0; i < 1000 && received_.load() < count; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_;
  }

private:
  void read() {
    const int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) {
      return;
    }
    std::vector<char> buffer(64 * 1024);
    ssize_t n;
    while ((n = ::recv(connection, buffer.data(), buffer.size(), 0)) > 0) {
      ::cilium::LogEntry entry;
      EXPECT_TRUE(entry.ParseFromArray(buffer.data(), static_cast<int>(n)));
      std::lock_guard<std::mutex> lock(mutex_);
      entries_.push_back(std::move(entry));
      received_.fetch_add(1);
    }
    ::close(connection);
  }

  std::string path_;
  int listener_{-1};
  std::thread reader_;
  std::mutex mutex_;
  std::vector<::cilium::LogEntry> entries_;
  std::atomic<size_t> received_{0};
};

// A client that waits for room in a full socket, as the module's does.
std::shared_ptr<Policy::AccessLogClient> client(const std::string& path) {
  Policy::AccessLogClientOptions options;
  options.full_wait = std::chrono::seconds(1);
  return std::make_shared<Policy::AccessLogClient>(path, options);
}

std::string socketPath() {
  return "/tmp/cilium-queue-test-" + std::to_string(::getpid()) + "-" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

::cilium::LogEntry entry(const std::string& name) {
  ::cilium::LogEntry out;
  out.set_entry_type(::cilium::Denied);
  out.set_policy_name(name);
  return out;
}

std::shared_ptr<HttpLogRecord> record(const std::string& name) {
  auto out = std::make_shared<HttpLogRecord>();
  out->connection.policy_name = name;
  out->connection.timestamp_ns = 1;
  out->headers.add(":path", "/" + name);
  out->headers.add("x-request-id", "id-" + name);
  out->header_log.addMissing("x-tenant", "acme");
  return out;
}

// An L4 entry for even numbers, an HTTP request's two entries for odd ones.
void logSome(AccessLogQueue& queue, const std::string& prefix, int count) {
  for (int i = 0; i < count; ++i) {
    const std::string name = prefix + std::to_string(i);
    if (i % 2 == 0) {
      queue.log(entry(name));
      continue;
    }
    auto http = record(name);
    queue.logRequest(http);
    queue.logResponse(std::move(http), 2, {{":status", "200"}, {"X-Upstream", "echo"}});
  }
}

TEST(AccessLogQueue, EntriesFromManyThreadsArriveWholeAndInEachThreadsOrder) {
  const std::string path = socketPath();
  Agent agent(path);
  constexpr int kThreads = 3;
  constexpr int kEach = 500;  // 250 L4 entries and 250 requests: 750 entries per thread
  constexpr size_t kEntries = kThreads * kEach * 3 / 2;
  {
    AccessLogQueue queue(client(path));
    std::vector<std::thread> filters;
    for (int t = 0; t < kThreads; ++t) {
      filters.emplace_back([&queue, t] { logSome(queue, std::to_string(t) + "/", kEach); });
    }
    for (auto& filter : filters) {
      filter.join();
    }
    queue.flush();
    EXPECT_EQ(queue.dropped(), 0u);
    EXPECT_EQ(queue.client().counters().sent, kEntries);
  }
  const auto entries = agent.entries(kEntries);
  ASSERT_EQ(entries.size(), kEntries);
  std::map<int, std::vector<std::string>> seen;  // per thread: "<number> <type>"
  for (const auto& e : entries) {
    const std::string& name = e.policy_name();
    seen[std::stoi(name.substr(0, name.find('/')))].push_back(
        name.substr(name.find('/') + 1) + " " + ::cilium::EntryType_Name(e.entry_type()));
  }
  std::vector<std::string> expected;
  for (int i = 0; i < kEach; ++i) {
    if (i % 2 == 0) {
      expected.push_back(std::to_string(i) + " Denied");
    } else {
      expected.push_back(std::to_string(i) + " Request");
      expected.push_back(std::to_string(i) + " Response");
    }
  }
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(seen[t], expected) << "thread " << t;
  }
}

TEST(AccessLogQueue, HttpEntriesAreTheEnginesOwn) {
  const std::string path = socketPath();
  Agent agent(path);
  auto http = record("r");
  const auto expected_request =
      Policy::httpRequestEntry(http->connection, http->version, http->headers, http->header_log);
  const auto expected_response =
      Policy::httpResponseEntry(expected_request, 2, {{":status", "200"}, {"X-Upstream", "echo"}});
  auto denied = record("d");
  denied->denied = true;
  const auto expected_denied = Policy::httpDeniedEntry(denied->connection, denied->version,
                                                       denied->headers, denied->header_log);
  {
    AccessLogQueue queue(client(path));
    queue.logRequest(http);
    queue.logResponse(std::move(http), 2, {{":status", "200"}, {"X-Upstream", "echo"}});
    queue.logRequest(std::move(denied));
  }
  const auto entries = agent.entries(3);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].SerializeAsString(), expected_request.SerializeAsString());
  EXPECT_EQ(entries[1].SerializeAsString(), expected_response.SerializeAsString());
  EXPECT_EQ(entries[2].SerializeAsString(), expected_denied.SerializeAsString());
  EXPECT_EQ(entries[1].http().status(), 200u);
}

TEST(AccessLogQueue, WhatIsQueuedIsSentBeforeTheQueueGoes) {
  const std::string path = socketPath();
  Agent agent(path);
  {
    AccessLogQueueOptions options;
    options.busy_interval = options.idle_interval = std::chrono::hours(1);
    AccessLogQueue queue(client(path), options);
    queue.log(entry("first"));
    queue.log(entry("second"));
  }
  const auto entries = agent.entries(2);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].policy_name(), "first");
  EXPECT_EQ(entries[1].policy_name(), "second");
}

TEST(AccessLogQueue, NeverBlocksAndAccountsForEveryEntry) {
  // No agent: the client drops what the sender hands it; a small queue drops the rest.
  AccessLogQueueOptions options;
  options.capacity = 16;
  std::atomic<int> warnings{0};
  options.warning = [&warnings](const std::string&) { warnings.fetch_add(1); };
  Policy::AccessLogClientOptions quiet;
  quiet.warning_sink = [](const std::string&) {};
  AccessLogQueue queue(std::make_shared<Policy::AccessLogClient>(socketPath(), quiet), options);
  constexpr uint64_t kEntries = 20000;
  std::vector<std::thread> filters;
  for (int t = 0; t < 2; ++t) {
    filters.emplace_back([&queue] {
      for (uint64_t i = 0; i < kEntries / 2; ++i) {
        queue.log(entry("x"));
      }
    });
  }
  for (auto& filter : filters) {
    filter.join();
  }
  queue.flush();
  const auto counters = queue.client().counters();
  EXPECT_EQ(counters.sent, 0u);
  EXPECT_EQ(queue.dropped() + counters.dropped, kEntries);
  EXPECT_EQ(warnings.load() > 0, queue.dropped() > 0);
}

}  // namespace
}  // namespace Module
}  // namespace Cilium
