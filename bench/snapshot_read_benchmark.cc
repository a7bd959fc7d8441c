// Reading the snapshot in force on Envoy's worker threads (issue: the cost of enforcement,
// reads without locks), with 1 and 2 threads reading at once:
//  - BM_ReadLocked: what PolicyMap::snapshot() does, a mutex and a shared_ptr copy per read;
//  - BM_ReadCell: what the module's filters do, SnapshotCell::read() (a thread-local pointer
//    checked against an atomic version);
//  - BM_ReadCellWhileUpdating: the same while another thread publishes a new snapshot every
//    100 microseconds.
// Built with CILIUM_BENCH (`nox -s filters -- --bench`); compare the two at equal threads.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cilium-filters/module/snapshot_cell.h"

namespace {

struct Snapshot {
  std::vector<int> data = std::vector<int>(64, 1);
};

std::mutex locked_mutex;
std::shared_ptr<const Snapshot> locked_current = std::make_shared<const Snapshot>();

void BM_ReadLocked(benchmark::State& state) {
  for (auto _ : state) {
    std::shared_ptr<const Snapshot> snapshot;
    {
      std::lock_guard<std::mutex> lock(locked_mutex);
      snapshot = locked_current;
    }
    benchmark::DoNotOptimize(snapshot->data[0]);
  }
}
BENCHMARK(BM_ReadLocked)->Threads(1)->Threads(2)->UseRealTime();

Cilium::Module::SnapshotCell<Snapshot> cell(std::make_shared<const Snapshot>());

void BM_ReadCell(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(cell.read()->data[0]);
  }
}
BENCHMARK(BM_ReadCell)->Threads(1)->Threads(2)->UseRealTime();

void BM_ReadCellWhileUpdating(benchmark::State& state) {
  std::atomic<bool> stop{false};
  std::thread writer;
  if (state.thread_index() == 0) {
    writer = std::thread([&stop] {
      while (!stop.load()) {
        cell.publish(std::make_shared<const Snapshot>());
        cell.collect();
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
    });
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(cell.read()->data[0]);
  }
  if (writer.joinable()) {
    stop = true;
    writer.join();
  }
}
BENCHMARK(BM_ReadCellWhileUpdating)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
