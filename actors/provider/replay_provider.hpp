// The `replay` provider kind: answers from a recording that record mode
// made (recording_provider.hpp), so a recorded real run can be run again,
// under faults or in the simulator, without new LLM cost.
//
// A request is looked up by its hash (recording_codec.hpp: the LLM cache's
// key). Several records of one hash answer in recorded order, cycling. A
// record replays what happened: the response with its recorded usage, or
// the same error (code and text: a recorded 429 or timeout comes back as
// that provider_error or timeout). A miss answers per `on_miss`: `error`
// (provider_error "no recording for this request" with the hash; never a
// made-up answer) or `scripted` (the rules file answers, as the scripted
// provider would).
//
// Timing (`timing = recorded`): the reply comes after the recorded latency
// divided by `speed`, and a stream's chunks at their recorded offsets, all
// by delayed messages on the actor's own clock (virtual under CAF's
// test_coordinator, so `agentgraph sim` drives it), one timer outstanding
// per request. A record made by a plain chat and replayed to a stream sends
// its text as one chunk (then one with its tool calls) at the recorded time
// to first token, or at the end when there is none. `timing = none`
// answers at once. Nothing here blocks, sleeps or spawns; the recording is
// read whole by spawn_replay_provider (setup code), bounded by
// `recording_entries_max`.
//
// Cancel, shutdown and the pending bound behave as the scripted provider's.
#pragma once

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
#include <caf/typed_response_promise.hpp>

#include "actors/provider/provider_config.hpp"
#include "actors/provider/provider_interface.hpp"
#include "actors/provider/provider_metrics.hpp"
#include "actors/provider/recording_store.hpp"
#include "actors/provider/scripted_answer.hpp"
#include "actors/provider/scripted_rules.hpp"

namespace agentgraph {

// Requests waiting for their recorded time at once; one more is answered
// `overloaded` at once.
constexpr size_t replay_pending_max = 1024;

// What a replayed call delivers and when, offsets from its start in
// microseconds, already divided by the speed. Pure data.
struct replay_plan {
  struct timed_chunk {
    int64_t at_us = 0;
    stream_chunk chunk;
  };
  std::vector<timed_chunk> chunks;  // ordered by at_us, all at or before reply_us
  int64_t reply_us = 0;
  caf::error error;       // set: the reply is this error
  chat_response chat;     // chat and chat_stream
  embed_response embed;   // embed
};

// The plan for `rec` answering `request_id` (`streamed`: chunks go to a
// sink). `timing` none: everything at 0. Pure.
[[nodiscard]] replay_plan plan_replay(const call_record& rec, const std::string& request_id,
                                      bool streamed, replay_timing timing, double speed);

// The plan for a miss answered by the scripted rules (on_miss = scripted):
// the scripted provider's answer, chunks and delay. Pure.
[[nodiscard]] replay_plan plan_scripted(scripted_outcome outcome, const std::string& request_id,
                                        bool streamed);

// The error of a miss with on_miss = error.
[[nodiscard]] caf::error replay_miss_error(const std::string& provider, const std::string& hash,
                                           const std::string& path);

// Timer message: the next event of pending request `seq` is due.
using replay_due_atom = caf::atom_constant<caf::atom("ag_rp_due")>;

using replay_provider_actor =
  provider_actor::extend<caf::reacts_to<replay_due_atom, uint64_t>>;

struct replay_provider_state {
  static inline const char* name = "replay_provider";
  std::string provider;
  std::shared_ptr<const recording> rec;  // immutable; shared by restarts' reloads
  std::shared_ptr<const scripted_rules> rules;  // on_miss = scripted only
  replay_timing timing = replay_timing::recorded;
  double speed = 1.0;
  // Next record per hash (cycling); bounded by the recording's hashes.
  std::unordered_map<std::string, size_t> cursor;
  struct pending_call {
    std::string request_id;
    replay_plan plan;
    size_t next_chunk = 0;  // chunks sent so far
    int64_t at_us = 0;      // the plan time reached
    stream_sink_actor sink;
    bool is_embed = false;
    caf::typed_response_promise<chat_response> chat_rp;
    caf::typed_response_promise<embed_response> embed_rp;
    caf::actor_clock::time_point accepted;
  };
  // Bounded by replay_pending_max; by sequence number, and by request id
  // for cancel.
  std::unordered_map<uint64_t, pending_call> pending;
  std::unordered_map<std::string, uint64_t> pending_ids;
  uint64_t next_seq = 1;
  provider_stats stats;  // kind "replay"; in_flight filled when asked
  provider_metrics metrics;
};

replay_provider_actor::behavior_type
replay_provider(replay_provider_actor::stateful_pointer<replay_provider_state> self,
                std::string provider, std::shared_ptr<const recording> rec,
                std::shared_ptr<const scripted_rules> rules, replay_timing timing, double speed,
                provider_metrics metrics);

// Loads cfg.recording (kind replay). Reads the file: setup code only.
// Errors: those of load_recording, prefixed with the provider's name;
// invalid_argument when the `recording` key is empty.
[[nodiscard]] caf::expected<std::shared_ptr<const recording>>
load_replay_recording(const provider_config& cfg);

// Loads the recording and spawns the provider. `rules`: the rules file's
// content for on_miss = scripted (the factory loads it), else null.
[[nodiscard]] caf::expected<provider_actor>
spawn_replay_provider(caf::actor_system& sys, const provider_config& cfg,
                      std::shared_ptr<const scripted_rules> rules,
                      std::shared_ptr<metrics::registry> registry);

}  // namespace agentgraph
