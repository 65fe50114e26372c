#include "actors/workflow/workflow_run_state.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

#include "actors/workflow/workflow_codec.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph {

namespace workflow_run_detail {

void emit(self_ptr self, workflow_event_kind kind, const std::string& node, Value data,
          std::string text) {
  auto& st = self->state;
  if (!st.events)
    return;
  self->send(st.events, workflow_event{kind, st.thread_id, st.step, node, std::move(data),
                                       std::move(text)});
}

const std::string& name_of(const workflow_run_state& st, node_rank r) {
  return st.plan->node(*st.graph, r).name;
}

std::vector<std::string> names_of(const workflow_run_state& st, const node_set& nodes) {
  std::vector<std::string> out;
  for (node_rank r = 0; r < st.plan->size(); ++r)
    if (nodes.test(r))
      out.push_back(name_of(st, r));
  return out;
}

// The run ends right after: the state moves into the result.
workflow_result make_result(workflow_run_state& st, workflow_status status) {
  workflow_result r;
  r.thread_id = st.thread_id;
  r.status = status;
  r.state = std::move(st.state);
  r.steps = st.step;
  return r;
}

// Callers return at once when the run already finished (make_result took
// the state): a run finishes once.
void finish(self_ptr self, workflow_result result) {
  auto& st = self->state;
  AG_ASSERT(!st.finished);
  st.finished = true;
  if (st.events) {
    if (result.status == workflow_status::failed) {
      emit(self, workflow_event_kind::run_failed, {}, {}, result.error);
    } else if (result.status == workflow_status::interrupted) {
      Value next = Value::array();
      for (const auto& n : result.next)
        next.as_array().emplace_back(n);
      emit(self, workflow_event_kind::interrupted, {}, Value{Value::Object{{"next", next}}});
    } else {
      emit(self, workflow_event_kind::run_completed, {}, result.state);
    }
  }
  if (st.on_done) {
    auto done = std::move(st.on_done);
    st.on_done = nullptr;
    if (st.promise.pending())  // started by a request too: both get it
      st.promise.deliver(result);
    done(std::move(result));
  } else {
    st.promise.deliver(std::move(result));
  }
  self->quit();
}

void fail(self_ptr self, const std::string& why) {
  auto& st = self->state;
  if (st.finished)
    return;
  auto error = "workflow '" + st.graph->name + "' step " + std::to_string(st.step) + ": " + why;
  log(log_severity::warn, "workflow", "run failed", {{"thread_id", st.thread_id}, {"error", error}});
  auto r = make_result(st, workflow_status::failed);
  r.error = std::move(error);
  finish(self, std::move(r));
}

void interrupt(self_ptr self, const node_set& next) {
  if (self->state.finished)
    return;
  auto names = names_of(self->state, next);
  auto r = make_result(self->state, workflow_status::interrupted);
  r.next = std::move(names);
  finish(self, std::move(r));
}

workflow_pending pending_of(const workflow_run_state& st) {
  workflow_pending p;
  p.next = names_of(st, st.active);
  for (const auto& [edge, seen] : st.joins) {
    auto& sources = p.joins[edge];  // an entry with no source yet is saved too
    for (auto& n : names_of(st, seen))
      sources.insert(std::move(n));
  }
  return p;
}

// Saves the run's position, then calls `then` (or fails the run: a step
// that could not be saved must not be followed by effects of the next).
template <class Then>
void save_then(self_ptr self, const char* source, Then then) {
  auto& st = self->state;
  if (!st.checkpoints) {
    then();
    return;
  }
  checkpoint c;
  c.thread_id = st.thread_id;
  c.parent_id = st.parent_checkpoint;
  c.step = st.step;
  c.state = st.state;
  c.pending = to_checkpoint_pending(pending_of(st));
  c.metadata = to_checkpoint_metadata(st.graph->name, source);
  watched_request(
    self, st.watch, st.checkpoints, call_watch::clock::now() + st.checkpoint_timeout,
    [self, then = std::move(then)](uint64_t id) mutable {
      self->state.parent_checkpoint = id;
      if (!self->state.finished)
        then();
    },
    [self](caf::error& err) { fail(self, "checkpoint write failed: " + describe(err)); },
    checkpoint_put_atom::value, std::move(c));
}

// The step's updates stay in node-name order as they arrive (whatever the
// order nodes finish in); equal names keep their arrival order.
void add_update(workflow_run_state& st, node_rank r, Value update) {
  const std::string* name = &name_of(st, r);
  auto at = std::upper_bound(st.updates.begin(), st.updates.end(), *name,
                             [](const std::string& n, const node_update& u) { return n < *u.node; });
  st.updates.insert(at, node_update{name, std::move(update)});
}

// A route edge's choice: the state key's string, trimmed (an agent's
// answer may carry whitespace or a trailing period).
std::string route_choice(const Value& state, const std::string& key) {
  const Value* v = state.find(key);
  std::string choice = v != nullptr && v->is_string() ? v->as_string() : "";
  while (!choice.empty()
         && (std::isspace(static_cast<unsigned char>(choice.back())) || choice.back() == '.'))
    choice.pop_back();
  size_t lead = 0;
  while (lead < choice.size() && std::isspace(static_cast<unsigned char>(choice[lead])))
    ++lead;
  return choice.substr(lead);
}

// Adds the targets of every edge whose source completed (joins: once all
// their sources have) to `next`. An unknown route choice fails the run:
// false.
bool follow_edges(self_ptr self, const node_set& completed, node_set& next) {
  auto& st = self->state;
  const auto& g = *st.graph;
  const auto& plan = *st.plan;
  for (size_t i = 0; i < g.edges.size(); ++i) {
    const auto& e = g.edges[i];
    const auto& pe = plan.edges[i];
    if (e.kind == edge_kind::error)
      continue;
    if (e.kind == edge_kind::join) {
      auto& seen = st.joins[i];  // an entry per evaluated join, saved with the checkpoint
      seen |= pe.sources & completed;
      AG_ASSERT((seen & ~pe.sources).none());  // only its sources (check_start)
      if (seen == pe.sources) {
        st.joins.erase(i);
        if (pe.to != no_node)
          next.set(pe.to);
      }
      continue;
    }
    if (!completed.test(pe.from))
      continue;
    if (e.kind == edge_kind::plain)
      next |= pe.targets;
    if (e.kind == edge_kind::conditional)
      for (size_t b = 0; b < e.branches.size(); ++b)
        if (!e.branches[b].when || evaluate(*e.branches[b].when, st.state)) {
          if (pe.branches[b] != no_node)
            next.set(pe.branches[b]);
          break;
        }
    if (e.kind == edge_kind::route) {
      const auto choice = route_choice(st.state, e.route_key);
      auto it = pe.routes.find(choice);
      if (it == pe.routes.end()) {
        std::string known;
        for (const auto& [c, to] : e.routes)
          known += (known.empty() ? "" : ", ") + c;
        fail(self, "node '" + e.from.front() + "' chose route '" + choice + "' (state key '"
                     + e.route_key + "'), which is not one of: " + known);
        return false;
      }
      if (it->second != no_node)
        next.set(it->second);
    }
  }
  return true;
}

void begin_step(self_ptr self);

void end_step(self_ptr self) {
  auto& st = self->state;
  const auto& plan = *st.plan;
  AG_ASSERT(st.pending == 0 && !st.finished);  // every node of the step answered
  // Failed nodes follow their error edge (in name order, as they always
  // did), with the failure in `error`.
  node_set next;
  node_set failed;
  std::sort(st.failures.begin(), st.failures.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [r, err] : st.failures) {
    const auto& node = name_of(st, r);
    const size_t handler = plan.error_edge[r];
    if (handler == workflow_plan::no_edge)
      return fail(self, "node '" + node + "' failed: " + describe(err));
    add_update(st, r, Value{Value::Object{
                        {"error", Value{Value::Object{{"node", node}, {"message", describe(err)}}}}}});
    failed.set(r);
    if (plan.edges[handler].to != no_node)
      next.set(plan.edges[handler].to);
  }
  // A node that asked for a human (its update holds workflow_interrupt_key)
  // has not completed: the run pauses after this step and the node runs
  // again on resume, when the state holds the answer. The requests go into
  // the state key `interrupt` (the run's own update, applied after the
  // nodes') so they are saved with the checkpoint; an earlier request is
  // cleared once a step passes without one.
  std::vector<interrupt_request> asks;
  node_set asking;
  for (auto& u : st.updates)
    if (auto request = take_interrupt_request(u.update)) {
      asks.push_back(interrupt_request{*u.node, std::move(*request)});
      auto r = plan.rank_of(*st.graph, *u.node);
      AG_ASSERT(r.has_value());
      asking.set(*r);
    }
  std::optional<Value> run_update;
  if (!asks.empty() || st.state.find(workflow_interrupt_state_key) != nullptr)
    run_update = to_interrupt_state_update(asks);
  auto err = apply_ordered_updates(st.state, st.updates, *st.graph, *st.deps.reducers,
                                   run_update ? &*run_update : nullptr);
  st.updates.clear();
  if (err)
    return fail(self, describe(err));
  if (st.events)
    emit(self, workflow_event_kind::state_updated, {}, st.state);
  const node_set completed = st.active & ~failed & ~asking;
  if (!follow_edges(self, completed, next))
    return;
  next |= asking;
  const bool pause_after = asking.any() || (completed & plan.interrupt_after).any();
  for (node_rank r = 0; r < plan.size(); ++r)
    if (st.active.test(r))
      st.attempts[r] = 0;
  st.active = next;
  st.failures.clear();
  st.request_nodes.clear();
  st.cache_keys.clear();
  save_then(self, "step", [self, pause_after] {
    auto& st = self->state;
    if (pause_after && st.active.any()) {
      // The asking nodes run again on resume: not stopped by interrupt_before.
      return interrupt(self, st.active);
    }
    begin_step(self);
  });
}

void node_done(self_ptr self) {
  auto& st = self->state;
  AG_ASSERT(st.pending > 0 && st.pending <= st.plan->size());
  if (--st.pending == 0)
    end_step(self);
}

void node_failed(self_ptr self, node_rank r, caf::error err) {
  auto& st = self->state;
  if (st.finished)
    return;
  AG_ASSERT(st.active.test(r));  // only nodes of the step in progress answer
  const auto& node = st.plan->node(*st.graph, r);
  if (st.attempts[r] <= node.retries_max) {
    log(log_severity::info, "workflow", "retrying node",
        {{"thread_id", st.thread_id}, {"node", node.name}, {"error", describe(err)}});
    run_node(self, r);
    return;
  }
  if (st.events)
    emit(self, workflow_event_kind::node_failed, node.name, {}, describe(err));
  st.failures.emplace_back(r, std::move(err));
  node_done(self);
}

void node_succeeded(self_ptr self, node_rank r, Value update) {
  auto& st = self->state;
  if (st.finished)
    return;
  AG_ASSERT(st.active.test(r));
  const auto& name = name_of(st, r);
  if (!st.cache_keys.empty())
    if (auto k = st.cache_keys.find(name); k != st.cache_keys.end()) {
      st.node_caches.at(name).put(k->second, update.to_msgpack());
      st.cache_keys.erase(k);
    }
  if (st.events)
    emit(self, workflow_event_kind::node_completed, name, update);
  add_update(st, r, std::move(update));
  node_done(self);
}

void run_step(self_ptr self) {
  auto& st = self->state;
  const auto& g = *st.graph;
  const auto& plan = *st.plan;
  if (st.active.none()) {
    if (log_enabled(log_severity::debug))
      log(log_severity::debug, "workflow", "run completed",
          {{"thread_id", st.thread_id}, {"steps", std::to_string(st.step)}});
    return finish(self, make_result(st, workflow_status::completed));
  }
  if ((st.active & plan.interrupt_before & ~st.resume_past).any())
    return interrupt(self, st.active);
  st.resume_past.reset();
  if (st.step >= g.max_steps)
    return fail(self, "stopped after max_steps (" + std::to_string(g.max_steps)
                        + ") super-steps with nodes still active");
  ++st.step;
  AG_ASSERT(st.step <= g.max_steps);
  st.pending = st.active.count();
  // Copy: a function node may finish the step (and change `active`) inline.
  const node_set nodes = st.active;
  for (node_rank r = 0; r < plan.size(); ++r) {
    if (!nodes.test(r))
      continue;
    if (st.events)
      emit(self, workflow_event_kind::node_started, name_of(st, r));
    run_node(self, r);
    if (st.finished)
      return;
  }
}

// Starts the next super-step. Called from inside a step that ended inline
// (its last function node answered at once), it only marks the step due:
// the outermost call runs due steps in a loop (at most
// workflow_inline_steps_max, then a self-message), so the stack stays flat
// whatever the number of steps.
void begin_step(self_ptr self) {
  auto& st = self->state;
  if (st.in_steps) {
    st.step_due = true;
    return;
  }
  st.in_steps = true;
  uint32_t steps = 0;
  do {
    st.step_due = false;
    run_step(self);
  } while (st.step_due && !st.finished && ++steps < workflow_inline_steps_max);
  st.in_steps = false;
  if (st.step_due && !st.finished) {
    st.step_due = false;
    self->send(self, workflow_step_atom::value);
  }
}

// Where the run starts, in ranks. check_start vouched for every name.
// `functions`: the targets spawn_workflow_run bound, by graph position
// (empty: look them up here).
void load_start(workflow_run_state& st, workflow_start& start,
                const std::vector<const node_function*>& functions) {
  const auto& g = *st.graph;
  const auto& plan = *st.plan;
  auto rank = [&](const std::string& n) {
    auto r = plan.rank_of(g, n);
    AG_ASSERT(r.has_value());
    return *r;
  };
  st.state = std::move(start.state);
  st.step = start.step;
  for (const auto& [edge, seen] : start.joins) {
    auto& set = st.joins[edge];
    for (const auto& n : seen)
      set.set(rank(n));
  }
  if (start.next.empty())
    st.active.set(plan.entry);
  for (const auto& n : start.next)
    st.active.set(rank(n));
  if (start.resuming)
    st.resume_past = st.active;
  st.attempts.assign(plan.size(), 0);
  st.functions.assign(plan.size(), nullptr);
  for (node_rank r = 0; r < plan.size(); ++r) {
    const auto i = plan.node_index[r];
    if (g.nodes[i].kind == node_kind::function)
      st.functions[r] = functions.empty() ? st.deps.functions->find(g.nodes[i].target) : functions[i];
  }
  st.updates.reserve(std::min<size_t>(plan.size(), workflow_fanout_max));
  st.watch = call_watch{plan.size() + 1};
  st.checkpoints = std::move(start.checkpoints);
  st.parent_checkpoint = start.parent_checkpoint;
  st.checkpoint_timeout = start.checkpoint_timeout;
}

// Every node's target looked up in `deps`, as graph_names would: the
// function nodes' functions by graph position (null for other nodes), or
// nothing when any target or function reducer is missing.
std::optional<std::vector<const node_function*>> bind_targets(const workflow_graph& g,
                                                               const workflow_deps& deps) {
  std::vector<const node_function*> functions(g.nodes.size(), nullptr);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& n = g.nodes[i];
    const bool found = n.kind == node_kind::function ? (functions[i] = deps.functions->find(n.target))
                                                         != nullptr
                       : n.kind == node_kind::agent  ? deps.agents.count(n.target) > 0
                                                     : deps.tools.count(n.target) > 0;
    if (!found)
      return std::nullopt;
  }
  for (const auto& k : g.state)
    if (k.reducer == reducer_kind::function && deps.reducers->find(k.function) == nullptr)
      return std::nullopt;
  return functions;
}

