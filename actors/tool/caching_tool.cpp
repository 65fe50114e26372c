#include "actors/tool/caching_tool.hpp"

#include <optional>

#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/tool/tool_common.hpp"
#include "runtime/error.hpp"
#include "runtime/metrics/series_ref.hpp"
#include "runtime/ttl_lru_cache.hpp"

namespace agentgraph {

namespace caching_tool_detail {

struct caching_tool_state {
  static inline const char* name = "agentgraph.caching_tool";
  tool_spec spec;
  tool_actor inner;
  std::chrono::milliseconds inner_timeout{0};
  // Engaged at spawn; optional only because the cache has no default state.
  // Bounded by caching_tool_config::entries_max.
  std::optional<ttl_lru_cache<std::string, Value>> cache;
  tool_counters counters;
  tool_metrics metrics;
  uint32_t inflight = 0;  // misses waiting for the inner tool (bounded by its tool_inflight_max)
};

using self_ptr = tool_actor::stateful_pointer<caching_tool_state>;

caf::error inner_failure(const std::string& tool, const caf::error& err,
                         std::chrono::milliseconds timeout) {
  if (err == caf::sec::request_timeout)
    return make_error(errc::timeout, "tool '" + tool + "' gave no result within "
                                       + std::to_string(timeout.count()) + " ms");
  return err;
}

caf::result<tool_result> invoke(self_ptr self, tool_invocation& inv) {
  auto& st = self->state;
  const auto started = std::chrono::steady_clock::now();
  ++st.counters.calls;
  auto key = tool_cache_key(st.spec.name, inv.arguments);
  if (auto hit = st.cache->get(key)) {
    metrics::inc(st.metrics.cache_hits);
    st.metrics.calls.record_since(caf::none, started);
    return tool_result{std::move(inv.call_id), std::move(*hit), true};
  }
  metrics::inc(st.metrics.cache_misses);
  metrics::set(st.metrics.calls_in_flight, ++st.inflight);
  auto rp = self->make_response_promise<tool_result>();
  self->request(st.inner, st.inner_timeout, invoke_atom::value, std::move(inv))
    .then(
      [self, rp, key, started](tool_result& res) mutable {
        auto& s = self->state;
        metrics::set(s.metrics.calls_in_flight, --s.inflight);
        s.cache->put(std::move(key), res.output);
        res.from_cache = false;
        s.metrics.calls.record_since(caf::none, started);
        rp.deliver(std::move(res));
      },
      [self, rp, started](caf::error& err) mutable {
        auto& s = self->state;
        metrics::set(s.metrics.calls_in_flight, --s.inflight);
        ++s.counters.errors;
        auto failure = inner_failure(s.spec.name, err, s.inner_timeout);
        s.metrics.calls.record_since(failure, started);
        rp.deliver(std::move(failure));
      });
  return rp;
}

tool_stats stats(caching_tool_state& st) {
  st.cache->purge_expired();
  auto out = make_tool_stats(st.spec.name, st.counters);
  const auto& c = st.cache->counters();
  out.cache_hits = c.hits;
  out.cache_misses = c.misses;
  out.cache_entries = st.cache->size();
  return out;
}

tool_actor::behavior_type caching_tool(self_ptr self, tool_actor inner, tool_spec spec,
                                       caching_tool_config cfg) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.inner = std::move(inner);
  st.inner_timeout = cfg.inner_timeout;
  st.cache.emplace(cfg.entries_max, cfg.ttl, std::move(cfg.clock));
  st.metrics = std::move(cfg.metrics);
  metrics::set(st.metrics.calls_in_flight, 0);
  self->link_to(st.inner);
  return {
    [self](invoke_atom, tool_invocation& inv) { return invoke(self, inv); },
    [self](describe_atom) { return self->state.spec; },
    [self](stats_atom) { return stats(self->state); },
    [](ping_atom) { return pong_atom::value; },
  };
}

}  // namespace caching_tool_detail

std::string tool_cache_key(const std::string& tool, const Value& args) {
  // Tool names cannot contain '\n' (the factory restricts them to
  // [A-Za-z0-9_-]), so the separator keeps keys of different tools apart.
  return tool + "\n" + args.to_json();
}

caf::expected<tool_actor> spawn_caching_tool(caf::actor_system& sys, tool_actor inner,
                                             tool_spec spec, caching_tool_config cfg) {
  const std::string prefix = "caching tool '" + spec.name + "': ";
  if (!spec.deterministic)
    return make_error(errc::invalid_argument,
                      prefix + "the tool is not deterministic, so its results cannot be cached");
  if (!inner)
    return make_error(errc::invalid_argument, prefix + "invalid inner tool handle");
  if (cfg.entries_max == 0)
    return make_error(errc::invalid_argument, prefix + "cache_entries_max must be at least 1");
  if (cfg.ttl <= std::chrono::milliseconds::zero())
    return make_error(errc::invalid_argument, prefix + "cache_ttl must be positive");
  if (!cfg.clock)
    return make_error(errc::invalid_argument, prefix + "no clock");
  return sys.spawn(caching_tool_detail::caching_tool, std::move(inner), std::move(spec),
                   std::move(cfg));
}

}  // namespace agentgraph
