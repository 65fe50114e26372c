// runtime_client: calls a Runtime's agents, stats and workflows from
// ordinary (non-actor) code. submit() with a callback never blocks; every
// other method blocks the calling thread (blocking_ask in
// runtime/blocking_ask.hpp), so never call them from inside an actor.
// A client is a handle: cheap to make, as many as you like; the Runtime
// must outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <string>

#include <caf/expected.hpp>

#include "actors/host/runtime.hpp"

namespace agentgraph {

class runtime_client {
 public:
  explicit runtime_client(Runtime& rt) : rt_(&rt) {}

  // Runs `task` on the named agent. The callback runs on a CAF thread: it
  // must not block. Errors: not_found (no such agent), the agent's errors,
  // timeout after task_deadline.
  void submit(const std::string& agent, task_request task,
              std::function<void(caf::expected<task_result>)> done);
  [[nodiscard]] std::future<caf::expected<task_result>> submit(const std::string& agent,
                                                               task_request task);
  // Blocks the calling thread until the task ends.
  [[nodiscard]] caf::expected<task_result> run(const std::string& agent, task_request task);
  // As run, and every model call streams: `on_chunk` runs on the calling
  // thread for each piece as it arrives (so it may print or block).
  [[nodiscard]] caf::expected<task_result> run_streaming(
    const std::string& agent, task_request task,
    const std::function<void(const stream_chunk&)>& on_chunk);

  // A component's figures, asked with the runtime's control timeout.
  [[nodiscard]] caf::expected<agent_stats> stats(const std::string& agent);
  // Publishes `message` on `topic`: every agent subscribed to it ([agent.x]
  // subscribe) on this node and on every other node of the cluster gets it
  // as a task. Blocking (a short wait for the topic actor's receipt, not
  // for the subscribers). Errors: invalid_argument (topic name),
  // limit_exceeded (message too large), timeout.
  [[nodiscard]] caf::expected<publish_receipt> publish(const std::string& topic, Value message);
  // The node's topic figures (published, sent, received, delivered, drops).
  [[nodiscard]] caf::expected<topic_stats> stats_of_topics();
  [[nodiscard]] caf::expected<memory_stats> stats_of_memory(const std::string& shard);
  // One task to every key of population `type` (or a seeded sample),
  // at most b.concurrency at once; waits at most `timeout` for all of them
  // (Runtime::spawn_broadcast; a timeout leaves the rest running).
  [[nodiscard]] caf::expected<population_broadcast_result> broadcast(
    const std::string& type, population_broadcast b,
    std::chrono::milliseconds timeout = std::chrono::hours{1});
  // As above without blocking: `done` runs once with the result or the
  // error, on a CAF thread (it must not block), or on the calling thread
  // when the broadcast is refused before it starts; `timeout` as above.
  void broadcast(const std::string& type, population_broadcast b,
                 std::chrono::milliseconds timeout,
                 std::function<void(caf::expected<population_broadcast_result>)> done);
  // Sets the prompt variables of the population key `agent` ("<type>/<key>")
  // to `vars` (they replace its earlier ones: pop_set_vars_atom in
  // actors/population/population_interface.hpp) on the node that owns the
  // key now, the one its tasks go to (population_nodes). Done (no error)
  // once they are set and saved. One deadline: the population's task
  // deadline (activating the key and waiting for its tasks in flight are
  // part of it). Errors: invalid_argument (not "<type>/<key>", a bad key,
  // population_vars_problem), not_found (no such population), unavailable
  // (no node runs it now, or the key's owner is down), the population's
  // own (activation, store), timeout. `done` runs on a CAF thread, or on
  // the calling thread when the request is refused before it is sent.
  void set_key_vars(const std::string& agent, std::map<std::string, std::string> vars,
                    std::function<void(caf::error)> done);
  // Blocks the calling thread until the above is done.
  [[nodiscard]] caf::error set_key_vars(const std::string& agent,
                                        std::map<std::string, std::string> vars);
  [[nodiscard]] caf::expected<population_stats> stats_of_population(const std::string& type);
  [[nodiscard]] caf::expected<tool_stats> stats_of_tool(const std::string& tool);
  [[nodiscard]] caf::expected<provider_stats> stats_of_provider(const std::string& provider);

  // Checks `graph` against the runtime's agents, tools, functions and
  // reducers (invalid_argument naming the node), runs it from `start` and
  // blocks until it completes, fails or is interrupted; `on_event` runs on
  // the calling thread for each event. An empty `on_event` asks for no
  // events: the run then makes none and the thread wakes once, for the
  // result. A failed run is a result (status failed, the state reached),
  // not an error; errors are for runs that could not start or gave no
  // answer within `deadline`.
  [[nodiscard]] caf::expected<workflow_result> run_workflow(
    const workflow_graph& graph, workflow_start start,
    const std::function<void(const workflow_event&)>& on_event,
    std::chrono::milliseconds deadline = std::chrono::hours{1});
  // As above for a graph run many times: it is checked and indexed on its
  // first run and only its names on later ones (plan_workflow in
  // actors/workflow/workflow_plan.hpp), so it must not change afterwards.
  [[nodiscard]] caf::expected<workflow_result> run_workflow(
    std::shared_ptr<const workflow_graph> graph, workflow_start start,
    const std::function<void(const workflow_event&)>& on_event,
    std::chrono::milliseconds deadline = std::chrono::hours{1});
  // Where a resume of `thread_id` starts (see resume_workflow), checked
  // against `graph` (check_start in actors/workflow/workflow_run.hpp), so
  // the start it answers always fits the graph and has nodes to run.
  // Blocks briefly (one checkpoint read). Errors: invalid_argument (no
  // checkpoint store), not_found (no such thread or checkpoint),
  // parse_error (not a workflow checkpoint), conflict (the thread belongs
  // to another workflow, has already ended, or its checkpoint names a node
  // or edge `graph` no longer has: the message names it; the gateway
  // answers 409, the CLI exits 2).
  [[nodiscard]] caf::expected<workflow_start> resume_start(const workflow_graph& graph,
                                                           const std::string& thread_id,
                                                           uint64_t checkpoint_id,
                                                           const Value& input);
  // Continues thread `thread_id` of `graph` from checkpoint `checkpoint_id`
  // (0: the latest), with `input` merged over the saved state (a human's
  // answer after an interrupt). Errors: resume_start's, and run_workflow's.
  [[nodiscard]] caf::expected<workflow_result> resume_workflow(
    const workflow_graph& graph, const std::string& thread_id, uint64_t checkpoint_id,
    const Value& input, const std::function<void(const workflow_event&)>& on_event,
    std::chrono::milliseconds deadline = std::chrono::hours{1});

 private:
  // The population actor of the node that owns key `agent` now, with the
  // key; set_key_vars' errors before anything is sent.
  struct key_owner {
    population_actor owner;
    std::string key;
  };
  [[nodiscard]] caf::expected<key_owner> owner_of_key(const std::string& agent) const;

  Runtime* rt_;
};

}  // namespace agentgraph