workflow_run_impl::behavior_type
run_behavior(workflow_run_impl::stateful_pointer<workflow_run_state> self) {
  // A callee that dies (agent, tool, checkpoint store) fails its call now.
  route_to_watch(self, &workflow_run_state::watch);
  return {
    [self](run_workflow_atom) -> caf::result<workflow_result> {
      auto& st = self->state;
      if (st.started)
        return make_error(errc::invalid_argument, "workflow run '" + st.thread_id
                                                    + "' was already started");
      AG_ASSERT(!st.finished);  // a run ends only after it started: it never starts again
      st.started = true;
      if (st.start_error) {
        if (st.on_done)
          std::exchange(st.on_done, nullptr)(st.start_error);
        return st.start_error;
      }
      st.promise = self->make_response_promise<workflow_result>();
      if (st.events)
        emit(self, workflow_event_kind::run_started, {}, st.state);
      if (st.step == 0 && st.parent_checkpoint == 0)
        save_then(self, "input", [self] { begin_step(self); });  // a fresh run: its input first
      else
        begin_step(self);
      return st.promise;
    },
    [self](stream_chunk& chunk) {
      auto& st = self->state;
      // "<task_id>-<n>": the task id names the node.
      const std::string_view id{chunk.request_id};
      auto it = st.request_nodes.find(id.substr(0, id.rfind('-')));
      if (it == st.request_nodes.end() || chunk.delta_text.empty())
        return;
      emit(self, workflow_event_kind::token, name_of(st, it->second),
           Value{Value::Object{{"request_id", chunk.request_id}, {"text", chunk.delta_text}}});
    },
    [self](cache_l3_atom, uint64_t tag, cache::l3_reply& rep) { on_cache_l3(self, tag, rep); },
    [self](workflow_step_atom) {
      if (!self->state.finished)
        begin_step(self);
    },
    [](ping_atom) { return pong_atom::value; },
  };
}

