#include "actors/provider/replay_provider.hpp"

#include <cmath>

#include <caf/exit_reason.hpp>

#include "actors/provider/scripted_provider.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

replay_plan plan_replay(const call_record& rec, const std::string& request_id, bool streamed,
                        replay_timing timing, double speed) {
  AG_ASSERT(speed > 0);
  auto scale = [&](int64_t us) -> int64_t {
    if (timing == replay_timing::none)
      return 0;
    return static_cast<int64_t>(std::llround(static_cast<double>(us) / speed));
  };
  replay_plan p;
  p.reply_us = scale(rec.latency_us);
  if (rec.error_code != errc::none)
    p.error = make_error(rec.error_code, rec.error_text);
  else if (rec.call == recorded_call::embed)
    p.embed = rec.embed;
  else
    p.chat = rec.chat;
  if (!streamed || rec.call == recorded_call::embed)
    return p;
  if (!rec.chunks.empty()) {
    // Offsets are ordered and within the latency (decode_recording_row), and
    // scaling keeps both.
    for (const auto& c : rec.chunks)
      p.chunks.push_back({scale(c.offset_us), stream_chunk{request_id, c.text, c.tool_calls}});
    return p;
  }
  if (rec.error_code != errc::none)
    return p;
  // Recorded by a plain chat: the whole text as one chunk, then the calls.
  const auto at = scale(rec.ttft_us >= 0 ? rec.ttft_us : rec.latency_us);
  const auto& msg = rec.chat.message;
  if (!msg.content.empty())
    p.chunks.push_back({at, stream_chunk{request_id, msg.content, {}}});
  if (!msg.tool_calls.empty())
    p.chunks.push_back({at, stream_chunk{request_id, {}, msg.tool_calls}});
  return p;
}

replay_plan plan_scripted(scripted_outcome outcome, const std::string& request_id,
                          bool streamed) {
  replay_plan p;
  p.reply_us = std::chrono::duration_cast<std::chrono::microseconds>(outcome.delay).count();
  if (outcome.error) {
    p.error = std::move(outcome.error);
    return p;
  }
  if (streamed)
    for (auto& c : make_stream_chunks(request_id, outcome.response))
      p.chunks.push_back({p.reply_us, std::move(c)});
  p.chat = std::move(outcome.response);
  return p;
}

caf::error replay_miss_error(const std::string& provider, const std::string& hash,
                             const std::string& path) {
  return make_error(errc::provider_error, "provider '" + provider
                                            + "' (replay): no recording for this request (hash "
                                            + hash + ") in " + path);
}

