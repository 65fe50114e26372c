// What a provider reports about itself: one struct for every kind, so the
// CLI, the node's metrics and remote peers read every provider the same way.
// Figures are counted where they happen (never derived from other figures);
// a kind that has no such thing (the scripted provider has no HTTP, no
// breaker) leaves them at zero and says so in `breaker_state` = "none".
#pragma once

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

namespace agentgraph {

struct provider_stats {
  std::string name;
  std::string kind;
  uint64_t calls = 0;                // chat, chat_stream and embed calls accepted
  uint64_t succeeded = 0;            // calls answered with a response
  uint64_t failed = 0;               // calls answered with an error (cancelled excluded)
  uint64_t cancelled = 0;
  uint64_t rejected_overloaded = 0;  // refused at once: queue full or rate wait too long
  uint64_t attempts = 0;             // HTTP requests sent (first tries plus retries)
  uint64_t retries = 0;
  uint64_t rate_waits = 0;           // times a call waited for the rate limiter
  uint64_t breaker_rejected = 0;     // calls refused because the breaker was open
  uint64_t breaker_opened = 0;       // transitions into open
  std::string breaker_state = "none";  // closed | open | half_open | none
  uint64_t in_flight = 0;            // calls holding an admission slot now
  uint64_t waiting = 0;              // calls queued for a slot now
  uint64_t stream_chunks = 0;        // chunks sent to stream sinks
  uint64_t embed_batches = 0;        // embedding requests sent upstream
  uint64_t embed_inputs = 0;         // inputs they carried
  int64_t prompt_tokens = 0;         // from each response's usage
  int64_t completion_tokens = 0;
  double cost_usd = 0;               // from the price table, for priced models only
  uint64_t unpriced_responses = 0;   // responses whose model the price table lacks
  uint64_t connections_opened = 0;   // new TCP connections (0 growth = keep-alive reuse)
  uint64_t fallbacks = 0;            // fallback chains: calls moved on to the next provider
  // Record mode (`record`, recording_provider.hpp): calls written to the
  // recording, and records dropped because the writer's queue was full.
  uint64_t records_written = 0;
  uint64_t records_dropped = 0;
  // The replay kind: calls answered from the recording, and calls it lacked
  // (answered per on_miss).
  uint64_t replay_hits = 0;
  uint64_t replay_misses = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, provider_stats& x) {
  return f(caf::meta::type_name("agentgraph::provider_stats"), x.name, x.kind, x.calls,
           x.succeeded, x.failed, x.cancelled, x.rejected_overloaded, x.attempts, x.retries,
           x.rate_waits, x.breaker_rejected, x.breaker_opened, x.breaker_state, x.in_flight,
           x.waiting, x.stream_chunks, x.embed_batches, x.embed_inputs, x.prompt_tokens,
           x.completion_tokens, x.cost_usd, x.unpriced_responses, x.connections_opened, x.fallbacks,
           x.records_written, x.records_dropped, x.replay_hits, x.replay_misses);
}

}  // namespace agentgraph
