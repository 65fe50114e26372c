#include "actors/provider/caching_provider.hpp"

#include <caf/send.hpp>

#include "actors/provider/llm_cache_codec.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph {

namespace caching_provider_detail {

using self_ptr = caching_provider_actor::stateful_pointer<caching_provider_state>;

std::optional<chat_response> decode(self_ptr self, const std::string& bytes) {
  auto v = Value::from_msgpack(bytes);
  auto r = v ? response_from_value(*v) : std::nullopt;
  if (!r)
    log(log_severity::warn, "provider/cache", "undecodable cache entry: treated as a miss",
        {{"name", self->state.cfg.name}});
  return r;
}

// A hit: no tokens were spent on it.
void answer_hit(self_ptr self, chat_response r, const std::string& request_id,
                const stream_sink_actor& sink, caf::typed_response_promise<chat_response> rp) {
  ++self->state.hits;
  r.usage = {};
  if (sink)
    self->send(sink, stream_chunk{request_id, r.message.content, r.message.tool_calls});
  rp.deliver(std::move(r));
}

void ask_inner(self_ptr self, chat_request req, stream_sink_actor sink, std::string key,
               caf::typed_response_promise<chat_response> rp) {
  auto& st = self->state;
  ++st.misses;
  if (st.watch.size() >= llm_cache_inner_calls_max) {
    rp.deliver(make_error(errc::overloaded, st.cfg.name + ": "
                                              + std::to_string(llm_cache_inner_calls_max)
                                              + " calls on the provider in flight"));
    return;
  }
  auto on_reply = [self, key, rp](chat_response& r) mutable {
    self->state.cache->put(key, response_to_value(r).to_msgpack());
    rp.deliver(std::move(r));
  };
  auto on_error = [self, rp](caf::error& err) mutable {
    const auto& cfg = self->state.cfg;
    rp.deliver(from_request_error(std::move(err), cfg.name + ": provider", cfg.inner_timeout));
  };
  const auto deadline = call_watch::clock::now() + st.cfg.inner_timeout;
  if (sink)
    watched_request(self, st.watch, st.inner.get(), deadline, std::move(on_reply),
                    std::move(on_error), chat_stream_atom::value, std::move(req), std::move(sink));
  else
    watched_request(self, st.watch, st.inner.get(), deadline, std::move(on_reply),
                    std::move(on_error), chat_atom::value, std::move(req));
}

caf::result<chat_response> chat(self_ptr self, chat_request& req, stream_sink_actor sink) {
  auto& st = self->state;
  auto key = llm_cache_key(req);
  const auto tag = ++st.next_tag;
  auto found = st.cache->lookup(key, [me = caf::actor_cast<caf::actor>(self), tag](
                                       cache::l3_reply rep) {
    caf::anon_send(me, cache_l3_atom::value, tag, std::move(rep));  // Redis I/O thread
  });
  auto rp = self->make_response_promise<chat_response>();
  if (found.state == cache::found::hit)
    if (auto r = decode(self, found.value)) {
      answer_hit(self, std::move(*r), req.request_id, sink, rp);
      return rp;
    }
  AG_ASSERT(st.pending.count(tag) == 0);  // tags are never reused
  if (found.state == cache::found::pending)
    st.pending.emplace(tag, caching_provider_state::pending_call{std::move(req), std::move(sink),
                                                                 std::move(key), rp});
  else
    ask_inner(self, std::move(req), std::move(sink), std::move(key), rp);
  return rp;
}

void on_l3(self_ptr self, uint64_t tag, const cache::l3_reply& rep) {
  auto& st = self->state;
  auto it = st.pending.find(tag);
  if (it == st.pending.end())
    return;
  auto call = std::move(it->second);
  st.pending.erase(it);
  if (auto bytes = st.cache->complete(call.key, rep))
    if (auto r = decode(self, *bytes))
      return answer_hit(self, std::move(*r), call.req.request_id, call.sink, std::move(call.rp));
  ask_inner(self, std::move(call.req), std::move(call.sink), std::move(call.key),
            std::move(call.rp));
}

}  // namespace caching_provider_detail

caching_provider_actor::behavior_type
caching_provider(caching_provider_actor::stateful_pointer<caching_provider_state> self,
                 llm_cache_config cfg, dep<provider_actor> inner) {
  using namespace caching_provider_detail;
  auto& st = self->state;
  st.inner = std::move(inner);
  cache::multi_level_cache_config mc;
  mc.user = cache::cache_user::llm;
  mc.l1_entries_max = cfg.entries_max;
  mc.ttl = cfg.ttl;
  mc.tiers = cfg.tiers;
  st.cfg = std::move(cfg);
  auto made = cache::multi_level_cache::make(std::move(mc));
  AG_ASSERT(made);  // spawn_caching_provider checked the config
  st.cache.emplace(std::move(*made));
  route_to_watch(self, &caching_provider_state::watch);
  return {
    [self](chat_atom, chat_request& req) -> caf::result<chat_response> {
      return chat(self, req, {});
    },
    [self](chat_stream_atom, chat_request& req,
           stream_sink_actor& sink) -> caf::result<chat_response> {
      if (!sink)
        return make_error(errc::invalid_argument, "chat_stream needs a valid stream sink");
      return chat(self, req, sink);
    },
    [self](embed_atom, embed_request& req) -> caf::result<embed_response> {
      return self->delegate(self->state.inner.get(), embed_atom::value, std::move(req));
    },
    [self](cancel_atom, const std::string& id) {
      self->send(self->state.inner.get(), cancel_atom::value, id);
    },
    [self](stats_atom) -> caf::result<provider_stats> {
      return self->delegate(self->state.inner.get(), stats_atom::value);
    },
    [self](cache_l3_atom, uint64_t tag, cache::l3_reply& rep) { on_l3(self, tag, rep); },
    [](ping_atom) { return pong_atom::value; },
  };
}

caf::expected<provider_actor> spawn_caching_provider(caf::actor_system& sys, llm_cache_config cfg,
                                                     dep<provider_actor> inner) {
  if (!inner)
    return make_error(errc::invalid_argument, cfg.name + ": the LLM cache needs a provider");
  if (cfg.entries_max == 0 || cfg.ttl.count() <= 0)
    return make_error(errc::invalid_argument,
                      cfg.name + ": llm_cache_entries_max and llm_cache_ttl must be positive");
  return provider_actor{sys.spawn(caching_provider, std::move(cfg), std::move(inner))};
}

}  // namespace agentgraph
