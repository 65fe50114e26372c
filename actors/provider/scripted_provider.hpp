// The embedded `scripted` provider actor: a deterministic, offline model
// driven by a rules file (scripted_rules.hpp). It is the default provider,
// so the main job and the tests run anywhere without network or keys, and
// it implements the full provider_actor interface (streaming, cancellation,
// token usage, errors) so agents cannot tell it from a real one.
//
// Answers come from answer_scripted (pure). The actor adds:
//   * delays: a rule's delay_ms holds the reply on a response promise and
//     a timer message, never by sleeping a scheduler thread;
//   * cancellation: cancel_atom(request_id) answers a delayed request with
//     `cancelled` at once;
//   * streaming: chat_stream sends the reply word by word to the sink, then
//     the tool calls, then replies with the whole response;
//   * bounds: at most scripted_pending_max delayed requests at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/provider/provider_interface.hpp"
#include "actors/provider/provider_metrics.hpp"
#include "actors/provider/scripted_answer.hpp"
#include "actors/provider/scripted_rules.hpp"

namespace agentgraph {

// Inputs per embed request; more is invalid_argument.
constexpr size_t scripted_embed_inputs_max = 256;

// Embeddings: model "hash-<dim>" from the offline feature-hashing embedder
// (the one memory shards use); any other model from the `embeddings`
// section of `rules` (scripted_embeddings.hpp), when there is one. Errors:
// invalid_argument (bad hash-<dim> name, input count, or `dimensions` other
// than the model's length: "dimension mismatch: asked N, model M has L"),
// unsupported (another model and no `embeddings` section; `rules` may be
// null).
[[nodiscard]] caf::expected<embed_response> scripted_embed(const embed_request& req,
                                                           const scripted_rules* rules);


// Delayed requests held at once; one more is answered `overloaded` at once.
constexpr size_t scripted_pending_max = 1024;

// Timer message: the delay of the pending request (id, seq) has passed.
using scripted_due_atom = caf::atom_constant<caf::atom("ag_sc_due")>;

// The actor's own type: the provider interface plus its private timer
// message. Callers only ever see it as a provider_actor.
using scripted_provider_actor =
  provider_actor::extend<caf::reacts_to<scripted_due_atom, std::string, uint64_t>>;

// A request waiting for its delay.
struct scripted_pending {
  uint64_t seq = 0;  // tells this request's timer from a cancelled one's with the same id
  caf::typed_response_promise<chat_response> promise;
  scripted_outcome outcome;
  stream_sink_actor sink;  // set for chat_stream requests
  std::chrono::steady_clock::time_point accepted;  // for the request duration metric
};

struct scripted_provider_state {
  static inline const char* name = "scripted_provider";
  // Immutable after load; shared with every other actor using the same file.
  std::shared_ptr<const scripted_rules> rules;
  // Bounded by scripted_pending_max, keyed by request_id.
  std::unordered_map<std::string, scripted_pending> pending;
  uint64_t next_seq = 1;
  // Counters for stats and tests.
  uint64_t calls = 0;
  uint64_t answered = 0;  // chat requests answered (response or scripted error)
  uint64_t succeeded = 0;
  uint64_t failed = 0;
  uint64_t rejected_overloaded = 0;
  uint64_t cancelled = 0;
  uint64_t stream_chunks = 0;
  uint64_t embed_inputs = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  // The request figures of provider_metrics.hpp (made without `http`).
  provider_metrics metrics;
};

// The provider_stats of a scripted provider (no HTTP, no breaker).
[[nodiscard]] provider_stats scripted_stats(const scripted_provider_state& st);

// `metrics`: series for this provider (make_provider_metrics(reg, name,
// false)); default-constructed: records nothing.
scripted_provider_actor::behavior_type
scripted_provider(scripted_provider_actor::stateful_pointer<scripted_provider_state> self,
                  std::shared_ptr<const scripted_rules> rules, provider_metrics metrics);

// The stream chunks of `response`: its text word by word
// (split_stream_pieces), then one chunk carrying all tool calls (complete
// calls, as real streams deliver them once finished). Pure.
[[nodiscard]] std::vector<stream_chunk> make_stream_chunks(const std::string& request_id,
                                                           const chat_response& response);

}  // namespace agentgraph
