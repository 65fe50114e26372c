// Fuzz target: Value::from_msgpack must never crash or over-allocate on
// hostile bytes, and what it accepts must re-encode to an equal Value.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "runtime/value.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes{reinterpret_cast<const char*>(data), size};
  auto v = agentgraph::Value::from_msgpack(bytes);
  if (!v)
    return 0;
  auto back = agentgraph::Value::from_msgpack(v->to_msgpack());
  if (!back)
    std::abort();
  (void)v->to_json();  // must not throw on any accepted value (NaN, bad UTF-8)
  return 0;
}