namespace replay_provider_detail {

using self_ptr = replay_provider_actor::stateful_pointer<replay_provider_state>;
using pending_call = replay_provider_state::pending_call;

// The next record of `hash` for a chat (or an embed), cycling in recorded
// order; null when the recording has none.
const call_record* next_record(replay_provider_state& st, const std::string& hash, bool embed) {
  auto it = st.rec->by_hash.find(hash);
  if (it == st.rec->by_hash.end())
    return nullptr;
  const auto& list = it->second;
  auto& c = st.cursor[hash];
  for (size_t tries = 0; tries < list.size(); ++tries) {
    const auto& r = list[c++ % list.size()];
    if ((r.call == recorded_call::embed) == embed)
      return &r;
  }
  return nullptr;
}

// Counts one answered call: stats and metrics.
void count_answer(self_ptr self, const caf::error& err, const token_usage* usage,
                  caf::actor_clock::time_point accepted) {
  auto& st = self->state;
  st.metrics.requests.record(err, self->clock().now() - accepted);
  if (err) {
    ++(errc_of(err) == errc::cancelled ? st.stats.cancelled : st.stats.failed);
    return;
  }
  ++st.stats.succeeded;
  if (usage != nullptr) {
    st.stats.prompt_tokens += usage->prompt_tokens;
    st.stats.completion_tokens += usage->completion_tokens;
    st.metrics.tokens.add(*usage);
  }
}

void send_chunks_until(self_ptr self, pending_call& p) {
  while (p.next_chunk < p.plan.chunks.size() && p.plan.chunks[p.next_chunk].at_us <= p.at_us) {
    if (p.sink) {
      self->send(p.sink, p.plan.chunks[p.next_chunk].chunk);
      ++self->state.stats.stream_chunks;
    }
    ++p.next_chunk;
  }
}

// The plan time of the next event: the next chunk, else the reply.
int64_t next_event_us(const pending_call& p) {
  return p.next_chunk < p.plan.chunks.size() ? p.plan.chunks[p.next_chunk].at_us
                                             : p.plan.reply_us;
}

void deliver(self_ptr self, pending_call& p) {
  auto& plan = p.plan;
  if (p.is_embed) {
    count_answer(self, plan.error, plan.error ? nullptr : &plan.embed.usage, p.accepted);
    if (plan.error)
      p.embed_rp.deliver(std::move(plan.error));
    else
      p.embed_rp.deliver(std::move(plan.embed));
    return;
  }
  count_answer(self, plan.error, plan.error ? nullptr : &plan.chat.usage, p.accepted);
  if (plan.error)
    p.chat_rp.deliver(std::move(plan.error));
  else
    p.chat_rp.deliver(std::move(plan.chat));
}

void schedule(self_ptr self, uint64_t seq, const pending_call& p) {
  const auto wait = std::chrono::microseconds{next_event_us(p) - p.at_us};
  AG_ASSERT(wait.count() >= 0);
  self->delayed_send(self, wait, replay_due_atom::value, seq);
}

// Runs the plan: everything now when nothing waits, else held on the
// pending table with one timer at a time.
void run(self_ptr self, pending_call p) {
  auto& st = self->state;
  send_chunks_until(self, p);
  if (p.next_chunk == p.plan.chunks.size() && p.plan.reply_us <= p.at_us) {
    deliver(self, p);
    return;
  }
  const auto seq = st.next_seq++;
  if (!p.is_embed)
    st.pending_ids.emplace(p.request_id, seq);
  auto& held = st.pending.emplace(seq, std::move(p)).first->second;
  AG_ASSERT(st.pending.size() <= replay_pending_max);
  schedule(self, seq, held);
}

// Refuses a call that cannot be held (bound, duplicate id) when its plan waits.
caf::error admit(self_ptr self, const std::string& request_id, bool is_embed) {
  auto& st = self->state;
  if (st.pending.size() >= replay_pending_max) {
    ++st.stats.rejected_overloaded;
    st.metrics.requests.outcomes.failed(errc::overloaded);
    return make_error(errc::overloaded, "provider '" + st.provider + "' (replay): "
                                          + std::to_string(replay_pending_max)
                                          + " requests already waiting");
  }
  if (!is_embed && st.pending_ids.count(request_id) > 0) {
    ++st.stats.failed;
    st.metrics.requests.outcomes.failed(errc::invalid_argument);
    return make_error(errc::invalid_argument, "provider '" + st.provider + "' (replay): request id '"
                                                + request_id + "' is already pending");
  }
  return caf::none;
}

// A call answered at once with an error, before any plan.
caf::error refuse(self_ptr self, caf::error err) {
  ++self->state.stats.failed;
  self->state.metrics.requests.outcomes.failed(err);
  return err;
}

caf::result<chat_response> start_chat(self_ptr self, const chat_request& req,
                                      const stream_sink_actor& sink) {
  auto& st = self->state;
  ++st.stats.calls;
  if (auto err = validate_chat_request(req))
    return refuse(self, std::move(err));
  const auto hash = chat_request_hash(req);
  const bool streamed = static_cast<bool>(sink);
  pending_call p;
  if (const auto* rec = next_record(st, hash, false)) {
    ++st.stats.replay_hits;
    p.plan = plan_replay(*rec, req.request_id, streamed, st.timing, st.speed);
  } else {
    ++st.stats.replay_misses;
    if (!st.rules)
      return refuse(self, replay_miss_error(st.provider, hash, st.rec->path));
    auto outcome = answer_scripted(*st.rules, req);
    if (!outcome)
      return refuse(self, std::move(outcome.error()));
    p.plan = plan_scripted(std::move(*outcome), req.request_id, streamed);
  }
  if (p.plan.reply_us > 0)
    if (auto err = admit(self, req.request_id, false))
      return err;
  p.request_id = req.request_id;
  p.sink = sink;
  p.accepted = self->clock().now();
  p.chat_rp = self->make_response_promise<chat_response>();
  auto rp = p.chat_rp;
  run(self, std::move(p));
  return rp;
}

caf::result<embed_response> start_embed(self_ptr self, const embed_request& req) {
  auto& st = self->state;
  ++st.stats.calls;
  const auto hash = embed_request_hash(req);
  pending_call p;
  p.is_embed = true;
  if (const auto* rec = next_record(st, hash, true)) {
    ++st.stats.replay_hits;
    p.plan = plan_replay(*rec, {}, false, st.timing, st.speed);
  } else {
    ++st.stats.replay_misses;
    if (!st.rules)
      return refuse(self, replay_miss_error(st.provider, hash, st.rec->path));
    auto out = scripted_embed(req, st.rules.get());
    if (!out)
      return refuse(self, std::move(out.error()));
    p.plan.embed = std::move(*out);
  }
  if (p.plan.reply_us > 0)
    if (auto err = admit(self, {}, true))
      return err;
  st.stats.embed_inputs += req.inputs.size();
  p.accepted = self->clock().now();
  p.embed_rp = self->make_response_promise<embed_response>();
  auto rp = p.embed_rp;
  run(self, std::move(p));
  return rp;
}

void forget(replay_provider_state& st, uint64_t seq, const pending_call& p) {
  if (!p.is_embed)
    st.pending_ids.erase(p.request_id);
  st.pending.erase(seq);
}

void on_due(self_ptr self, uint64_t seq) {
  auto& st = self->state;
  auto it = st.pending.find(seq);
  if (it == st.pending.end())
    return;  // cancelled: its timer still fires
  auto& p = it->second;
  p.at_us = next_event_us(p);
  send_chunks_until(self, p);
  if (p.next_chunk == p.plan.chunks.size() && p.plan.reply_us <= p.at_us) {
    auto done = std::move(p);
    forget(st, seq, done);
    deliver(self, done);
    return;
  }
  schedule(self, seq, p);
}

void on_cancel(self_ptr self, const std::string& request_id) {
  auto& st = self->state;
  auto id = st.pending_ids.find(request_id);
  if (id == st.pending_ids.end())
    return;  // answered already, or unknown
  auto it = st.pending.find(id->second);
  AG_ASSERT(it != st.pending.end());
  auto p = std::move(it->second);
  forget(st, id->second, p);
  auto err = make_error(errc::cancelled, "provider '" + st.provider + "' (replay): request '"
                                           + request_id + "' cancelled");
  count_answer(self, err, nullptr, p.accepted);
  p.chat_rp.deliver(std::move(err));
}

// CAF 0.17 does not fail undelivered promises when an actor stops: tell
// the waiting callers instead of leaving them to their timeouts.
void fail_pending(self_ptr self) {
  auto& st = self->state;
  for (auto& [seq, p] : st.pending) {
    auto err = make_error(errc::unavailable, "provider '" + st.provider
                                               + "' (replay) stopped before answering");
    st.metrics.requests.record(err, self->clock().now() - p.accepted);
    if (p.is_embed)
      p.embed_rp.deliver(std::move(err));
    else
      p.chat_rp.deliver(std::move(err));
  }
  st.pending.clear();
  st.pending_ids.clear();
}

}  // namespace replay_provider_detail

