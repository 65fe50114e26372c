// Fuzz target: a scenario file (`agentgraph sim SCENARIO`) goes through
// the config schema machinery and the scenario's own cross-checks. Any
// bytes must give a scenario or an error that says something, never a
// crash, hang or unbounded allocation; an accepted scenario must also take
// the chaos sweep's random faults (with_random_faults) without a crash and
// keep its bounds.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "actors/sim/scenario.hpp"
#include "runtime/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace agentgraph;
  std::string text{reinterpret_cast<const char*>(data), size};
  auto sc = sim::parse_scenario(text, "fuzz.ini", {});
  if (!sc) {
    if (describe(sc.error()).empty())
      std::abort();
    return 0;
  }
  if (sc->nodes == 0)
    std::abort();
  auto chaos = sim::with_random_faults(*sc, size, 8);
  if (chaos.nodes != sc->nodes || chaos.duration != sc->duration)
    std::abort();
  return 0;
}
