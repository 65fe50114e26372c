// Fuzz target: the config pipeline (INI syntax, schema resolution, binding,
// cross-checks) must turn any bytes into a node_config or a clear error,
// never a crash, hang or unbounded allocation.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "actors/host/node_config.hpp"
#include "runtime/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto cfg = agentgraph::parse_node_config(text, "fuzz.ini", {}, {});
  if (!cfg && agentgraph::describe(cfg.error()).empty())
    std::abort();  // every error must say something
  return 0;
}
