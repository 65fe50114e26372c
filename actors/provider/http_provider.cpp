#include "actors/provider/http_provider.hpp"

#include <algorithm>
#include <cstdlib>
#include <random>

#include <caf/exit_reason.hpp>

#include "actors/provider/http_provider_detail.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

namespace http_provider_detail {

// Distinct (model, dimensions) pairs with an embedding batch filling at
// once; a request for one more pair is sent alone rather than growing the
// table.
constexpr size_t open_batches_max = 64;

std::string who(const http_provider_state& st) {
  return "provider '" + st.cfg.name + "'";
}

void note_pipeline(http_provider_state& st) {
  // The admission queue's bounds are the provider's in_flight_max and waiting_max.
  AG_ASSERT(st.admission->in_flight() <= st.cfg.in_flight_max);
  AG_ASSERT(st.admission->waiting() <= st.cfg.waiting_max);
  auto& m = st.metrics;
  metrics::set(m.circuit_state, circuit_state_value(st.breaker->state()));
  metrics::set(m.queue_in_flight, static_cast<double>(st.admission->in_flight()));
  metrics::set(m.queue_waiting, static_cast<double>(st.admission->waiting()));
}

void note_answered(http_provider_state& st, const llm_call& call, const caf::error& err,
                   uint64_t callers) {
  st.metrics.requests.record(err, st.now() - call.accepted, callers);
}

llm_call* find_call(self_ptr self, uint64_t id) {
  auto it = self->state.calls.find(id);
  return it == self->state.calls.end() ? nullptr : it->second.get();
}

// Frees one admission slot and starts whatever waits for it. A start may end
// its call at once (deadline passed, breaker open) and free the slot again;
// the loop takes that over instead of recursing, so a long queue of calls
// refused one after another cannot grow the stack.
void release_slot(self_ptr self) {
  auto& st = self->state;
  ++st.slots_to_release;
  if (st.releasing_slots)
    return;
  st.releasing_slots = true;
  while (st.slots_to_release > 0) {
    --st.slots_to_release;
    auto done = st.admission->complete(st.now());
    for (auto expired : done.expired)
      finish_with_error(self, expired,
                        make_error(errc::timeout, who(st) + ": the call's deadline ("
                                                    + std::to_string(st.cfg.request_deadline.count())
                                                    + " ms) passed while it waited for a slot"));
    if (done.next) {
      if (auto* call = find_call(self, *done.next)) {
        call->holds_slot = true;
        begin_attempt(self, call->id);
      } else {
        ++st.slots_to_release;  // the queue handed back a call that ended meanwhile
      }
    }
  }
  st.releasing_slots = false;
  note_pipeline(st);
}

std::unique_ptr<llm_call> take_call(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto it = st.calls.find(id);
  if (it == st.calls.end())
    return nullptr;
  auto call = std::move(it->second);
  st.calls.erase(it);
  st.by_request_id.erase(call->request_id);
  if (call->holds_slot)
    release_slot(self);
  return call;
}

void finish_with_error(self_ptr self, uint64_t id, caf::error err) {
  auto& st = self->state;
  auto call = take_call(self, id);
  if (!call)
    return;
  if (call->direct && !call->direct->try_claim()) {
    // The I/O thread answered the caller a moment ago (its done event is
    // still on the way, and will find the call gone): it succeeded, so
    // count it that way (a shutdown, or a cancel that raced the answer).
    ++st.stats.succeeded;
    note_answered(st, *call, caf::none, 1);
    return;
  }
  if (call->rate_charged && st.limiter)
    st.limiter->correct(call->tokens_estimated, 0, st.now());  // nothing was consumed upstream
  const bool cancelled = errc_of(err) == errc::cancelled;
  const uint64_t callers = call->kind == call_kind::embed ? call->embed_waiters.size() : 1;
  (cancelled ? st.stats.cancelled : st.stats.failed) += callers;
  note_answered(st, *call, err, callers);
  log(cancelled ? log_severity::debug : log_severity::warn, "provider", "call failed",
      {{"name", st.cfg.name}, {"request_id", call->request_id}, {"error", describe(err)}});
  if (call->kind == call_kind::embed) {
    for (auto& w : call->embed_waiters)
      w.promise.deliver(err);
  } else if (call->direct) {
    // Claimed above; the promise stays unused (CAF 0.17 sends nothing for it).
    call->direct->caller->enqueue(call->direct->provider, call->direct->request.response_id(),
                                  caf::make_message(std::move(err)), self->context());
  } else {
    call->chat_promise.deliver(std::move(err));
  }
}

void admit(self_ptr self, std::unique_ptr<llm_call> call) {
  auto& st = self->state;
  const uint64_t id = call->id;
  const auto deadline = call->deadline;
  st.by_request_id.emplace(call->request_id, id);
  st.calls.emplace(id, std::move(call));
  auto r = st.admission->submit(id, id, deadline);
  switch (r.outcome) {
    case admission::started:
      find_call(self, id)->holds_slot = true;
      note_pipeline(st);
      begin_attempt(self, id);
      return;
    case admission::queued:
      note_pipeline(st);
      return;
    case admission::rejected:
      ++st.stats.rejected_overloaded;
      finish_with_error(self, id,
                        make_error(errc::overloaded,
                                   who(st) + ": " + std::to_string(st.cfg.in_flight_max)
                                     + " calls in flight and " + std::to_string(st.cfg.waiting_max)
                                     + " waiting (in_flight_max, waiting_max); try again later"));
      return;
  }
}

size_t prompt_chars(const chat_request& req) {
  size_t n = 0;
  for (const auto& m : req.messages) {
    n += m.content.size();
    for (const auto& c : m.tool_calls)
      n += c.name.size() + c.arguments.to_json().size();
  }
  for (const auto& t : req.tools)
    n += t.name.size() + t.description.size() + t.parameters.to_json().size();
  return n;
}

// The direct_reply of a plain chat call, or null when its promise does not
// answer its source itself (a forwarded request answers the next stage; a
// request id that is no request has nobody to answer).
std::shared_ptr<direct_reply> make_direct_reply(self_ptr self, caf::response_promise& promise,
                                                const std::string& model) {
  if (!promise.pending() || !promise.stages().empty() || !promise.source()
      || promise.id().is_async())
    return nullptr;
  auto d = std::make_shared<direct_reply>();
  d->caller = promise.source();
  d->provider = caf::actor_cast<caf::strong_actor_ptr>(self);
  d->request = promise.id();
  d->model = model;
  return d;
}

caf::result<chat_response> on_chat(self_ptr self, chat_request req, stream_sink_actor sink,
                                   call_kind kind) {
  auto& st = self->state;
  ++st.stats.calls;
  auto refuse = [&](errc code, std::string what) {
    ++st.stats.failed;
    st.metrics.requests.outcomes.failed(code);
    return make_error(code, who(st) + ": " + what);
  };
  if (kind == call_kind::chat_stream && !sink)
    return refuse(errc::invalid_argument, "chat_stream needs a valid stream sink");
  if (req.request_id.empty())
    req.request_id = st.cfg.name + "-call-" + std::to_string(st.next_call);
  if (st.by_request_id.count(req.request_id) > 0)
    return refuse(errc::invalid_argument,
                  "request id '" + req.request_id + "' is already in progress");
  if (req.model.empty())
    req.model = st.cfg.model;
  auto spec = st.codec->encode_chat(req, kind == call_kind::chat_stream);
  if (!spec) {
    auto code = errc_of(spec.error()).value_or(errc::invalid_argument);
    return refuse(code, error_context(spec.error()));
  }
  auto call = std::make_unique<llm_call>();
  call->id = st.next_call++;
  call->kind = kind;
  call->request_id = req.request_id;
  call->model = req.model;
  call->spec = std::move(*spec);
  call->tokens_estimated =
    estimate_request_tokens(prompt_chars(req), req.messages.size(), std::max(req.max_tokens, 0));
  call->accepted = st.now();
  call->deadline = call->accepted + st.cfg.request_deadline;
  call->sink = std::move(sink);
  call->chat_promise = self->make_response_promise<chat_response>();
  if (kind == call_kind::chat)
    call->direct = make_direct_reply(self, call->chat_promise, call->model);
  auto promise = call->chat_promise;
  admit(self, std::move(call));
  return promise;
}

// Sends one batch (one or more callers' inputs) upstream as one call.
void send_batch(self_ptr self, const embed_batch_key& key, http_provider_state::open_batch open) {
  auto& st = self->state;
  auto slices = open.batch.slices();
  auto req = open.batch.take(key);
  const size_t inputs = req.inputs.size();
  auto spec = st.codec->encode_embed(req);
  if (!spec) {
    auto err = make_error(errc_of(spec.error()).value_or(errc::invalid_argument),
                          who(st) + ": " + error_context(spec.error()));
    st.stats.failed += open.promises.size();
    st.metrics.requests.outcomes.failed(err, open.promises.size());
    for (auto& p : open.promises)
      p.deliver(err);
    return;
  }
  auto call = std::make_unique<llm_call>();
  call->id = st.next_call++;
  call->kind = call_kind::embed;
  call->request_id = st.cfg.name + "-embed-" + std::to_string(call->id);
  call->model = key.model;
  call->embed_dimensions = key.dimensions;
  call->spec = std::move(*spec);
  size_t chars = 0;
  for (const auto& s : slices)
    chars += s.chars;
  call->tokens_estimated = estimate_text_tokens(chars);
  call->accepted = st.now();
  call->deadline = call->accepted + st.cfg.request_deadline;
  for (size_t i = 0; i < slices.size(); ++i)
    call->embed_waiters.push_back({std::move(open.promises[i]), slices[i]});
  call->embed_slices = std::move(slices);
  ++st.stats.embed_batches;
  st.stats.embed_inputs += inputs;
  admit(self, std::move(call));
}

// Sends the batch filling for `key`, if any.
void flush_batch(self_ptr self, const embed_batch_key& key) {
  auto& st = self->state;
  auto it = st.batches.find(key);
  if (it == st.batches.end())
    return;
  auto open = std::move(it->second);
  st.batches.erase(it);
  send_batch(self, key, std::move(open));
}

caf::result<embed_response> on_embed(self_ptr self, embed_request req) {
  auto& st = self->state;
  ++st.stats.calls;
  if (req.inputs.empty() || req.model.empty()) {
    ++st.stats.failed;
    st.metrics.requests.outcomes.failed(errc::invalid_argument);
    return make_error(errc::invalid_argument, who(st) + ": embed needs a model and inputs");
  }
  const size_t inputs_max = st.cfg.embed_batch_inputs_max;
  auto promise = self->make_response_promise<embed_response>();
  // Only requests asking the same length share a batch: one upstream
  // request carries one `dimensions`.
  const embed_batch_key key{req.model, req.dimensions};
  const bool batching = st.cfg.embed_batch_window.count() > 0 && req.inputs.size() < inputs_max
                        && (st.batches.count(key) > 0 || st.batches.size() < open_batches_max);
  if (!batching) {
    http_provider_state::open_batch alone;
    alone.batch.add(std::move(req.inputs));
    alone.promises.push_back(promise);
    send_batch(self, key, std::move(alone));
    return promise;
  }
  if (auto it = st.batches.find(key);
      it != st.batches.end() && !it->second.batch.fits(req.inputs.size(), inputs_max))
    flush_batch(self, key);
  auto& open = st.batches[key];
  AG_ASSERT(st.batches.size() <= open_batches_max);
  if (open.batch.empty()) {
    open.seq = st.next_batch_seq++;
    self->delayed_send(self, st.cfg.embed_batch_window, batch_due_atom::value, key.model,
                       key.dimensions, open.seq);
  }
  open.batch.add(std::move(req.inputs));
  open.promises.push_back(promise);
  // Flushed above when the inputs would not fit; one promise per slice.
  AG_ASSERT(open.batch.size() <= inputs_max);
  AG_ASSERT(open.promises.size() == open.batch.slices().size());
  if (open.batch.size() >= inputs_max)
    flush_batch(self, key);
  return promise;
}

void on_cancel(self_ptr self, const std::string& request_id) {
  auto& st = self->state;
  auto it = st.by_request_id.find(request_id);
  if (it == st.by_request_id.end())
    return;  // answered already, or never ours
  auto* call = find_call(self, it->second);
  AG_ASSERT(call != nullptr);
  if (call->direct && call->direct->claimed.load(std::memory_order_acquire))
    return;  // the I/O thread has answered it; its done event settles the call
  if (call->phase == call_phase::queued) {
    (void) st.admission->cancel(call->id);
    note_pipeline(st);
  }
  abandon_http(self, *call, true);
  finish_with_error(self, call->id,
                    make_error(errc::cancelled, who(st) + ": request '" + request_id
                                                  + "' cancelled by its caller"));
}

provider_stats current_stats(self_ptr self) {
  auto& st = self->state;
  auto out = st.stats;
  out.name = st.cfg.name;
  out.kind = to_string(st.cfg.kind);
  out.breaker_state = to_string(st.breaker->state());
  out.breaker_opened = st.breaker->stats().opened;
  out.in_flight = st.admission->in_flight();
  out.waiting = st.admission->waiting();
  return out;
}

// CAF 0.17 leaves undelivered promises hanging when an actor stops; tell
// every caller and stop the transfers.
void fail_everything(self_ptr self) {
  auto& st = self->state;
  std::vector<uint64_t> ids;
  for (const auto& [id, call] : st.calls)
    ids.push_back(id);
  // Freed slots must not start queued calls now: stop the queue first.
  st.releasing_slots = true;
  for (auto id : ids) {
    if (auto* call = find_call(self, id))
      abandon_http(self, *call, true);
    finish_with_error(self, id, make_error(errc::unavailable, who(st) + " stopped"));
  }
  for (auto& [key, open] : st.batches) {
    st.metrics.requests.outcomes.failed(errc::unavailable, open.promises.size());
    for (auto& p : open.promises)
      p.deliver(make_error(errc::unavailable, who(st) + " stopped"));
  }
  st.batches.clear();
  // The gauges must not keep showing calls of a provider that is gone.
  metrics::set(st.metrics.queue_in_flight, 0);
  metrics::set(st.metrics.queue_waiting, 0);
}

}  // namespace http_provider_detail

