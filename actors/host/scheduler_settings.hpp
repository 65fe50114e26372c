// How the CAF scheduler runs actors: its policy and, for work stealing, how
// an idle worker waits for its next job. The [runtime] scheduler_* keys
// (node_config.cpp) fill it, runtime_options carries it and the Runtime
// constructor hands it to CAF (apply_scheduler_settings, runtime.hpp).
//
// Why it matters: a message from a thread that is not a CAF worker (a caller
// blocked in runtime_client::run, the libcurl I/O thread, the Redis thread,
// the gateway's HTTP threads) lands in a worker's queue; if that worker is
// napping, the message waits for the nap to end. CAF 0.17.6's work-stealing
// worker waits in three phases:
//   aggressive  aggressive_poll_attempts polls, no sleep (spinning);
//   moderate    moderate_poll_attempts polls with a moderate_sleep_us sleep
//               between them: nothing wakes it early, so a message waits
//               for the sleep to end;
//   relaxed     a condition-variable wait of at most relaxed_sleep, repeated
//               until a job comes: a message from outside wakes it at once.
// Each phase also tries to steal from a random other worker every
// *_steal_interval polls (relaxed: every that many timeouts).
// work sharing has one queue for all workers, locked per message, and
// idle workers sleep on one condition variable until a message comes.
//
// The defaults (measured on 2 cores: apps/cli/BENCHMARKS.md, "Scheduler
// settings"): stealing with CAF's values except that the moderate phase is
// off (moderate_poll_attempts = 0). CAF's own default (with the nap phase)
// made a blocking round trip 4x slower and a lightly loaded node burn 3x the
// CPU: a message waits for the nap to end. Against sharing, the benches of
// single hand-offs (LLM calls, workflow steps, the gateway) showed no
// difference beyond the noise, but tasks through agents did: sharing locks
// one queue and signals its condition variable on every message between
// actors, about one context switch per hand-off, so 64 tasks in flight ran
// at a third to a half of the rate for twice the CPU per task
// (`bench agents --scheduler-policy`). Sharing keeps an idle node at 0.1 %
// of a core instead of 0.5 % (stealing's relaxed wait times out every
// relaxed_sleep per worker) and never strands a job behind a long handler
// (under stealing a job a busy worker queued waits until an idle worker's
// next poll or timeout steals it): choose it for mostly idle nodes whose
// handlers can be long. Longer spinning bought no latency on 2 cores
// (spinning workers take the core from the thread that feeds them) and cost
// CPU.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace agentgraph {

enum class scheduler_policy : uint8_t { stealing, sharing };

[[nodiscard]] constexpr std::string_view to_string(scheduler_policy p) {
  return p == scheduler_policy::sharing ? "sharing" : "stealing";
}

struct scheduler_settings {
  scheduler_policy policy = scheduler_policy::stealing;
  // Work stealing only (CAF's work-stealing.* options). The steal intervals
  // must be at least 1: CAF divides by them.
  uint32_t aggressive_poll_attempts = 100;
  uint32_t aggressive_steal_interval = 10;
  uint32_t moderate_poll_attempts = 0;  // CAF: 500
  uint32_t moderate_steal_interval = 5;  // used only when moderate_poll_attempts > 0
  // Used only when moderate_poll_attempts > 0. Microseconds: the config's
  // durations stop at milliseconds and CAF's own default here is 50 us.
  uint32_t moderate_sleep_us = 50;
  uint32_t relaxed_steal_interval = 1;
  std::chrono::milliseconds relaxed_sleep{10};
};

}  // namespace agentgraph
