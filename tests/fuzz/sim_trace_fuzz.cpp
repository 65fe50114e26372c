// Fuzz target: an arrivals trace (`[arrivals] process = trace`) is a file
// the user hands `agentgraph sim`. Any bytes must give the arrivals or an
// error naming the trace, never a crash; what is accepted keeps the
// parser's promises: sorted by time, each within [0, duration], at most
// tasks_max, each with an agent name.
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "actors/sim/sim_setup.hpp"
#include "runtime/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace agentgraph;
  constexpr double duration_ms = 60'000;
  constexpr uint64_t tasks_max = 1000;
  std::istringstream in{std::string{reinterpret_cast<const char*>(data), size}};
  auto arrivals = sim::parse_trace(in, "fuzz.trace", duration_ms, tasks_max, "workers");
  if (!arrivals) {
    if (describe(arrivals.error()).find("fuzz.trace") == std::string::npos)
      std::abort();  // every error names the trace
    return 0;
  }
  if (arrivals->size() > tasks_max)
    std::abort();
  double last = 0;
  for (const auto& [at, agent] : *arrivals) {
    if (!(at >= 0) || at > duration_ms || at < last || agent.empty()
        || agent.size() > sim::trace_agent_bytes_max)
      std::abort();
    last = at;
  }
  return 0;
}
