// Where tasks from non-actor callers (runtime_client::submit/run) enter the
// actor system: a small pool of long-lived actors, so a task costs one
// message to a gate instead of a one-shot actor spawned per task, and its
// one deadline is a call_watch entry (runtime/call_watch.hpp) erased with
// the answer instead of a CAF timer that outlives it. The gate also
// monitors the agent, so a crash fails the task at once.
//
// Private to actors/host/runtime*.cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/expected.hpp>

#include "actors/agent/agent_interface.hpp"

namespace agentgraph {

// Tasks one gate keeps in flight; past it, a submit is answered
// `overloaded` at once. CAF 0.17 looks up an actor's pending responses
// linearly (toolchain.md §3.2), so a gate stays far below ~1,000.
constexpr size_t gate_tasks_in_flight_max = 512;

struct gate_task {
  agent_actor target;
  task_request task;
  std::chrono::steady_clock::time_point deadline;
  std::chrono::milliseconds budget{0};  // what the deadline allowed, for the error text
  std::string agent;  // the agent's name, for errors (built only when one happens)
  std::function<void(caf::expected<task_result>)> done;  // runs on the gate's thread
};

using gate_submit_atom = caf::atom_constant<caf::atom("ag_gsubmit")>;

// A pool of `size` gates (at least 1).
class task_gates {
 public:
  task_gates(caf::actor_system& sys, size_t size);
  // Hands the task to a gate (round robin); never blocks.
  void submit(std::shared_ptr<gate_task> t);
  // Stops the gates and waits for them; tasks still in flight are answered
  // `unavailable`.
  void stop(caf::actor_system& sys);

 private:
  std::vector<caf::actor> gates_;
  std::atomic<size_t> next_{0};
};

}  // namespace agentgraph

// Local only: gates are never published.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<agentgraph::gate_task>)
