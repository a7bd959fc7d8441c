#include "cilium-filters/module/access_log_queue.h"

#include <algorithm>
#include <utility>

namespace Cilium {
namespace Module {

AccessLogQueue::AccessLogQueue(std::shared_ptr<Policy::AccessLogClient> client,
                               AccessLogQueueOptions options)
    : client_(std::move(client)), options_(options), sender_([this] { run(); }) {}

AccessLogQueue::~AccessLogQueue() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  sender_.join();
}

void AccessLogQueue::log(::cilium::LogEntry&& entry) { push(Item(std::move(entry))); }

void AccessLogQueue::logRequest(std::shared_ptr<HttpLogRecord> record) {
  push(Item(std::move(record)));
}

void AccessLogQueue::logResponse(std::shared_ptr<HttpLogRecord> record, uint64_t timestamp_ns,
                                 Policy::ResponseHeaderList response_headers) {
  push(Item(Response{std::move(record), timestamp_ns, std::move(response_headers)}));
}

void AccessLogQueue::push(Item&& item) {
  bool wake = false;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (pending_.size() >= options_.capacity) {
      ++dropped_;
      ++dropped_since_warning_;
      const auto now = std::chrono::steady_clock::now();
      if (!options_.warning || now - last_warning_ < std::chrono::seconds(1)) {
        return;
      }
      last_warning_ = now;
      const std::string warning =
          "cilium access log: " + std::to_string(std::exchange(dropped_since_warning_, 0)) +
          " entries dropped: " + std::to_string(pending_.size()) + " are waiting to be sent to " +
          client_->path();
      lock.unlock();
      options_.warning(warning);
      return;
    }
    pending_.push_back(std::move(item));
    ++queued_;
    wake = pending_.size() == std::max<size_t>(options_.capacity / 2, 1);
  }
  if (wake) {
    wake_.notify_one();
  }
}

void AccessLogQueue::flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t target = queued_;
  while (sent_ < target) {
    flushing_ = true;
    wake_.notify_one();
    drained_.wait(lock);
  }
}

uint64_t AccessLogQueue::dropped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_;
}

bool AccessLogQueue::send(Item& item) {
  // The client never blocks (beyond its full_wait); an entry it cannot send is counted and
  // warned about there.
  if (auto* entry = std::get_if<::cilium::LogEntry>(&item)) {
    return client_->log(*entry).isOk();
  }
  if (auto* request = std::get_if<std::shared_ptr<HttpLogRecord>>(&item)) {
    HttpLogRecord& record = **request;
    record.entry = record.denied ? Policy::httpDeniedEntry(record.connection, record.version,
                                                           record.headers, record.header_log)
                                 : Policy::httpRequestEntry(record.connection, record.version,
                                                            record.headers, record.header_log);
    return client_->log(*record.entry).isOk();
  }
  Response& response = std::get<Response>(item);
  HttpLogRecord& record = *response.record;
  if (!record.entry) {  // its Request entry was dropped: so is this one
    return true;
  }
  const bool sent = client_
                        ->log(Policy::httpResponseEntry(std::move(*record.entry),
                                                        response.timestamp_ns, response.headers))
                        .isOk();
  record.entry.reset();
  return sent;
}

void AccessLogQueue::run() {
  std::vector<Item> batch;
  std::chrono::milliseconds interval = options_.busy_interval;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    // Entries are let to gather for an interval, unless someone waits for them.
    wake_.wait_for(lock, interval, [this] {
      return stopping_ || flushing_ ||
             pending_.size() >= std::max<size_t>(options_.capacity / 2, 1);
    });
    if (pending_.empty()) {
      flushing_ = false;  // nothing in flight: everything queued was sent
      drained_.notify_all();
      if (stopping_) {
        return;
      }
      interval = std::min(interval * 2, options_.idle_interval);
      continue;
    }
    batch.swap(pending_);
    lock.unlock();
    // Once the client fails (no agent, or one that does not read), the rest of the batch is
    // dropped without trying: the next batch tries again.
    size_t given_up = 0;
    for (Item& item : batch) {
      if (given_up > 0 || !send(item)) {
        ++given_up;
      }
    }
    const size_t count = batch.size();
    batch.clear();
    lock.lock();
    sent_ += count;
    dropped_ += given_up > 0 ? given_up - 1 : 0;  // the first was counted by the client
    if (sent_ >= queued_) {
      flushing_ = false;
    }
    drained_.notify_all();
    interval = options_.busy_interval;
  }
}

}  // namespace Module
}  // namespace Cilium
