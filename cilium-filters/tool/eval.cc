#include "cilium-filters/tool/eval.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "cilium-filters/policy/decide/decisions.h"
#include "cilium-filters/policy/xds/proto_rules.h"
#include "cilium-filters/policy/xds/xds_resource.h"
#include "cilium-filters/tool/eval.pb.h"
#include "cilium-filters/tool/eval.pb.validate.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace Cilium {
namespace PolicyTool {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;
namespace util = google::protobuf::util;
namespace proto = cilium::policy_tool;

using Pairs = std::vector<std::pair<std::string, std::string>>;

google::protobuf::StringPiece piece(std::string_view text) {
  return google::protobuf::StringPiece(text.data(), text.size());
}

// What protobuf's JSON parser says went wrong. It quotes the input around the place on the
// lines after the message: bytes cut anywhere (perhaps mid-character, or not UTF-8 at all),
// which a reply, itself JSON, cannot carry; the message alone says enough.
std::string reason(const util::Status& status) {
  const std::string message(status.message());
  return message.substr(0, message.find('\n'));
}

// Replies are written by protobuf: compact, fields in their order in eval.proto.
std::string write(const google::protobuf::Message& reply) {
  util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  if (!util::MessageToJsonString(reply, &out, options).ok()) {
    return R"({"error":"the reply could not be written"})";
  }
  return out;
}

std::string updateReply(const Policy::Status& status) {
  proto::UpdateReply reply;
  reply.set_ok(status.isOk());
  if (!status) {
    reply.set_error(status.message());
  }
  return write(reply);
}

ListValue pairs(const Pairs& values) {
  ListValue out;
  for (const auto& [name, value] : values) {
    ListValue* pair = out.add_values()->mutable_list_value();
    pair->add_values()->set_string_value(name);
    pair->add_values()->set_string_value(value);
  }
  return out;
}

std::string_view kindName(const Value& value) {
  switch (value.kind_case()) {
    case Value::kNullValue:
      return "null";
    case Value::kNumberValue:
      return "a number";
    case Value::kStringValue:
      return "a string";
    case Value::kBoolValue:
      return "a boolean";
    case Value::kStructValue:
      return "an object";
    case Value::kListValue:
      return "an array";
    case Value::KIND_NOT_SET:
      break;
  }
  return "nothing";
}

// proto3 JSON also reads "80" as a number, "true" as a boolean and null as an absent
// field; the protocol's check and resolve requests never did. So each member of their
// object must be a field of the message (by the name eval.proto declares) holding the
// JSON type of that field.
Policy::Status checkJsonTypes(const std::string& request, const Struct& body,
                              const Descriptor& message) {
  for (const auto& [name, value] : body.fields()) {
    const FieldDescriptor* field = message.FindFieldByName(name);
    if (field == nullptr) {
      std::string known;
      for (int i = 0; i < message.field_count(); ++i) {
        known += (i ? ", " : "") + message.field(i)->name();
      }
      return Policy::Status::error("unknown field \"" + name + "\" in \"" + request +
                                   "\" (known: " + known + ")");
    }
    Value::KindCase expected = Value::kNumberValue;
    std::string_view wanted = "a whole number";
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_BOOL:
        expected = Value::kBoolValue;
        wanted = "true or false";
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        expected = Value::kStringValue;
        wanted = "a string";
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:  // google.protobuf.ListValue
        expected = Value::kListValue;
        wanted = "an array";
        break;
      default:
        break;
    }
    if (value.kind_case() != expected) {
      return Policy::Status::error("\"" + name + "\" must be " + std::string(wanted) + ", not " +
                                   std::string(kindName(value)));
    }
  }
  return Policy::Status::ok();
}

