// libFuzzer target: the JSON-lines protocol of `cilium-policy eval`, which drives updates and
// L4 and HTTP checks. Every line must get exactly one reply, a JSON object, and the process
// must never crash.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cilium-filters/tool/eval.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Cilium::PolicyTool::EvalSession session;
  while (!input.empty()) {
    const size_t end = input.find('\n');
    const std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    const std::string reply = session.handle(line);
    google::protobuf::Struct parsed;
    if (!google::protobuf::util::JsonStringToMessage(reply, &parsed).ok()) {
      std::abort();  // every reply is one JSON object
    }
    const auto& fields = parsed.fields();
    const bool update = fields.count("ok") > 0 && fields.size() <= 2;
    const bool check = fields.count("l4") > 0 && fields.size() == 6;
    const bool other =
        (fields.count("error") > 0 || fields.count("identity") > 0) && fields.size() == 1;
    if (!update && !check && !other) {
      std::abort();
    }
  }
  return 0;
}
