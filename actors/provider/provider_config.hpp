// Configuration of one provider: [provider.<name>] sections. Every field is
// one schema key (provider_config_keys.cpp); the HTTP fields apply to the
// HTTP kinds (is_http_kind), the record fields to every kind.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/resilience/retry_policy.hpp"

namespace agentgraph {

// The implementation behind a provider: the embedded, offline `scripted`
// one, or an HTTP API (one pipeline, http_provider.hpp, with one wire codec
// per kind; openai_compatible is OpenAI's wire at a base_url of one's own:
// Ollama, vLLM, llama.cpp server), or `replay`: answers from a recording
// that record mode made (replay_provider.hpp). Appended only: the values are
// the enum's wire numbers.
enum class provider_kind : uint8_t {
  scripted,
  openai,
  anthropic,
  gemini,
  openrouter,
  openai_compatible,
  replay,
};

// Every kind, in declaration order: the choices of the `kind` key and the
// list an unknown kind's error names.
inline constexpr provider_kind provider_kinds[] = {
  provider_kind::scripted,   provider_kind::openai,     provider_kind::anthropic,
  provider_kind::gemini,     provider_kind::openrouter, provider_kind::openai_compatible,
  provider_kind::replay};

// Whether the kind speaks HTTP (needs the shared HTTP client and a key):
// every kind but scripted and replay.
[[nodiscard]] bool is_http_kind(provider_kind k);

// A replay provider's answer to a request the recording lacks: `error`
// (provider_error naming the request's hash; never a made-up answer) or
// `scripted` (the rules file answers, as a scripted provider would).
enum class replay_on_miss : uint8_t { error, scripted };
inline constexpr replay_on_miss replay_on_miss_modes[] = {replay_on_miss::error,
                                                          replay_on_miss::scripted};
// When a replayed answer comes: `recorded` (after the recorded latency,
// divided by `speed`, on the actor's clock; streams chunk by chunk at their
// recorded offsets) or `none` (at once).
enum class replay_timing : uint8_t { recorded, none };
inline constexpr replay_timing replay_timings[] = {replay_timing::recorded, replay_timing::none};
[[nodiscard]] const char* to_string(replay_on_miss m);
[[nodiscard]] const char* to_string(replay_timing t);

// The kind's config word ("openai_compatible"); "unknown" for a value out of
// range.
[[nodiscard]] const char* to_string(provider_kind k);
// The inverse of to_string; nullopt for any other word.
[[nodiscard]] std::optional<provider_kind> parse_provider_kind(std::string_view word);

struct provider_config {
  std::string name;
  provider_kind kind = provider_kind::scripted;
  std::string rules;  // scripted (and replay with on_miss = scripted): path of the rules file

  // --- record mode, any kind (recording_provider.hpp) ---
  std::string record;               // recording file to append every call to; empty: off
  uint32_t record_queue_max = 1024;  // records waiting for the writer; past it dropped, counted

  // --- replay kind (replay_provider.hpp) ---
  std::string recording;  // the recording to answer from
  replay_on_miss on_miss = replay_on_miss::error;
  replay_timing timing = replay_timing::recorded;
  double speed = 1.0;                       // divides the recorded latencies
  uint64_t recording_entries_max = 100'000;  // a larger recording is refused at spawn

  // --- HTTP kinds: where and who ---
  std::string base_url;     // empty: the kind's public endpoint (required for openai_compatible)
  std::string api_key;      // literal key; prefer api_key_env
  std::string api_key_env;  // empty: OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, OPENROUTER_API_KEY
  // Used when a request names no model, and for every request that falls
  // back to this provider from another one (the agent's model belongs to
  // its primary provider).
  std::string model;
  std::string anthropic_version;   // empty: 2023-06-01
  std::string openrouter_referer;  // HTTP-Referer attribution header
  std::string openrouter_title;    // X-Title attribution header
  std::string max_tokens_field;    // empty: the kind's default

  // --- timeouts ---
  std::chrono::milliseconds timeout{60'000};          // one HTTP attempt, end to end
  std::chrono::milliseconds connect_timeout{5'000};   // TCP + TLS of one attempt
  std::chrono::milliseconds stream_idle_timeout{30'000};
  // A call's whole life: queueing, rate waits, every attempt and retry wait.
  std::chrono::milliseconds request_deadline{120'000};

  // --- retries ---
  uint32_t retries_max = 2;
  std::chrono::milliseconds retry_delay{500};
  std::chrono::milliseconds retry_delay_max{8'000};
  std::chrono::milliseconds retry_after_max{60'000};
  jitter_mode retry_jitter = jitter_mode::equal;

  // --- admission queue ---
  uint32_t in_flight_max = 16;
  uint32_t waiting_max = 64;

  // --- rate limits (0: off) ---
  uint64_t requests_per_minute = 0;
  uint64_t tokens_per_minute = 0;
  std::chrono::milliseconds rate_wait_max{30'000};

  // --- circuit breaker ---
  uint32_t breaker_failures = 5;            // consecutive failures that open it; 0: off
  double breaker_failure_ratio = 0.5;       // ratio over the window that opens it
  uint32_t breaker_window = 20;             // outcomes remembered; 0: ratio trigger off
  uint32_t breaker_window_min = 10;         // outcomes needed before the ratio counts
  std::chrono::milliseconds breaker_cooldown{5'000};
  std::chrono::milliseconds breaker_cooldown_max{60'000};
  uint32_t breaker_probes = 1;

  // --- embedding batching ---
  std::chrono::milliseconds embed_batch_window{5};  // 0: every request alone
  uint32_t embed_batch_inputs_max = 64;
};

}  // namespace agentgraph