// The pairs of "headers": no validate rule reaches inside a google.protobuf.ListValue.
Policy::Status readHeaders(const ListValue& list, Pairs& out) {
  for (const Value& item : list.values()) {
    const ListValue& pair = item.list_value();
    if (!item.has_list_value() || pair.values_size() != 2 ||
        pair.values(0).kind_case() != Value::kStringValue ||
        pair.values(1).kind_case() != Value::kStringValue) {
      return Policy::Status::error("each of \"headers\" must be a [name, value] pair of strings");
    }
    if (pair.values(0).string_value().empty()) {
      return Policy::Status::error("header names must not be empty");
    }
    out.emplace_back(pair.values(0).string_value(), pair.values(1).string_value());
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

}  // namespace

Policy::Status apply(Policy::PolicyMap& map, Policy::HostMapStore& hosts,
                     const envoy::service::discovery::v3::DiscoveryResponse& response) {
  const bool to_hosts =
      forHosts(response, [](const auto& r) { return Policy::resourceTypeUrl(r.resources(0)); });
  return to_hosts ? hosts.update(response) : map.update(response);
}

namespace {

Policy::Status applyDelta(Policy::PolicyMap& map, Policy::HostMapStore& hosts,
                          const envoy::service::discovery::v3::DeltaDiscoveryResponse& response) {
  const bool to_hosts = forHosts(
      response, [](const auto& r) -> std::string { return r.resources(0).resource().type_url(); });
  return to_hosts ? hosts.update(response) : map.update(response);
}

std::string check(const Policy::PolicyMap& map, const proto::CheckRequest& request) {
  Policy::Status status = Policy::checkProtoRules(request);
  if (status && !(request.has_ingress() && request.has_port())) {
    status = Policy::Status::error(std::string("\"check\" needs ") +
                                   (request.has_ingress() ? "\"port\"" : "\"ingress\""));
  }
  Pairs request_headers;
  if (status && request.has_headers()) {
    status = readHeaders(request.headers(), request_headers);
  }
  if (!status) {
    return errorReply(status.message());
  }
  Policy::FlowQuestion question;
  question.endpoint_ip = request.endpoint_ip();
  question.ingress = request.ingress();
  question.remote_id = request.remote_id();
  question.port = static_cast<uint16_t>(request.port());
  question.proxy_id = static_cast<uint16_t>(request.proxy_id());
  question.sni = request.sni();

  const Policy::SnapshotPtr snapshot = map.snapshot();
  const bool l4 = Policy::allowedL4(*snapshot, question);
  proto::CheckReply reply;
  reply.set_l4(l4);
  if (!request.has_headers()) {
    reply.mutable_http()->set_null_value(google::protobuf::NULL_VALUE);
    reply.set_allowed(l4);
    reply.mutable_headers();
    reply.mutable_missing();
    reply.mutable_rejected();
    return write(reply);
  }
  Policy::RequestHeaders headers(request_headers);
  Policy::HeaderLog log;
  const bool http = Policy::allowedHttp(*snapshot, question, headers, log, map.secrets());
  reply.mutable_http()->set_bool_value(http);
  reply.set_allowed(l4 && http);
  ListValue* after = reply.mutable_headers();
  for (const auto& entry : headers.entries()) {
    ListValue* pair = after->add_values()->mutable_list_value();
    pair->add_values()->set_string_value(entry.name);
    pair->add_values()->set_string_value(entry.value);
  }
  *reply.mutable_missing() = pairs(log.missing());
  *reply.mutable_rejected() = pairs(log.rejected());
  return write(reply);
}

std::string resolve(const Policy::HostMapStore& hosts, const proto::ResolveRequest& request) {
  Policy::IpAddress address;
  if (!Policy::IpAddress::parse(request.ip(), address)) {
    return errorReply("\"" + request.ip() + "\" is not an IPv4 or IPv6 address");
  }
  proto::ResolveReply reply;
  reply.mutable_identity()->set_number_value(
      static_cast<double>(hosts.snapshot()->resolve(address)));
  return write(reply);
}

template <class Message>
Policy::Status parseJson(std::string_view json, Message& out, const char* what) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = util::JsonStringToMessage(piece(json), &out, options);
  if (!status.ok()) {
    return Policy::Status::error(std::string("not a valid ") + what + ": " +
                                 std::string(status.message()));
  }
  return Policy::Status::ok();
}

}  // namespace

std::string errorReply(std::string_view message) {
  proto::ErrorReply reply;
  reply.set_error(std::string(message));
  return write(reply);
}

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

Policy::Status EvalSession::apply(
    const envoy::service::discovery::v3::DiscoveryResponse& response) {
  return PolicyTool::apply(map_, hosts_, response);
}

std::string EvalSession::handle(std::string_view line) {
  proto::EvalRequest request;
  const auto parsed = util::JsonStringToMessage(piece(line), &request);
  if (parsed.ok() && request.has_update()) {
    return updateReply(PolicyTool::apply(map_, hosts_, request.update()));
  }
  if (parsed.ok() && request.has_delta_update()) {
    return updateReply(applyDelta(map_, hosts_, request.delta_update()));
  }
  // A check, a resolve, or not a request: which, and what is wrong, the JSON itself says
  // (read by protobuf as a google.protobuf.Value).
  Value tree;
  const auto json = util::JsonStringToMessage(piece(line), &tree);
  if (!json.ok()) {
    return errorReply("the request is not valid JSON: " + reason(json));
  }
  if (!tree.has_struct_value()) {
    return errorReply(
        "a request must be a JSON object with one of \"update\", "
        "\"delta_update\", \"check\" or \"resolve\"");
  }
  if (tree.struct_value().fields_size() != 1) {
    return errorReply(
        "a request has exactly one of \"update\", \"delta_update\", "
        "\"check\" or \"resolve\"");
  }
  const auto& [kind, body] = *tree.struct_value().fields().begin();
  if (kind == "update" || kind == "delta_update") {
    const char* what = kind == "update" ? "DiscoveryResponse" : "DeltaDiscoveryResponse";
    if (!body.has_struct_value()) {
      return updateReply(Policy::Status::error("\"" + kind + "\" must be a " + what +
                                               " object, not " + std::string(kindName(body))));
    }
    return updateReply(
        Policy::Status::error(std::string("not a valid ") + what + ": " + reason(parsed)));
  }
  if (kind != "check" && kind != "resolve") {
    return errorReply("unknown request \"" + kind +
                      "\" (known: update, delta_update, check, resolve)");
  }
  if (!body.has_struct_value()) {
    return errorReply("\"" + kind + "\" must be an object, not " + std::string(kindName(body)));
  }
  const Descriptor& message =
      kind == "check" ? *proto::CheckRequest::descriptor() : *proto::ResolveRequest::descriptor();
  const Policy::Status types = checkJsonTypes(kind, body.struct_value(), message);
  if (!types) {
    return errorReply(types.message());
  }
  if (!parsed.ok()) {
    return errorReply(reason(parsed));
  }
  return kind == "check" ? check(map_, request.check()) : resolve(hosts_, request.resolve());
}

}  // namespace PolicyTool
}  // namespace Cilium
