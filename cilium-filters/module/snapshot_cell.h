#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace Cilium {
namespace Module {

// The snapshot in force, read by Envoy's worker threads without a lock on the request path.
//
// A reader keeps, per thread, a counted reference to the snapshot it last read and the
// version it had; a read compares that version with the cell's (one atomic load) and only
// when the cell has been published to since does it take the new snapshot (an atomic
// shared_ptr load, once per update and thread). The pointer a read returns stays valid
// until the same thread reads the same cell again, so a filter reads once per decision.
//
// A replaced snapshot is kept on a retired list by the writer, and collect() (called by the
// writer, on the xDS thread) lets it go once no reader holds it any more: the last reference,
// and with it the cost of freeing thousands of compiled policies, is normally dropped there
// and not on a worker in the middle of a request. (A worker idle since the update keeps its
// old snapshot until its next read; that one it then frees itself.)
template <class T> class SnapshotCell {
public:
  explicit SnapshotCell(std::shared_ptr<const T> initial)
      : id_(nextId()), current_(std::move(initial)) {}
  SnapshotCell(const SnapshotCell&) = delete;
  SnapshotCell& operator=(const SnapshotCell&) = delete;

  // Any thread; the snapshot is valid until this thread's next read() of this cell.
  const T* read() const {
    Cached& cached = slot();
    const uint64_t version = version_.load(std::memory_order_acquire);
    if (cached.version != version || !cached.snapshot) {
      cached.snapshot = current_.load(std::memory_order_acquire);
      cached.version = version;
    }
    return cached.snapshot.get();
  }

  // A counted reference (for callers that keep the snapshot past the next read).
  std::shared_ptr<const T> load() const { return current_.load(std::memory_order_acquire); }

  // The writer: `next` replaces the snapshot in force; the old one is retired.
  void publish(std::shared_ptr<const T> next) {
    std::lock_guard<std::mutex> lock(writer_mutex_);
    std::shared_ptr<const T> old = current_.exchange(std::move(next), std::memory_order_acq_rel);
    version_.fetch_add(1, std::memory_order_acq_rel);
    if (old) {
      retired_.push_back(std::move(old));
    }
    collectLocked();
  }

  // Frees the retired snapshots no reader holds; returns how many are still held.
  size_t collect() {
    std::lock_guard<std::mutex> lock(writer_mutex_);
    return collectLocked();
  }

  uint64_t version() const { return version_.load(std::memory_order_acquire); }

private:
  struct Cached {
    uint64_t cell{0};
    uint64_t version{0};
    std::shared_ptr<const T> snapshot;
  };

  static uint64_t nextId() {
    static std::atomic<uint64_t> ids{0};
    return ids.fetch_add(1, std::memory_order_relaxed) + 1;
  }

  // This thread's cache entry for this cell (few cells exist: a short scan).
  Cached& slot() const {
    thread_local std::vector<Cached> cache;
    for (Cached& cached : cache) {
      if (cached.cell == id_) {
        return cached;
      }
    }
    cache.push_back(Cached{id_, 0, nullptr});
    return cache.back();
  }

  size_t collectLocked() {
    // use_count() == 1: only this list holds it, and nobody can get a new reference to a
    // snapshot that is no longer current.
    auto unused = [](const std::shared_ptr<const T>& s) { return s.use_count() == 1; };
    retired_.erase(std::remove_if(retired_.begin(), retired_.end(), unused), retired_.end());
    return retired_.size();
  }

  const uint64_t id_;
  std::atomic<uint64_t> version_{1};
  std::atomic<std::shared_ptr<const T>> current_;
  std::mutex writer_mutex_; // writers only; readers never take it
  std::vector<std::shared_ptr<const T>> retired_;
};

} // namespace Module
} // namespace Cilium
