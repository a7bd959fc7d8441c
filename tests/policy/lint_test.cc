#include "cilium-filters/tool/lint.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace Cilium {
namespace PolicyTool {
namespace {

// Three problems in one file: lint lists them all (an update stops at the first).
const char* kBroken = R"(- endpoint_ips: ['10.1.2.3']
  endpoint_id: 7
  ingress_per_port_policies:
  - port: 80
    rules:
    - http_rules:
        http_rules:
        - headers:
          - name: ':path'
            safe_regex_match:
              regex: '/api/v1/(users|teams|projects|reports|settings)/[a-z0-9-]{1,12}/(view|edit)'
          - name: ':method'
            safe_regex_match: {regex: 'GET|HEAD'}
  - port: 8080
    end_port: 8000
- endpoint_ips: ['10.1.2.3']
  endpoint_id: 8
)";

TEST(LintTest, ListsEveryProblemWithItsLineAndEveryRegexWithItsSize) {
  const LintReport report = lintPolicyText(kBroken);
  ASSERT_TRUE(report.refused());
  ASSERT_EQ(report.regexes.size(), 2u);
  const RegexSize& long_one =
      report.regexes[0].size > report.regexes[1].size ? report.regexes[0] : report.regexes[1];
  EXPECT_GT(long_one.size, 100);
  EXPECT_EQ(long_one.limit, 100u);
  EXPECT_EQ(long_one.line, 11);
  EXPECT_EQ(long_one.where,
            "[0].ingress_per_port_policies[0].rules[0].http_rules.http_rules[0].headers[0]."
            "safe_regex_match");
  std::string all;
  for (const Problem& problem : report.problems) {
    all += problemText("p.yaml", problem) + "\n";
  }
  EXPECT_NE(all.find("p.yaml:11: [0].ingress_per_port_policies[0].rules[0]"), std::string::npos)
      << all;
  EXPECT_NE(all.find("over the limit of 100"), std::string::npos) << all;
  EXPECT_NE(all.find("end_port"), std::string::npos) << all;
  EXPECT_NE(all.find("Envoy refuses the whole update"), std::string::npos) << all;
  const std::string text = describeLint("p.yaml", report, 100);
  EXPECT_NE(text.find("OVER THE LIMIT"), std::string::npos) << text;
  EXPECT_NE(text.find("To shrink a regex"), std::string::npos) << text;
  EXPECT_NE(text.find("Envoy would refuse the whole update"), std::string::npos) << text;
}

TEST(LintTest, TheLimitComesFromTheMatcherElseTheRuntime) {
  const std::string policy = R"(endpoint_ips: ['10.1.2.3']
endpoint_id: 7
ingress_per_port_policies:
- port: 80
  rules:
  - http_rules:
      http_rules:
      - headers:
        - name: ':path'
          safe_regex_match:
            google_re2: {max_program_size: 500}
            regex: '/api/v1/(users|teams|projects|reports|settings)/[a-z0-9-]{1,12}/(view|edit)'
  - server_names: ['*.example.com']
)";
  LintReport report = lintPolicyText(policy);
  EXPECT_FALSE(report.refused()) << describeLint("p.yaml", report, 100);
  ASSERT_EQ(report.regexes.size(), 2u);
  const auto own = std::find_if(report.regexes.begin(), report.regexes.end(),
                                [](const RegexSize& s) { return s.own_limit; });
  ASSERT_NE(own, report.regexes.end());
  EXPECT_EQ(own->limit, 500u);
  const auto sni = std::find_if(report.regexes.begin(), report.regexes.end(),
                                [](const RegexSize& s) { return s.pattern == "*.example.com"; });
  ASSERT_NE(sni, report.regexes.end());
  EXPECT_EQ(sni->limit, 100u);
  EXPECT_EQ(sni->where, "ingress_per_port_policies[0].rules[1].server_names[0]");
  // A raised runtime limit lets the long regex through without its own limit too.
  const LintReport raised = lintPolicyText(kBroken, 1000);
  for (const Problem& problem : raised.problems) {
    EXPECT_EQ(problem.message.find("over the limit"), std::string::npos) << problem.message;
  }
}

TEST(LintTest, AcceptedFileAndUnreadableText) {
  const LintReport good = lintPolicyText("endpoint_ips: ['10.1.2.3']\nendpoint_id: 7\n");
  EXPECT_FALSE(good.refused());
  EXPECT_NE(describeLint("p.yaml", good, 100).find("Envoy would accept it"), std::string::npos);
  const LintReport bad = lintPolicyText("a: [");
  ASSERT_TRUE(bad.refused());
  EXPECT_NE(bad.problems[0].message.find("not valid YAML"), std::string::npos);
}

}  // namespace
}  // namespace PolicyTool
}  // namespace Cilium
