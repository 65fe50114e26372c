#include "actors/tool/agent_tool.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/tool/tool_common.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

namespace agent_tool_detail {

struct agent_tool_state {
  static inline const char* name = "agentgraph.agent_tool";
  tool_spec spec;
  std::string agent;  // the target's configured name, for outputs and errors
  dep<agent_actor> target;  // .get(): its current incarnation
  std::chrono::milliseconds timeout{0};
  tool_counters counters;
  uint32_t inflight = 0;  // bounded by tool_inflight_max
  uint64_t task_seq = 0;  // numbers sub-tasks whose call has no id
  tool_metrics metrics;
  call_watch watch{tool_inflight_max};  // sub-tasks: deadline and monitor on the agent
};

using self_ptr = tool_actor::stateful_pointer<agent_tool_state>;

using clock = std::chrono::steady_clock;

void on_reply(self_ptr self, caf::typed_response_promise<tool_result>& rp,
              const std::string& call_id, const task_result& res, clock::time_point started) {
  auto& st = self->state;
  AG_ASSERT(st.inflight > 0);  // each sub-task is answered once: reply or error
  --st.inflight;
  metrics::set(st.metrics.calls_in_flight, st.inflight);
  st.metrics.calls.record_since(caf::none, started);
  rp.deliver(tool_result{call_id, agent_answer(self->state.agent, res), false});
}

void on_error(self_ptr self, caf::typed_response_promise<tool_result>& rp,
              const caf::error& err, clock::time_point started) {
  auto& st = self->state;
  AG_ASSERT(st.inflight > 0);
  --st.inflight;
  metrics::set(st.metrics.calls_in_flight, st.inflight);
  ++st.counters.errors;
  auto failure = agent_failure(st.agent, err);
  st.metrics.calls.record_since(failure, started);
  rp.deliver(std::move(failure));
}

// A call refused before the agent got it: counted, then answered with `err`.
caf::error refuse(agent_tool_state& st, caf::error err, clock::time_point started) {
  ++st.counters.errors;
  st.metrics.calls.record_since(err, started);
  return err;
}

caf::result<tool_result> invoke(self_ptr self, tool_invocation& inv) {
  auto& st = self->state;
  const auto started = clock::now();
  ++st.counters.calls;
  if (auto err = validate_arguments(st.spec, inv.arguments))
    return refuse(st, std::move(err), started);
  if (st.inflight >= tool_inflight_max)
    return refuse(st,
                  make_error(errc::overloaded, "agent tool '" + st.spec.name + "' has "
                                                 + std::to_string(tool_inflight_max)
                                                 + " tasks running"),
                  started);
  ++st.inflight;
  AG_ASSERT(st.inflight <= tool_inflight_max);
  metrics::set(st.metrics.calls_in_flight, st.inflight);
  auto fallback = st.spec.name + "-" + std::to_string(self->id()) + "-"
                  + std::to_string(++st.task_seq);
  auto task = make_agent_task(inv.call_id, inv.arguments, fallback);
  auto rp = self->make_response_promise<tool_result>();
  watched_request(
    self, st.watch, st.target.get(), self->clock().now() + st.timeout,
    [self, rp, started, id = inv.call_id](task_result& res) mutable {
      on_reply(self, rp, id, res, started);
    },
    [self, rp, started](caf::error& err) mutable { on_error(self, rp, err, started); },
    execute_atom::value, std::move(task));
  return rp;
}

tool_actor::behavior_type agent_tool(self_ptr self, tool_config cfg, dep<agent_actor> target,
                                     tool_metrics metrics) {
  auto& st = self->state;
  st.metrics = std::move(metrics);
  metrics::set(st.metrics.calls_in_flight, 0);
  st.spec = agent_tool_spec(cfg.name, cfg.agent);
  st.agent = cfg.agent;
  st.target = std::move(target);
  st.timeout = cfg.timeout;
  route_to_watch(self, &agent_tool_state::watch);
  return {
    [self](invoke_atom, tool_invocation& inv) { return invoke(self, inv); },
    [self](describe_atom) { return self->state.spec; },
    [self](stats_atom) { return make_tool_stats(self->state.spec.name, self->state.counters); },
    [](ping_atom) { return pong_atom::value; },
  };
}

}  // namespace agent_tool_detail

tool_spec agent_tool_spec(const std::string& name, const std::string& agent) {
  tool_spec spec;
  spec.name = name;
  spec.description = "Hands a task, described in words, to the agent '" + agent
                     + "' and returns its answer.";
  spec.params = {{"task", "string", "what the agent should do, self-contained", true}};
  spec.deterministic = false;  // an agent's answer depends on its model and memory
  return spec;
}

task_request make_agent_task(const std::string& call_id, const Value& args,
                             const std::string& fallback_id) {
  task_request req;
  req.task_id = call_id.empty() ? fallback_id : call_id;
  if (const auto* task = args.find("task"); task != nullptr && task->is_string())
    req.input = task->as_string();
  return req;
}

Value agent_answer(const std::string& agent, const task_result& result) {
  Value out = Value::object();
  out["agent"] = result.agent.empty() ? agent : result.agent;
  out["answer"] = result.output;
  return out;
}

caf::error agent_failure(const std::string& agent, const caf::error& err) {
  auto mapped = from_request_error(err, "agent '" + agent + "'");
  if (errc_of(mapped) == errc::timeout)
    return make_error(errc::timeout, "agent '" + agent + "' did not answer in time: "
                                       + describe(mapped));
  return make_error(errc::tool_error, "agent '" + agent + "' failed: " + describe(mapped));
}

tool_actor spawn_agent_tool_actor(caf::actor_system& sys, const tool_config& cfg,
                                   dep<agent_actor> target, tool_metrics metrics) {
  return sys.spawn(agent_tool_detail::agent_tool, cfg, std::move(target), std::move(metrics));
}

}  // namespace agentgraph
