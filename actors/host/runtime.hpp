// Runtime: the embedding facade. It owns the CAF actor system, spawns
// providers, memory shards, tools and agents (each under its own
// supervisor), and lets ordinary non-actor code call agents with futures or
// callbacks. Destroying it stops the agents, persists every memory shard and
// stops every other actor.
//
// Known limit: a supervisor that gave up (restart budget spent) leaves its
// component down; callers then get errc::unavailable. Nothing restarts the
// subtree yet (a root supervisor per runtime is future work).
//
// Thread safety: the add_* and lookup methods must be called from one thread
// (the one that builds the runtime); submit/run/stats may be called from any
// non-actor thread once building is done. Never call run() or the stats
// methods from inside an actor: they block the calling thread.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/agent/agent_config.hpp"
#include "actors/agent/agent_interface.hpp"
#include "actors/memory/memory_config.hpp"
#include "actors/memory/memory_interface.hpp"
#include "actors/host/node_config.hpp"
#include "actors/provider/provider_config.hpp"
#include "actors/provider/provider_interface.hpp"
#include "actors/tool/tool_config.hpp"
#include "actors/tool/tool_interface.hpp"
#include "actors/workflow/workflow_run.hpp"
#include "runtime/metrics/registry.hpp"
#include "runtime/resilience/price_table.hpp"
#include "runtime/supervision_config.hpp"

