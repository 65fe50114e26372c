// Fuzz target: Value::from_json must never crash, and whatever it accepts
// must survive a JSON and a msgpack round trip unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "runtime/value.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto v = agentgraph::Value::from_json(text);
  if (!v)
    return 0;
  auto again = agentgraph::Value::from_json(v->to_json());
  auto packed = agentgraph::Value::from_msgpack(v->to_msgpack());
  // NaN cannot appear (JSON has none), so equality is exact.
  if (!again || !packed || *packed != *v)
    std::abort();
  return 0;
}
