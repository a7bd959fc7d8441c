// libFuzzer target: the JSON-lines protocol of `cilium-policy eval`, which drives updates and
// L4 and HTTP checks. Every line must get exactly one reply, a JSON object, and the process
// must never crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cilium-filters/tool/eval.h"
#include "cilium-filters/tool/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Cilium::PolicyTool::EvalSession session;
  while (!input.empty()) {
    const size_t end = input.find('\n');
    const std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    const std::string reply = session.handle(line);
    Cilium::PolicyTool::Json parsed;
    std::string error;
    if (!Cilium::PolicyTool::Json::parse(reply, parsed, error) || !parsed.isObject() ||
        parsed.members().empty()) {
      std::abort(); // every reply is one JSON object
    }
    const std::string& key = parsed.members().front().first;
    if (key != "ok" && key != "l4" && key != "error" && key != "identity") {
      std::abort();
    }
  }
  return 0;
}
