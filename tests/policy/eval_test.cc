// The JSON-lines protocol of `cilium-policy eval`, exactly, and the case files in cases/.
#include "cilium-filters/tool/eval.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

#ifndef CILIUM_POLICY_CASES_DIR
#define CILIUM_POLICY_CASES_DIR "tests/policy/cases"  // Bazel runs tests from the workspace
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
  EXPECT_EQ(
      session.handle(
          R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "remote_id": 43, "port": 80}})"),
      R"({"l4":false,"http":null,"allowed":false,"headers":[],"missing":[],"rejected":[]})");
  EXPECT_EQ(session.handle(kPolicy), R"({"ok":true})");
  EXPECT_EQ(
      session.handle(
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
  EXPECT_EQ(
      session.handle(
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
  EXPECT_EQ(
      session.handle(
          R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "remote_id": 1, "port": 81}})"),
      R"({"l4":true,"http":null,"allowed":true,"headers":[],"missing":[],"rejected":[]})");
}

TEST(EvalTest, MalformedRequests) {
  EvalSession session;
  for (
      const char* line :
      {"not json", "[]", "{}", R"({"check": 1})", R"({"check": {}, "update": {}})",
       R"({"frobnicate": {}})", R"({"check": {"ingress": true, "port": 80}})",
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
       R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "port": 80, "remote": 4}})",
       // What proto3 JSON alone would accept, and the protocol does not.
       R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": "true", "port": 80}})",
       R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "port": 80, "remote_id": "4"}})",
       R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": null, "port": 80}})",
       R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "port": 80, "headers": null}})",
       R"({"check": {"endpointIp": "10.1.2.3", "ingress": true, "port": 80}})",
       R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "port": 80, "port": 81}})",
       R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "port": 80.5}})",
       R"({"check": {"endpoint_ip": "", "ingress": true, "port": 80}})",
       R"({"check": {"endpoint_ip": "10.1.2.3", "ingress": true, "port": 80, "headers": [["", "x"]]}})",
       R"({"deltaUpdate": {}})", R"({"resolve": {"ip": "10.1.2"}})", R"({"resolve": {"ip": 1}})",
       R"({"resolve": {"ip": "10.1.2.3", "ipv6": true}})", R"({"resolve": []})"}) {
    const std::string reply = session.handle(line);
    EXPECT_EQ(reply.rfind(R"({"error":")", 0), 0u) << line << " -> " << reply;
  }
}

// protobuf's parse errors quote the input around the error, cut anywhere: a reply keeps
// only the message, so it stays JSON (UTF-8) whatever the request held.
TEST(EvalTest, ErrorsAboutBytesThatAreNotUtf8AreJson) {
  EvalSession session;
  for (const std::string& line :
       {std::string("{\"check\": {\"sni\": \"a\", \xe0\x97\x9a\x9e"
                    "der\": 1}}"),
        std::string("{\"check\": {\"endpoint_ip\": \"\xe0\x97\", \"port\": 1}}"),
        std::string("{\"update\": {\"resources\": [\xff]}}"),
        std::string(
            "{\"check\": {\"sni\": \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\", x}}")}) {
    const std::string reply = session.handle(line);
    google::protobuf::Struct parsed;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(reply, &parsed).ok()) << reply;
    EXPECT_EQ(reply.rfind(R"({"error":"the request is not valid JSON: )", 0), 0u) << reply;
  }
}

// --- case files ------------------------------------------------------------------------------

using google::protobuf::Value;

bool readJson(std::string_view text, Value& out) {
  return google::protobuf::util::JsonStringToMessage(
             google::protobuf::StringPiece(text.data(), text.size()), &out)
      .ok();
}

std::string asJson(const Value& value) {
  std::string out;
  google::protobuf::util::MessageToJsonString(value, &out);
  return out;
}

