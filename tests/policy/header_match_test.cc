#include "cilium-filters/policy/compile/header_match.h"

#include <google/protobuf/util/json_util.h>

#include "cilium/api/npds.pb.h"
#include "gtest/gtest.h"

namespace Cilium {
namespace Policy {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;
using Outcome = HeaderMatch::Outcome;

struct Applied {
  Outcome outcome;
  Pairs headers;
  Pairs missing;
  Pairs rejected;
};

Applied apply(const std::string& json, const Pairs& request,
              const SecretSource& secrets = NoSecrets()) {
  cilium::HeaderMatch config;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &config).ok()) << json;
  HeaderMatch match(config);
  RequestHeaders headers(request);
  HeaderLog log;
  Applied out{match.apply(headers, log, secrets), {}, log.missing(), log.rejected()};
  for (const auto& entry : headers.entries()) {
    out.headers.emplace_back(entry.name, entry.value);
  }
  return out;
}

TEST(HeaderMatchTest, MatchActions) {
  // continue (the default): passes, logs nothing
  Applied r = apply(R"({"name": "x-a", "value": "1"})", {{"x-a", "1"}});
  EXPECT_EQ(r.outcome, Outcome::Passed);
  EXPECT_TRUE(r.missing.empty() && r.rejected.empty());
  // fail: fails, logs the configured value as rejected
  r = apply(R"({"name": "x-a", "value": "1", "match_action": "FAIL_ON_MATCH"})", {{"x-a", "1"}});
  EXPECT_EQ(r.outcome, Outcome::Failed);
  EXPECT_EQ(r.rejected, (Pairs{{"x-a", "1"}}));
  // delete: removes the header, passes, logs the configured value as rejected
  r = apply(R"({"name": "x-a", "value": "1", "match_action": "DELETE_ON_MATCH"})",
            {{"x-a", "1"}, {"x-b", "2"}});
  EXPECT_EQ(r.outcome, Outcome::Passed);
  EXPECT_EQ(r.headers, (Pairs{{"x-b", "2"}}));
  EXPECT_EQ(r.rejected, (Pairs{{"x-a", "1"}}));
}

TEST(HeaderMatchTest, PresenceTestLogsEmptyValue) {
  Applied r = apply(R"({"name": "x-a", "match_action": "FAIL_ON_MATCH"})", {{"x-a", "whatever"}});
  EXPECT_EQ(r.outcome, Outcome::Failed);
  EXPECT_EQ(r.rejected, (Pairs{{"x-a", ""}}));
  r = apply(R"({"name": "x-a"})", {});
  EXPECT_EQ(r.outcome, Outcome::Failed);
  EXPECT_EQ(r.missing, (Pairs{{"x-a", ""}}));
}

TEST(HeaderMatchTest, MismatchActions) {
  // fail (the default): fails, logs the expected value as missing
  Applied r = apply(R"({"name": "x-a", "value": "1"})", {{"x-a", "2"}});
  EXPECT_EQ(r.outcome, Outcome::Failed);
  EXPECT_EQ(r.missing, (Pairs{{"x-a", "1"}}));
  EXPECT_TRUE(r.rejected.empty());
  // continue: passes, logs it as missing
  r = apply(R"({"name": "x-a", "value": "1", "mismatch_action": "CONTINUE_ON_MISMATCH"})", {});
  EXPECT_EQ(r.outcome, Outcome::Passed);
  EXPECT_EQ(r.missing, (Pairs{{"x-a", "1"}}));
  // add: appends the expected value, passes, logs it as missing
  r = apply(R"({"name": "x-a", "value": "1", "mismatch_action": "ADD_ON_MISMATCH"})",
            {{"x-a", "2"}});
  EXPECT_EQ(r.outcome, Outcome::Passed);
  EXPECT_EQ(r.headers, (Pairs{{"x-a", "2"}, {"x-a", "1"}}));
  EXPECT_EQ(r.missing, (Pairs{{"x-a", "1"}}));
  // delete: removes a present header and logs its actual value as rejected...
  r = apply(R"({"name": "x-a", "value": "1", "mismatch_action": "DELETE_ON_MISMATCH"})",
            {{"x-a", "2"}, {"x-b", "b"}});
  EXPECT_EQ(r.outcome, Outcome::Passed);
  EXPECT_EQ(r.headers, (Pairs{{"x-b", "b"}}));
  EXPECT_EQ(r.rejected, (Pairs{{"x-a", "2"}}));
  EXPECT_TRUE(r.missing.empty());
  // ... and logs nothing when it is absent
  r = apply(R"({"name": "x-a", "value": "1", "mismatch_action": "DELETE_ON_MISMATCH"})", {});
  EXPECT_EQ(r.outcome, Outcome::Passed);
  EXPECT_TRUE(r.missing.empty() && r.rejected.empty());
  // replace: logs the old value as rejected, sets the expected one, logs it as missing
  r = apply(R"({"name": "x-a", "value": "1", "mismatch_action": "REPLACE_ON_MISMATCH"})",
            {{"x-a", "2"}, {"x-a", "3"}});
  EXPECT_EQ(r.outcome, Outcome::Passed);
  EXPECT_EQ(r.headers, (Pairs{{"x-a", "1"}}));
  EXPECT_EQ(r.rejected, (Pairs{{"x-a", "2,3"}}));
  EXPECT_EQ(r.missing, (Pairs{{"x-a", "1"}}));
  r = apply(R"({"name": "x-a", "value": "1", "mismatch_action": "REPLACE_ON_MISMATCH"})", {});
  EXPECT_EQ(r.headers, (Pairs{{"x-a", "1"}}));
  EXPECT_TRUE(r.rejected.empty());
  EXPECT_EQ(r.missing, (Pairs{{"x-a", "1"}}));
}

