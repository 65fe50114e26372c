// Private to actors/workflow/workflow_run*.cpp: the run actor's own type
// and state. Not part of the interface; the public header
// (actors/host/agentgraph.hpp) never includes it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/workflow/workflow_plan.hpp"
#include "actors/workflow/workflow_run.hpp"
#include "runtime/cache/cache_message.hpp"
#include "runtime/cache/multi_level_cache.hpp"
#include "runtime/call_watch.hpp"

namespace agentgraph {

// Self-message: start the next super-step after workflow_inline_steps_max
// steps ran one after the other inside one message (begin_step's loop).
using workflow_step_atom = caf::atom_constant<caf::atom("ag_wfstep")>;

// Steps that end inline (function nodes only) run in a loop, not nested
// (a long cycle would nest one stack frame set per step) and not one
// message each (CAF's dispatch of a self-message per step, for nothing); past
// this many the run sends itself workflow_step_atom and goes on from there.
constexpr uint32_t workflow_inline_steps_max = 64;

// The run's own type: its interface plus the chunks agent nodes stream to
// it and its step message.
using workflow_run_impl =
  workflow_run_actor::extend<caf::reacts_to<stream_chunk>, caf::reacts_to<workflow_step_atom>,
                             caf::reacts_to<cache_l3_atom, uint64_t, cache::l3_reply>>;

// Nodes are ranks of `plan` (workflow_plan.hpp) everywhere in here; names
// appear only where the run talks to the outside (events, results,
// checkpoints, task ids, messages).
struct workflow_run_state {
  static inline const char* name = "workflow_run";
  std::shared_ptr<const workflow_graph> graph;
  std::shared_ptr<const workflow_plan> plan;
  workflow_deps deps;
  // Invalid when nobody asked for events: the run then makes none (no
  // event carries a copy of the state to nobody) and asks agents for
  // plain, unstreamed tasks.
  workflow_event_sink events;
  std::string thread_id;
  Value state;
  uint32_t step = 0;
  node_set active;
  // Sources each join (by edge index) has seen complete since it last fired.
  std::map<size_t, node_set> joins;
  node_set resume_past;  // interrupt_before skipped once for these
  bool started = false;
  bool finished = false;
  bool in_steps = false;  // begin_step's loop is running: a step ending inline sets step_due
  bool step_due = false;
  caf::error start_error;  // check_start's verdict: answered instead of running
  caf::typed_response_promise<workflow_result> promise;
  // workflow_start::on_done, until it has been called.
  std::function<void(caf::expected<workflow_result>)> on_done;
  // The step in progress.
  size_t pending = 0;
  std::vector<node_update> updates;  // in node-name order (inserted so)
  std::vector<std::pair<node_rank, caf::error>> failures;
  std::vector<uint32_t> attempts;  // by rank; the step's nodes are reset after it
  // By rank: each function node's function, looked up once per run (null
  // for other nodes, and for a function missing from a run spawned by hand).
  std::vector<const node_function*> functions;
  // Agent task id -> node, for tokens (kept only when events are wanted).
  std::map<std::string, node_rank, std::less<>> request_nodes;
  checkpoint_actor checkpoints;
  // The node requests of the step and the checkpoint put: each its own
  // deadline (the node's timeout, checkpoint_timeout) and a monitor on its
  // callee, so a dead agent, tool or store fails its call at once and no
  // CAF request timeout sits in the clock per call. Capacity: one call per
  // node of the graph (a node retries only after its call ended) plus the
  // put, which runs between steps.
  call_watch watch{0};
  uint64_t parent_checkpoint = 0;
  std::chrono::milliseconds checkpoint_timeout{30'000};
  // Node caching: one cache per cached node (its own TTL), made on first use.
  std::map<std::string, cache::multi_level_cache> node_caches;
  std::map<std::string, std::string> cache_keys;           // node -> key, while it runs
  std::map<uint64_t, std::string> cache_pending;           // L3 lookup tag -> node
  uint64_t next_cache_tag = 0;

  // A run that stops without finishing (an exception in a node function, a
  // kill) still tells a caller waiting on on_done, so it does not wait
  // until its own deadline.
  ~workflow_run_state() {
    if (on_done)
      on_done(caf::make_error(caf::sec::request_receiver_down));
  }
};

// The run's functions shared by its two files (workflow_run.cpp: the
// steps; workflow_run_node.cpp: one node).
namespace workflow_run_detail {

using self_ptr = workflow_run_impl::stateful_pointer<workflow_run_state>;

// Sends an event to the sink; nothing without one. Callers check
// st.events first where building `data` costs (a copy of the state).
void emit(self_ptr self, workflow_event_kind kind, const std::string& node = {}, Value data = {},
          std::string text = {});
[[nodiscard]] const std::string& name_of(const workflow_run_state& st, node_rank r);
// A node's outcome, once (after its retries, for failures).
void node_succeeded(self_ptr self, node_rank r, Value update);
void node_failed(self_ptr self, node_rank r, caf::error err);
// Starts node `r` of the current step (its cache first, if it has one).
void run_node(self_ptr self, node_rank r);
// An L3 cache lookup's answer for the node that waits on `tag`.
void on_cache_l3(self_ptr self, uint64_t tag, const cache::l3_reply& rep);

}  // namespace workflow_run_detail

// Spawned by hand (tests) this plans the graph itself (plan_workflow,
// without name checks) and answers a graph or start that does not fit
// with the error; spawn_workflow_run checks both first.
workflow_run_impl::behavior_type
workflow_run(workflow_run_impl::stateful_pointer<workflow_run_state> self,
             std::shared_ptr<const workflow_graph> graph, workflow_deps deps, workflow_start start,
             workflow_event_sink events);

}  // namespace agentgraph