// The run of an already planned graph (spawn_workflow_run planned it and
// bound its functions) or, with no plan, of a graph spawned by hand.
workflow_run_impl::behavior_type
planned_run(workflow_run_impl::stateful_pointer<workflow_run_state> self,
            std::shared_ptr<const workflow_graph> graph, std::shared_ptr<const workflow_plan> plan,
            std::vector<const node_function*> functions, workflow_deps deps, workflow_start start,
            workflow_event_sink events) {
  auto& st = self->state;
  st.graph = std::move(graph);
  st.plan = std::move(plan);
  st.deps = std::move(deps);
  st.events = std::move(events);
  st.thread_id = std::move(start.thread_id);
  st.on_done = std::move(start.on_done);
  if (!st.deps.functions)
    st.deps.functions = std::make_shared<const function_registry>();
  if (!st.deps.reducers)
    st.deps.reducers = std::make_shared<const reducer_registry>();
  // Every spawn path checks the start already (spawn_workflow_run); this
  // one is for a behaviour spawned by hand, so that no path can reach a
  // node the graph lacks. A bad start answers its error and runs nothing.
  if (!st.plan) {
    auto planned = plan_workflow(st.graph);
    if (!planned)
      st.start_error = std::move(planned.error());
    else
      st.plan = std::move(*planned);
  }
  if (!st.start_error)
    st.start_error = check_start(*st.graph, start);
  if (!st.start_error)
    load_start(st, start, functions);
  return run_behavior(self);
}

}  // namespace workflow_run_detail