// Whether `actual` has exactly the members of `expected`; an expected string "*" matches
// any string.
bool sameJson(const Value& expected, const Value& actual, std::string& why) {
  if (expected.kind_case() == Value::kStringValue && expected.string_value() == "*" &&
      actual.kind_case() == Value::kStringValue) {
    return true;
  }
  bool same = expected.kind_case() == actual.kind_case();
  if (same && expected.has_struct_value()) {
    const auto& want = expected.struct_value().fields();
    const auto& got = actual.struct_value().fields();
    same = want.size() == got.size();
    for (auto it = want.begin(); same && it != want.end(); ++it) {
      const auto other = got.find(it->first);
      if (other == got.end()) {
        why = "missing key " + it->first;
        return false;
      }
      if (!sameJson(it->second, other->second, why)) {
        return false;
      }
    }
  } else if (same && expected.has_list_value()) {
    const auto& want = expected.list_value().values();
    const auto& got = actual.list_value().values();
    same = want.size() == got.size();
    for (int i = 0; same && i < want.size(); ++i) {
      if (!sameJson(want[i], got[i], why)) {
        return false;
      }
    }
  } else if (same) {
    same = google::protobuf::util::MessageDifferencer::Equals(expected, actual);
  }
  if (!same && why.empty()) {
    why = "expected " + asJson(expected) + ", got " + asJson(actual);
  }
  return same;
}

// A case line is {"request": <request>, "reply": <reply>}. The request goes to the session
// as written (its numbers, spelling and escapes untouched), so its text is cut out of the
// line: at the `"reply"` key, tried from the end, where protobuf's JSON reader finds that
// the two pieces make up the line.
bool splitCase(std::string_view line, const Value& whole, std::string& request, Value& reply) {
  const auto& fields = whole.struct_value().fields();
  const auto want_request = fields.find("request");
  const auto want_reply = fields.find("reply");
  const size_t key = line.find("\"request\"");
  const size_t colon = key == std::string_view::npos ? key : line.find(':', key);
  const size_t close = line.rfind('}');
  if (fields.size() != 2 || want_request == fields.end() || want_reply == fields.end() ||
      colon == std::string_view::npos || close == std::string_view::npos) {
    return false;
  }
  for (size_t at = line.rfind("\"reply\"", close); at != std::string_view::npos && at > colon;
       at = at == 0 ? std::string_view::npos : line.rfind("\"reply\"", at - 1)) {
    const size_t comma = line.rfind(',', at);
    const size_t reply_colon = line.find(':', at);
    if (comma == std::string_view::npos || comma <= colon || reply_colon > close) {
      continue;
    }
    using google::protobuf::util::MessageDifferencer;
    const std::string_view request_text = line.substr(colon + 1, comma - colon - 1);
    const std::string_view reply_text = line.substr(reply_colon + 1, close - reply_colon - 1);
    Value parsed_request;
    if (readJson(request_text, parsed_request) && readJson(reply_text, reply) &&
        MessageDifferencer::Equals(parsed_request, want_request->second) &&
        MessageDifferencer::Equals(reply, want_reply->second)) {
      request = std::string(request_text);
      return true;
    }
  }
  return false;
}

TEST(EvalTest, SplitCase) {
  // "reply" as a key and a string inside both members; numbers a double cannot hold.
  const std::string request =
      R"({"x": "reply", "y": {"reply": [1.0, 18446744073709551615]}, "z": ", "})";
  const std::string line =
      R"({"request": )" + request + R"(, "reply": {"error": "reply", "x": {"reply": 1}}})";
  Value whole;
  ASSERT_TRUE(readJson(line, whole));
  std::string found;
  Value reply;
  ASSERT_TRUE(splitCase(line, whole, found, reply));
  EXPECT_EQ(found, " " + request);
  EXPECT_EQ(reply.struct_value().fields().at("error").string_value(), "reply");
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
    EvalSession session;  // each file starts with no policies
    std::ifstream in(file);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') {
        continue;
      }
      SCOPED_TRACE(file.filename().string() + ":" + std::to_string(number));
      Value test;
      ASSERT_TRUE(readJson(line, test)) << "not JSON: " << line;
      std::string request;
      Value expected;
      ASSERT_TRUE(test.has_struct_value() && splitCase(line, test, request, expected))
          << "a case is {\"request\": ..., \"reply\": ...}";
      const std::string reply = session.handle(request);
      Value actual;
      ASSERT_TRUE(readJson(reply, actual)) << reply;
      std::string why;
      EXPECT_TRUE(sameJson(expected, actual, why)) << why << "\n  reply: " << reply;
      ++cases;
    }
  }
  EXPECT_GT(cases, 0u);
}

}  // namespace
}  // namespace PolicyTool
}  // namespace Cilium
