// A program that needs only Value, linked against agentgraph_runtime alone.
// runtime_link_weight.sh reads what the linker recorded for it: no
// PostgreSQL, Redis or SQLite client may appear (issue 10, part 4).
#include <cstdio>

#include "runtime/value.hpp"

int main() {
  agentgraph::Value v = agentgraph::Value::Object{{"linked", true}, {"clients", 0}};
  auto back = agentgraph::Value::from_msgpack(v.to_msgpack());
  if (!back || back->to_json() != v.to_json()) {
    std::fprintf(stderr, "runtime_link_probe: Value did not round-trip\n");
    return 1;
  }
  std::printf("%s\n", back->to_json().c_str());
  return 0;
}