namespace agentgraph {

struct runtime_options {
  uint32_t scheduler_threads = 2;
  supervision_config supervision;
  // Load CAF's middleman so actors can be published to other processes.
  bool middleman = false;
  // The HTTP client all HTTP providers share (one connection cache, one I/O
  // thread): its bound on requests in flight and its connect timeout.
  // from_config sums the providers' in_flight_max and takes the largest
  // connect_timeout.
  uint32_t http_in_flight_max = 256;
  std::chrono::milliseconds http_connect_timeout{5'000};
  // Prices for provider cost accounting; null: no costs.
  std::shared_ptr<const price_table> prices;
  // Where every component records its metrics; null: the Runtime makes its own.
  std::shared_ptr<metrics::registry> metrics;
};

class Runtime {
 public:
  explicit Runtime(runtime_options opts = {});
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Builds everything `cfg` declares, in dependency order (providers, shards,
  // plain tools, then agents and their agent tools in topological order).
  // Errors: the first component that failed, naming it.
  [[nodiscard]] static caf::expected<std::unique_ptr<Runtime>> from_config(
    const node_config& cfg, bool middleman = false);

  [[nodiscard]] caf::actor_system& system() { return *system_; }
  // The metrics registry every component of this runtime records into;
  // scrape() gives the Prometheus text.
  [[nodiscard]] metrics::registry& metrics() { return *opts_.metrics; }
  [[nodiscard]] std::shared_ptr<metrics::registry> metrics_ptr() { return opts_.metrics; }

  // Each add_* spawns one supervised component. Errors: invalid_argument
  // (bad config, duplicate name, missing dependency), io_error, parse_error.
  [[nodiscard]] caf::expected<provider_actor> add_provider(const provider_config& cfg);
  [[nodiscard]] caf::expected<memory_actor> add_memory(const memory_config& cfg);
  // A tool of kind `agent` needs its agent added first.
  [[nodiscard]] caf::expected<tool_actor> add_tool(const tool_config& cfg);
  // The provider, tools and memory shard it names must be added first.
  [[nodiscard]] caf::expected<agent_actor> add_agent(const agent_config& cfg);
  // An agent group (actors/agent/agent_group.hpp), addressed like an agent
  // by its name; its members must be added first.
  [[nodiscard]] caf::expected<agent_actor> add_group(group_config cfg);

  [[nodiscard]] caf::expected<agent_actor> agent(const std::string& name) const;
  [[nodiscard]] caf::expected<tool_actor> tool(const std::string& name) const;
  [[nodiscard]] caf::expected<memory_actor> memory(const std::string& name) const;
  [[nodiscard]] caf::expected<provider_actor> provider(const std::string& name) const;
  [[nodiscard]] std::vector<std::string> agent_names() const;     // in the order added
  [[nodiscard]] std::vector<std::string> memory_names() const;

  // How long a caller waits for a task on `agent`: every model call and
  // tool round may take the agent's request_timeout.
  [[nodiscard]] std::chrono::milliseconds task_deadline(const std::string& agent) const;

  // Runs `task` on the named agent. The callback runs on a CAF thread: it
  // must not block. Errors: not_found (no such agent), the agent's errors,
  // timeout after task_deadline.
  void submit(const std::string& agent, task_request task,
              std::function<void(caf::expected<task_result>)> done);
  [[nodiscard]] std::future<caf::expected<task_result>> submit(const std::string& agent,
                                                               task_request task);
  // Blocks the calling (non-actor) thread until the task ends.
  [[nodiscard]] caf::expected<task_result> run(const std::string& agent, task_request task);
  // As run, and every model call streams: `on_chunk` runs on the calling
  // thread for each piece as it arrives (so it may print or block).
  [[nodiscard]] caf::expected<task_result> run_streaming(
    const std::string& agent, task_request task,
    const std::function<void(const stream_chunk&)>& on_chunk);

  [[nodiscard]] caf::expected<agent_stats> stats(const std::string& agent);
  [[nodiscard]] caf::expected<memory_stats> stats_of_memory(const std::string& shard);
  [[nodiscard]] caf::expected<tool_stats> stats_of_tool(const std::string& tool);
  [[nodiscard]] caf::expected<provider_stats> stats_of_provider(const std::string& provider);

  // Workflows (actors/workflow/). Functions and reducers are registered
  // from C++ before the runs that use them; invalid_argument for a name
  // registered twice.
  caf::error register_workflow_function(std::string name, node_function fn);
  caf::error register_workflow_reducer(std::string name, reducer_fn fn);
  // Checks `graph` against this runtime's agents, tools, functions and
  // reducers (invalid_argument naming the node), runs it from `start` and
  // blocks the calling (non-actor) thread until it completes, fails or is
  // interrupted; `on_event` runs on the calling thread for each event.
  // A failed run is a result (status failed, the state reached), not an
  // error; errors are for runs that could not start or gave no answer
  // within `deadline`.
  [[nodiscard]] caf::expected<workflow_result> run_workflow(
    const workflow_graph& graph, workflow_start start,
    const std::function<void(const workflow_event&)>& on_event,
    std::chrono::milliseconds deadline = std::chrono::hours{1});
  // Where workflow runs save their super-steps (from_config opens
  // [runtime] checkpoint_path / checkpoint_url). Runs started after this
  // call are checkpointed; invalid_argument if a store is already in use.
  caf::error use_checkpoints(std::unique_ptr<checkpoint_store> store);
  [[nodiscard]] bool has_checkpoints() const;
  // A workflow the config declares ([workflow.<name>]); not_found otherwise.
  [[nodiscard]] caf::expected<std::shared_ptr<const workflow_graph>> workflow(
    const std::string& name) const;
  // Starts a run without blocking: checks the graph against this runtime,
  // attaches the checkpoint store and the cache, spawns the run; the caller
  // sends it run_workflow_atom. For callers on actor threads (the gateway).
  [[nodiscard]] caf::expected<workflow_run_actor> spawn_workflow(
    std::shared_ptr<const workflow_graph> graph, workflow_start start,
    workflow_event_sink events);
  // Where a resume of `thread_id` starts (see resume_workflow), checked
  // against `graph` (check_start in actors/workflow/workflow_run.hpp), so
  // the start it answers always fits the graph and has nodes to run.
  // Blocks the calling thread briefly (one checkpoint read). Errors:
  // invalid_argument (no checkpoint store), not_found (no such thread or
  // checkpoint), parse_error (not a workflow checkpoint), conflict (the
  // thread belongs to another workflow, has already ended, or its
  // checkpoint names a node or edge `graph` no longer has: the message
  // names it; the gateway answers 409, the CLI exits 2).
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
  [[nodiscard]] std::vector<std::string> provider_names() const;  // in the order added

  // Publishes a component on 127.0.0.1 (port 0: the OS picks) through CAF's
  // middleman; needs runtime_options::middleman. Returns the port.
  [[nodiscard]] caf::expected<uint16_t> publish_agent(const std::string& name, uint16_t port);
  [[nodiscard]] caf::expected<uint16_t> publish_tool(const std::string& name, uint16_t port);
  [[nodiscard]] caf::expected<uint16_t> publish_memory(const std::string& name, uint16_t port);
  [[nodiscard]] caf::expected<uint16_t> publish_provider(const std::string& name, uint16_t port);

  // Stops the agents (each supervisor goes down only after its agent) and
  // their fallback chains, then snapshots every memory shard, then stops
  // tools, shards and providers.
  // Idempotent; the destructor calls it. Returns the first snapshot error,
  // if any (shutdown still completes).
  caf::error shutdown();

 private:
  // The provider an agent with `fallback` talks to: its chain.
  [[nodiscard]] caf::expected<provider_actor> add_fallback_chain(const agent_config& cfg);

  struct component_tables;
  runtime_options opts_;
  std::unique_ptr<caf::actor_system_config> config_;
  std::unique_ptr<caf::actor_system> system_;
  std::unique_ptr<component_tables> tables_;
  bool shut_down_ = false;
};

}  // namespace agentgraph