replay_provider_actor::behavior_type
replay_provider(replay_provider_actor::stateful_pointer<replay_provider_state> self,
                std::string provider, std::shared_ptr<const recording> rec,
                std::shared_ptr<const scripted_rules> rules, replay_timing timing, double speed,
                provider_metrics metrics) {
  using namespace replay_provider_detail;
  AG_ASSERT(rec != nullptr);
  auto& st = self->state;
  st.provider = std::move(provider);
  st.rec = std::move(rec);
  st.rules = std::move(rules);
  st.timing = timing;
  st.speed = speed;
  st.metrics = std::move(metrics);
  st.stats.name = st.provider;
  st.stats.kind = "replay";
  self->set_exit_handler([self](caf::exit_msg& msg) {
    fail_pending(self);
    self->quit(msg.reason);
  });
  return {
    [self](chat_atom, const chat_request& req) -> caf::result<chat_response> {
      return start_chat(self, req, stream_sink_actor{});
    },
    [self](chat_stream_atom, const chat_request& req,
           const stream_sink_actor& sink) -> caf::result<chat_response> {
      if (!sink)
        return make_error(errc::invalid_argument, "chat_stream needs a valid stream sink");
      return start_chat(self, req, sink);
    },
    [self](embed_atom, const embed_request& req) -> caf::result<embed_response> {
      return start_embed(self, req);
    },
    [self](cancel_atom, const std::string& id) { on_cancel(self, id); },
    [self](stats_atom) {
      auto out = self->state.stats;
      out.in_flight = self->state.pending.size();
      return out;
    },
    [self](replay_due_atom, uint64_t seq) { on_due(self, seq); },
    [](ping_atom) { return pong_atom::value; },
  };
}

caf::expected<std::shared_ptr<const recording>> load_replay_recording(const provider_config& cfg) {
  if (cfg.recording.empty())
    return make_error(errc::invalid_argument,
                      "provider '" + cfg.name + "' (kind replay): key `recording` (path of the "
                        "recording file) is missing or empty");
  auto rec = load_recording(cfg.recording, cfg.recording_entries_max);
  if (!rec)
    return make_error(errc_of(rec.error()).value_or(errc::internal),
                      "provider '" + cfg.name + "': " + error_context(rec.error()));
  return std::make_shared<const recording>(std::move(*rec));
}

caf::expected<provider_actor> spawn_replay_provider(caf::actor_system& sys,
                                                    const provider_config& cfg,
                                                    std::shared_ptr<const scripted_rules> rules,
                                                    std::shared_ptr<metrics::registry> registry) {
  auto rec = load_replay_recording(cfg);
  if (!rec)
    return std::move(rec.error());
  return provider_actor{sys.spawn(replay_provider, cfg.name, std::move(*rec), std::move(rules),
                                  cfg.timing, cfg.speed,
                                  make_provider_metrics(std::move(registry), cfg.name, false))};
}

}  // namespace agentgraph
