#include "cilium-filters/policy/compile/header_matcher.h"

#include <google/protobuf/util/json_util.h>

#include "envoy/config/route/v3/route_components.pb.h"
#include "gtest/gtest.h"

namespace Cilium {
namespace Policy {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Status build(const std::string& json, HeaderMatcher& out) {
  envoy::config::route::v3::HeaderMatcher config;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, &config);
  EXPECT_TRUE(parsed.ok()) << json;
  RegexCache regexes;
  return HeaderMatcher::create(config, regexes, out);
}

bool matches(const std::string& json, const Pairs& request) {
  HeaderMatcher matcher;
  const Status status = build(json, matcher);
  EXPECT_TRUE(status.isOk()) << status.message();
  return matcher.matches(RequestHeaders(request));
}

TEST(HeaderMatcherTest, Exact) {
  const std::string m = R"({"name": ":path", "exact_match": "/a"})";
  EXPECT_TRUE(matches(m, {{":path", "/a"}}));
  EXPECT_FALSE(matches(m, {{":path", "/A"}}));
  EXPECT_FALSE(matches(m, {{":path", "/ab"}}));
  EXPECT_FALSE(matches(m, {}));
  // An empty exact_match matches any value of a present header.
  EXPECT_TRUE(matches(R"({"name": "x-a", "exact_match": ""})", {{"x-a", "anything"}}));
  EXPECT_FALSE(matches(R"({"name": "x-a", "exact_match": ""})", {}));
}

TEST(HeaderMatcherTest, NamesIgnoreCaseAndHostIsAuthority) {
  EXPECT_TRUE(matches(R"({"name": "X-Token", "exact_match": "t"})", {{"x-token", "t"}}));
  EXPECT_TRUE(matches(R"({"name": "host", "exact_match": "a.b"})", {{":authority", "a.b"}}));
  EXPECT_TRUE(matches(R"({"name": ":authority", "exact_match": "a.b"})", {{"Host", "a.b"}}));
}

TEST(HeaderMatcherTest, ValuesJoinedWithComma) {
  EXPECT_TRUE(matches(R"({"name": "x-a", "exact_match": "1,2"})", {{"x-a", "1"}, {"x-a", "2"}}));
  EXPECT_FALSE(matches(R"({"name": "x-a", "exact_match": "1"})", {{"x-a", "1"}, {"x-a", "2"}}));
}

TEST(HeaderMatcherTest, PrefixSuffixContains) {
  EXPECT_TRUE(matches(R"({"name": ":path", "prefix_match": "/api/"})", {{":path", "/api/v1"}}));
  EXPECT_FALSE(matches(R"({"name": ":path", "prefix_match": "/api/"})", {{":path", "/API/v1"}}));
  EXPECT_TRUE(matches(R"({"name": ":path", "suffix_match": ".json"})", {{":path", "/a.json"}}));
  EXPECT_FALSE(matches(R"({"name": ":path", "suffix_match": ".json"})", {{":path", "/a.js"}}));
  EXPECT_TRUE(matches(R"({"name": "x", "contains_match": "mid"})", {{"x", "amidb"}}));
  EXPECT_FALSE(matches(R"({"name": "x", "contains_match": "mid"})", {{"x", "m-i-d"}}));
}

TEST(HeaderMatcherTest, SafeRegexMatchesTheWholeValue) {
  const std::string m =
      R"({"name": ":path", "safe_regex_match": {"google_re2": {}, "regex": "/pub.*c"}})";
  EXPECT_TRUE(matches(m, {{":path", "/public"}}));
  EXPECT_FALSE(matches(m, {{":path", "/public/x"}}));
  EXPECT_FALSE(matches(m, {{":path", "x/public"}}));
}

TEST(HeaderMatcherTest, RangeIsHalfOpenOnIntegers) {
  const std::string m = R"({"name": "x-n", "range_match": {"start": "-10", "end": "10"}})";
  EXPECT_TRUE(matches(m, {{"x-n", "-10"}}));
  EXPECT_TRUE(matches(m, {{"x-n", "9"}}));
  EXPECT_FALSE(matches(m, {{"x-n", "10"}}));
  EXPECT_FALSE(matches(m, {{"x-n", "1.5"}}));
  EXPECT_FALSE(matches(m, {{"x-n", "abc"}}));
  EXPECT_FALSE(matches(m, {}));
}

TEST(HeaderMatcherTest, PresentAndMissing) {
  EXPECT_TRUE(matches(R"({"name": "x", "present_match": true})", {{"x", ""}}));
  EXPECT_FALSE(matches(R"({"name": "x", "present_match": true})", {}));
  EXPECT_TRUE(matches(R"({"name": "x", "present_match": false})", {}));
  EXPECT_FALSE(matches(R"({"name": "x", "present_match": false})", {{"x", "1"}}));
  // No match specifier at all: the header must be present.
  EXPECT_TRUE(matches(R"({"name": "x"})", {{"x", "1"}}));
  EXPECT_FALSE(matches(R"({"name": "x"})", {}));
}

TEST(HeaderMatcherTest, InvertMatch) {
  const std::string m = R"({"name": ":method", "exact_match": "GET", "invert_match": true})";
  EXPECT_FALSE(matches(m, {{":method", "GET"}}));
  EXPECT_TRUE(matches(m, {{":method", "POST"}}));
  // A missing header does not match an inverted value matcher...
  EXPECT_FALSE(matches(m, {}));
  // ... but an inverted present_match: true matches it (and false does not).
  EXPECT_TRUE(matches(R"({"name": "x", "present_match": true, "invert_match": true})", {}));
  EXPECT_FALSE(matches(R"({"name": "x", "present_match": false, "invert_match": true})", {}));
}

TEST(HeaderMatcherTest, TreatMissingHeaderAsEmpty) {
  const std::string m =
      R"({"name": "x", "string_match": {"exact": ""}, "treat_missing_header_as_empty": true})";
  EXPECT_TRUE(matches(m, {}));
  EXPECT_FALSE(matches(m, {{"x", "v"}}));
  const std::string inverted =
      R"({"name": "x", "string_match": {"prefix": "a"}, "invert_match": true,
          "treat_missing_header_as_empty": true})";
  EXPECT_TRUE(matches(inverted, {}));
  EXPECT_FALSE(matches(inverted, {{"x", "abc"}}));
}

