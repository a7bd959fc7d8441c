#include "cilium-filters/tool/eval.h"

#include <google/protobuf/util/json_util.h>

#include "cilium-filters/policy/decisions.h"
#include "cilium-filters/policy/xds_resource.h"
#include "cilium-filters/tool/json.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace Cilium {
namespace PolicyTool {
namespace {

std::string errorReply(std::string_view message) {
  return JsonWriter().beginObject().key("error").string(message).endObject().take();
}

std::string updateReply(const Policy::Status& status) {
  JsonWriter out;
  out.beginObject().key("ok").boolean(status.isOk());
  if (!status) {
    out.key("error").string(status.message());
  }
  return out.endObject().take();
}

// Reads the check request's fields; false with `error` set when one is wrong.
struct CheckRequest {
  std::string endpoint_ip;
  bool ingress{true};
  uint64_t remote_id{0};
  uint64_t port{0};
  uint64_t proxy_id{0};
  std::string sni;
  bool has_headers{false};
  std::vector<std::pair<std::string, std::string>> headers;
};

bool readCheck(const Json& body, CheckRequest& out, std::string& error) {
  if (!body.isObject()) {
    error = "\"check\" must be an object, not " + std::string(Json::typeName(body.type()));
    return false;
  }
  bool have_ip = false;
  bool have_direction = false;
  bool have_port = false;
  for (const auto& [name, value] : body.members()) {
    if (name == "endpoint_ip") {
      if (!value.isString() || value.text().empty()) {
        error = "\"endpoint_ip\" must be a non-empty string";
        return false;
      }
      out.endpoint_ip = value.text();
      have_ip = true;
    } else if (name == "ingress") {
      if (!value.isBool()) {
        error = "\"ingress\" must be true or false";
        return false;
      }
      out.ingress = value.boolean();
      have_direction = true;
    } else if (name == "remote_id") {
      if (!value.asUnsigned(UINT32_MAX, out.remote_id)) {
        error = "\"remote_id\" must be a whole number from 0 to 4294967295";
        return false;
      }
    } else if (name == "port") {
      if (!value.asUnsigned(65535, out.port)) {
        error = "\"port\" must be a whole number from 0 to 65535";
        return false;
      }
      have_port = true;
    } else if (name == "proxy_id") {
      if (!value.asUnsigned(65535, out.proxy_id)) {
        error = "\"proxy_id\" must be a whole number from 0 to 65535";
        return false;
      }
    } else if (name == "sni") {
      if (!value.isString()) {
        error = "\"sni\" must be a string";
        return false;
      }
      out.sni = value.text();
    } else if (name == "headers") {
      if (!value.isArray()) {
        error = "\"headers\" must be an array of [name, value] pairs";
        return false;
      }
      out.has_headers = true;
      for (const Json& pair : value.items()) {
        if (!pair.isArray() || pair.items().size() != 2 || !pair.items()[0].isString() ||
            !pair.items()[1].isString()) {
          error = "each of \"headers\" must be a [name, value] pair of strings";
          return false;
        }
        if (pair.items()[0].text().empty()) {
          error = "header names must not be empty";
          return false;
        }
        out.headers.emplace_back(pair.items()[0].text(), pair.items()[1].text());
      }
    } else {
      error = "unknown field \"" + name +
              "\" in \"check\" (known: endpoint_ip, ingress, remote_id, port, proxy_id, sni, "
              "headers)";
      return false;
    }
  }
  if (!have_ip || !have_direction || !have_port) {
    error = std::string("\"check\" needs ") +
            (!have_ip ? "\"endpoint_ip\"" : !have_direction ? "\"ingress\"" : "\"port\"");
    return false;
  }
  return true;
}

} // namespace

namespace {

template <class Message>
Policy::Status parseJson(std::string_view json, Message& out, const char* what) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &out, options);
  if (!status.ok()) {
    return Policy::Status::error(std::string("not a valid ") + what + ": " +
                                 std::string(status.message()));
  }
  return Policy::Status::ok();
}

// Whether an update is for the host map: its type_url says so, else its first resource.
template <class Response, class TypeOfFirst>
bool forHosts(const Response& response, TypeOfFirst type_of_first) {
  if (!response.type_url().empty()) {
    return response.type_url() == Policy::kNetworkPolicyHostsTypeUrl;
  }
  return response.resources_size() > 0 &&
         type_of_first(response) == Policy::kNetworkPolicyHostsTypeUrl;
}

} // namespace

Policy::Status parseDiscoveryResponse(std::string_view json,
                                      envoy::service::discovery::v3::DiscoveryResponse& out) {
  return parseJson(json, out, "DiscoveryResponse");
}

