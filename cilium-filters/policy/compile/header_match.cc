#include "cilium-filters/policy/compile/header_match.h"

#include "cilium/api/npds.pb.h"

namespace Cilium {
namespace Policy {
namespace {

constexpr std::string_view kRedacted = "[redacted]";

std::string_view matchActionName(int action) {
  switch (action) {
    case cilium::HeaderMatch::CONTINUE_ON_MATCH:
      return "continue";
    case cilium::HeaderMatch::FAIL_ON_MATCH:
      return "fail";
    case cilium::HeaderMatch::DELETE_ON_MATCH:
      return "delete";
  }
  return "unknown (fails)";
}

std::string_view mismatchActionName(int action) {
  switch (action) {
    case cilium::HeaderMatch::FAIL_ON_MISMATCH:
      return "fail";
    case cilium::HeaderMatch::CONTINUE_ON_MISMATCH:
      return "continue";
    case cilium::HeaderMatch::ADD_ON_MISMATCH:
      return "add";
    case cilium::HeaderMatch::DELETE_ON_MISMATCH:
      return "delete";
    case cilium::HeaderMatch::REPLACE_ON_MISMATCH:
      return "replace";
  }
  return "unknown (fails)";
}

}  // namespace

bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  volatile unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference = difference | static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return difference == 0;
}

HeaderMatch::HeaderMatch(const cilium::HeaderMatch& config)
    : name_(RequestHeaders::canonicalName(config.name())),
      value_(config.value()),
      secret_(config.value_sds_secret()),
      match_action_(config.match_action()),
      mismatch_action_(config.mismatch_action()) {}

void HeaderMatch::logMissing(HeaderLog& log, std::string_view value) const {
  log.addMissing(name_, secret_.empty() ? value : kRedacted);
}

void HeaderMatch::logRejected(HeaderLog& log, std::string_view value) const {
  log.addRejected(name_, secret_.empty() ? value : kRedacted);
}

HeaderMatch::Outcome HeaderMatch::apply(RequestHeaders& headers, HeaderLog& log,
                                        const SecretSource& secrets) const {
  std::string expected = value_;
  if (!secret_.empty()) {
    if (auto secret = secrets.value(secret_)) {
      expected = std::move(*secret);
    } else if (value_.empty()) {
      return Outcome::NoSecretFail;
    }
  }
  const RequestHeaders::Value header = headers.get(name_);
  // The current value is copied: the actions below may change the headers it points into.
  const std::string current(header.present() ? header.get() : std::string_view());
  const bool presence_test = expected.empty();
  const bool matches =
      presence_test ? header.present() : header.present() && constantTimeEquals(current, expected);

  if (matches) {
    switch (match_action_) {
      case cilium::HeaderMatch::CONTINUE_ON_MATCH:
        return Outcome::Passed;
      case cilium::HeaderMatch::DELETE_ON_MATCH:
        logRejected(log, expected);
        headers.remove(name_);
        return Outcome::Passed;
      case cilium::HeaderMatch::FAIL_ON_MATCH:
      default:
        logRejected(log, expected);
        return Outcome::Failed;
    }
  }
  switch (mismatch_action_) {
    case cilium::HeaderMatch::CONTINUE_ON_MISMATCH:
      logMissing(log, expected);
      return Outcome::Passed;
    case cilium::HeaderMatch::ADD_ON_MISMATCH:
      headers.add(name_, expected);
      logMissing(log, expected);
      return Outcome::Passed;
    case cilium::HeaderMatch::DELETE_ON_MISMATCH:
      if (!presence_test && header.present()) {
        logRejected(log, current);
        headers.remove(name_);
      }
      return Outcome::Passed;
    case cilium::HeaderMatch::REPLACE_ON_MISMATCH:
      if (header.present()) {
        logRejected(log, current);
      }
      headers.set(name_, expected);
      logMissing(log, expected);
      return Outcome::Passed;
    case cilium::HeaderMatch::FAIL_ON_MISMATCH:
    default:
      logMissing(log, expected);
      return Outcome::Failed;
  }
}

std::string HeaderMatch::describe() const {
  std::string out = name_;
  if (!secret_.empty()) {
    out += " = secret '" + secret_ + "'";
    if (!value_.empty()) {
      out += " (inline fallback)";
    }
  } else if (value_.empty()) {
    out += " present";
  } else {
    out += " = \"" + value_ + "\"";
  }
  out += "; on match: ";
  out += matchActionName(match_action_);
  out += ", on mismatch: ";
  out += mismatchActionName(mismatch_action_);
  return out;
}

}  // namespace Policy
}  // namespace Cilium