TEST(HeaderMatcherTest, StringMatchWithIgnoreCase) {
  EXPECT_TRUE(matches(R"({"name": "x", "string_match": {"exact": "AbC", "ignore_case": true}})",
                      {{"x", "aBc"}}));
  EXPECT_FALSE(matches(R"({"name": "x", "string_match": {"exact": "AbC"}})", {{"x", "aBc"}}));
  EXPECT_TRUE(matches(R"({"name": "x", "string_match": {"prefix": "AB", "ignore_case": true}})",
                      {{"x", "abz"}}));
  EXPECT_TRUE(matches(R"({"name": "x", "string_match": {"suffix": "YZ", "ignore_case": true}})",
                      {{"x", "xyz"}}));
  EXPECT_TRUE(matches(R"({"name": "x", "string_match": {"contains": "Mi", "ignore_case": true}})",
                      {{"x", "AMIB"}}));
  EXPECT_FALSE(matches(R"({"name": "x", "string_match": {"contains": "Mi"}})", {{"x", "AMIB"}}));
  EXPECT_TRUE(matches(R"({"name": "x", "string_match": {"safe_regex": {"regex": "[0-9]+"}}})",
                      {{"x", "42"}}));
}

TEST(HeaderMatcherTest, RefusedConfigurations) {
  HeaderMatcher matcher;
  EXPECT_FALSE(build(R"({"name": "x", "safe_regex_match": {"regex": "a("}})", matcher).isOk());
  EXPECT_FALSE(build(R"({"name": "x", "string_match": {"safe_regex": {"regex": "a"},
                                                     "ignore_case": true}})",
                     matcher)
                   .isOk());
  // Envoy refuses regex programs above its size limit (100) unless google_re2 raises it.
  const std::string big = R"(a{0,40}b{0,40}c{0,40})";
  EXPECT_FALSE(
      build(R"({"name": "x", "safe_regex_match": {"regex": ")" + big + R"("}})", matcher).isOk());
  EXPECT_TRUE(build(R"({"name": "x", "safe_regex_match": {"google_re2": {"max_program_size": 1000},
                                                        "regex": ")" +
                        big + R"("}})",
                    matcher)
                  .isOk());
}

}  // namespace
}  // namespace Policy
}  // namespace Cilium