http_provider_actor::behavior_type
http_provider(http_provider_actor::stateful_pointer<http_provider_state> self,
              provider_config cfg, std::shared_ptr<const wire_codec> codec,
              http_provider_deps deps) {
  using namespace http_provider_detail;
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.codec = std::move(codec);
  st.deps = std::move(deps);
  AG_ASSERT(st.deps.http != nullptr);
  if (!st.deps.clock)
    st.deps.clock = [self] { return self->clock().now(); };
  st.stats.name = st.cfg.name;
  st.stats.kind = to_string(st.cfg.kind);
  st.admission.emplace(admission_config{st.cfg.in_flight_max, st.cfg.waiting_max});
  if (st.cfg.requests_per_minute > 0 || st.cfg.tokens_per_minute > 0)
    st.limiter.emplace(rate_limit_config{st.cfg.requests_per_minute, st.cfg.tokens_per_minute,
                                         st.cfg.rate_wait_max},
                       st.now());
  st.breaker.emplace(breaker_config{st.cfg.breaker_failures, st.cfg.breaker_failure_ratio,
                                    st.cfg.breaker_window, st.cfg.breaker_window_min,
                                    st.cfg.breaker_cooldown, st.cfg.breaker_cooldown_max,
                                    st.cfg.breaker_probes});
  uint64_t seed = st.deps.jitter_seed;
  if (seed == 0)
    seed = (uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  st.retry.emplace(retry_config{st.cfg.retries_max, st.cfg.retry_delay, st.cfg.retry_delay_max,
                                st.cfg.retry_after_max,
                                st.cfg.retry_jitter},
                   seed);
  st.metrics = make_provider_metrics(st.deps.metrics, st.cfg.name, true);
  note_pipeline(st);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    fail_everything(self);
    self->quit(msg.reason);
  });
  return {
    [self](chat_atom, chat_request& req) -> caf::result<chat_response> {
      return on_chat(self, std::move(req), stream_sink_actor{}, call_kind::chat);
    },
    [self](chat_stream_atom, chat_request& req,
           stream_sink_actor& sink) -> caf::result<chat_response> {
      return on_chat(self, std::move(req), std::move(sink), call_kind::chat_stream);
    },
    [self](embed_atom, embed_request& req) -> caf::result<embed_response> {
      return on_embed(self, std::move(req));
    },
    [self](cancel_atom, const std::string& request_id) { on_cancel(self, request_id); },
    [self](stats_atom) { return current_stats(self); },
    [self](http_event_atom, http_event& ev) { on_http_event(self, ev); },
    [self](call_due_atom, uint64_t id, uint64_t attempt) {
      auto* call = find_call(self, id);
      // A stale timer: the call ended, or was cancelled and its id reused never.
      if (call == nullptr || call->attempt != attempt
          || (call->phase != call_phase::rate_wait && call->phase != call_phase::retry_wait))
        return;
      begin_attempt(self, id);
    },
    [self](batch_due_atom, const std::string& model, uint32_t dimensions, uint64_t seq) {
      const embed_batch_key key{model, dimensions};
      auto it = self->state.batches.find(key);
      if (it != self->state.batches.end() && it->second.seq == seq)
        flush_batch(self, key);
    },
    [](ping_atom) { return pong_atom::value; },
  };
}

