// Record mode (`[provider.x] record = PATH`, any kind): a provider actor in
// front of the real one that forwards every call to it unchanged and
// appends each completed call to a recording (recording_store.hpp): the
// request's hash, the response or the error it failed with, the latency and
// the stream's chunks with their offsets (time to first token is the first
// one's), all measured on this actor's clock. The replay kind
// (replay_provider.hpp) answers from the file later, with no LLM cost.
//
// Why a wrapping actor and not a hook inside each kind: one place records
// every kind the same way (the HTTP pipeline, scripted, a replay), and
// the kinds stay unaware of recording.
//
// Streams: the wrapper passes itself to the inner provider as the sink,
// notes each chunk's offset and forwards it to the caller's sink at once.
// A second stream with the id of one still open passes its caller's sink
// straight through and is recorded without chunks.
//
// Writing happens off the scheduler: a detached writer actor (its own
// thread, linked to this one) owns the SQLite connection. Its queue is
// bounded by `record_queue_max`: past it a record is dropped, counted
// (provider_stats::records_dropped, agentgraph_provider_records_dropped_total)
// and logged once; the call itself is never held or failed. Cancelled calls
// are not recorded (the cancel came from the caller, not the provider).
//
// Lifetime: linked to the inner provider both ways, so the supervisor that
// holds this actor restarts the pair when either dies, and stopping it
// stops the inner one. The writer writes what was queued before the stop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/provider/provider_config.hpp"
#include "actors/provider/provider_interface.hpp"
#include "actors/provider/recording_codec.hpp"
#include "actors/provider/recording_store.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/metrics/registry.hpp"

namespace agentgraph {

using record_row_atom = caf::atom_constant<caf::atom("ag_recrow")>;

// The writer: appends each row it receives (recording_provider.cpp).
using recording_writer_actor = caf::typed_actor<caf::reacts_to<record_row_atom, recording_row>>;

// The wrapper's own type: the provider interface plus the sink it is to
// the inner provider. Callers see it as a provider_actor.
using recording_provider_actor = provider_actor::extend<caf::reacts_to<stream_chunk>>;

// Shared by the wrapper and its writer thread, hence atomics.
struct recording_counters {
  std::atomic<uint64_t> queued{0};        // sent to the writer, not yet written
  std::atomic<uint64_t> written{0};
  std::atomic<uint64_t> write_failed{0};  // appends that failed (logged once)
};

// Calls on the inner provider at once, at least; raised to the inner
// HTTP provider's in_flight_max + waiting_max so the wrapper never refuses
// what the inner provider would hold. Past it: `overloaded`.
constexpr size_t recording_calls_min = 1024;
// How long past the inner provider's own request_deadline the wrapper
// waits before failing a call as `timeout` (the inner one times out first;
// this only catches a provider that hangs).
constexpr std::chrono::milliseconds recording_deadline_margin{30'000};
// How long a stats call waits for the inner provider's stats.
constexpr std::chrono::milliseconds recording_stats_timeout{10'000};

struct recording_provider_state {
  static inline const char* name = "recording_provider";
  std::string provider;  // the [provider.<name>], for records and logs
  std::string path;
  uint32_t queue_max = 0;
  std::chrono::milliseconds call_timeout{0};
  size_t calls_max = recording_calls_min;
  provider_actor inner;
  recording_writer_actor writer;
  std::shared_ptr<recording_counters> counters;
  call_watch watch{0};
  // A stream in flight, by request id; bounded by calls_max.
  struct open_stream {
    stream_sink_actor sink;
    caf::actor_clock::time_point started;
    std::vector<recorded_chunk> chunks;  // bounded by recording_chunks_max
  };
  std::unordered_map<std::string, open_stream> streams;
  uint64_t dropped = 0;
  std::shared_ptr<metrics::registry> registry;  // keeps dropped_total alive
  metrics::counter* dropped_total = nullptr;    // null without a registry
};

recording_provider_actor::behavior_type
recording_provider(recording_provider_actor::stateful_pointer<recording_provider_state> self,
                   provider_config cfg, provider_actor inner,
                   std::shared_ptr<recording_writer> writer,
                   std::shared_ptr<metrics::registry> registry);

// Opens (or creates) cfg.record here, synchronously: call it from setup
// code. Then spawns the wrapper around `inner`. Errors: those of
// recording_writer::open, naming the provider; invalid_argument without an
// inner provider.
[[nodiscard]] caf::expected<provider_actor>
spawn_recording_provider(caf::actor_system& sys, const provider_config& cfg, provider_actor inner,
                         std::shared_ptr<metrics::registry> registry);

}  // namespace agentgraph
