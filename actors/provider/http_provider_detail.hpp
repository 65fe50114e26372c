// Internals shared by http_provider.cpp (calls, admission, batching) and
// http_provider_attempt.cpp (HTTP attempts and their outcomes). Not part of
// the provider's interface.
#pragma once

#include <memory>
#include <string>

#include "actors/provider/http_provider.hpp"

namespace agentgraph::http_provider_detail {

using self_ptr = http_provider_actor::stateful_pointer<http_provider_state>;

// "provider 'name'", the prefix of every error and log line.
[[nodiscard]] std::string who(const http_provider_state& st);

[[nodiscard]] llm_call* find_call(self_ptr self, uint64_t id);

// Registers `call` and asks the admission queue for a slot: starts it,
// queues it, or answers it `overloaded` at once.
void admit(self_ptr self, std::unique_ptr<llm_call> call);

// Ends call `id` with `err` (counted as failed, or cancelled for
// errc::cancelled) and frees what it held. Unknown ids are ignored.
void finish_with_error(self_ptr self, uint64_t id, caf::error err);

// Removes call `id` from every table; frees its admission slot if it held one.
[[nodiscard]] std::unique_ptr<llm_call> take_call(self_ptr self, uint64_t id);

// Starts (or restarts after a wait) an attempt of call `id`, which holds a
// slot: rate limiter, breaker, then the HTTP request.
void begin_attempt(self_ptr self, uint64_t id);

// Runs on the HTTP client's I/O thread, for every finished attempt: the
// event for the actor, with a whole (non-streamed) body already decoded by
// `codec` (http_event says what it carries; an embedding answer is checked
// against `embed_dimensions`, what its call asked for). A decoded chat answer is
// claimed for the caller when `direct` (may be null) wins its claim: then
// `answered` is set and `chat` is the caller's answer, not the actor's.
// Touches no actor state; a wire_codec's const members are safe from any
// thread.
[[nodiscard]] http_event done_event(const wire_codec& codec, call_kind kind, uint64_t call,
                                    uint64_t attempt, direct_reply* direct,
                                    uint32_t embed_dimensions, net::http_result r);

// The I/O thread's on_complete: done_event, posted to `provider`, then a
// claimed answer delivered to its caller. In that order, so whatever the
// caller sends the provider once it has its answer (the next call, a stats
// query) queues behind the event: by then the provider has counted the
// call and freed its admission slot, as when it answered itself.
void post_done(const caf::actor& provider, const wire_codec& codec, call_kind kind,
               uint64_t call, uint64_t attempt, direct_reply* direct,
               uint32_t embed_dimensions, net::http_result r);

// Routes one report of the HTTP client's I/O thread to its call.
void on_http_event(self_ptr self, http_event& ev);

// Publishes the breaker state and the admission queue's figures to their
// gauges; called after each change to either.
void note_pipeline(http_provider_state& st);

// Counts one answered call (`callers` answers for an embedding batch) in
// the request metrics: outcome, and its duration since it was accepted.
void note_answered(http_provider_state& st, const llm_call& call, const caf::error& err,
                   uint64_t callers);

// Cancels the attempt in flight, if any; with `report_probe`, tells the
// breaker that a probe it admitted failed (it will never report otherwise).
void abandon_http(self_ptr self, llm_call& call, bool report_probe);

}  // namespace agentgraph::http_provider_detail
