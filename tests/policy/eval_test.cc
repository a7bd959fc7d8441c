// The JSON-lines protocol of `cilium-policy eval`, exactly, and the case files in cases/.
#include "cilium-filters/tool/eval.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cilium-filters/tool/json.h"
#include "gtest/gtest.h"

#ifndef CILIUM_POLICY_CASES_DIR
#define CILIUM_POLICY_CASES_DIR "tests/policy/cases" // Bazel runs tests from the workspace
#endif

namespace Cilium {
namespace PolicyTool {
namespace {

const char* kPolicy = R"({"update": {"version_info": "1", "resources": [{
  "@type": "type.googleapis.com/cilium.NetworkPolicy",
  "endpoint_ips": ["10.1.2.3"], "endpoint_id": 42,
  "ingress_per_port_policies": [{"port": 80, "rules": [{
    "remote_policies": [43],
    "http_rules": {"http_rules": [{
      "headers": [{"name": ":path", "exact_match": "/allowed"}],
      "header_matches": [{"name": "x-a", "value": "b", "mismatch_action": "ADD_ON_MISMATCH"}]}]}}]}]}]}})";

TEST(EvalTest, ExactReplies) {
  EvalSession session;
  EXPECT_EQ(session.handle(
                R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "remote_id": 43, "port": 80}})"),
            R"({"l4":false,"http":null,"allowed":false,"headers":[],"missing":[],"rejected":[]})");
  EXPECT_EQ(session.handle(kPolicy), R"({"ok":true})");
  EXPECT_EQ(session.handle(
                R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "remote_id": 43, "port": 80}})"),
            R"({"l4":true,"http":null,"allowed":true,"headers":[],"missing":[],"rejected":[]})");
  EXPECT_EQ(
      session.handle(R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "remote_id": 43,
                       "port": 80, "proxy_id": 0, "sni": "", "headers": [[":path", "/allowed"]]}})"),
      R"({"l4":true,"http":true,"allowed":true,"headers":[[":path","/allowed"],["x-a","b"]],)"
      R"("missing":[["x-a","b"]],"rejected":[]})");
  EXPECT_EQ(session.handle(R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true,
                              "remote_id": 43, "port": 80, "headers": []}})"),
            R"({"l4":true,"http":false,"allowed":false,"headers":[],"missing":[],"rejected":[]})");
}

TEST(EvalTest, RefusedUpdateKeepsState) {
  EvalSession session;
  ASSERT_EQ(session.handle(kPolicy), R"({"ok":true})");
  const std::string refused = session.handle(R"({"update": {"resources": [{
      "@type": "type.googleapis.com/cilium.NetworkPolicy",
      "endpoint_ips": ["10.1.2.3"], "endpoint_id": 0}]}})");
  EXPECT_EQ(refused.rfind(R"({"ok":false,"error":")", 0), 0u) << refused;
  EXPECT_EQ(session.handle(R"({"update": {"resources": [{"@type": "type.googleapis.com/nope"}]}})")
                .rfind(R"({"ok":false,"error":)", 0),
            0u);
  EXPECT_EQ(session.handle(R"({"update": {"unknown_field": 1}})").rfind(R"({"ok":false,)", 0), 0u);
  EXPECT_EQ(session.handle(R"({"update": []})").rfind(R"({"ok":false,)", 0), 0u);
  EXPECT_EQ(session.handle(
                R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "remote_id": 43, "port": 80}})"),
            R"({"l4":true,"http":null,"allowed":true,"headers":[],"missing":[],"rejected":[]})");
}

TEST(EvalTest, CamelCaseAndSnakeCaseFieldNames) {
  EvalSession session;
  EXPECT_EQ(session.handle(R"({"update": {"versionInfo": "1", "typeUrl":
      "type.googleapis.com/cilium.NetworkPolicy", "resources": [{
      "@type": "type.googleapis.com/cilium.NetworkPolicy",
      "endpointIps": ["10.1.2.3"], "endpointId": "42",
      "ingressPerPortPolicies": [{"port": 80, "endPort": 81, "protocol": "TCP"}]}]}})"),
            R"({"ok":true})");
  EXPECT_EQ(session.handle(
                R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "remote_id": 1, "port": 81}})"),
            R"({"l4":true,"http":null,"allowed":true,"headers":[],"missing":[],"rejected":[]})");
}

