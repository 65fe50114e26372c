#include "actors/provider/scripted_provider.hpp"

#include "actors/memory/hashing_embedder.hpp"
#include "actors/provider/token_count.hpp"

#include <optional>

#include <caf/exit_reason.hpp>

#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

caf::expected<embed_response> scripted_embed(const embed_request& req,
                                             const scripted_rules* rules) {
  if (req.inputs.empty() || req.inputs.size() > scripted_embed_inputs_max)
    return make_error(errc::invalid_argument,
                      "embed: between 1 and " + std::to_string(scripted_embed_inputs_max)
                        + " inputs, got " + std::to_string(req.inputs.size()));
  // hash-<dim>: the offline feature-hashing embedder memory shards use, so
  // those models agree everywhere. Any other name is the rules file's.
  const bool hashing = req.model.rfind("hash-", 0) == 0;
  if (!hashing && (rules == nullptr || !rules->embeddings))
    return make_error(errc::unsupported,
                      "embed: model '" + req.model + "' is not hash-<dim> and "
                        + (rules == nullptr ? std::string{"there is no rules file"}
                                            : "rules file " + rules->origin)
                        + " has no `embeddings` section");
  uint32_t length = 0;
  std::optional<hashing_embedder> hasher;
  if (hashing) {
    auto dim = parse_embedding_model(req.model);
    if (!dim)
      return std::move(dim.error());
    hasher.emplace(*dim);
    length = *dim;
  } else {
    length = rules->embeddings->dimensions();
  }
  if (req.dimensions > 0 && req.dimensions != length)
    return make_error(errc::invalid_argument,
                      "embed: dimension mismatch: asked " + std::to_string(req.dimensions)
                        + ", model '" + req.model + "' has " + std::to_string(length));
  embed_response out;
  for (const auto& text : req.inputs) {
    out.vectors.push_back(hasher ? hasher->embed(text) : rules->embeddings->embed(text));
    out.usage.prompt_tokens += count_text_tokens(text);
  }
  return out;
}


namespace scripted_provider_detail {

using self_ptr = scripted_provider_actor::stateful_pointer<scripted_provider_state>;

void send_chunks(self_ptr self, const stream_sink_actor& sink, const std::string& request_id,
                 const chat_response& response) {
  for (auto& chunk : make_stream_chunks(request_id, response)) {
    self->send(sink, std::move(chunk));
    ++self->state.stream_chunks;
  }
}

using clock = std::chrono::steady_clock;

// Counts one answer in the request metrics: outcome and duration.
void note_answered(scripted_provider_state& st, const caf::error& err, clock::time_point accepted) {
  st.metrics.requests.record_since(err, accepted);
}

void note_usage(scripted_provider_state& st, const token_usage& usage) {
  st.prompt_tokens += usage.prompt_tokens;
  st.completion_tokens += usage.completion_tokens;
  st.metrics.tokens.add(usage);
}

// A request refused before it was answered: counted, then `err`.
caf::error refuse(scripted_provider_state& st, caf::error err) {
  ++st.failed;
  st.metrics.requests.outcomes.failed(err);
  return err;
}

// Counts one answered request (error or response) for provider_stats.
void count_answer(self_ptr self, const scripted_outcome& outcome, clock::time_point accepted) {
  auto& st = self->state;
  ++st.answered;
  note_answered(st, outcome.error, accepted);
  if (outcome.error) {
    ++st.failed;
    return;
  }
  ++st.succeeded;
  note_usage(st, outcome.response.usage);
}

caf::result<chat_response> answer_now(self_ptr self, scripted_outcome& outcome,
                                      const std::string& request_id,
                                      const stream_sink_actor& sink) {
  count_answer(self, outcome, clock::now());
  if (outcome.error)
    return std::move(outcome.error);
  if (sink)
    send_chunks(self, sink, request_id, outcome.response);
  return std::move(outcome.response);
}

// Holds the answer on a response promise until its timer fires; the
// scheduler thread moves on at once.
caf::result<chat_response> answer_later(self_ptr self, scripted_outcome& outcome,
                                        const std::string& request_id,
                                        const stream_sink_actor& sink) {
  auto& st = self->state;
  if (st.pending.size() >= scripted_pending_max) {
    ++st.rejected_overloaded;
    st.metrics.requests.outcomes.failed(errc::overloaded);
    return make_error(errc::overloaded, "scripted provider: "
                                          + std::to_string(scripted_pending_max)
                                          + " delayed requests already pending");
  }
  if (st.pending.count(request_id) > 0) {
    st.metrics.requests.outcomes.failed(errc::invalid_argument);
    return make_error(errc::invalid_argument,
                      "scripted provider: request id '" + request_id + "' is already pending");
  }
  auto seq = st.next_seq++;
  auto delay = outcome.delay;
  auto promise = self->make_response_promise<chat_response>();
  st.pending.emplace(request_id,
                     scripted_pending{seq, promise, std::move(outcome), sink, clock::now()});
  AG_ASSERT(st.pending.size() <= scripted_pending_max);
  self->delayed_send(self, delay, scripted_due_atom::value, request_id, seq);
  return promise;
}

caf::result<chat_response> start(self_ptr self, const chat_request& req,
                                  const stream_sink_actor& sink) {
  ++self->state.calls;
  auto outcome = answer_scripted(*self->state.rules, req);
  if (!outcome)
    return refuse(self->state, std::move(outcome.error()));
  if (outcome->delay.count() == 0)
    return answer_now(self, *outcome, req.request_id, sink);
  return answer_later(self, *outcome, req.request_id, sink);
}

void on_due(self_ptr self, const std::string& request_id, uint64_t seq) {
  auto& pending = self->state.pending;
  auto it = pending.find(request_id);
  // A cancelled request's timer still fires; its seq no longer matches.
  if (it == pending.end() || it->second.seq != seq)
    return;
  auto entry = std::move(it->second);
  pending.erase(it);
  count_answer(self, entry.outcome, entry.accepted);
  if (entry.outcome.error) {
    entry.promise.deliver(std::move(entry.outcome.error));
    return;
  }
  if (entry.sink)
    send_chunks(self, entry.sink, request_id, entry.outcome.response);
  entry.promise.deliver(std::move(entry.outcome.response));
}

void on_cancel(self_ptr self, const std::string& request_id) {
  auto& pending = self->state.pending;
  auto it = pending.find(request_id);
  // Already answered (or never delayed): nothing left to cancel.
  if (it == pending.end())
    return;
  it->second.promise.deliver(
    make_error(errc::cancelled, "scripted provider: request '" + request_id + "' cancelled"));
  note_answered(self->state, make_error(errc::cancelled), it->second.accepted);
  pending.erase(it);
  ++self->state.cancelled;
}

// CAF 0.17 does not fail undelivered promises when an actor stops, so the
// callers of delayed requests would wait for their own timeouts; tell them.
void fail_pending(self_ptr self) {
  for (auto& [id, entry] : self->state.pending) {
    note_answered(self->state, make_error(errc::unavailable), entry.accepted);
    entry.promise.deliver(
      make_error(errc::unavailable, "scripted provider stopped before request '" + id
                                      + "' was answered"));
  }
  self->state.pending.clear();
}

}  // namespace scripted_provider_detail

