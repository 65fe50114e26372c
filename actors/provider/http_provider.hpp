// The HTTP provider actor: one per [provider.<name>] section of kind openai,
// anthropic, gemini, openrouter or openai_compatible. The vendor differences
// live in the wire codec (net/llm/wire_codec.hpp); this actor is the one
// pipeline every vendor shares:
//
//   call ──> admission queue ──> rate limiter ──> circuit breaker ──> HTTP attempt
//            (in_flight_max,     (rpm / tpm,       (open: unavailable   (libcurl multi on
//             waiting_max:        wait by timer     at once)             the client's I/O
//             else overloaded)    or overloaded)                         thread)
//                                                         ^                  |
//                                                         +-- retry wait <---+ failure the
//                                                             (timer)          retry policy retries
//
// Nothing here blocks: the HTTP client calls back on its own thread and those
// callbacks only decode a whole body (with the codec, pure), answer the
// caller of a plain chat call whose body decoded (direct_reply), and post an
// http_event message to this actor; every wait (rate limit, retry backoff,
// embedding batch window) is a delayed_send. Each call
// keeps its admission slot from start to answer, so in_flight_max bounds
// requests in flight at the vendor, retries included.
//
// Streaming: chat_stream feeds the SSE body through sse_parser and the
// codec's stream_decoder and sends each chunk to the caller's sink as it is
// decoded. An attempt that already sent a chunk is never retried (the
// caller would see the beginning twice); it fails with provider_error.
//
// Cancellation: cancel(request_id) answers the call `cancelled` at once in
// any phase; an attempt in flight is cancelled in the HTTP client.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor_control_block.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/message_id.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/provider/embed_batch.hpp"
#include "actors/provider/provider_config.hpp"
#include "actors/provider/provider_interface.hpp"
#include "actors/provider/provider_metrics.hpp"
#include "net/http_client.hpp"
#include "net/llm/wire_codec.hpp"
#include "net/sse/sse_parser.hpp"
#include "runtime/resilience/admission_queue.hpp"
#include "runtime/resilience/circuit_breaker.hpp"
#include "runtime/resilience/price_table.hpp"
#include "runtime/resilience/retry_policy.hpp"
#include "runtime/resilience/token_bucket.hpp"

namespace agentgraph {

// What the HTTP client's I/O thread reports about one attempt. Local only:
// it never leaves the process (hence no inspect, see the macro below).
//
// A whole (non-streamed) body is decoded on the I/O thread, by the codec,
// before it is posted: the actor gets a ready chat_response or
// embed_response (or the decoding error) and the body itself never crosses
// threads. Decoding there takes the JSON parse off the CAF worker that
// would otherwise do it between two hand-offs, and the headers of a 2xx
// answer, which nothing reads, are not posted at all.
struct http_event {
  enum class what : uint8_t { headers, data, done };
  what kind = what::done;
  uint64_t call = 0;     // llm_call::id
  uint64_t attempt = 0;  // llm_call::attempt when it was sent; stale events are dropped
  long status = 0;       // headers; done with a response
  net::http_headers headers;  // headers; done with a non-2xx response (for Retry-After)
  std::string bytes;     // data: the chunk
  net::transport_error transport = net::transport_error::none;  // done: why it failed
  caf::error error;  // done: the transport failure, or why the body did not decode
                     // (a 2xx body: malformed; a non-2xx one: the vendor's error)
  std::optional<chat_response> chat;    // done: a 2xx chat body, decoded
  std::optional<embed_response> embed;  // done: a 2xx embedding body, decoded
  // done: the I/O thread claimed a decoded 2xx chat answer for the caller
  // (direct_reply) and gives it right after posting this event; only its
  // usage is left for the actor to count (the event it gets has no chat).
  bool answered = false;
  token_usage usage;
  long connections_opened = 0;
};

// The caller of a whole (non-streamed) chat call, answered by the HTTP
// client's I/O thread as soon as a 2xx body decodes, rather than through
// the provider's mailbox: the answer reaches the caller with one thread
// hand-off (I/O thread -> caller) instead of two (-> provider -> caller).
// The provider still gets the done event and does the bookkeeping (breaker,
// rate limiter, stats, metrics, the admission slot); the event is posted
// before the answer, so anything the caller sends after its answer is
// handled after the bookkeeping (post_done).
//
// Exactly once: the I/O thread (success) and the actor (an error, a
// cancel, shutdown) each win try_claim() before they answer; the loser
// stays silent. Shared by the actor's llm_call and the attempt's I/O
// callback; everything but `claimed` is set before the first attempt and
// only read afterwards.
struct direct_reply {
  std::atomic<bool> claimed{false};
  caf::strong_actor_ptr caller;    // the response promise's source
  caf::strong_actor_ptr provider;  // the answer's sender
  caf::message_id request;         // the request's id; the answer carries its response id
  std::string model;               // for a response that names none
  [[nodiscard]] bool try_claim() { return !claimed.exchange(true, std::memory_order_acq_rel); }
  // From any thread, after winning try_claim: the answer goes into the
  // caller's mailbox with no execution context, as from a non-actor thread
  // (a promise's own deliver() would read the provider's worker context).
  void deliver(chat_response resp) const;
};

}  // namespace agentgraph

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(agentgraph::http_event)

