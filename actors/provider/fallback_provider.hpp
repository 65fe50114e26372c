// A provider made of providers: an agent's fallback chain (e.g. openai ->
// openrouter -> scripted) behind the one provider_actor interface, so the
// agent neither knows nor cares which member answered.
//
// A call goes to the first member. When a member fails in a way another
// provider may not — `unavailable` (breaker open, member down), `overloaded`
// (queue full, rate wait too long), `timeout`, `provider_error` (the
// vendor's error after every retry), `unsupported`, `io_error` — the next
// member gets the same request, with the member's own `model` when it has
// one. `invalid_argument` and `cancelled` end the call at once: another
// provider would refuse the same request, or nobody wants the answer.
//
// Streaming: the chain passes itself as the stream sink and forwards each
// chunk to the caller's sink. Once a chunk has reached the caller, a failure
// is final: falling back would show the caller a second beginning.
//
// Embeddings go to the first member only: vectors from different models do
// not share a space, and a memory index silently mixing them would rank
// garbage.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/provider/provider_interface.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/supervised_ref.hpp"

namespace agentgraph {

struct fallback_member {
  std::string name;
  dep<provider_actor> handle;  // .get(): the member's current incarnation
  // The model requests use when they fall back to this member; empty: the
  // request's own. Never applied to the first member.
  std::string model;
};

// The chain receives its members' chunks as their stream sink.
using fallback_provider_actor = provider_actor::extend<caf::reacts_to<stream_chunk>>;

// A call in progress: which member has it, and whether its caller has seen
// part of a streamed answer.
struct fallback_call {
  size_t member = 0;
  stream_sink_actor sink;  // the caller's, for chat_stream
  bool answer_started = false;
  bool cancelled = false;
  std::string tried;  // "openai: <error>; openrouter: <error>" for the final error
};

// Calls in progress at once; one more is answered `overloaded`.
constexpr size_t fallback_calls_max = 4096;

struct fallback_provider_state {
  static inline const char* name = "fallback_provider";
  std::string chain_name;
  std::vector<fallback_member> members;
  std::chrono::milliseconds member_timeout{0};
  // Calls in progress by request id; bounded by what the members admit
  // (each bounds its own in-flight calls) plus fallback_calls_max.
  std::unordered_map<std::string, fallback_call> calls;
  // The member requests in flight (one per call): each with member_timeout
  // as its deadline and a monitor on the member, so a member that dies
  // mid-call hands the call to the next one at once, not at the deadline.
  call_watch watch{fallback_calls_max};
  uint64_t next_call = 1;
  provider_stats stats;
};

// Whether a member's error lets the call move on to the next member.
[[nodiscard]] bool falls_back_on(const caf::error& err);

fallback_provider_actor::behavior_type
fallback_provider(fallback_provider_actor::stateful_pointer<fallback_provider_state> self,
                  std::string chain_name, std::vector<fallback_member> members,
                  std::chrono::milliseconds member_timeout);

// Errors: invalid_argument for an empty chain, more than
// fallback_providers_max members, or an invalid handle.
[[nodiscard]] caf::expected<provider_actor>
spawn_fallback_provider(caf::actor_system& sys, std::string chain_name,
                        std::vector<fallback_member> members,
                        std::chrono::milliseconds member_timeout);

}  // namespace agentgraph
