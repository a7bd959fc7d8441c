// Regex: the range check in front of RE2 never changes a verdict, only skips RE2 for values
// no match can be.
#include "cilium-filters/policy/compile/regex.h"

#include <re2/re2.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace Cilium {
namespace Policy {
namespace {

TEST(RegexTest, SameVerdictsAsRe2) {
  const std::vector<std::string> patterns = {"/api/v1/svc0/.*",
                                             "/api/v1/items(/.*)?",
                                             "GET|POST",
                                             "(?i)Bearer .+",
                                             ".*",
                                             "",
                                             "a*",
                                             "[a-c]x{2,3}",
                                             "prefix-\\x{10FFFF}.*",
                                             "\\x{FF}+",
                                             "x?y?",
                                             "\\d+",
                                             "(?s).",
                                             "caf\xc3\xa9(s)?",
                                             "^/api$",
                                             "/api/v[12]/(users|groups)/[0-9]+"};
  const std::vector<std::string> values = {"",
                                           "/",
                                           "/api",
                                           "/api/v1/svc0/",
                                           "/api/v1/svc0/items/42",
                                           "/api/v1/svc3/items/42",
                                           "/api/v1/items",
                                           "/api/v1/items/7",
                                           "/api/v1/itemsX",
                                           "GET",
                                           "get",
                                           "POST",
                                           "PUT",
                                           "bearer x",
                                           "BEARER token",
                                           "Bearer ",
                                           "a",
                                           "aaaa",
                                           "bxx",
                                           "cxxx",
                                           "cxxxx",
                                           "dxx",
                                           "prefix-\xf4\x8f\xbf\xbf",
                                           "prefix-\xf4\x8f\xbf\xbfz",
                                           "prefix-\xff",
                                           "\xc3\xbf",
                                           "\xc3\xbf\xc3\xbf",
                                           "\xff\xff\xfe",
                                           "xy",
                                           "y",
                                           "z",
                                           "123",
                                           "12a",
                                           "\n",
                                           "caf\xc3\xa9",
                                           "caf\xc3\xa9s",
                                           "CAF\xc3\xa9",
                                           "/api/v2/users/9",
                                           "/api/v3/users/9",
                                           std::string(100, 'a'),
                                           "/api/v1/svc0/" + std::string(200, 'z')};
  for (const std::string& pattern : patterns) {
    const Regex regex(pattern);
    const re2::RE2 plain(pattern, re2::RE2::Quiet);
    ASSERT_TRUE(regex.ok()) << pattern;
    for (const std::string& value : values) {
      EXPECT_EQ(regex.fullMatch(value), re2::RE2::FullMatch(value, plain))
          << "pattern '" << pattern << "', value '" << value << "'";
    }
  }
}

TEST(RegexTest, ErrorsAndSizeAreRe2s) {
  const Regex bad("a(b");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("missing )"), std::string::npos) << bad.error();
  EXPECT_FALSE(bad.fullMatch("a(b"));
  const Regex good("/api/.*");
  EXPECT_EQ(good.pattern(), "/api/.*");
  EXPECT_EQ(good.programSize(), re2::RE2("/api/.*").ProgramSize());
}

}  // namespace
}  // namespace Policy
}  // namespace Cilium
