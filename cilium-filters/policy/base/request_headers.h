#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace Cilium {
namespace Policy {

// The request headers an HTTP check sees and may change, kept the way Envoy's request
// header map keeps them, so that matching and header actions see what the proxy sees:
//  - names are lower case, and "host" is ":authority";
//  - pseudo-headers (":path", ...) stay in front of the other headers;
//  - a second value of one of Envoy's built-in request headers (":path", "user-agent",
//    "x-forwarded-proto", ...) is appended to the first with ',' instead of being added;
//    any other header may appear several times.
class RequestHeaders {
public:
  struct Entry {
    std::string name;
    std::string value;
  };

  // All values of one header, joined with ',' when there are several.
  class Value {
  public:
    bool present() const { return present_; }
    std::string_view get() const { return joined_ ? std::string_view(combined_) : single_; }

  private:
    friend class RequestHeaders;
    bool present_{false};
    bool joined_{false};
    std::string_view single_;
    std::string combined_;
  };

  RequestHeaders() = default;
  explicit RequestHeaders(const std::vector<std::pair<std::string, std::string>>& headers);

  // The name as Envoy stores it: lower case, "host" as ":authority".
  static std::string canonicalName(std::string_view name);
  // Whether Envoy keeps at most one entry of this (canonical) name.
  static bool isInlineHeader(std::string_view name);

  // `name` must be canonical in the accessors below.
  Value get(std::string_view name) const;
  void add(std::string_view name, std::string_view value);
  size_t remove(std::string_view name);
  void set(std::string_view name, std::string_view value);  // remove, then add

  const std::vector<Entry>& entries() const { return entries_; }
  // Room for `count` entries (the headers about to be added).
  void reserve(size_t count) { entries_.reserve(count); }

private:
  std::vector<Entry> entries_;
};

}  // namespace Policy
}  // namespace Cilium
