#include "actors/tool/blocking_tool.hpp"

#include <string>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/tool/tool_common.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

namespace blocking_tool_detail {

struct blocking_tool_state {
  static inline const char* name = "agentgraph.blocking_tool";
  blocking_tool_config cfg;
  tool_counters counters;
  // Live worker threads, bounded by tool_inflight_max. Counted down when a
  // worker actor is down, not when its caller stops waiting: a worker stuck
  // in I/O past its timeout still holds a thread.
  uint32_t inflight = 0;
};

using self_ptr = tool_actor::stateful_pointer<blocking_tool_state>;

// Errors of our category come from the job and pass through unchanged. CAF's
// request_timeout means the worker missed its deadline; anything else (the
// worker died, e.g. out of memory) becomes a tool_error.
caf::error worker_failure(const std::string& tool, const caf::error& err,
                          std::chrono::milliseconds timeout) {
  return from_worker_error(err, "tool '" + tool + "' worker", timeout, errc::tool_error);
}

// One job on its own thread, then quit. The reply is delivered before quit()
// so it cannot be lost to the actor's termination.
caf::behavior blocking_worker(caf::event_based_actor* self, blocking_job job) {
  return {
    [self, job](invoke_atom, const Value& args) -> caf::result<Value> {
      auto rp = self->make_response_promise<Value>();
      auto out = job(args);
      if (out)
        rp.deliver(std::move(*out));
      else
        rp.deliver(std::move(out.error()));
      self->quit();
      return rp;
    },
  };
}

// A call refused before a worker started: counted, then answered with `err`.
caf::error refuse(blocking_tool_state& st, caf::error err,
                  std::chrono::steady_clock::time_point started) {
  ++st.counters.errors;
  st.cfg.metrics.calls.record_since(err, started);
  return err;
}

caf::result<tool_result> invoke(self_ptr self, tool_invocation& inv) {
  auto& st = self->state;
  const auto started = std::chrono::steady_clock::now();
  ++st.counters.calls;
  if (auto err = validate_arguments(st.cfg.spec, inv.arguments))
    return refuse(st, std::move(err), started);
  if (st.inflight >= tool_inflight_max)
    return refuse(st,
                  make_error(errc::overloaded, "tool '" + st.cfg.spec.name + "' has "
                                                 + std::to_string(tool_inflight_max)
                                                 + " calls running"),
                  started);
  ++st.inflight;
  AG_ASSERT(st.inflight <= tool_inflight_max);
  metrics::set(st.cfg.metrics.calls_in_flight, st.inflight);
  auto worker = self->spawn<caf::detached>(blocking_worker, st.cfg.job);
  self->monitor(worker);
  auto rp = self->make_response_promise<tool_result>();
  self->request(worker, st.cfg.worker_timeout, invoke_atom::value, std::move(inv.arguments))
    .then(
      [self, rp, started, call_id = inv.call_id](Value& out) mutable {
        self->state.cfg.metrics.calls.record_since(caf::none, started);
        rp.deliver(tool_result{call_id, std::move(out), false});
      },
      [self, rp, started](caf::error& err) mutable {
        auto& st = self->state;
        ++st.counters.errors;
        auto failure = worker_failure(st.cfg.spec.name, err, st.cfg.worker_timeout);
        st.cfg.metrics.calls.record_since(failure, started);
        rp.deliver(std::move(failure));
      });
  return rp;
}

tool_actor::behavior_type blocking_tool(self_ptr self, blocking_tool_config cfg) {
  self->state.cfg = std::move(cfg);
  // Only workers are monitored by this actor.
  self->set_down_handler([self](caf::down_msg&) {
    // One down per worker, each counted in when it was spawned.
    AG_ASSERT(self->state.inflight > 0);
    if (self->state.inflight > 0)
      --self->state.inflight;
    metrics::set(self->state.cfg.metrics.calls_in_flight, self->state.inflight);
  });
  metrics::set(self->state.cfg.metrics.calls_in_flight, 0);
  return {
    [self](invoke_atom, tool_invocation& inv) { return invoke(self, inv); },
    [self](describe_atom) { return self->state.cfg.spec; },
    [self](stats_atom) {
      AG_ASSERT(self->state.counters.errors <= self->state.counters.calls);  // one error per call at most
      return make_tool_stats(self->state.cfg.spec.name, self->state.counters);
    },
    [](ping_atom) { return pong_atom::value; },
  };
}

}  // namespace blocking_tool_detail

tool_actor spawn_blocking_tool(caf::actor_system& sys, blocking_tool_config cfg) {
  return sys.spawn(blocking_tool_detail::blocking_tool, std::move(cfg));
}

}  // namespace agentgraph
