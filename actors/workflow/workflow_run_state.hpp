// Private to actors/workflow/workflow_run*.cpp: the run actor's own type
// and state. Not part of the interface; the public header
// (actors/host/agentgraph.hpp) never includes it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/workflow/workflow_run.hpp"
#include "runtime/cache/cache_message.hpp"
#include "runtime/cache/multi_level_cache.hpp"

namespace agentgraph {

// Self-message: start the next super-step. A step that ends inline (only
// function nodes) must not start the next one from inside itself, or a
// long cycle would nest one stack frame set per step.
using workflow_step_atom = caf::atom_constant<caf::atom("ag_wfstep")>;

// The run's own type: its interface plus the chunks agent nodes stream to
// it and its step message.
using workflow_run_impl =
  workflow_run_actor::extend<caf::reacts_to<stream_chunk>, caf::reacts_to<workflow_step_atom>,
                             caf::reacts_to<cache_l3_atom, uint64_t, cache::l3_reply>>;

struct workflow_run_state {
  static inline const char* name = "workflow_run";
  std::shared_ptr<const workflow_graph> graph;
  workflow_deps deps;
  workflow_event_sink events;
  std::string thread_id;
  Value state;
  uint32_t step = 0;
  std::set<std::string> active;
  std::map<size_t, std::set<std::string>> joins;
  std::set<std::string> resume_past;  // interrupt_before skipped once for these
  bool started = false;
  bool finished = false;
  caf::error start_error;  // check_start's verdict: answered instead of running
  caf::typed_response_promise<workflow_result> promise;
  // The step in progress.
  size_t pending = 0;
  std::vector<std::pair<std::string, Value>> updates;
  std::map<std::string, caf::error> failures;
  std::map<std::string, uint32_t> attempts;
  std::map<std::string, std::string> request_nodes;  // agent request id -> node, for tokens
  checkpoint_actor checkpoints;
  uint64_t parent_checkpoint = 0;
  std::chrono::milliseconds checkpoint_timeout{30'000};
  // Node caching: one cache per cached node (its own TTL), made on first use.
  std::map<std::string, cache::multi_level_cache> node_caches;
  std::map<std::string, std::string> cache_keys;           // node -> key, while it runs
  std::map<uint64_t, std::string> cache_pending;           // L3 lookup tag -> node
  uint64_t next_cache_tag = 0;
};

workflow_run_impl::behavior_type
workflow_run(workflow_run_impl::stateful_pointer<workflow_run_state> self,
             std::shared_ptr<const workflow_graph> graph, workflow_deps deps, workflow_start start,
             workflow_event_sink events);

}  // namespace agentgraph