TEST(EvalTest, MalformedRequests) {
  EvalSession session;
  for (const char* line :
       {"not json", "[]", "{}", R"({"check": 1})", R"({"check": {}, "update": {}})",
        R"({"frobnicate": {}})",
        R"({"check": {"ingress": true, "port": 80}})",
        R"({"check": {"endpoint_ip": "10.1.2.3", "port": 80}})",
        R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true}})",
        R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": 1, "port": 80}})",
        R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "port": 65536}})",
        R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "port": -1}})",
        R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "port": "80"}})",
        R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "port": 80, "remote_id": 4294967296}})",
        R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "port": 80, "proxy_id": 65536}})",
        R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "port": 80, "headers": {}}})",
        R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "port": 80, "headers": [["a"]]}})",
        R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "port": 80, "headers": [["a", 1]]}})",
        R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "port": 80, "remote": 4}})"}) {
    const std::string reply = session.handle(line);
    EXPECT_EQ(reply.rfind(R"({"error":")", 0), 0u) << line << " -> " << reply;
  }
}

// --- case files ------------------------------------------------------------------------------

// Whether `actual` has exactly the members of `expected`; an expected string "*" matches
// any string.
bool sameJson(const Json& expected, const Json& actual, std::string& why) {
  if (expected.isString() && expected.text() == "*" && actual.isString()) {
    return true;
  }
  if (expected.type() != actual.type()) {
    why = "expected " + std::string(expected.raw()) + ", got " + std::string(actual.raw());
    return false;
  }
  switch (expected.type()) {
  case Json::Type::Object:
    if (expected.members().size() != actual.members().size()) {
      why = "expected " + std::string(expected.raw()) + ", got " + std::string(actual.raw());
      return false;
    }
    for (const auto& [key, value] : expected.members()) {
      const Json* other = actual.find(key);
      if (other == nullptr) {
        why = "missing key " + key;
        return false;
      }
      if (!sameJson(value, *other, why)) {
        return false;
      }
    }
    return true;
  case Json::Type::Array:
    if (expected.items().size() != actual.items().size()) {
      why = "expected " + std::string(expected.raw()) + ", got " + std::string(actual.raw());
      return false;
    }
    for (size_t i = 0; i < expected.items().size(); ++i) {
      if (!sameJson(expected.items()[i], actual.items()[i], why)) {
        return false;
      }
    }
    return true;
  case Json::Type::Bool:
    if (expected.boolean() != actual.boolean()) {
      why = "expected " + std::string(expected.raw()) + ", got " + std::string(actual.raw());
      return false;
    }
    return true;
  default:
    if (expected.text() != actual.text()) {
      why = "expected " + std::string(expected.raw()) + ", got " + std::string(actual.raw());
      return false;
    }
    return true;
  }
}

std::filesystem::path casesDir() {
  const char* from_env = std::getenv("CILIUM_POLICY_CASES");
  return from_env ? from_env : CILIUM_POLICY_CASES_DIR;
}

TEST(EvalTest, CaseFiles) {
  const std::filesystem::path dir = casesDir();
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".jsonl") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << "no case files in " << dir;
  size_t cases = 0;
  for (const auto& file : files) {
    EvalSession session; // each file starts with no policies
    std::ifstream in(file);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') {
        continue;
      }
      SCOPED_TRACE(file.filename().string() + ":" + std::to_string(number));
      Json test;
      std::string error;
      ASSERT_TRUE(Json::parse(line, test, error)) << error;
      const Json* request = test.find("request");
      const Json* expected = test.find("reply");
      ASSERT_TRUE(request && expected) << "a case has \"request\" and \"reply\"";
      const std::string reply = session.handle(request->raw());
      Json actual;
      ASSERT_TRUE(Json::parse(reply, actual, error)) << reply;
      std::string why;
      EXPECT_TRUE(sameJson(*expected, actual, why)) << why << "\n  reply: " << reply;
      ++cases;
    }
  }
  EXPECT_GT(cases, 0u);
}

} // namespace
} // namespace PolicyTool
} // namespace Cilium
