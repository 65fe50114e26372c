#include "actors/workflow/workflow_run_state.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "actors/workflow/workflow_codec.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph {

namespace workflow_run_detail {

using self_ptr = workflow_run_impl::stateful_pointer<workflow_run_state>;

void emit(self_ptr self, workflow_event_kind kind, std::string node = {}, Value data = {},
          std::string text = {}) {
  auto& st = self->state;
  if (!st.events)
    return;
  self->send(st.events, workflow_event{kind, st.thread_id, st.step, std::move(node),
                                       std::move(data), std::move(text)});
}

workflow_result make_result(const workflow_run_state& st, workflow_status status) {
  workflow_result r;
  r.thread_id = st.thread_id;
  r.status = status;
  r.state = st.state;
  r.steps = st.step;
  return r;
}

void finish(self_ptr self, workflow_result result) {
  auto& st = self->state;
  if (st.finished)
    return;
  st.finished = true;
  if (result.status == workflow_status::failed)
    emit(self, workflow_event_kind::run_failed, {}, {}, result.error);
  else if (result.status == workflow_status::interrupted) {
    Value next = Value::array();
    for (const auto& n : result.next)
      next.as_array().emplace_back(n);
    emit(self, workflow_event_kind::interrupted, {}, Value{Value::Object{{"next", next}}});
  } else
    emit(self, workflow_event_kind::run_completed, {}, st.state);
  st.promise.deliver(std::move(result));
  self->quit();
}

void fail(self_ptr self, const std::string& why) {
  auto r = make_result(self->state, workflow_status::failed);
  r.error = "workflow '" + self->state.graph->name + "' step " + std::to_string(self->state.step)
            + ": " + why;
  log(log_severity::warn, "workflow", "run failed",
      {{"thread_id", self->state.thread_id}, {"error", r.error}});
  finish(self, std::move(r));
}

void interrupt(self_ptr self, const std::set<std::string>& next) {
  auto r = make_result(self->state, workflow_status::interrupted);
  r.next.assign(next.begin(), next.end());
  finish(self, std::move(r));
}

void begin_step(self_ptr self);

// Every name in `active` was checked against the graph when the run
// started (check_start) or came from a validated edge, so a miss here is a
// bug, not bad input.
const node_spec& node_of(const workflow_run_state& st, const std::string& name) {
  const auto* node = st.graph->find_node(name);
  AG_ASSERT(node != nullptr);
  return *node;
}

workflow_pending pending_of(const workflow_run_state& st) {
  return workflow_pending{{st.active.begin(), st.active.end()}, st.joins};
}

// Saves the run's position, then calls `then` (or fails the run: a step
// that could not be saved must not be followed by effects of the next).
void save_then(self_ptr self, const char* source, std::function<void()> then) {
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
  self->request(st.checkpoints, st.checkpoint_timeout, checkpoint_put_atom::value, std::move(c))
    .then(
      [self, then = std::move(then)](uint64_t id) {
        self->state.parent_checkpoint = id;
        if (!self->state.finished)
          then();
      },
      [self](caf::error& err) { fail(self, "checkpoint write failed: " + describe(err)); });
}

void end_step(self_ptr self) {
  auto& st = self->state;
  const auto& g = *st.graph;
  AG_ASSERT(st.pending == 0 && !st.finished);  // every node of the step answered
  // Failed nodes follow their error edge, with the failure in `error`.
  std::set<std::string> next;
  for (const auto& [node, err] : st.failures) {
    const edge_spec* handler = nullptr;
    for (const auto& e : g.edges)
      if (e.kind == edge_kind::error && e.from.front() == node)
        handler = &e;
    if (handler == nullptr)
      return fail(self, "node '" + node + "' failed: " + describe(err));
    st.updates.emplace_back(node, Value{Value::Object{
                                    {"error", Value{Value::Object{{"node", node},
                                                                  {"message", describe(err)}}}}}});
    if (handler->to.front() != workflow_end)
      next.insert(handler->to.front());
  }
  // A node that asked for a human (its update holds workflow_interrupt_key)
  // has not completed: the run pauses after this step and the node runs
  // again on resume, when the state holds the answer. The requests go into
  // the state key `interrupt` (the run's own update, applied after the
  // nodes') so they are saved with the checkpoint; an earlier request is
  // cleared once a step passes without one.
  std::vector<interrupt_request> asks;
  std::set<std::string> asking;
  for (auto& [node, update] : st.updates)
    if (auto request = take_interrupt_request(update)) {
      asks.push_back(interrupt_request{node, std::move(*request)});
      asking.insert(node);
    }
  std::optional<Value> run_update;
  if (!asks.empty() || st.state.find(workflow_interrupt_state_key) != nullptr)
    run_update = to_interrupt_state_update(asks);
  if (auto err = apply_step(st.state, std::move(st.updates), g, *st.deps.reducers,
                            std::move(run_update)))
    return fail(self, describe(err));
  st.updates.clear();
  emit(self, workflow_event_kind::state_updated, {}, st.state);
  std::set<std::string> completed;
  for (const auto& n : st.active)
    if (st.failures.count(n) == 0 && asking.count(n) == 0)
      completed.insert(n);
  for (size_t i = 0; i < g.edges.size(); ++i) {
    const auto& e = g.edges[i];
    if (e.kind == edge_kind::error)
      continue;
    if (e.kind == edge_kind::join) {
      for (const auto& f : e.from)
        if (completed.count(f) > 0)
          st.joins[i].insert(f);
      AG_ASSERT(st.joins[i].size() <= e.from.size());  // only its sources (check_start)
      if (st.joins[i].size() == e.from.size()) {
        st.joins.erase(i);
        next.insert(e.to.front());
      }
      continue;
    }
    if (completed.count(e.from.front()) == 0)
      continue;
    if (e.kind == edge_kind::plain)
      next.insert(e.to.begin(), e.to.end());
    if (e.kind == edge_kind::conditional)
      for (const auto& b : e.branches)
        if (!b.when || evaluate(*b.when, st.state)) {
          next.insert(b.to);
          break;
        }
    if (e.kind == edge_kind::route) {
      const Value* v = st.state.find(e.route_key);
      std::string choice = v != nullptr && v->is_string() ? v->as_string() : "";
      // An agent's answer may carry whitespace or a trailing period.
      while (!choice.empty() && (std::isspace(static_cast<unsigned char>(choice.back()))
                                 || choice.back() == '.'))
        choice.pop_back();
      while (!choice.empty() && std::isspace(static_cast<unsigned char>(choice.front())))
        choice.erase(choice.begin());
      auto it = e.routes.find(choice);
      if (it == e.routes.end()) {
        std::string known;
        for (const auto& [c, to] : e.routes)
          known += (known.empty() ? "" : ", ") + c;
        return fail(self, "node '" + e.from.front() + "' chose route '" + choice
                            + "' (state key '" + e.route_key + "'), which is not one of: " + known);
      }
      next.insert(it->second);
    }
  }
  next.erase(workflow_end);
  next.insert(asking.begin(), asking.end());
  bool pause_after = !asking.empty();
  for (const auto& n : completed)
    pause_after = pause_after
                  || std::find(g.interrupt_after.begin(), g.interrupt_after.end(), n)
                       != g.interrupt_after.end();
  st.active = std::move(next);
  st.failures.clear();
  st.attempts.clear();
  st.request_nodes.clear();
  st.cache_keys.clear();
  save_then(self, "step", [self, pause_after] {
    auto& st = self->state;
    if (pause_after && !st.active.empty()) {
      // The asking nodes run again on resume: not stopped by interrupt_before.
      return interrupt(self, st.active);
    }
    self->send(self, workflow_step_atom::value);
  });
}

void node_done(self_ptr self) {
  auto& st = self->state;
  AG_ASSERT(st.pending > 0 && st.pending <= st.active.size());
  if (--st.pending == 0)
    end_step(self);
}

void run_node(self_ptr self, const std::string& name);

void node_failed(self_ptr self, const std::string& name, caf::error err) {
  auto& st = self->state;
  if (st.finished)
    return;
  AG_ASSERT(st.active.count(name) == 1);  // only nodes of the step in progress answer
  if (st.attempts[name] <= node_of(st, name).retries_max) {
    log(log_severity::info, "workflow", "retrying node",
        {{"thread_id", st.thread_id}, {"node", name}, {"error", describe(err)}});
    run_node(self, name);
    return;
  }
  emit(self, workflow_event_kind::node_failed, name, {}, describe(err));
  st.failures[name] = std::move(err);
  node_done(self);
}

void node_succeeded(self_ptr self, const std::string& name, Value update) {
  auto& st = self->state;
  if (st.finished)
    return;
  AG_ASSERT(st.active.count(name) == 1);
  if (auto k = st.cache_keys.find(name); k != st.cache_keys.end()) {
    st.node_caches.at(name).put(k->second, update.to_msgpack());
    st.cache_keys.erase(k);
  }
  emit(self, workflow_event_kind::node_completed, name, update);
  st.updates.emplace_back(name, std::move(update));
  node_done(self);
}

Value single(const std::string& key, Value v) {
  return Value{Value::Object{{key, std::move(v)}}};
}

// A tool node's arguments with every string value rendered from the state.
caf::expected<Value> render_arguments(const Value& arguments, const Value& state) {
  Value args = arguments;
  for (auto& [k, v] : args.as_object())
    if (v.is_string()) {
      auto rendered = render_template(v.as_string(), state);
      if (!rendered)
        return std::move(rendered.error());
      v = Value{std::move(*rendered)};
    }
  return args;
}

// What a cached node's key is made of: the node, its target and exactly
// what it would be given.
caf::expected<std::string> node_cache_key(const workflow_run_state& st, const node_spec& node) {
  std::string inputs;
  switch (node.kind) {
    case node_kind::agent: {
      auto in = render_template(node.input, st.state);
      if (!in)
        return std::move(in.error());
      inputs = Value{std::move(*in)}.to_json();
      break;
    }
    case node_kind::tool: {
      auto args = render_arguments(node.arguments, st.state);
      if (!args)
        return std::move(args.error());
      inputs = args->to_json();
      break;
    }
    case node_kind::function:
      inputs = st.state.to_json();
      break;
  }
  return st.graph->name + "\n" + node.name + "\n" + to_string(node.kind) + ":" + node.target + "\n"
         + inputs;
}

void run_node_uncached(self_ptr self, const std::string& name);

// A hit answers the node; a miss runs it (and node_succeeded stores the
// update); an L3 lookup answers later through on_cache_l3.
void run_node(self_ptr self, const std::string& name) {
  auto& st = self->state;
  const auto& node = node_of(st, name);
  if (node.cache_ttl.count() <= 0)
    return run_node_uncached(self, name);
  auto key = node_cache_key(st, node);
  if (!key)
    return run_node_uncached(self, name);  // the node itself reports the bad template
  if (st.node_caches.count(name) == 0) {
    cache::multi_level_cache_config mc;
    mc.user = cache::cache_user::node;
    mc.ttl = node.cache_ttl;
    mc.tiers = st.deps.cache;
    auto made = cache::multi_level_cache::make(std::move(mc));
    if (!made)
      return run_node_uncached(self, name);
    st.node_caches.emplace(name, std::move(*made));
  }
  const auto tag = ++st.next_cache_tag;
  auto found = st.node_caches.at(name).lookup(*key, [me = caf::actor_cast<caf::actor>(self), tag](
                                                       cache::l3_reply rep) {
    caf::anon_send(me, cache_l3_atom::value, tag, std::move(rep));  // Redis I/O thread
  });
  if (found.state == cache::found::hit)
    if (auto v = Value::from_msgpack(found.value); v && v->is_object())
      return node_succeeded(self, name, std::move(*v));
  st.cache_keys[name] = *key;
  if (found.state == cache::found::pending) {
    st.cache_pending[tag] = name;
    return;
  }
  run_node_uncached(self, name);
}

void on_cache_l3(self_ptr self, uint64_t tag, const cache::l3_reply& rep) {
  auto& st = self->state;
  auto it = st.cache_pending.find(tag);
  if (it == st.cache_pending.end() || st.finished)
    return;
  auto name = it->second;
  st.cache_pending.erase(it);
  if (auto bytes = st.node_caches.at(name).complete(st.cache_keys.at(name), rep))
    if (auto v = Value::from_msgpack(*bytes); v && v->is_object()) {
      st.cache_keys.erase(name);
      return node_succeeded(self, name, std::move(*v));
    }
  run_node_uncached(self, name);
}

void run_node_uncached(self_ptr self, const std::string& name) {
  auto& st = self->state;
  const auto& node = node_of(st, name);
  const uint32_t attempt = ++st.attempts[name];
  auto on_error = [self, name, timeout = node.timeout](caf::error& err) {
    node_failed(self, name, from_request_error(std::move(err), "node '" + name + "'", timeout));
  };
  switch (node.kind) {
    case node_kind::function: {
      auto out = (*st.deps.functions->find(node.target))(st.state);
      if (!out)
        return node_failed(self, name, std::move(out.error()));
      return node_succeeded(self, name, std::move(*out));
    }
    case node_kind::agent: {
      auto input = render_template(node.input, st.state);
      if (!input)
        return node_failed(self, name, std::move(input.error()));
      task_request task;
      task.task_id = st.thread_id + "/" + std::to_string(st.step) + "/" + name + "/"
                     + std::to_string(attempt);
      task.input = std::move(*input);
      // Model calls of this task are "<task_id>-<n>"; tokens name their node.
      st.request_nodes[task.task_id] = name;
      self
        ->request(st.deps.agents.at(node.target), node.timeout, execute_stream_atom::value,
                  std::move(task), caf::actor_cast<stream_sink_actor>(self))
        .then([self, name, key = node.output](task_result& r) {
                node_succeeded(self, name, single(key, Value{std::move(r.output)}));
              },
              std::move(on_error));
      return;
    }
    case node_kind::tool: {
      auto args = render_arguments(node.arguments, st.state);
      if (!args)
        return node_failed(self, name, std::move(args.error()));
      self
        ->request(st.deps.tools.at(node.target), node.timeout, invoke_atom::value,
                  tool_invocation{st.thread_id + "/" + name, std::move(*args)})
        .then([self, name, key = node.output](tool_result& r) {
                node_succeeded(self, name, single(key, std::move(r.output)));
              },
              std::move(on_error));
      return;
    }
  }
}

void begin_step(self_ptr self) {
  auto& st = self->state;
  const auto& g = *st.graph;
  if (st.active.empty()) {
    log(log_severity::debug, "workflow", "run completed",
        {{"thread_id", st.thread_id}, {"steps", std::to_string(st.step)}});
    return finish(self, make_result(st, workflow_status::completed));
  }
  for (const auto& n : st.active)
    if (std::find(g.interrupt_before.begin(), g.interrupt_before.end(), n)
          != g.interrupt_before.end()
        && st.resume_past.count(n) == 0)
      return interrupt(self, st.active);
  st.resume_past.clear();
  if (st.step >= g.max_steps)
    return fail(self, "stopped after max_steps (" + std::to_string(g.max_steps)
                        + ") super-steps with nodes still active");
  ++st.step;
  AG_ASSERT(st.step <= g.max_steps);
  st.pending = st.active.size();
  // Copy: a function node may finish the step (and change `active`) inline.
  const auto nodes = st.active;
  for (const auto& n : nodes) {
    emit(self, workflow_event_kind::node_started, n);
    run_node(self, n);
    if (st.finished)
      return;
  }
}

}  // namespace workflow_run_detail

