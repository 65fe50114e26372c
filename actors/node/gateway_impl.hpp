// Private to the gateway: its state, shared by gateway.cpp (lifecycle and
// tasks), gateway_routes.cpp (the read-only routes) and gateway_runner.cpp
// (the per-task runner actor).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/agent/agent_interface.hpp"
#include "actors/node/gateway.hpp"
#include "actors/node/task_table.hpp"
#include "actors/runtime.hpp"
#include "net/http_server/http_server.hpp"
#include "runtime/metrics/registry.hpp"

namespace agentgraph {

// Log component of every gateway line.
constexpr const char* gateway_log_component = "node/gateway";

// Seconds a client is told to wait (Retry-After) when the gateway is full
// and when it is draining (by then another node should take the task).
constexpr int gateway_retry_after_full_s = 1;
constexpr int gateway_retry_after_draining_s = 5;
// Extra time a sync caller waits beyond the runner's own deadline, so the
// runner's named timeout error arrives before the caller gives up.
constexpr auto gateway_caller_grace = std::chrono::seconds{2};
// A runner waits for the agent this much longer than the agent's task
// deadline, so the agent's supervisor answers with its own timeout first.
constexpr auto gateway_runner_grace = std::chrono::seconds{1};
// How long stop() lets open event streams deliver their last events.
constexpr auto gateway_stream_drain_max = std::chrono::seconds{2};

// What the runners share with the gateway. Held by shared_ptr so a runner
// finishing after the gateway is gone still has a valid table.
struct task_book {
  task_book(size_t in_flight_max, size_t kept_max, size_t events_max)
    : table(in_flight_max, kept_max, events_max) {}
  task_table table;  // provides its own synchronization
  std::mutex mutex;
  std::unordered_map<std::string, caf::actor> runners;  // guarded by mutex; running tasks only
  metrics::gauge* in_flight_gauge = nullptr;            // set once before any task
};

// Ends `entry` with the runner's outcome (once) and forgets its runner.
void finish_task(task_book& book, const std::shared_ptr<task_entry>& entry,
                 caf::expected<task_result> outcome);

// Spawns the runner of one task: it asks `agent` to execute_stream with
// itself as the sink, forwards chunks to the entry's event buffer, then
// calls finish_task. Never blocks a scheduler thread.
caf::actor spawn_task_runner(caf::actor_system& sys, std::shared_ptr<task_book> book,
                             std::shared_ptr<task_entry> entry, agent_actor agent,
                             task_request task, std::chrono::milliseconds deadline);

// The runner of one workflow run: spawned first (it is the run's event
// sink), then sent the run's handle; it sends the run run_workflow_atom,
// turns its events into the entry's SSE events (named after the event
// kind) and its result into the entry's end (completed and interrupted
// runs are answers; failed runs end `failed`).
caf::actor spawn_workflow_runner(caf::actor_system& sys, std::shared_ptr<task_book> book,
                                 std::shared_ptr<task_entry> entry,
                                 std::chrono::milliseconds deadline);

struct gateway::impl {
  impl(Runtime& runtime, gateway_config c);

  Runtime& rt;
  const gateway_config cfg;
  const std::shared_ptr<task_book> book;
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
  std::atomic<bool> stopping{false};  // sync waiters give up when set
  std::atomic<uint64_t> task_counter{0};
  const std::string id_prefix;  // random per gateway, so ids differ across restarts
  metrics::counter_family* responses = nullptr;  // set by the constructor, const after

  // Open event streams. stop() waits (at most stream_drain_max) for them to
  // end, so a subscriber of a task that was just cancelled still gets its
  // final event before the server closes the connection.
  std::mutex streams_mutex;
  std::condition_variable streams_closed;
  size_t streams_open = 0;  // guarded by streams_mutex
  // Last, so it stops (joining its workers, which may hold open_stream
  // guards) before the members above are destroyed.
  net::http_server server;  // provides its own synchronization

  // Counts the response in agentgraph_gateway_responses_total and returns it.
  net::server_response counted(const char* route, net::server_response r);

  void add_routes();
  net::server_response post_task(const net::server_request& req);
  // POST /v1/workflows/{name}/runs and .../runs/{thread}/resume.
  net::server_response post_workflow(const net::server_request& req, bool resume);
  net::server_response get_task(const net::server_request& req);
  net::server_response task_events(const net::server_request& req);
  net::server_response health() const;
  net::server_response readiness();
  net::server_response metrics_text();
  net::server_response agents();
  net::server_response memory();
  net::server_response wait_sync(const std::shared_ptr<task_entry>& entry,
                               std::chrono::milliseconds deadline);
};

}  // namespace agentgraph
