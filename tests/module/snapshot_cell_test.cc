#include "cilium-filters/module/snapshot_cell.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace Cilium {
namespace Module {
namespace {

TEST(SnapshotCell, ReadsTheLatestPublished) {
  SnapshotCell<int> cell(std::make_shared<const int>(1));
  EXPECT_EQ(*cell.read(), 1);
  cell.publish(std::make_shared<const int>(2));
  EXPECT_EQ(*cell.read(), 2);
  EXPECT_EQ(*cell.load(), 2);
}

// An update that leaves the policies as they were gives the same snapshot: readers are not
// sent to fetch it again and nothing is retired.
TEST(SnapshotCell, PublishingTheSnapshotInForceChangesNothing) {
  auto one = std::make_shared<const int>(1);
  SnapshotCell<int> cell(one);
  const uint64_t version = cell.version();
  cell.publish(one);
  EXPECT_EQ(cell.version(), version);
  EXPECT_EQ(cell.collect(), 0u);
  cell.publish(std::make_shared<const int>(1));  // equal, but another snapshot
  EXPECT_EQ(cell.version(), version + 1);
}

TEST(SnapshotCell, ReplacedSnapshotsAreFreedByTheWriterOnceNoReaderHoldsThem) {
  SnapshotCell<int> cell(std::make_shared<const int>(1));
  std::weak_ptr<const int> first = cell.load();
  // Another thread reads (and so holds) the first snapshot, then stops reading.
  std::atomic<bool> has_read{false};
  std::atomic<bool> read_more{false};
  std::thread reader([&] {
    EXPECT_EQ(*cell.read(), 1);
    has_read = true;
    while (!read_more) {
      std::this_thread::yield();
    }
  });
  while (!has_read) {
    std::this_thread::yield();
  }
  // The main thread reads too, then the writer replaces it.
  EXPECT_EQ(*cell.read(), 1);
  cell.publish(std::make_shared<const int>(2));
  EXPECT_EQ(*cell.read(), 2);     // this thread moved on...
  EXPECT_EQ(cell.collect(), 1u);  // ...the reader still holds the old one: kept
  EXPECT_FALSE(first.expired());
  read_more = true;
  reader.join();  // the reader's thread-local reference goes with its thread
  EXPECT_EQ(cell.collect(), 0u);
  EXPECT_TRUE(first.expired());
}

// Readers dereference what they read while the writer publishes and frees: a snapshot freed
// too early is a use after free (AddressSanitizer in `nox -s sanitize`), a torn one a mismatch.
TEST(SnapshotCell, ReadersNeverSeeAFreedSnapshot) {
  SnapshotCell<std::vector<int>> cell(std::make_shared<const std::vector<int>>(64, 0));
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i) {
    readers.emplace_back([&] {
      while (!done) {
        const std::vector<int>& snapshot = *cell.read();
        EXPECT_EQ(snapshot.front(), snapshot.back());
      }
    });
  }
  for (int i = 1; i <= 5000; ++i) {
    cell.publish(std::make_shared<const std::vector<int>>(64, i));
    cell.collect();
  }
  done = true;
  for (auto& reader : readers) {
    reader.join();
  }
  EXPECT_EQ(cell.collect(), 0u);
}

TEST(SnapshotCell, PublishingFreesNothingCollectDoes) {
  SnapshotCell<int> cell(std::make_shared<const int>(1));
  std::weak_ptr<const int> first = cell.load();
  cell.publish(std::make_shared<const int>(2));  // no reader holds the first: free to go...
  EXPECT_FALSE(first.expired());                 // ...but only collect() frees it
  EXPECT_EQ(cell.collect(), 0u);
  EXPECT_TRUE(first.expired());
}

TEST(SnapshotCell, ManyCellsOnOneThread) {
  SnapshotCell<int> a(std::make_shared<const int>(1));
  SnapshotCell<int> b(std::make_shared<const int>(2));
  EXPECT_EQ(*a.read(), 1);
  EXPECT_EQ(*b.read(), 2);
  b.publish(std::make_shared<const int>(3));
  EXPECT_EQ(*a.read(), 1);
  EXPECT_EQ(*b.read(), 3);
}

}  // namespace
}  // namespace Module
}  // namespace Cilium
