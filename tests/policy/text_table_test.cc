// The flat table the snapshot finds endpoints in: every key found again after growth, absent
// keys (including ones that differ by a byte or in length) not found, duplicates refused.
#include "cilium-filters/policy/base/text_table.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace Cilium {
namespace Policy {
namespace {

std::vector<std::string> keys() {
  std::vector<std::string> out = {"", "a", "ab", "abc", "abcd", "abcde", "1.2.3.4", "::1"};
  for (int i = 0; i < 3000; ++i) {
    out.push_back("10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".7");
    out.push_back("f00d::" + std::to_string(i) + ":0:0:0:1");
  }
  return out;
}

TEST(TextTableTest, FindsEveryKeyAfterGrowing) {
  const std::vector<std::string> all = keys();
  TextTable<int> table;  // no reserve: grows from empty
  EXPECT_EQ(table.find("anything"), nullptr);
  for (size_t i = 0; i < all.size(); ++i) {
    auto [value, added] = table.insert(all[i], static_cast<int>(i));
    ASSERT_TRUE(added) << all[i];
    ASSERT_EQ(*value, static_cast<int>(i));
  }
  EXPECT_EQ(table.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    const int* found = table.find(all[i]);
    ASSERT_NE(found, nullptr) << all[i];
    EXPECT_EQ(*found, static_cast<int>(i)) << all[i];
  }
}

TEST(TextTableTest, AbsentKeysAndDuplicates) {
  const std::vector<std::string> all = keys();
  TextTable<int> table;
  table.reserve(all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    table.insert(all[i], static_cast<int>(i));
  }
  for (const char* absent : {"abcdef", "1.2.3.5", "1.2.3.4 ", "10.0.0.7x", "ABC", "::2"}) {
    EXPECT_EQ(table.find(absent), nullptr) << absent;
  }
  auto [value, added] = table.insert("1.2.3.4", -1);
  EXPECT_FALSE(added);
  EXPECT_EQ(*value, 6);  // the first one stays
  EXPECT_EQ(table.size(), all.size());
}

TEST(TextTableTest, HashReadsEveryByte) {
  // Keys of each length up to 40 that differ in one byte hash differently.
  for (size_t length = 1; length <= 40; ++length) {
    const std::string base(length, 'x');
    for (size_t at = 0; at < length; ++at) {
      std::string other = base;
      other[at] = 'y';
      EXPECT_NE(hashShortText(base), hashShortText(other)) << length << " " << at;
    }
  }
}

}  // namespace
}  // namespace Policy
}  // namespace Cilium
