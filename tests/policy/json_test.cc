#include "cilium-filters/tool/json.h"

#include "gtest/gtest.h"

namespace Cilium {
namespace PolicyTool {
namespace {

Json parsed(const std::string& text) {
  Json out;
  std::string error;
  EXPECT_TRUE(Json::parse(text, out, error)) << text << ": " << error;
  return out;
}

std::string failure(const std::string& text) {
  Json out;
  std::string error;
  EXPECT_FALSE(Json::parse(text, out, error)) << text;
  return error;
}

TEST(JsonTest, Values) {
  const std::string text = R"( {"a": [1, -2.5e3, true, false, null, "x"], "b": {}} )";
  const Json value = parsed(text); // raw() points into `text`
  ASSERT_TRUE(value.isObject());
  const Json* a = value.find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->items().size(), 6u);
  EXPECT_EQ(a->items()[0].text(), "1");
  EXPECT_EQ(a->items()[1].text(), "-2.5e3");
  EXPECT_TRUE(a->items()[2].boolean());
  EXPECT_TRUE(a->items()[4].isNull());
  EXPECT_EQ(a->items()[5].text(), "x");
  EXPECT_EQ(value.find("b")->raw(), "{}");
  EXPECT_EQ(value.find("c"), nullptr);
  EXPECT_EQ(a->raw(), R"([1, -2.5e3, true, false, null, "x"])");
}

TEST(JsonTest, StringsAndEscapes) {
  EXPECT_EQ(parsed(R"("a\"b\\c\/d\n\t")").text(), "a\"b\\c/d\n\t");
  EXPECT_EQ(parsed(R"("\u00e9\u20ac")").text(), "\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(parsed(R"("\ud83d\ude00")").text(), "\xf0\x9f\x98\x80");
  EXPECT_EQ(parsed("\"\xc3\xa9\"").text(), "\xc3\xa9");
}

TEST(JsonTest, Errors) {
  for (const char* text : {"", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "01", "1.", "-", "tru",
                           "\"\\x\"", "\"\\ud800\"", "\"\x01\"", "\"\xff\"", "1 2", "{a: 1}",
                           "\"\xc0\xaf\""}) {
    failure(text);
  }
  EXPECT_NE(failure(R"({"a": 1, "a": 2})").find("duplicate key"), std::string::npos);
  EXPECT_NE(failure(std::string(1000, '[')).find("deeply"), std::string::npos);
}

TEST(JsonTest, Unsigned) {
  uint64_t out = 0;
  EXPECT_TRUE(parsed("65535").asUnsigned(65535, out));
  EXPECT_EQ(out, 65535u);
  EXPECT_FALSE(parsed("65536").asUnsigned(65535, out));
  EXPECT_FALSE(parsed("-1").asUnsigned(65535, out));
  EXPECT_FALSE(parsed("8.0").asUnsigned(65535, out));
  EXPECT_FALSE(parsed("8e1").asUnsigned(65535, out));
  EXPECT_FALSE(parsed("\"8\"").asUnsigned(65535, out));
  EXPECT_FALSE(parsed("99999999999999999999999").asUnsigned(UINT64_MAX, out));
}

TEST(JsonTest, Writer) {
  JsonWriter out;
  out.beginObject().key("a").boolean(true).key("b").null().key("c").beginArray();
  out.number(1).string("x\"\n\x01").endArray();
  out.key("d").pairs({{"k", "v"}}).endObject();
  EXPECT_EQ(out.str(), R"({"a":true,"b":null,"c":[1,"x\"\n\u0001"],"d":[["k","v"]]})");
}

} // namespace
} // namespace PolicyTool
} // namespace Cilium