std::string default_api_key_env(provider_kind kind) {
  switch (kind) {
    case provider_kind::openai: return "OPENAI_API_KEY";
    case provider_kind::anthropic: return "ANTHROPIC_API_KEY";
    case provider_kind::gemini: return "GEMINI_API_KEY";
    case provider_kind::openrouter: return "OPENROUTER_API_KEY";
    case provider_kind::scripted:
    case provider_kind::replay:
    case provider_kind::openai_compatible: break;  // local servers rarely want one
  }
  return {};
}

// The wire codec of an HTTP kind; nullopt for scripted and replay (not HTTP).
std::optional<wire_kind> wire_kind_of(provider_kind kind) {
  switch (kind) {
    case provider_kind::openai: return wire_kind::openai;
    case provider_kind::anthropic: return wire_kind::anthropic;
    case provider_kind::gemini: return wire_kind::gemini;
    case provider_kind::openrouter: return wire_kind::openrouter;
    case provider_kind::openai_compatible: return wire_kind::openai_compatible;
    case provider_kind::scripted:
    case provider_kind::replay: break;
  }
  return std::nullopt;
}

std::string resolve_api_key(const provider_config& cfg) {
  if (!cfg.api_key.empty())
    return cfg.api_key;
  auto var = cfg.api_key_env.empty() ? default_api_key_env(cfg.kind) : cfg.api_key_env;
  if (var.empty())
    return {};
  const char* value = std::getenv(var.c_str());
  return value == nullptr ? std::string{} : std::string{value};
}