TEST(HeaderMatchTest, SecretsAreRedactedEverywhere) {
  const StaticSecrets secrets(std::map<std::string, std::string>{{"token", "s3cret"}});
  const std::string config = R"({"name": "x-token", "value_sds_secret": "token",
                                 "mismatch_action": "REPLACE_ON_MISMATCH"})";
  Applied r = apply(config, {{"x-token", "guess"}}, secrets);
  EXPECT_EQ(r.outcome, Outcome::Passed);
  EXPECT_EQ(r.headers, (Pairs{{"x-token", "s3cret"}}));
  EXPECT_EQ(r.rejected, (Pairs{{"x-token", "[redacted]"}}));
  EXPECT_EQ(r.missing, (Pairs{{"x-token", "[redacted]"}}));
  // The secret's value wins over the inline one.
  r = apply(R"({"name": "x-token", "value": "inline", "value_sds_secret": "token"})",
            {{"x-token", "s3cret"}}, secrets);
  EXPECT_EQ(r.outcome, Outcome::Passed);
  r = apply(R"({"name": "x-token", "value": "inline", "value_sds_secret": "token",
              "match_action": "DELETE_ON_MATCH"})",
            {{"x-token", "s3cret"}}, secrets);
  EXPECT_EQ(r.rejected, (Pairs{{"x-token", "[redacted]"}}));
}

TEST(HeaderMatchTest, UnavailableSecretFallsBackToInlineValueStillRedacted) {
  Applied r = apply(R"({"name": "x-token", "value": "inline", "value_sds_secret": "missing"})",
                    {{"x-token", "inline"}});
  EXPECT_EQ(r.outcome, Outcome::Passed);
  r = apply(R"({"name": "x-token", "value": "inline", "value_sds_secret": "missing"})",
            {{"x-token", "other"}});
  EXPECT_EQ(r.outcome, Outcome::Failed);
  EXPECT_EQ(r.missing, (Pairs{{"x-token", "[redacted]"}}));
}

TEST(HeaderMatchTest, UnavailableSecretWithoutInlineValueFailsSilently) {
  for (const char* action :
       {"CONTINUE_ON_MISMATCH", "ADD_ON_MISMATCH", "REPLACE_ON_MISMATCH", "DELETE_ON_MISMATCH"}) {
    Applied r = apply(std::string(R"({"name": "x-token", "value_sds_secret": "missing",
                                "mismatch_action": ")") +
                          action + "\"}",
                      {{"x-token", "v"}});
    EXPECT_EQ(r.outcome, Outcome::NoSecretFail) << action;
    EXPECT_EQ(r.headers, (Pairs{{"x-token", "v"}})) << action;
    EXPECT_TRUE(r.missing.empty() && r.rejected.empty()) << action;
  }
}

TEST(HeaderMatchTest, ConstantTimeEquals) {
  EXPECT_TRUE(constantTimeEquals("abc", "abc"));
  EXPECT_FALSE(constantTimeEquals("abc", "abd"));
  EXPECT_FALSE(constantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(constantTimeEquals("", ""));
}

}  // namespace
}  // namespace Policy
}  // namespace Cilium
