#pragma once

#include <map>
#include <optional>
#include <string>

namespace Cilium {
namespace Policy {

// Where the values of SDS secrets named by policy come from. The Envoy adapter backs this
// with SDS; a secret that has not arrived (yet) has no value. Called from any thread.
class SecretSource {
public:
  virtual ~SecretSource() = default;
  virtual std::optional<std::string> value(const std::string& name) const = 0;
};

// No secret is ever available (the eval tool: policies fall back to inline values).
class NoSecrets : public SecretSource {
public:
  std::optional<std::string> value(const std::string&) const override { return std::nullopt; }
};

// A fixed set of secrets (tests, and the check tool's --secret).
class StaticSecrets : public SecretSource {
public:
  explicit StaticSecrets(std::map<std::string, std::string> values) : values_(std::move(values)) {}
  std::optional<std::string> value(const std::string& name) const override;

private:
  std::map<std::string, std::string> values_;
};

}  // namespace Policy
}  // namespace Cilium