caf::error check_api_key(const provider_config& cfg) {
  if (!cfg.api_key.empty())
    return caf::none;
  auto bad = [&](std::string what) {
    return make_error(errc::invalid_argument, "provider '" + cfg.name + "': " + what);
  };
  if (!cfg.api_key_env.empty()) {
    const char* value = std::getenv(cfg.api_key_env.c_str());
    if (value == nullptr || *value == '\0')
      return bad("no API key: api_key_env names the environment variable " + cfg.api_key_env
                 + ", which is unset or empty; set it or the key `api_key`");
    return caf::none;
  }
  auto var = default_api_key_env(cfg.kind);
  if (var.empty())
    return caf::none;  // openai_compatible without a key: a local server
  const char* value = std::getenv(var.c_str());
  if (value == nullptr || *value == '\0')
    return bad("no API key: set the environment variable " + var + " or the key `api_key`");
  return caf::none;
}

caf::expected<provider_actor> spawn_http_provider(caf::actor_system& sys,
                                                  const provider_config& cfg,
                                                  http_provider_deps deps) {
  auto bad = [&](std::string what) {
    return make_error(errc::invalid_argument, "provider '" + cfg.name + "': " + what);
  };
  if (!deps.http)
    return bad("no HTTP client was given to the provider (a bug in the caller)");
  auto kind = wire_kind_of(cfg.kind);
  if (!kind)
    return bad(std::string{"kind '"} + to_string(cfg.kind) + "' is not an HTTP provider kind");
  wire_settings ws;
  ws.kind = *kind;
  ws.base_url = cfg.base_url;
  ws.api_key = resolve_api_key(cfg);
  ws.anthropic_version = cfg.anthropic_version;
  ws.openrouter_referer = cfg.openrouter_referer;
  ws.openrouter_title = cfg.openrouter_title;
  ws.max_tokens_field = cfg.max_tokens_field;
  if (auto err = check_api_key(cfg))
    return err;
  if (cfg.breaker_window_min > cfg.breaker_window)
    return bad("breaker_window_min (" + std::to_string(cfg.breaker_window_min)
               + ") is above breaker_window (" + std::to_string(cfg.breaker_window) + ")");
  if (cfg.breaker_cooldown > cfg.breaker_cooldown_max)
    return bad("breaker_cooldown is above breaker_cooldown_max");
  if (cfg.retry_delay > cfg.retry_delay_max)
    return bad("retry_delay is above retry_delay_max");
  // Gemini's batchEmbedContents refuses more than 100 requests: a batch
  // that large would fail every caller in it.
  if (cfg.kind == provider_kind::gemini && cfg.embed_batch_inputs_max > 100)
    return bad("embed_batch_inputs_max (" + std::to_string(cfg.embed_batch_inputs_max)
               + ") is above 100, the most Gemini's batchEmbedContents takes");
  if (cfg.retry_jitter != jitter_mode::equal && cfg.retry_jitter != jitter_mode::full)
    return bad("retry_jitter must be equal or full");
  auto codec = make_wire_codec(std::move(ws));
  if (!codec)
    return make_error(errc_of(codec.error()).value_or(errc::invalid_argument),
                      "provider '" + cfg.name + "': " + error_context(codec.error()));
  std::shared_ptr<const wire_codec> shared = std::move(*codec);
  return provider_actor{sys.spawn(http_provider, cfg, std::move(shared), std::move(deps))};
}

}  // namespace agentgraph
