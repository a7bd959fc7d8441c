#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace Cilium {
namespace Module {

// The snapshot in force, read by Envoy's worker threads without a lock and without touching
// a reference count on the request path.
//
// The writer publishes a snapshot as a plain pointer next to a version counter and keeps
// ownership of every snapshot a reader may still use. A reader keeps, per thread, the pointer
// and version it last read: a read is one atomic load of the version while nothing changed;
// after an update it announces the version it is about to use (its "seen" version) and then
// loads the pointer, which is at least that new. The pointer stays valid until the same thread
// reads the same cell again, so a filter reads once per decision.
//
// Replaced snapshots are freed by the writer (collect(), on the xDS thread) once every reader
// thread has announced a newer version: the last reference, and with it the cost of freeing
// thousands of compiled policies, is dropped there and never on a worker in the middle of a
// request. A worker idle since an update holds its old snapshot until its next read; a thread
// that exits holds nothing. Each thread registers once per cell (its first read takes a mutex).
template <class T>
class SnapshotCell {
public:
  explicit SnapshotCell(std::shared_ptr<const T> initial) : shared_(std::make_shared<Shared>()) {
    shared_->pointer.store(initial.get(), std::memory_order_seq_cst);
    current_ = std::move(initial);
  }
  SnapshotCell(const SnapshotCell&) = delete;
  SnapshotCell& operator=(const SnapshotCell&) = delete;

  // Any thread; the snapshot is valid until this thread's next read() of this cell.
  const T* read() const {
    Reader& reader = slot();
    const uint64_t version = shared_->version.load(std::memory_order_acquire);
    if (reader.version != version) {
      // Announce first, then load: the writer keeps everything from this version on.
      reader.state->seen.store(version, std::memory_order_seq_cst);
      reader.pointer = shared_->pointer.load(std::memory_order_seq_cst);
      reader.version = version;
    }
    return reader.pointer;
  }

  // A counted reference (for callers that keep the snapshot past their next read; not for
  // the request path: it takes the writer's lock).
  std::shared_ptr<const T> load() const {
    std::lock_guard<std::mutex> lock(shared_->writer_mutex);
    return current_;
  }

  // The writer: `next` replaces the snapshot in force; the old one is retired until no
  // reader can hold it. Nothing is freed here (an update is answered first): see collect().
  // The snapshot in force published again changes nothing (readers keep their pointer).
  void publish(std::shared_ptr<const T> next) {
    std::lock_guard<std::mutex> lock(shared_->writer_mutex);
    if (next == current_) {
      return;
    }
    const uint64_t old_version = shared_->version.load(std::memory_order_relaxed);
    shared_->pointer.store(next.get(), std::memory_order_seq_cst);
    shared_->version.store(old_version + 1, std::memory_order_seq_cst);
    retired_.emplace_back(old_version, std::exchange(current_, std::move(next)));
  }

  // Frees the retired snapshots no reader can hold; returns how many are still kept. The
  // writer calls it after publishing, once the update is answered.
  size_t collect() {
    std::lock_guard<std::mutex> lock(shared_->writer_mutex);
    return collectLocked();
  }

  uint64_t version() const { return shared_->version.load(std::memory_order_acquire); }

private:
  // What one reader thread announces.
  struct ReaderState {
    std::atomic<uint64_t> seen{0};  // 0: registered, nothing read yet (everything is kept)
    std::atomic<bool> active{true};
  };
  // What the writer and the readers share; readers keep it alive through their thread-local
  // entries, so a cell may go before the threads that read it.
  struct Shared {
    std::atomic<const T*> pointer{nullptr};
    std::atomic<uint64_t> version{1};
    std::mutex writer_mutex;  // the writer, registrations and collect(); never a read
    std::vector<std::shared_ptr<ReaderState>> readers;
  };
  // This thread's view of one cell.
  struct Reader {
    std::shared_ptr<Shared> cell;
    std::shared_ptr<ReaderState> state;
    uint64_t version{0};
    const T* pointer{nullptr};
  };
  // The thread's entries; at thread exit its readers stop counting.
  struct Readers {
    std::vector<Reader> entries;
    ~Readers() {
      for (Reader& reader : entries) {
        reader.state->active.store(false, std::memory_order_seq_cst);
      }
    }
  };

  Reader& slot() const {
    thread_local Readers readers;
    for (Reader& reader : readers.entries) {
      if (reader.cell == shared_) {
        return reader;
      }
    }
    auto state = std::make_shared<ReaderState>();
    {
      std::lock_guard<std::mutex> lock(shared_->writer_mutex);
      shared_->readers.push_back(state);
    }
    readers.entries.push_back(Reader{shared_, std::move(state), 0, nullptr});
    return readers.entries.back();
  }

  size_t collectLocked() {
    auto& readers = shared_->readers;
    readers.erase(std::remove_if(readers.begin(), readers.end(),
                                 [](const std::shared_ptr<ReaderState>& r) {
                                   return !r->active.load(std::memory_order_seq_cst);
                                 }),
                  readers.end());
    uint64_t oldest = std::numeric_limits<uint64_t>::max();
    for (const auto& reader : readers) {
      oldest = std::min(oldest, reader->seen.load(std::memory_order_seq_cst));
    }
    // A reader that announced version v holds a snapshot of version v or newer.
    retired_.erase(std::remove_if(retired_.begin(), retired_.end(),
                                  [oldest](const auto& r) { return r.first < oldest; }),
                   retired_.end());
    return retired_.size();
  }

  const std::shared_ptr<Shared> shared_;
  std::shared_ptr<const T> current_;  // guarded by shared_->writer_mutex
  std::vector<std::pair<uint64_t, std::shared_ptr<const T>>> retired_;  // likewise
};

}  // namespace Module
}  // namespace Cilium
