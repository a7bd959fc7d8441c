#pragma once

#include <string>
#include <utility>

namespace Cilium {
namespace Policy {

// The outcome of an operation that can be refused: ok, or a reason a person can act on.
// The engine's public API reports problems this way; it never throws across it.
class Status {
public:
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message)); }

  bool isOk() const { return !failed_; }
  explicit operator bool() const { return !failed_; }
  const std::string& message() const { return message_; }

  // The same error with `context` in front: "context: message", or "context[1]..." when
  // the message starts with an index.
  Status within(const std::string& context) const {
    if (!failed_ || context.empty()) {
      return *this;
    }
    return Status(context + (message_.rfind("[", 0) == 0 ? "" : ": ") + message_);
  }

private:
  Status() = default;
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}

  bool failed_{false};
  std::string message_;
};

}  // namespace Policy
}  // namespace Cilium
