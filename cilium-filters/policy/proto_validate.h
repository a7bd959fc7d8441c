#pragma once

#include "cilium-filters/policy/status.h"

namespace google {
namespace protobuf {
class Message;
} // namespace protobuf
} // namespace google

namespace Cilium {
namespace Policy {

// Checks `message` against the protoc-gen-validate rules in its descriptors, as the C++
// Validate() that Envoy generates for its API does: every field's rules (strings, numbers,
// enums, repeated and map fields, required messages, Any, Duration, Timestamp), required
// oneofs, recursing into set sub-messages unless skipped. Like protoc-gen-validate's C++,
// it does not check well_known_regex, email or uri rules. The error names the field path.
Status validateMessage(const google::protobuf::Message& message);

} // namespace Policy
} // namespace Cilium
