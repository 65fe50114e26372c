#include "actors/tool/caching_tool.hpp"

#include <optional>
#include <unordered_map>

#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/tool/tool_common.hpp"
#include "runtime/cache/cache_message.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

namespace caching_tool_detail {

// The tool interface plus the L3 (Redis) lookup's answer to itself.
using caching_tool_actor =
  tool_actor::extend<caf::reacts_to<cache_l3_atom, uint64_t, cache::l3_reply>>;

using time_point = std::chrono::steady_clock::time_point;

// A call whose key is being looked up in L3.
struct pending_call {
  tool_invocation inv;
  std::string key;
  time_point started;
  caf::typed_response_promise<tool_result> rp;
};

struct caching_tool_state {
  static inline const char* name = "agentgraph.caching_tool";
  tool_spec spec;
  tool_actor inner;
  std::chrono::milliseconds inner_timeout{0};
  // Engaged at spawn; optional only because the cache has no default state.
  // L1 bounded by caching_tool_config::entries_max.
  std::optional<cache::multi_level_cache> cache;
  // L3 lookups in flight, by tag. Bounded by the Redis queue (redis_queue_max,
  // a lookup beyond it is a miss at once), and each one is answered within
  // about redis_timeout (redis_cache.hpp: every accepted request gets a reply).
  std::unordered_map<uint64_t, pending_call> pending;
  uint64_t next_tag = 0;
  tool_counters counters;
  uint64_t cache_hits = 0;    // answered from any level
  uint64_t cache_misses = 0;  // passed to the inner tool
  tool_metrics metrics;
  uint32_t inflight = 0;  // misses waiting for the inner tool (bounded by its tool_inflight_max)
};

using self_ptr = caching_tool_actor::stateful_pointer<caching_tool_state>;

caf::error inner_failure(const std::string& tool, const caf::error& err,
                         std::chrono::milliseconds timeout) {
  return from_request_error(err, "tool '" + tool + "'", timeout);
}

// A cached entry as the tool's answer; nothing when the bytes do not decode
// (written by another version, or corrupted in Redis): then the call is a miss.
std::optional<tool_result> decode_hit(caching_tool_state& st, std::string& call_id,
                                      const std::string& bytes, time_point started) {
  auto output = Value::from_msgpack(bytes);
  if (!output) {
    log(log_severity::warn, "tool/cache", "undecodable cache entry: treated as a miss",
        {{"tool", st.spec.name}});
    return std::nullopt;
  }
  ++st.cache_hits;
  metrics::inc(st.metrics.cache_hits);
  st.metrics.calls.record_since(caf::none, started);
  return tool_result{std::move(call_id), std::move(*output), true};
}

// A miss: the inner tool computes, the result is written through every level.
void run_inner(self_ptr self, tool_invocation inv, std::string key, time_point started,
               caf::typed_response_promise<tool_result> rp) {
  auto& st = self->state;
  ++st.cache_misses;
  metrics::inc(st.metrics.cache_misses);
  metrics::set(st.metrics.calls_in_flight, ++st.inflight);
  self->request(st.inner, st.inner_timeout, invoke_atom::value, std::move(inv))
    .then(
      [self, rp, key, started](tool_result& res) mutable {
        auto& s = self->state;
        AG_ASSERT(s.inflight > 0);  // each miss is answered once: reply or error
        metrics::set(s.metrics.calls_in_flight, --s.inflight);
        s.cache->put(key, res.output.to_msgpack());
        res.from_cache = false;
        s.metrics.calls.record_since(caf::none, started);
        rp.deliver(std::move(res));
      },
      [self, rp, started](caf::error& err) mutable {
        auto& s = self->state;
        AG_ASSERT(s.inflight > 0);
        metrics::set(s.metrics.calls_in_flight, --s.inflight);
        ++s.counters.errors;
        auto failure = inner_failure(s.spec.name, err, s.inner_timeout);
        s.metrics.calls.record_since(failure, started);
        rp.deliver(std::move(failure));
      });
}

caf::result<tool_result> invoke(self_ptr self, tool_invocation& inv) {
  auto& st = self->state;
  const auto started = std::chrono::steady_clock::now();
  ++st.counters.calls;
  auto key = tool_cache_key(st.spec.name, inv.arguments);
  const auto tag = ++st.next_tag;
  auto found = st.cache->lookup(key, [me = caf::actor_cast<caf::actor>(self), tag](
                                       cache::l3_reply rep) {
    // Redis I/O thread: hand over, never block here.
    caf::anon_send(me, cache_l3_atom::value, tag, std::move(rep));
  });
  if (found.state == cache::found::hit)
    if (auto res = decode_hit(st, inv.call_id, found.value, started))
      return std::move(*res);
  auto rp = self->make_response_promise<tool_result>();
  AG_ASSERT(st.pending.count(tag) == 0);  // tags are never reused
  if (found.state == cache::found::pending)
    st.pending.emplace(tag, pending_call{std::move(inv), std::move(key), started, rp});
  else
    run_inner(self, std::move(inv), std::move(key), started, rp);
  return rp;
}

void on_l3(self_ptr self, uint64_t tag, const cache::l3_reply& rep) {
  auto& st = self->state;
  auto it = st.pending.find(tag);
  if (it == st.pending.end())
    return;  // cannot happen: one reply per lookup; ignore rather than crash
  auto call = std::move(it->second);
  st.pending.erase(it);
  if (auto bytes = st.cache->complete(call.key, rep))
    if (auto res = decode_hit(st, call.inv.call_id, *bytes, call.started)) {
      call.rp.deliver(std::move(*res));
      return;
    }
  run_inner(self, std::move(call.inv), std::move(call.key), call.started, std::move(call.rp));
}

tool_stats stats(caching_tool_state& st) {
  auto& l1 = st.cache->l1().map();
  l1.purge_expired();
  // Every call ends as at most one hit or one miss (a lookup still in L3 as neither yet).
  AG_ASSERT(st.cache_hits + st.cache_misses <= st.counters.calls);
  AG_ASSERT(st.counters.errors <= st.cache_misses);  // only the inner tool fails
  auto out = make_tool_stats(st.spec.name, st.counters);
  out.cache_hits = st.cache_hits;
  out.cache_misses = st.cache_misses;
  out.cache_entries = l1.size();
  return out;
}

caching_tool_actor::behavior_type caching_tool(self_ptr self, tool_actor inner, tool_spec spec,
                                               cache::multi_level_cache cache,
                                               caching_tool_config cfg) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.inner = std::move(inner);
  st.inner_timeout = cfg.inner_timeout;
  st.cache.emplace(std::move(cache));
  st.metrics = std::move(cfg.metrics);
  metrics::set(st.metrics.calls_in_flight, 0);
  self->link_to(st.inner);
  return {
    [self](invoke_atom, tool_invocation& inv) { return invoke(self, inv); },
    [self](describe_atom) { return self->state.spec; },
    [self](stats_atom) { return stats(self->state); },
    [](ping_atom) { return pong_atom::value; },
    [self](cache_l3_atom, uint64_t tag, cache::l3_reply& rep) { on_l3(self, tag, rep); },
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
  cache::multi_level_cache_config mc;
  mc.user = cache::cache_user::tool;
  mc.l1_entries_max = cfg.entries_max;
  mc.ttl = cfg.ttl;
  mc.clock = cfg.clock;
  mc.tiers = cfg.tiers;
  auto cache = cache::multi_level_cache::make(std::move(mc));
  if (!cache)
    return std::move(cache.error());
  return tool_actor{sys.spawn(caching_tool_detail::caching_tool, std::move(inner),
                              std::move(spec), std::move(*cache), std::move(cfg))};
}

}  // namespace agentgraph
