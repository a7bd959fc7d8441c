#include "cilium-filters/policy/compile/sni_pattern.h"

#include "gtest/gtest.h"

namespace Cilium {
namespace Policy {
namespace {

SniPattern compiled(const std::string& pattern) {
  RegexCache regexes;
  SniPattern out;
  const Status status = SniPattern::create(pattern, regexes, out);
  EXPECT_TRUE(status.isOk()) << status.message();
  return out;
}

TEST(SniPatternTest, ValidPatterns) {
  for (const char* pattern : {"example.com", "*", "**", "*.example.com", "**.example.com",
                              "api-*.svc", "a*b*c.d", "*x*.y", "_srv.tcp", "x.**.y", "A.B"}) {
    EXPECT_TRUE(SniPattern::isValid(pattern)) << pattern;
  }
}

TEST(SniPatternTest, InvalidPatterns) {
  for (const char* pattern : {"", ".", "a.", ".a", "a..b", "***", "a**", "**a", "a.***.b", "a b",
                              "a/b", "(a|b).c", "[a-z].com", "a+.com", "^a$", "x.*y**"}) {
    EXPECT_FALSE(SniPattern::isValid(pattern)) << pattern;
    RegexCache regexes;
    SniPattern out;
    EXPECT_FALSE(SniPattern::create(pattern, regexes, out).isOk()) << pattern;
  }
}

TEST(SniPatternTest, ExactNameIgnoresCase) {
  const SniPattern pattern = compiled("Api.Example.com");
  EXPECT_TRUE(pattern.matches("api.example.com"));
  EXPECT_TRUE(pattern.matches("API.EXAMPLE.COM"));
  EXPECT_FALSE(pattern.matches("api.example.com.evil"));
  EXPECT_FALSE(pattern.matches("xapi.example.com"));
  EXPECT_FALSE(pattern.matches(""));
}

TEST(SniPatternTest, BareWildcardsMatchAnyValidName) {
  for (const char* text : {"*", "**"}) {
    const SniPattern pattern = compiled(text);
    EXPECT_TRUE(pattern.matches("host")) << text;
    EXPECT_TRUE(pattern.matches("a.b.c.example.org")) << text;
    EXPECT_TRUE(pattern.matches("Mixed-Case_1.NET")) << text;
    EXPECT_FALSE(pattern.matches("")) << text;
    EXPECT_FALSE(pattern.matches("trailing.dot.")) << text;
    EXPECT_FALSE(pattern.matches("bad@char.com")) << text;
    EXPECT_FALSE(pattern.matches("two..dots")) << text;
  }
}

TEST(SniPatternTest, StarStaysInsideOneLabel) {
  const SniPattern pattern = compiled("*.cilium.io");
  EXPECT_TRUE(pattern.matches("docs.cilium.io"));
  EXPECT_TRUE(pattern.matches("DOCS.Cilium.IO"));
  EXPECT_FALSE(pattern.matches("cilium.io"));
  EXPECT_FALSE(pattern.matches("a.docs.cilium.io"));
  EXPECT_FALSE(pattern.matches("xcilium.io"));

  const SniPattern middle = compiled("api.*.svc");
  EXPECT_TRUE(middle.matches("api.ns1.svc"));
  EXPECT_FALSE(middle.matches("api.ns1.ns2.svc"));
  EXPECT_FALSE(middle.matches("api.svc"));

  const SniPattern within = compiled("db-*-primary.local");
  EXPECT_TRUE(within.matches("db-7-primary.local"));
  EXPECT_TRUE(within.matches("db--primary.local"));  // '*' may be empty
  EXPECT_FALSE(within.matches("db-7.x-primary.local"));

  const SniPattern both_ends = compiled("*mid*.org");
  EXPECT_TRUE(both_ends.matches("mid.org"));
  EXPECT_TRUE(both_ends.matches("amidb.org"));
  EXPECT_FALSE(both_ends.matches("md.org"));
}

TEST(SniPatternTest, DoubleStarIsOneOrMoreLabels) {
  const SniPattern prefix = compiled("**.cilium.io");
  EXPECT_TRUE(prefix.matches("a.cilium.io"));
  EXPECT_TRUE(prefix.matches("a.b.c.cilium.io"));
  EXPECT_FALSE(prefix.matches("cilium.io"));
  EXPECT_FALSE(prefix.matches(".cilium.io"));
  EXPECT_FALSE(prefix.matches("a.cilium.io.evil"));

  const SniPattern middle = compiled("api.**.svc");
  EXPECT_TRUE(middle.matches("api.x.svc"));
  EXPECT_TRUE(middle.matches("api.x.y.z.svc"));
  EXPECT_FALSE(middle.matches("api.svc"));
  EXPECT_FALSE(middle.matches("x.api.y.svc"));

  const SniPattern mixed = compiled("**.web.*.ex*e.com");
  EXPECT_TRUE(mixed.matches("a.web.b.example.com"));
  EXPECT_TRUE(mixed.matches("a.b.web.c.exe.com"));
  EXPECT_FALSE(mixed.matches("web.b.example.com"));
  EXPECT_FALSE(mixed.matches("a.web.example.com"));
}

TEST(SniPatternTest, LongWildcardPatternIsRefusedLikeEnvoy) {
  // Envoy compiles wildcard patterns with RE2 and refuses programs above its size limit.
  std::string pattern = "*.";
  for (int i = 0; i < 16; ++i) {
    pattern += "label" + std::to_string(i) + ".";
  }
  pattern += "com";
  ASSERT_TRUE(SniPattern::isValid(pattern));
  RegexCache regexes;
  SniPattern out;
  const Status status = SniPattern::create(pattern, regexes, out);
  EXPECT_FALSE(status.isOk());
  EXPECT_NE(status.message().find("program"), std::string::npos) << status.message();
  // Without a wildcard no regex is compiled, so length does not matter.
  EXPECT_TRUE(SniPattern::create(pattern.substr(2), regexes, out).isOk());
}

}  // namespace
}  // namespace Policy
}  // namespace Cilium
