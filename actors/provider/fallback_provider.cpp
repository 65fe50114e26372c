#include "actors/provider/fallback_provider.hpp"

#include <caf/exit_reason.hpp>

#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/resilience/fallback_chain.hpp"

namespace agentgraph {

bool falls_back_on(const caf::error& err) {
  auto code = errc_of(err);
  if (!code)
    return true;  // a CAF-level failure (no reply within member_timeout, member down)
  return *code != errc::invalid_argument && *code != errc::cancelled;
}

namespace fallback_provider_detail {

using self_ptr = fallback_provider_actor::stateful_pointer<fallback_provider_state>;

void finish(self_ptr self, const std::string& request_id) {
  self->state.calls.erase(request_id);
}

// Sends `req` to the call's current member; on a failure that allows it,
// to the next one. Delivers exactly once.
void try_member(self_ptr self, chat_request req, caf::typed_response_promise<chat_response> rp) {
  auto& st = self->state;
  auto it = st.calls.find(req.request_id);
  AG_ASSERT(it != st.calls.end());
  auto& call = it->second;
  // A call moves on only while a next member exists (`last` in on_error).
  AG_ASSERT(call.member < st.members.size());
  const auto& member = st.members[call.member];
  if (call.member > 0 && !member.model.empty())
    req.model = member.model;
  auto on_error = [self, req, rp](caf::error& err) mutable {
    auto& st = self->state;
    auto it = st.calls.find(req.request_id);
    if (it == st.calls.end())
      return;  // cancelled meanwhile and already answered
    auto& call = it->second;
    const auto& name = st.members[call.member].name;
    call.tried += (call.tried.empty() ? "" : "; ") + name + ": " + describe(err);
    const bool last = call.member + 1 >= st.members.size();
    if (call.cancelled || call.answer_started || last || !falls_back_on(err)) {
      ++st.stats.failed;
      std::string why = "fallback chain '" + st.chain_name + "' failed";
      if (call.answer_started)
        why += " after part of the answer was streamed (no fallback)";
      why += ": " + call.tried;
      auto code = errc_of(from_request_error(err, name)).value_or(errc::unavailable);
      finish(self, req.request_id);
      rp.deliver(make_error(code, why));
      return;
    }
    ++call.member;
    ++st.stats.fallbacks;
    log(log_severity::warn, "provider", "falling back",
        {{"chain", st.chain_name},
         {"from", name},
         {"to", st.members[call.member].name},
         {"request_id", req.request_id},
         {"error", describe(err)}});
    try_member(self, std::move(req), std::move(rp));
  };
  auto on_reply = [self, id = req.request_id, rp](chat_response& resp) mutable {
    ++self->state.stats.succeeded;
    finish(self, id);
    rp.deliver(std::move(resp));
  };
  // An invalid member (its supervisor gave up) fails inline, as down: the
  // next member is tried before this returns.
  const auto deadline = call_watch::clock::now() + st.member_timeout;
  if (call.sink)
    watched_request(self, st.watch, member.handle.get(), deadline, std::move(on_reply),
                    std::move(on_error), chat_stream_atom::value, req,
                    caf::actor_cast<stream_sink_actor>(self));
  else
    watched_request(self, st.watch, member.handle.get(), deadline, std::move(on_reply),
                    std::move(on_error), chat_atom::value, req);
}

caf::result<chat_response> start(self_ptr self, chat_request req, stream_sink_actor sink) {
  auto& st = self->state;
  ++st.stats.calls;
  if (st.calls.size() >= fallback_calls_max) {
    ++st.stats.rejected_overloaded;
    return make_error(errc::overloaded, "fallback chain '" + st.chain_name + "': "
                                          + std::to_string(fallback_calls_max)
                                          + " calls in progress");
  }
  if (req.request_id.empty())
    req.request_id = st.chain_name + "-call-" + std::to_string(st.next_call++);
  if (st.calls.count(req.request_id) > 0) {
    ++st.stats.failed;
    return make_error(errc::invalid_argument, "fallback chain '" + st.chain_name
                                                + "': request id '" + req.request_id
                                                + "' is already in progress");
  }
  fallback_call call;
  call.sink = std::move(sink);
  st.calls.emplace(req.request_id, std::move(call));
  AG_ASSERT(st.calls.size() <= fallback_calls_max);
  auto rp = self->make_response_promise<chat_response>();
  try_member(self, std::move(req), rp);
  return rp;
}

void forward_chunk(self_ptr self, stream_chunk& chunk) {
  auto it = self->state.calls.find(chunk.request_id);
  if (it == self->state.calls.end() || !it->second.sink || it->second.cancelled)
    return;  // a late chunk of a call that ended
  it->second.answer_started = true;
  self->send(it->second.sink, std::move(chunk));
}

}  // namespace fallback_provider_detail

fallback_provider_actor::behavior_type
fallback_provider(fallback_provider_actor::stateful_pointer<fallback_provider_state> self,
                  std::string chain_name, std::vector<fallback_member> members,
                  std::chrono::milliseconds member_timeout) {
  using namespace fallback_provider_detail;
  auto& st = self->state;
  st.chain_name = std::move(chain_name);
  st.members = std::move(members);
  st.member_timeout = member_timeout;
  st.stats.name = st.chain_name;
  st.stats.kind = "fallback";
  st.stats.breaker_state = "none";
  route_to_watch(self, &fallback_provider_state::watch);
  return {
    [self](chat_atom, chat_request& req) -> caf::result<chat_response> {
      return start(self, std::move(req), stream_sink_actor{});
    },
    [self](chat_stream_atom, chat_request& req,
           stream_sink_actor& sink) -> caf::result<chat_response> {
      if (!sink)
        return make_error(errc::invalid_argument, "chat_stream needs a valid stream sink");
      return start(self, std::move(req), std::move(sink));
    },
    [self](embed_atom, embed_request& req) -> caf::result<embed_response> {
      ++self->state.stats.calls;
      return self->delegate(self->state.members.front().handle.get(), embed_atom::value,
                            std::move(req));
    },
    [self](cancel_atom, const std::string& request_id) {
      auto it = self->state.calls.find(request_id);
      if (it == self->state.calls.end())
        return;
      it->second.cancelled = true;  // no further member; the member answers `cancelled`
      self->send(self->state.members[it->second.member].handle.get(), cancel_atom::value, request_id);
    },
    [self](stream_chunk& chunk) { forward_chunk(self, chunk); },
    [self](stats_atom) {
      auto out = self->state.stats;
      out.in_flight = self->state.calls.size();
      return out;
    },
    [](ping_atom) { return pong_atom::value; },
  };
}

caf::expected<provider_actor> spawn_fallback_provider(caf::actor_system& sys,
                                                      std::string chain_name,
                                                      std::vector<fallback_member> members,
                                                      std::chrono::milliseconds member_timeout) {
  std::vector<std::string> names;
  for (const auto& m : members) {
    if (!m.handle)
      return make_error(errc::invalid_argument,
                        "fallback chain '" + chain_name + "': member '" + m.name + "' has no handle");
    names.push_back(m.name);
  }
  if (auto err = validate_fallback_chain(names))
    return make_error(errc::invalid_argument,
                      "fallback chain '" + chain_name + "': " + error_context(err));
  return provider_actor{
    sys.spawn(fallback_provider, std::move(chain_name), std::move(members), member_timeout)};
}

}  // namespace agentgraph
