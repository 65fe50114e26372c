// One HTTP attempt of a call: the rate limiter and breaker gates, the
// request, the I/O thread's reports, and what each outcome means for the
// breaker, the rate limiter, the retry policy and the caller.
#include <algorithm>
#include <optional>
#include <utility>

#include "actors/provider/http_provider_detail.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

void direct_reply::deliver(chat_response resp) const {
  AG_ASSERT(claimed.load(std::memory_order_acquire));
  if (resp.model.empty())
    resp.model = model;
  caller->enqueue(provider, request.response_id(), caf::make_message(std::move(resp)), nullptr);
}

}  // namespace agentgraph

namespace agentgraph::http_provider_detail {

using std::chrono::milliseconds;

// A streamed error answer (non-2xx) is kept for its message up to this size.
constexpr size_t error_body_bytes_max = 64 * 1024;

// What the retry policy should make of a transport failure. Failures that
// are ours, not the network's (a bad request, a callback bug, the client
// shutting down), are not retried: nullopt.
std::optional<transport_failure> to_transport_failure(net::transport_error e) {
  using net::transport_error;
  switch (e) {
    case transport_error::connect_timeout:
    case transport_error::total_timeout:
    case transport_error::stream_idle_timeout:
      return transport_failure::timeout;
    case transport_error::connect_refused:
      return transport_failure::connection_refused;
    case transport_error::dns:
      return transport_failure::dns_failure;
    case transport_error::connection_reset:
    case transport_error::other:
      return transport_failure::connection_reset;
    case transport_error::tls:
      return transport_failure::tls_failure;
    case transport_error::protocol:
      return transport_failure::malformed_response;
    case transport_error::response_too_large:
    case transport_error::headers_too_large:
      return transport_failure::response_too_large;
    case transport_error::none:
    case transport_error::invalid_request:
    case transport_error::cancelled:
    case transport_error::callback_failed:
      return std::nullopt;
  }
  return std::nullopt;
}

// Whether an outcome says the endpoint is unwell (the breaker counts it) or
// only that this request was wrong (400, 401, 404, 422: the breaker hears a
// success, since the endpoint answered).
bool endpoint_failure(const attempt_failure& f) {
  if (f.transport != transport_failure::none)
    return f.transport != transport_failure::response_too_large;
  return f.http_status == 408 || f.http_status == 429 || f.http_status >= 500;
}

void abandon_http(self_ptr self, llm_call& call, bool report_probe) {
  auto& st = self->state;
  if (call.phase == call_phase::in_flight && call.http_id) {
    st.deps.http->cancel(*call.http_id);
    // Every admitted request must report once; a probe that will never
    // report would hold the half-open slot forever. Count it as failed:
    // nothing proved the endpoint healthy.
    if (report_probe && call.breaker_probe)
      st.breaker->on_failure(st.now());
  }
  call.http_id.reset();
  ++call.attempt;  // later reports of the abandoned transfer are stale
  note_pipeline(st);
}

bool is_success(long status) {
  return status >= 200 && status < 300;
}

// A 2xx chat body decoded on the I/O thread: claim the answer for the I/O
// thread when the call allows it and nobody answered it yet (post_done
// then gives it to the caller); else the response is the actor's.
void answer_chat(http_event& ev, direct_reply* direct, chat_response resp) {
  if (direct != nullptr && direct->try_claim()) {
    ev.usage = resp.usage;
    ev.answered = true;
  }
  // Not claimed: no direct reply, or the actor ended the call (cancel,
  // shutdown) and this event will find it gone.
  ev.chat = std::move(resp);
}

void post_done(const caf::actor& provider, const wire_codec& codec, call_kind kind,
               uint64_t call, uint64_t attempt, direct_reply* direct,
               uint32_t embed_dimensions, net::http_result r) {
  auto ev = done_event(codec, kind, call, attempt, direct, embed_dimensions, std::move(r));
  std::optional<chat_response> answer;
  if (ev.answered)
    answer = std::exchange(ev.chat, std::nullopt);
  caf::anon_send(provider, http_event_atom::value, std::move(ev));
  if (answer)
    direct->deliver(std::move(*answer));
}

http_event done_event(const wire_codec& codec, call_kind kind, uint64_t call, uint64_t attempt,
                      direct_reply* direct, uint32_t embed_dimensions, net::http_result r) {
  http_event ev;
  ev.kind = http_event::what::done;
  ev.call = call;
  ev.attempt = attempt;
  ev.transport = r.transport;
  if (!r.response) {
    ev.error = std::move(r.response.error());
    return ev;
  }
  auto& resp = *r.response;
  ev.status = resp.status;
  ev.connections_opened = resp.connections_opened;
  if (kind == call_kind::chat_stream)
    return ev;  // the body went to on_data, the headers to on_headers
  const int status = static_cast<int>(resp.status);
  // The codecs return errors for any input; a throw (memory) must not reach
  // the I/O loop, which would terminate: it becomes this attempt's error.
  try {
    if (!is_success(resp.status)) {
      ev.error = codec.decode_error(status, resp.body);
    } else if (kind == call_kind::chat) {
      if (auto decoded = codec.decode_chat(status, resp.body))
        answer_chat(ev, direct, std::move(*decoded));
      else
        ev.error = std::move(decoded.error());
    } else {
      if (auto decoded = codec.decode_embed(status, resp.body, embed_dimensions))
        ev.embed = std::move(*decoded);
      else
        ev.error = std::move(decoded.error());
    }
  } catch (const std::exception& e) {
    ev.error = make_error(errc::provider_error,
                          std::string{"decoding the answer failed: "} + e.what());
  }
  if (ev.error)  // a failure: the retry policy reads Retry-After from these
    ev.headers = std::move(resp.headers);
  return ev;
}

void send_attempt(self_ptr self, llm_call& call) {
  auto& st = self->state;
  const auto now = st.now();
  net::http_request req;
  req.method = call.spec.method;
  req.url = call.spec.url;
  req.headers = call.spec.headers;
  req.body = call.spec.body;
  req.stream = call.spec.stream;
  auto left = std::chrono::duration_cast<milliseconds>(call.deadline - now);
  req.total_timeout = std::max(milliseconds{1}, std::min(st.cfg.timeout, left));
  if (req.stream)  // the client asks streams for no compression (see http_client)
    req.stream_idle_timeout = st.cfg.stream_idle_timeout;
  ++call.attempt;
  call.status = 0;
  call.headers.clear();
  call.error_body.clear();
  call.parser.reset();
  call.decoder.reset();
  // The I/O thread only posts messages; it never touches the call.
  auto me = caf::actor_cast<caf::actor>(self);
  const uint64_t id = call.id;
  const uint64_t attempt = call.attempt;
  net::http_handlers h;
  if (req.stream) {
    h.on_headers = [me, id, attempt](long status, const net::http_headers& headers) {
      http_event ev;
      ev.kind = http_event::what::headers;
      ev.call = id;
      ev.attempt = attempt;
      ev.status = status;
      ev.headers = headers;
      caf::anon_send(me, http_event_atom::value, std::move(ev));
    };
    h.on_data = [me, id, attempt](std::string_view chunk) {
      http_event ev;
      ev.kind = http_event::what::data;
      ev.call = id;
      ev.attempt = attempt;
      ev.bytes.assign(chunk);
      caf::anon_send(me, http_event_atom::value, std::move(ev));
    };
  }
  h.on_complete = [me, id, attempt, kind = call.kind, codec = st.codec, direct = call.direct,
                   dims = call.embed_dimensions](net::http_result r) {
    post_done(me, *codec, kind, id, attempt, direct.get(), dims, std::move(r));
  };
  auto hid = st.deps.http->submit(std::move(req), std::move(h));
  if (!hid) {
    if (call.breaker_probe)
      st.breaker->on_failure(now);
    if (errc_of(hid.error()) == errc::overloaded)
      ++st.stats.rejected_overloaded;
    finish_with_error(self, call.id,
                      make_error(errc_of(hid.error()).value_or(errc::internal),
                                 who(st) + ": " + error_context(hid.error())));
    return;
  }
  call.http_id = *hid;
  call.phase = call_phase::in_flight;
  ++st.stats.attempts;
  metrics::inc(st.metrics.attempts);
}

void begin_attempt(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto* call = find_call(self, id);
  if (call == nullptr)
    return;
  AG_ASSERT(call->holds_slot);
  const auto now = st.now();
  if (now >= call->deadline) {
    finish_with_error(self, id,
                      make_error(errc::timeout, who(st) + ": the call's deadline ("
                                                  + std::to_string(st.cfg.request_deadline.count())
                                                  + " ms, request_deadline) passed after "
                                                  + std::to_string(call->retries_done)
                                                  + " retries"));
    return;
  }
  if (st.limiter && !call->rate_charged) {
    auto r = st.limiter->try_acquire(call->tokens_estimated, now);
    if (r.outcome == acquire_outcome::wait) {
      ++st.stats.rate_waits;
      metrics::inc(st.metrics.rate_limit_waits);
      call->phase = call_phase::rate_wait;
      auto wait = std::chrono::ceil<milliseconds>(r.wait);
      auto left = std::chrono::ceil<milliseconds>(call->deadline - now);
      self->delayed_send(self, std::clamp(wait, milliseconds{1}, std::max(left, milliseconds{1})),
                         call_due_atom::value, id, call->attempt);
      return;
    }
    if (r.outcome == acquire_outcome::refused) {
      ++st.stats.rejected_overloaded;
      finish_with_error(
        self, id,
        make_error(errc::overloaded,
                   who(st) + ": the " + r.limited_by + "-per-minute limit would hold this call "
                     + std::to_string(std::chrono::ceil<milliseconds>(r.wait).count())
                     + " ms, above rate_wait_max ("
                     + std::to_string(st.cfg.rate_wait_max.count()) + " ms)"));
      return;
    }
    call->rate_charged = true;
  }
  auto adm = st.breaker->allow(now);
  note_pipeline(st);
  if (!adm.allowed) {
    ++st.stats.breaker_rejected;
    auto until = std::chrono::ceil<milliseconds>(st.breaker->open_until() - now).count();
    finish_with_error(self, id,
                      make_error(errc::unavailable,
                                 who(st) + ": circuit breaker " + to_string(adm.state)
                                   + (adm.state == breaker_state::open
                                        ? " for another " + std::to_string(std::max<int64_t>(until, 0))
                                            + " ms"
                                        : std::string{" (probe in flight)"})
                                   + " after repeated failures"));
    return;
  }
  call->breaker_probe = adm.probe;
  send_attempt(self, *call);
}

// The attempt failed. Tell the breaker and the rate limiter, then retry
// after a wait or give the caller the error.
void attempt_failed(self_ptr self, llm_call& call, attempt_failure failure, caf::error err,
                    const net::http_headers* headers) {
  auto& st = self->state;
  const auto now = st.now();
  call.http_id.reset();
  if (endpoint_failure(failure))
    st.breaker->on_failure(now);
  else
    st.breaker->on_success(now);
  note_pipeline(st);
  if (call.rate_charged && st.limiter) {
    st.limiter->correct(call.tokens_estimated, 0, now);
    call.rate_charged = false;
  }
  retry_input in;
  in.failure = failure;
  in.headers = headers;
  in.retries_done = call.retries_done;
  in.now = now;
  in.deadline = call.deadline;
  in.wall_now = std::chrono::system_clock::now();
  auto decision = st.retry->decide(in);
  if (decision.retry) {
    ++call.retries_done;
    ++st.stats.retries;
    metrics::inc(st.metrics.retries);
    call.phase = call_phase::retry_wait;
    log(log_severity::info, "provider", "retrying",
        {{"name", st.cfg.name},
         {"request_id", call.request_id},
         {"retry", std::to_string(call.retries_done)},
         {"delay_ms", std::to_string(decision.delay.count())},
         {"delay_source", to_string(decision.source)},
         {"cause", describe(err)}});
    self->delayed_send(self, std::max(decision.delay, milliseconds{1}), call_due_atom::value,
                       call.id, call.attempt);
    return;
  }
  auto code = errc_of(err).value_or(errc::provider_error);
  // A stream cut after the caller got part of it is provider_error, as the
  // design says, whatever the transport reported: the transport's code
  // (unavailable, timeout) tells callers to retry, and a retry would show
  // the beginning of the answer twice.
  if (decision.reason == retry_reason::answer_started)
    code = errc::provider_error;
  std::string why = error_context(err);
  if (why.rfind(who(st), 0) != 0)
    why = who(st) + ": " + why;
  // to_string(answer_started) already says "part of the answer was
  // already streamed"; the caller only needs to hear whom it reached.
  why += " (attempts: " + std::to_string(call.retries_done + 1) + "; not retried: "
         + to_string(decision.reason);
  if (decision.reason == retry_reason::answer_started)
    why += " to the caller";
  why += ")";
  finish_with_error(self, call.id, make_error(code, why));
}

void record_usage(self_ptr self, const llm_call& call, const token_usage& usage) {
  auto& st = self->state;
  st.stats.prompt_tokens += usage.prompt_tokens;
  st.stats.completion_tokens += usage.completion_tokens;
  st.metrics.tokens.add(usage);
  if (st.limiter && call.rate_charged && usage.total() > 0)
    st.limiter->correct(call.tokens_estimated, usage.total(), st.now());
  if (!st.deps.prices)
    return;
  auto cost = st.deps.prices->cost_usd(to_string(st.cfg.kind), call.model,
                                       {usage.prompt_tokens, usage.completion_tokens});
  if (cost) {
    st.stats.cost_usd += *cost;
    metrics::add(st.metrics.cost_usd, *cost);
  }
  else
    ++st.stats.unpriced_responses;
}

// A chat call succeeded: count it and free what it held. `resp` is its
// answer, or nullopt when the I/O thread already gave the caller the answer
// whose usage this is (direct_reply).
void succeed_chat(self_ptr self, uint64_t id, std::optional<chat_response> resp,
                  const token_usage& usage) {
  auto& st = self->state;
  st.breaker->on_success(st.now());
  auto call = take_call(self, id);
  AG_ASSERT(call != nullptr);
  record_usage(self, *call, usage);
  ++st.stats.succeeded;
  note_answered(st, *call, caf::none, 1);
  if (!resp)
    return;
  if (call->direct) {
    // Only the I/O thread claims on success, and then resp is empty.
    const bool won = call->direct->try_claim();
    AG_ASSERT(won, "a direct reply claimed twice");
    call->direct->deliver(std::move(*resp));
    return;
  }
  if (resp->model.empty())
    resp->model = call->model;
  call->chat_promise.deliver(std::move(*resp));
}

void succeed_embed(self_ptr self, uint64_t id, embed_response resp) {
  auto& st = self->state;
  st.breaker->on_success(st.now());
  auto call = take_call(self, id);
  AG_ASSERT(call != nullptr);
  record_usage(self, *call, resp.usage);
  auto parts = split_embed_response(std::move(resp), call->embed_slices);
  if (!parts) {
    st.stats.failed += call->embed_waiters.size();
    note_answered(st, *call, make_error(errc::provider_error), call->embed_waiters.size());
    for (auto& w : call->embed_waiters)
      w.promise.deliver(make_error(errc::provider_error, who(st) + ": " + error_context(parts.error())));
    return;
  }
  st.stats.succeeded += call->embed_waiters.size();
  note_answered(st, *call, caf::none, call->embed_waiters.size());
  for (size_t i = 0; i < parts->size(); ++i)
    call->embed_waiters[i].promise.deliver(std::move((*parts)[i]));
}

void on_stream_headers(self_ptr self, llm_call& call, http_event& ev) {
  call.status = ev.status;
  call.headers = std::move(ev.headers);
  if (is_success(call.status) && call.kind == call_kind::chat_stream) {
    call.parser = std::make_unique<sse_parser>();
    call.decoder = self->state.codec->make_stream_decoder(call.request_id);
  }
}

// A decoded stream broke (bad SSE, bad JSON, a vendor error event, a bound):
// stop the transfer and fail the attempt as malformed.
void stream_broken(self_ptr self, llm_call& call, caf::error err) {
  abandon_http(self, call, false);  // attempt_failed reports to the breaker
  attempt_failed(self, call, {transport_failure::malformed_response, static_cast<int>(call.status),
                              call.answer_started},
                 std::move(err), &call.headers);
}

void on_stream_data(self_ptr self, llm_call& call, http_event& ev) {
  auto& st = self->state;
  if (!call.decoder) {
    // A non-2xx answer to a streaming request is a plain error body.
    auto room = error_body_bytes_max - std::min(error_body_bytes_max, call.error_body.size());
    call.error_body.append(ev.bytes, 0, std::min(room, ev.bytes.size()));
    return;
  }
  std::vector<sse_event> events;
  if (auto err = call.parser->feed(ev.bytes, events))
    return stream_broken(self, call, std::move(err));
  for (const auto& event : events) {
    auto chunks = call.decoder->on_event(event);
    if (!chunks)
      return stream_broken(self, call, std::move(chunks.error()));
    for (auto& chunk : *chunks) {
      if (chunk.delta_text.empty() && chunk.tool_calls.empty())
        continue;
      self->send(call.sink, std::move(chunk));
      ++st.stats.stream_chunks;
      call.answer_started = true;
    }
  }
}

void on_done(self_ptr self, llm_call& call, http_event& ev) {
  auto& st = self->state;
  st.stats.connections_opened += static_cast<uint64_t>(std::max(0L, ev.connections_opened));
  call.http_id.reset();
  if (ev.transport != net::transport_error::none) {
    auto failure = to_transport_failure(ev.transport);
    if (!failure) {
      if (call.breaker_probe)
        st.breaker->on_failure(st.now());
      finish_with_error(self, call.id,
                        make_error(errc_of(ev.error).value_or(errc::internal),
                                   who(st) + ": " + error_context(ev.error)));
      return;
    }
    // A stream that broke before anything reached the caller is retried
    // like any dropped connection; after that, answer_started forbids it.
    attempt_failed(self, call, {*failure, static_cast<int>(call.status), call.answer_started},
                   std::move(ev.error), call.headers.empty() ? nullptr : &call.headers);
    return;
  }
  // A whole body was decoded on the I/O thread (done_event).
  if (call.kind != call_kind::chat_stream) {
    call.status = ev.status;
    call.headers = std::move(ev.headers);
  }
  if (!is_success(call.status)) {
    auto err = call.kind == call_kind::chat_stream
                 ? st.codec->decode_error(static_cast<int>(call.status), call.error_body)
                 : std::move(ev.error);
    attempt_failed(self, call, {transport_failure::none, static_cast<int>(call.status), false},
                   std::move(err), &call.headers);
    return;
  }
  if (call.kind == call_kind::embed) {
    if (!ev.embed)
      return attempt_failed(self, call, {transport_failure::malformed_response, 0, false},
                            std::move(ev.error), &call.headers);
    return succeed_embed(self, call.id, std::move(*ev.embed));
  }
  if (call.kind == call_kind::chat) {
    if (ev.answered)
      return succeed_chat(self, call.id, std::nullopt, ev.usage);
    if (!ev.chat)
      return attempt_failed(self, call, {transport_failure::malformed_response, 0, false},
                            std::move(ev.error), &call.headers);
    const auto usage = ev.chat->usage;
    return succeed_chat(self, call.id, std::move(ev.chat), usage);
  }
  // The stream ended. Without the vendor's end marker the connection was
  // cut: a reset, retried only if nothing reached the caller yet.
  auto cut = call.parser->finish();
  auto resp = cut ? caf::expected<chat_response>{std::move(cut)} : call.decoder->finish();
  if (!resp)
    return attempt_failed(self, call, {transport_failure::connection_reset, 0, call.answer_started},
                          std::move(resp.error()), &call.headers);
  const auto usage = resp->usage;
  succeed_chat(self, call.id, std::move(*resp), usage);
}

void on_http_event(self_ptr self, http_event& ev) {
  auto* call = find_call(self, ev.call);
  if (call == nullptr || call->attempt != ev.attempt || call->phase != call_phase::in_flight)
    return;  // the call ended or moved on; this report is stale
  switch (ev.kind) {
    case http_event::what::headers:
      on_stream_headers(self, *call, ev);
      return;
    case http_event::what::data:
      on_stream_data(self, *call, ev);
      return;
    case http_event::what::done:
      on_done(self, *call, ev);
      return;
  }
}

}  // namespace agentgraph::http_provider_detail