scripted_provider_actor::behavior_type
scripted_provider(scripted_provider_actor::stateful_pointer<scripted_provider_state> self,
                  std::shared_ptr<const scripted_rules> rules, provider_metrics metrics) {
  using namespace scripted_provider_detail;
  self->state.rules = std::move(rules);
  self->state.metrics = std::move(metrics);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    fail_pending(self);
    self->quit(msg.reason);
  });
  return {
    [self](chat_atom, const chat_request& req) -> caf::result<chat_response> {
      return start(self, req, stream_sink_actor{});
    },
    [self](chat_stream_atom, const chat_request& req,
           const stream_sink_actor& sink) -> caf::result<chat_response> {
      if (!sink) {
        self->state.metrics.requests.outcomes.failed(errc::invalid_argument);
        return make_error(errc::invalid_argument, "chat_stream needs a valid stream sink");
      }
      return start(self, req, sink);
    },
    [self](embed_atom, const embed_request& req) -> caf::result<embed_response> {
      auto& st = self->state;
      ++st.calls;
      auto out = scripted_embed(req, st.rules.get());
      if (!out)
        return refuse(st, std::move(out.error()));
      ++st.succeeded;
      st.embed_inputs += req.inputs.size();
      note_usage(st, out->usage);
      note_answered(st, caf::none, clock::now());
      return std::move(*out);
    },
    [self](stats_atom) { return scripted_stats(self->state); },
    [self](cancel_atom, const std::string& request_id) { on_cancel(self, request_id); },
    [self](scripted_due_atom, const std::string& request_id, uint64_t seq) {
      on_due(self, request_id, seq);
    },
    [](ping_atom) { return pong_atom::value; },
  };
}

provider_stats scripted_stats(const scripted_provider_state& st) {
  // Each call is counted at most once as answered, refused or cancelled,
  // or is still pending (a duplicate id and a stop are counted nowhere).
  AG_ASSERT(st.succeeded + st.failed + st.cancelled + st.rejected_overloaded + st.pending.size()
            <= st.calls);
  provider_stats out;
  out.kind = "scripted";
  out.calls = st.calls;
  out.failed = st.failed;
  out.cancelled = st.cancelled;
  // Every call ends answered (a response or an error), cancelled or refused.
  out.succeeded = st.succeeded;
  out.rejected_overloaded = st.rejected_overloaded;
  out.in_flight = st.pending.size();
  out.stream_chunks = st.stream_chunks;
  out.embed_inputs = st.embed_inputs;
  out.prompt_tokens = st.prompt_tokens;
  out.completion_tokens = st.completion_tokens;
  return out;
}

std::vector<stream_chunk> make_stream_chunks(const std::string& request_id,
                                             const chat_response& response) {
  std::vector<stream_chunk> chunks;
  for (auto& piece : split_stream_pieces(response.message.content, scripted_stream_chunks_max))
    chunks.push_back({request_id, std::move(piece), {}});
  if (!response.message.tool_calls.empty())
    chunks.push_back({request_id, {}, response.message.tool_calls});
  return chunks;
}

}  // namespace agentgraph