workflow_run_impl::behavior_type
workflow_run(workflow_run_impl::stateful_pointer<workflow_run_state> self,
             std::shared_ptr<const workflow_graph> graph, workflow_deps deps, workflow_start start,
             workflow_event_sink events) {
  return workflow_run_detail::planned_run(self, std::move(graph), nullptr, {}, std::move(deps),
                                          std::move(start), std::move(events));
}

caf::expected<workflow_run_actor>
spawn_workflow_run(caf::actor_system& sys, std::shared_ptr<const workflow_graph> graph,
                   workflow_deps deps, workflow_start start, workflow_event_sink events) {
  if (!graph)
    return make_error(errc::invalid_argument, "no workflow graph");
  if (!deps.functions)
    deps.functions = std::make_shared<const function_registry>();
  if (!deps.reducers)
    deps.reducers = std::make_shared<const reducer_registry>();
  // Binding every target is the name check of a cached plan; when one is
  // missing (or the graph is new) plan_workflow checks and words it.
  auto bound = workflow_run_detail::bind_targets(*graph, deps);
  auto plan = bound ? find_workflow_plan(graph) : nullptr;
  if (!plan) {
    graph_names names;
    names.has_agent = [&](const std::string& n) { return deps.agents.count(n) > 0; };
    names.has_tool = [&](const std::string& n) { return deps.tools.count(n) > 0; };
    names.has_function = [&](const std::string& n) { return deps.functions->contains(n); };
    names.has_reducer = [&](const std::string& n) { return deps.reducers->find(n) != nullptr; };
    auto planned = plan_workflow(graph, names);
    if (!planned)
      return std::move(planned.error());
    plan = std::move(*planned);
    AG_ASSERT(bound.has_value());  // the names plan_workflow passed are the ones bound
  }
  if (start.thread_id.empty())
    return make_error(errc::invalid_argument, "a workflow run needs a thread id");
  if (auto err = check_start(*graph, start))
    return err;
  // Lazy: the run starts on its first message (run_workflow_atom), so a
  // caller on a plain thread hands it to a worker once, not for its
  // initialisation and then again for that message.
  return workflow_run_actor{sys.spawn<caf::lazy_init>(workflow_run_detail::planned_run, std::move(graph),
                                      std::move(plan), std::move(*bound), std::move(deps),
                                      std::move(start), std::move(events))};
}

}  // namespace agentgraph
