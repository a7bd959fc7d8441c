#include "cilium-filters/module/connection_facts.h"

#include <cstring>
#include <type_traits>

namespace Cilium {
namespace Module {
namespace {

// The record kept in filter state, as hex, followed by the two address texts of the lengths
// it gives. Version 2; a record of another version, or text of other lengths, is refused.
struct Record {
  uint8_t version;
  uint8_t ingress;
  uint8_t source_v6;
  uint8_t destination_v6;
  uint16_t proxy_id;
  uint16_t source_port;
  uint16_t destination_port;
  uint8_t source_text_length;
  uint8_t destination_text_length;
  uint32_t source_identity;
  uint64_t source_high;
  uint64_t source_low;
  uint64_t destination_high;
  uint64_t destination_low;
};
static_assert(std::is_trivially_copyable_v<Record>);
constexpr uint8_t kRecordVersion = 2;
constexpr size_t kRecordText = 2 * sizeof(Record);
constexpr char kHex[] = "0123456789abcdef";

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

std::string withPort(const Policy::IpAddress& address, uint16_t port) {
  std::string text = address.text();
  if (address.v6) {
    return "[" + text + "]:" + std::to_string(port);
  }
  return text + ":" + std::to_string(port);
}

}  // namespace

uint32_t resolveIdentity(const Policy::HostMap* hosts, const Policy::IpAddress& address) {
  const uint64_t identity = hosts != nullptr ? hosts->resolve(address) : 0;
  return identity == 0 ? kWorldIdentity : static_cast<uint32_t>(identity);
}

bool ConnectionFacts::fromAddresses(bool ingress, uint16_t proxy_id, std::string_view remote,
                                    uint32_t remote_port, std::string_view local,
                                    uint32_t local_port, const Policy::HostMap* hosts,
                                    ConnectionFacts& out) {
  ConnectionFacts facts;
  if (!Policy::IpAddress::parse(remote, facts.source_) ||
      !Policy::IpAddress::parse(local, facts.destination_) || remote_port > 65535 ||
      local_port > 65535) {
    return false;
  }
  facts.ingress_ = ingress;
  facts.proxy_id_ = proxy_id;
  facts.source_port_ = static_cast<uint16_t>(remote_port);
  facts.destination_port_ = static_cast<uint16_t>(local_port);
  // Cilium resolves the source's identity when the connection is accepted, for both
  // directions (for egress it is the local endpoint's own identity).
  facts.source_identity_ = resolveIdentity(hosts, facts.source_);
  facts.fillTexts();
  out = std::move(facts);
  return true;
}

void ConnectionFacts::fillTexts() {
  source_address_ = withPort(source_, source_port_);
  destination_address_ = withPort(destination_, destination_port_);
  fillEndpoint();
}

void ConnectionFacts::fillEndpoint() {
  // "10.0.0.1:80" -> "10.0.0.1", "[f00d::1]:80" -> "f00d::1".
  const std::string& text = ingress_ ? destination_address_ : source_address_;
  const bool v6 = ingress_ ? destination_.v6 : source_.v6;
  const size_t colon = text.rfind(':');
  endpoint_ip_ = v6 ? text.substr(1, colon - 2) : text.substr(0, colon);
}

std::string ConnectionFacts::encode() const {
  Record record{};
  record.version = kRecordVersion;
  record.ingress = ingress_ ? 1 : 0;
  record.source_v6 = source_.v6 ? 1 : 0;
  record.destination_v6 = destination_.v6 ? 1 : 0;
  record.proxy_id = proxy_id_;
  record.source_port = source_port_;
  record.destination_port = destination_port_;
  record.source_text_length = static_cast<uint8_t>(source_address_.size());
  record.destination_text_length = static_cast<uint8_t>(destination_address_.size());
  record.source_identity = source_identity_;
  record.source_high = source_.high;
  record.source_low = source_.low;
  record.destination_high = destination_.high;
  record.destination_low = destination_.low;
  unsigned char bytes[sizeof(Record)];
  std::memcpy(bytes, &record, sizeof(Record));
  std::string text(kRecordText, '0');
  for (size_t i = 0; i < sizeof(Record); ++i) {
    text[2 * i] = kHex[bytes[i] >> 4];
    text[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return text + source_address_ + destination_address_;
}

bool ConnectionFacts::decode(std::string_view text, ConnectionFacts& out) {
  if (text.size() < kRecordText) {
    return false;
  }
  unsigned char bytes[sizeof(Record)];
  for (size_t i = 0; i < sizeof(Record); ++i) {
    const int high = hexValue(text[2 * i]);
    const int low = hexValue(text[2 * i + 1]);
    if (high < 0 || low < 0) {
      return false;
    }
    bytes[i] = static_cast<unsigned char>(high << 4 | low);
  }
  Record record;
  std::memcpy(&record, bytes, sizeof(Record));
  if (record.version != kRecordVersion ||
      text.size() != kRecordText + record.source_text_length + record.destination_text_length) {
    return false;
  }
  ConnectionFacts facts;
  facts.ingress_ = record.ingress != 0;
  facts.proxy_id_ = record.proxy_id;
  facts.source_port_ = record.source_port;
  facts.destination_port_ = record.destination_port;
  facts.source_identity_ = record.source_identity;
  facts.source_ = Policy::IpAddress{record.source_v6 != 0, record.source_high, record.source_low};
  facts.destination_ = Policy::IpAddress{record.destination_v6 != 0, record.destination_high,
                                         record.destination_low};
  facts.source_address_ = text.substr(kRecordText, record.source_text_length);
  facts.destination_address_ =
      text.substr(kRecordText + record.source_text_length, record.destination_text_length);
  // The endpoint's text must have the form fillEndpoint() slices.
  const std::string& endpoint = facts.ingress_ ? facts.destination_address_ : facts.source_address_;
  const bool v6 = facts.ingress_ ? facts.destination_.v6 : facts.source_.v6;
  const size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos || colon == 0 ||
      (v6 && (colon < 3 || endpoint.front() != '[' || endpoint[colon - 1] != ']'))) {
    return false;
  }
  facts.fillEndpoint();
  out = std::move(facts);
  return true;
}

uint32_t ConnectionFacts::remoteIdentity(const Policy::HostMap* hosts) const {
  return ingress_ ? source_identity_ : resolveIdentity(hosts, destination_);
}

uint32_t ConnectionFacts::destinationIdentity(const Policy::HostMap* hosts) const {
  return ingress_ ? 0 : resolveIdentity(hosts, destination_);
}

Policy::FlowQuestion ConnectionFacts::question(uint32_t remote_identity,
                                               std::string_view sni) const {
  Policy::FlowQuestion question;
  question.endpoint_ip = endpoint_ip_;
  question.ingress = ingress_;
  question.remote_id = remote_identity;
  question.port = destination_port_;
  question.proxy_id = proxy_id_;
  question.sni = sni;
  return question;
}

Policy::AccessLogConnection ConnectionFacts::logConnection(uint32_t destination_identity,
                                                           uint64_t timestamp_ns) const {
  Policy::AccessLogConnection connection;
  connection.ingress = ingress_;
  connection.proxy_id = proxy_id_;
  connection.policy_name = endpoint_ip_;
  connection.source_identity = source_identity_;
  connection.destination_identity = destination_identity;
  connection.source_address = sourceAddress();
  connection.destination_address = destinationAddress();
  connection.timestamp_ns = timestamp_ns;
  return connection;
}

}  // namespace Module
}  // namespace Cilium
