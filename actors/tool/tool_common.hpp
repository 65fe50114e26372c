// What every built-in tool actor shares: its call counters, the limit on
// calls in flight, and the grace added to deadlines so that the innermost
// deadline always fires first and the caller sees its precise error.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "actors/tool/tool_interface.hpp"

namespace agentgraph {

// Calls a tool actor accepts at once. The next one is refused with
// `overloaded` instead of queueing behind blocked workers (each call of a
// blocking tool holds one thread).
constexpr uint32_t tool_inflight_max = 16;

// Added to a tool's own deadline for the request that waits for it, so the
// inner timeout (curl's, the agent's) reports first with its own message and
// the outer one is only a backstop.
constexpr std::chrono::milliseconds tool_reply_grace{1'000};

struct tool_counters {
  uint64_t calls = 0;
  uint64_t errors = 0;
};

[[nodiscard]] inline tool_stats make_tool_stats(const std::string& name, const tool_counters& c) {
  tool_stats out;
  out.name = name;
  out.calls = c.calls;
  out.errors = c.errors;
  return out;
}

}  // namespace agentgraph
