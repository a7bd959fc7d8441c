#include "cilium-filters/module/header_changes.h"

#include "gtest/gtest.h"

namespace Cilium {
namespace Module {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

TEST(HeaderChanges, OnlyChangedHeadersWithAllTheirValues) {
  const Policy::RequestHeaders before(Headers{
      {":path", "/"}, {"x-keep", "1"}, {"x-set", "old"}, {"x-gone", "a"}, {"x-multi", "1"}});
  Policy::RequestHeaders after = before;
  after.set("x-set", "new");
  after.remove("x-gone");
  after.add("x-multi", "2");
  after.add("x-new", "v");
  const auto changes = headerChanges(before, after);
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[0].name, "x-multi");
  EXPECT_EQ(changes[0].values, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(changes[1].name, "x-set");
  EXPECT_EQ(changes[1].values, (std::vector<std::string>{"new"}));
  EXPECT_EQ(changes[2].name, "x-new");
  EXPECT_EQ(changes[3].name, "x-gone");
  EXPECT_TRUE(changes[3].values.empty());
}

TEST(HeaderChanges, NothingWhenNothingChanged) {
  const Policy::RequestHeaders before(Headers{{":path", "/"}, {"a", "1"}, {"a", "2"}});
  EXPECT_TRUE(headerChanges(before, before).empty());
}

}  // namespace
}  // namespace Module
}  // namespace Cilium