workflow_run_impl::behavior_type
workflow_run(workflow_run_impl::stateful_pointer<workflow_run_state> self,
             std::shared_ptr<const workflow_graph> graph, workflow_deps deps, workflow_start start,
             workflow_event_sink events) {
  using namespace workflow_run_detail;
  auto& st = self->state;
  st.graph = std::move(graph);
  st.deps = std::move(deps);
  st.events = std::move(events);
  st.thread_id = std::move(start.thread_id);
  // Every spawn path checks the start already (spawn_workflow_run); this
  // one is for a behaviour spawned by hand, so that no path can reach a
  // node the graph lacks. A bad start answers its error and runs nothing.
  st.start_error = check_start(*st.graph, start);
  if (!st.deps.functions)
    st.deps.functions = std::make_shared<const function_registry>();
  if (!st.deps.reducers)
    st.deps.reducers = std::make_shared<const reducer_registry>();
  st.state = std::move(start.state);
  st.step = start.step;
  st.joins = std::move(start.joins);
  if (start.next.empty())
    st.active.insert(st.graph->entry);
  else
    st.active.insert(start.next.begin(), start.next.end());
  if (start.resuming)
    st.resume_past = st.active;
  st.checkpoints = std::move(start.checkpoints);
  st.parent_checkpoint = start.parent_checkpoint;
  st.checkpoint_timeout = start.checkpoint_timeout;
  return {
    [self](run_workflow_atom) -> caf::result<workflow_result> {
      auto& st = self->state;
      if (st.started)
        return make_error(errc::invalid_argument, "workflow run '" + st.thread_id
                                                    + "' was already started");
      AG_ASSERT(!st.finished);  // a run ends only after it started: it never starts again
      st.started = true;
      if (st.start_error)
        return st.start_error;
      st.promise = self->make_response_promise<workflow_result>();
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
      auto dash = chunk.request_id.rfind('-');
      auto it = st.request_nodes.find(chunk.request_id.substr(0, dash));
      if (it == st.request_nodes.end() || chunk.delta_text.empty())
        return;
      emit(self, workflow_event_kind::token, it->second,
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

caf::expected<workflow_run_actor>
spawn_workflow_run(caf::actor_system& sys, std::shared_ptr<const workflow_graph> graph,
                   workflow_deps deps, workflow_start start, workflow_event_sink events) {
  if (!graph)
    return make_error(errc::invalid_argument, "no workflow graph");
  if (!deps.functions)
    deps.functions = std::make_shared<const function_registry>();
  if (!deps.reducers)
    deps.reducers = std::make_shared<const reducer_registry>();
  graph_names names;
  names.has_agent = [&](const std::string& n) { return deps.agents.count(n) > 0; };
  names.has_tool = [&](const std::string& n) { return deps.tools.count(n) > 0; };
  names.has_function = [&](const std::string& n) { return deps.functions->contains(n); };
  names.has_reducer = [&](const std::string& n) { return deps.reducers->find(n) != nullptr; };
  if (auto err = validate_graph(*graph, names))
    return err;
  if (start.thread_id.empty())
    return make_error(errc::invalid_argument, "a workflow run needs a thread id");
  if (auto err = check_start(*graph, start))
    return err;
  return workflow_run_actor{sys.spawn(workflow_run, std::move(graph), std::move(deps),
                                      std::move(start), std::move(events))};
}

}  // namespace agentgraph
