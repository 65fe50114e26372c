// A tool actor for work that blocks (file reads, HTTP): the actor itself is
// scheduled and stays responsive (describe, stats, heartbeat), and each call
// runs on a fresh detached worker actor that owns its own thread for the
// duration of one job and then quits.
//
// Rejected alternative: spawning the whole tool detached. Its calls would
// queue behind one slow fetch, and a supervisor's ping would wait behind it
// too and restart a tool that is merely busy.
#pragma once

#include <chrono>
#include <functional>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/tool/tool_interface.hpp"
#include "actors/tool/tool_metrics.hpp"

namespace agentgraph {

// The blocking part of a tool: arguments (already validated against the
// spec) in, output or error out. Runs on a worker's own thread; must not
// touch any actor's state.
using blocking_job = std::function<caf::expected<Value>(const Value& args)>;

struct blocking_tool_config {
  tool_spec spec;
  blocking_job job;
  // How long the tool waits for a worker. A worker still running after this
  // finishes its job unobserved; the caller already has `timeout`.
  std::chrono::milliseconds worker_timeout{10'000};
  // Series for this tool (tool_metrics.hpp); default: records nothing.
  tool_metrics metrics;
};

// Errors replied by the actor: invalid_argument (arguments do not match the
// spec), overloaded (tool_inflight_max calls running), timeout (worker did
// not answer within worker_timeout), and whatever the job returns.
[[nodiscard]] tool_actor spawn_blocking_tool(caf::actor_system& sys, blocking_tool_config cfg);

}  // namespace agentgraph
