// One node of a super-step: a registered function called inline, an agent
// or a tool asked by a watched request (its reply ends the node later; its
// deadline and a monitor on the callee are the run's call_watch), or the
// node's cached update (L1/L2 at once, L3 through on_cache_l3). The step
// logic around it is workflow_run.cpp.
#include <string>

#include "actors/workflow/workflow_run_state.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph::workflow_run_detail {

void run_node_uncached(self_ptr self, node_rank r);

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

// A hit answers the node; a miss runs it (and node_succeeded stores the
// update); an L3 lookup answers later through on_cache_l3.
void run_node(self_ptr self, node_rank r) {
  auto& st = self->state;
  const auto& node = st.plan->node(*st.graph, r);
  if (node.cache_ttl.count() <= 0)
    return run_node_uncached(self, r);
  auto key = node_cache_key(st, node);
  if (!key)
    return run_node_uncached(self, r);  // the node itself reports the bad template
  const auto& name = node.name;
  if (st.node_caches.count(name) == 0) {
    cache::multi_level_cache_config mc;
    mc.user = cache::cache_user::node;
    mc.ttl = node.cache_ttl;
    mc.tiers = st.deps.cache;
    auto made = cache::multi_level_cache::make(std::move(mc));
    if (!made)
      return run_node_uncached(self, r);
    st.node_caches.emplace(name, std::move(*made));
  }
  const auto tag = ++st.next_cache_tag;
  auto found = st.node_caches.at(name).lookup(*key, [me = caf::actor_cast<caf::actor>(self), tag](
                                                       cache::l3_reply rep) {
    caf::anon_send(me, cache_l3_atom::value, tag, std::move(rep));  // Redis I/O thread
  });
  if (found.state == cache::found::hit)
    if (auto v = Value::from_msgpack(found.value); v && v->is_object())
      return node_succeeded(self, r, std::move(*v));
  st.cache_keys[name] = *key;
  if (found.state == cache::found::pending) {
    st.cache_pending[tag] = name;
    return;
  }
  run_node_uncached(self, r);
}

void on_cache_l3(self_ptr self, uint64_t tag, const cache::l3_reply& rep) {
  auto& st = self->state;
  auto it = st.cache_pending.find(tag);
  if (it == st.cache_pending.end() || st.finished)
    return;
  auto name = it->second;
  st.cache_pending.erase(it);
  auto r = st.plan->rank_of(*st.graph, name);
  AG_ASSERT(r.has_value());  // cache_pending holds names of this graph's nodes
  if (auto bytes = st.node_caches.at(name).complete(st.cache_keys.at(name), rep))
    if (auto v = Value::from_msgpack(*bytes); v && v->is_object()) {
      st.cache_keys.erase(name);
      return node_succeeded(self, *r, std::move(*v));
    }
  run_node_uncached(self, *r);
}

// "<thread>/<step>/<node>/<attempt>": the agent's task id. Its model calls
// are "<task_id>-<n>", which is how tokens find their node.
std::string agent_task_id(const workflow_run_state& st, const std::string& node, uint32_t attempt) {
  std::string id;
  id.reserve(st.thread_id.size() + node.size() + 24);
  id.append(st.thread_id).append("/").append(std::to_string(st.step)).append("/");
  id.append(node).append("/").append(std::to_string(attempt));
  return id;
}

void run_node_uncached(self_ptr self, node_rank r) {
  auto& st = self->state;
  const auto& node = st.plan->node(*st.graph, r);
  const uint32_t attempt = ++st.attempts[r];
  auto on_error = [self, r, timeout = node.timeout](caf::error& err) {
    const auto& name = name_of(self->state, r);
    node_failed(self, r, from_request_error(std::move(err), "node '" + name + "'", timeout));
  };
  switch (node.kind) {
    case node_kind::function: {
      const auto* fn = st.functions[r];
      if (fn == nullptr)  // only a run spawned by hand skips the name check
        return node_failed(self, r, make_error(errc::invalid_argument,
                                               "no function named '" + node.target + "'"));
      auto out = (*fn)(st.state);
      if (!out)
        return node_failed(self, r, std::move(out.error()));
      return node_succeeded(self, r, std::move(*out));
    }
    case node_kind::agent: {
      auto input = render_template(node.input, st.state);
      if (!input)
        return node_failed(self, r, std::move(input.error()));
      task_request task;
      task.task_id = agent_task_id(st, node.name, attempt);
      task.input = std::move(*input);
      auto on_result = [self, r](task_result& res) {
        const auto& key = self->state.plan->node(*self->state.graph, r).output;
        node_succeeded(self, r, single(key, Value{std::move(res.output)}));
      };
      const auto& agent = st.deps.agents.at(node.target);
      const auto deadline = call_watch::clock::now() + node.timeout;
      if (!st.events) {  // nobody listens for tokens: a plain task, same result
        watched_request(self, st.watch, agent, deadline, std::move(on_result), std::move(on_error),
                        execute_atom::value, std::move(task));
        return;
      }
      st.request_nodes[task.task_id] = r;
      watched_request(self, st.watch, agent, deadline, std::move(on_result), std::move(on_error),
                      execute_stream_atom::value, std::move(task),
                      caf::actor_cast<stream_sink_actor>(self));
      return;
    }
    case node_kind::tool: {
      auto args = render_arguments(node.arguments, st.state);
      if (!args)
        return node_failed(self, r, std::move(args.error()));
      watched_request(
        self, st.watch, st.deps.tools.at(node.target), call_watch::clock::now() + node.timeout,
        [self, r](tool_result& res) {
          const auto& key = self->state.plan->node(*self->state.graph, r).output;
          node_succeeded(self, r, single(key, std::move(res.output)));
        },
        std::move(on_error), invoke_atom::value,
        tool_invocation{st.thread_id + "/" + node.name, std::move(*args)});
      return;
    }
  }
}

}  // namespace agentgraph::workflow_run_detail
