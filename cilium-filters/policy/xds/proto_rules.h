#pragma once

#include <exception>
#include <string>

#include "cilium-filters/policy/base/status.h"

namespace Cilium {
namespace Policy {

// Checks a message against the validate rules of its proto, as Envoy checks its own
// configuration: with the Validate() that protoc-gen-validate generates for the message's
// type (declared in its .pb.validate.h, which the caller includes; found by argument-
// dependent lookup). Embedded messages are checked by their own generated validators,
// which register themselves when their code is linked in: the libraries holding the
// generated code are linked whole (CMake) or alwayslink (Bazel), so none is left out.
//
// What the rules cannot say is checked where the engine reads the values, each check with
// a comment saying why a rule cannot: relations between fields (end_port and port,
// pass_precedence and precedence), between rules (pass tiers) and between resources
// (endpoint IPs and ids, names), the syntax of regexes (RE2's own) and of CIDR prefixes,
// and endpoint_id 0, which npds.proto (shared with Cilium's Go API) does not rule out.
template <class Message>
Status checkProtoRules(const Message& message) {
  std::string error;
  try {
    if (Validate(message, &error)) {
      return Status::ok();
    }
  } catch (const std::exception& e) {
    // protoc-gen-validate's C++ throws for rules it does not implement (email, URI,
    // timestamps against the clock); none of our protos' closure uses them today.
    return Status::error(std::string("a validate rule is not implemented in C++: ") + e.what());
  }
  return Status::error(error);
}

}  // namespace Policy
}  // namespace Cilium
