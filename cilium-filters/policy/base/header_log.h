#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace Cilium {
namespace Policy {

// What the access log records of one request's header checks: the headers policy wanted
// but did not find ("missing") and those it does not allow ("rejected"). Each name/value
// pair is recorded at most once per request.
class HeaderLog {
public:
  using Pairs = std::vector<std::pair<std::string, std::string>>;

  void addMissing(std::string_view name, std::string_view value) { add(missing_, name, value); }
  void addRejected(std::string_view name, std::string_view value) { add(rejected_, name, value); }

  const Pairs& missing() const { return missing_; }
  const Pairs& rejected() const { return rejected_; }

private:
  static void add(Pairs& pairs, std::string_view name, std::string_view value);

  Pairs missing_;
  Pairs rejected_;
};

}  // namespace Policy
}  // namespace Cilium