namespace agentgraph {

using http_event_atom = caf::atom_constant<caf::atom("ag_httpev")>;
// Timer: a rate-limit or retry wait of (call, attempt) has passed.
using call_due_atom = caf::atom_constant<caf::atom("ag_calldue")>;
// Timer: the batching window of (model, dimensions, batch seq) has passed.
using batch_due_atom = caf::atom_constant<caf::atom("ag_batchdu")>;

using http_provider_actor = provider_actor::extend<
  caf::reacts_to<http_event_atom, http_event>,
  caf::reacts_to<call_due_atom, uint64_t, uint64_t>,
  caf::reacts_to<batch_due_atom, std::string, uint32_t, uint64_t>>;

// What the actor needs besides its config; shared with other providers.
struct http_provider_deps {
  std::shared_ptr<net::http_transport> http;  // required; may serve several providers
  std::shared_ptr<const price_table> prices;  // null: no cost accounting
  // Injectable clock for the resilience parts (deadlines, rate buckets,
  // breaker cooldowns); empty: the actor's own CAF clock, which is virtual
  // under the simulator and steady_clock otherwise.
  std::function<std::chrono::steady_clock::time_point()> clock;
  uint64_t jitter_seed = 0;  // 0: from std::random_device
  // Where the provider records its metrics (provider_metrics.hpp); null: nowhere.
  std::shared_ptr<metrics::registry> metrics;
};

enum class call_kind : uint8_t { chat, chat_stream, embed };

enum class call_phase : uint8_t {
  queued,      // waiting for an admission slot
  rate_wait,   // holds a slot; waiting for the rate limiter
  retry_wait,  // holds a slot; waiting out a retry delay
  in_flight,   // an HTTP attempt is running
};

// One caller of a batched embedding call.
struct embed_waiter {
  caf::typed_response_promise<embed_response> promise;
  embed_slice slice;
};

// One call from admission to answer.
struct llm_call {
  uint64_t id = 0;
  call_kind kind = call_kind::chat;
  call_phase phase = call_phase::queued;
  std::string request_id;  // the caller's (chat) or generated (embed)
  std::string model;       // for pricing
  uint32_t embed_dimensions = 0;  // embed only: the length asked for (0: the model's own)
  http_request_spec spec;  // encoded once, sent on every attempt
  int64_t tokens_estimated = 0;
  std::chrono::steady_clock::time_point deadline;
  std::chrono::steady_clock::time_point accepted;  // for the request duration metric
  stream_sink_actor sink;  // chat_stream only
  caf::typed_response_promise<chat_response> chat_promise;
  // chat only (not streamed), when the promise answers its source directly;
  // then every answer goes through it (claim first).
  std::shared_ptr<direct_reply> direct;
  std::vector<embed_waiter> embed_waiters;  // embed only
  std::vector<embed_slice> embed_slices;

  bool holds_slot = false;
  bool rate_charged = false;  // the limiter holds this attempt's estimate
  uint32_t retries_done = 0;
  uint64_t attempt = 0;       // bumped per attempt and when one is abandoned
  // The attempt in flight.
  std::optional<net::request_id> http_id;
  bool breaker_probe = false;
  long status = 0;
  net::http_headers headers;
  std::string error_body;  // a streamed non-2xx answer, bounded
  std::unique_ptr<sse_parser> parser;
  std::unique_ptr<stream_decoder> decoder;
  bool answer_started = false;  // a chunk reached the sink
};

struct http_provider_state {
  static inline const char* name = "http_provider";
  provider_config cfg;
  std::shared_ptr<const wire_codec> codec;
  http_provider_deps deps;
  std::optional<admission_queue<uint64_t, uint64_t>> admission;
  std::optional<rate_limiter> limiter;
  std::optional<circuit_breaker> breaker;
  std::optional<retry_policy> retry;
  // Every live call, by id; bounded by in_flight_max + waiting_max.
  std::unordered_map<uint64_t, std::unique_ptr<llm_call>> calls;
  std::unordered_map<std::string, uint64_t> by_request_id;
  // Embedding batches filling up, by model and dimensions; each bounded by
  // embed_batch_inputs_max, and at most open_batches_max of them.
  struct open_batch {
    uint64_t seq = 0;
    embed_batch batch;
    std::vector<caf::typed_response_promise<embed_response>> promises;
  };
  std::map<embed_batch_key, open_batch> batches;
  uint64_t next_call = 1;
  uint64_t next_batch_seq = 1;
  // release_slot's work list (see there).
  uint32_t slots_to_release = 0;
  bool releasing_slots = false;
  provider_stats stats;
  provider_metrics metrics;  // resolved at start

  [[nodiscard]] std::chrono::steady_clock::time_point now() const {
    return deps.clock ? deps.clock() : std::chrono::steady_clock::now();
  }
};

http_provider_actor::behavior_type
http_provider(http_provider_actor::stateful_pointer<http_provider_state> self,
              provider_config cfg, std::shared_ptr<const wire_codec> codec,
              http_provider_deps deps);

// The API key for `cfg`: `api_key` if set, else the environment variable
// `api_key_env` names, else the kind's usual variable. Empty when none is
// set; the caller decides whether the kind needs one.
[[nodiscard]] std::string resolve_api_key(const provider_config& cfg);
[[nodiscard]] std::string default_api_key_env(provider_kind kind);

// Whether `cfg` has the key it needs, checked at start so a missing key is
// a start-up error, not a 401 on every call. A named `api_key_env` must be
// set and non-empty for every HTTP kind (openai_compatible too: naming a
// variable says a key is wanted); without api_key and api_key_env, every
// kind but openai_compatible (local servers have no key) needs its usual
// variable. Errors (invalid_argument) name the variable, never a value.
[[nodiscard]] caf::error check_api_key(const provider_config& cfg);

// Checks `cfg`, builds its wire codec and spawns the actor. Errors:
// invalid_argument naming the key (no API key for a hosted kind, bad
// base_url, breaker window_min above window, ...). Never logs the key.
[[nodiscard]] caf::expected<provider_actor>
spawn_http_provider(caf::actor_system& sys, const provider_config& cfg, http_provider_deps deps);

}  // namespace agentgraph