Policy::Status parseDeltaDiscoveryResponse(
    std::string_view json, envoy::service::discovery::v3::DeltaDiscoveryResponse& out) {
  return parseJson(json, out, "DeltaDiscoveryResponse");
}

EvalSession::EvalSession(std::shared_ptr<const Policy::SecretSource> secrets)
    : map_(std::move(secrets)) {}

std::string EvalSession::handle(std::string_view line) {
  Json request;
  std::string error;
  if (!Json::parse(line, request, error)) {
    return errorReply("the request is not valid JSON: " + error);
  }
  if (!request.isObject()) {
    return errorReply("a request must be a JSON object with one of \"update\", "
                      "\"delta_update\", \"check\" or \"resolve\"");
  }
  if (request.members().size() != 1) {
    return errorReply("a request has exactly one of \"update\", \"delta_update\", "
                      "\"check\" or \"resolve\"");
  }
  const auto& [kind, body] = request.members().front();
  if (kind == "update" || kind == "delta_update") {
    const bool delta = kind == "delta_update";
    if (!body.isObject()) {
      return updateReply(Policy::Status::error(
          "\"" + kind + "\" must be a " + (delta ? "DeltaDiscoveryResponse" : "DiscoveryResponse") +
          " object, not " + std::string(Json::typeName(body.type()))));
    }
    return delta ? deltaUpdate(body.raw()) : update(body.raw());
  }
  if (kind == "check") {
    return check(body);
  }
  if (kind == "resolve") {
    return resolve(body);
  }
  return errorReply("unknown request \"" + kind +
                    "\" (known: update, delta_update, check, resolve)");
}

std::string EvalSession::update(std::string_view document) {
  envoy::service::discovery::v3::DiscoveryResponse response;
  Policy::Status status = parseDiscoveryResponse(document, response);
  if (status) {
    const bool hosts = forHosts(
        response, [](const auto& r) { return Policy::resourceTypeUrl(r.resources(0)); });
    status = hosts ? hosts_.update(response) : map_.update(response);
  }
  return updateReply(status);
}

std::string EvalSession::deltaUpdate(std::string_view document) {
  envoy::service::discovery::v3::DeltaDiscoveryResponse response;
  Policy::Status status = parseDeltaDiscoveryResponse(document, response);
  if (status) {
    const bool hosts = forHosts(
        response, [](const auto& r) -> std::string { return r.resources(0).resource().type_url(); });
    status = hosts ? hosts_.update(response) : map_.update(response);
  }
  return updateReply(status);
}

std::string EvalSession::resolve(const Json& body) {
  const Json* ip = body.isObject() ? body.find("ip") : nullptr;
  if (ip == nullptr || !ip->isString() || body.members().size() != 1) {
    return errorReply("\"resolve\" takes {\"ip\": \"<address>\"}");
  }
  Policy::IpAddress address;
  if (!Policy::IpAddress::parse(ip->text(), address)) {
    return errorReply("\"" + ip->text() + "\" is not an IPv4 or IPv6 address");
  }
  return JsonWriter()
      .beginObject()
      .key("identity")
      .number(hosts_.snapshot()->resolve(address))
      .endObject()
      .take();
}

std::string EvalSession::check(const Json& body) {
  CheckRequest request;
  std::string error;
  if (!readCheck(body, request, error)) {
    return errorReply(error);
  }
  Policy::FlowQuestion question;
  question.endpoint_ip = request.endpoint_ip;
  question.ingress = request.ingress;
  question.remote_id = static_cast<uint32_t>(request.remote_id);
  question.port = static_cast<uint16_t>(request.port);
  question.proxy_id = static_cast<uint16_t>(request.proxy_id);
  question.sni = request.sni;

  const Policy::SnapshotPtr snapshot = map_.snapshot();
  const bool l4 = Policy::allowedL4(*snapshot, question);
  JsonWriter out;
  out.beginObject().key("l4").boolean(l4).key("http");
  if (!request.has_headers) {
    out.null().key("allowed").boolean(l4);
    out.key("headers").beginArray().endArray();
    out.key("missing").beginArray().endArray();
    out.key("rejected").beginArray().endArray();
    return out.endObject().take();
  }
  Policy::RequestHeaders headers(request.headers);
  Policy::HeaderLog log;
  const bool http = Policy::allowedHttp(*snapshot, question, headers, log, map_.secrets());
  out.boolean(http).key("allowed").boolean(l4 && http);
  out.key("headers").beginArray();
  for (const auto& entry : headers.entries()) {
    out.beginArray().string(entry.name).string(entry.value).endArray();
  }
  out.endArray();
  out.key("missing").pairs(log.missing());
  out.key("rejected").pairs(log.rejected());
  return out.endObject().take();
}

} // namespace PolicyTool
} // namespace Cilium
