// A scenario tells the mock LLM server what to answer and which faults to
// inject. It is loaded once from a JSON file, validated completely (unknown
// keys are errors, every size is bounded) and never changes afterwards, so
// request threads share it without locking. apps/README.md documents the
// file format with an example.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace agentgraph::mock_llm {

// Hard limits on what a scenario may ask for. A scenario over any of them is
// rejected at load time with the path of the offending field.
inline constexpr size_t scenario_bytes_max = 1 << 20;
inline constexpr size_t rules_max = 256;
inline constexpr size_t reply_text_bytes_max = 64 * 1024;
inline constexpr size_t tool_calls_max = 16;
inline constexpr size_t injections_max = 8;
inline constexpr size_t pattern_bytes_max = 512;
// libstdc++'s std::regex recurses per input character: a long input can
// overflow the stack, so a regex only looks at texts up to this size.
inline constexpr size_t regex_input_bytes_max = 16 * 1024;
inline constexpr uint32_t latency_ms_max = 60'000;
inline constexpr uint32_t drip_ms_max = 10'000;
inline constexpr uint32_t threads_max = 256;
inline constexpr uint32_t pending_connections_max_max = 4096;
inline constexpr size_t body_bytes_max_max = 64 << 20;
inline constexpr uint32_t stream_events_max_max = 100'000;
inline constexpr uint32_t embedding_dimensions_max = 4096;
inline constexpr uint32_t keep_alive_idle_s_max = 60;

enum class latency_kind { fixed, uniform, normal };

// Time before the response headers. fixed: a_ms; uniform: [a_ms, b_ms];
// normal: mean a_ms, standard deviation b_ms, clamped to [0, latency_ms_max].
struct latency_spec {
  latency_kind kind = latency_kind::fixed;
  double a_ms = 0;
  double b_ms = 0;
};

enum class fault_kind {
  status,      // an error response with `status` (500, 503, ...) in the vendor's error JSON
  rate_limit,  // 429 with Retry-After (seconds) and retry-after-ms headers
  drop,        // the connection closes after `after_events` stream events (or half a plain body)
  malformed,   // 200 with a truncated JSON body (or a truncated first stream event)
  dimensions,  // embeddings only: vectors of `dimensions` floats, whatever the request
               // asked (a chat request that draws it is answered normally)
};

// One fault that a request may get. A request gets it when it is among the
// first `first` requests reaching this injection, or else with probability
// `rate`, drawn from the request's seeded random stream.
struct injection {
  fault_kind kind = fault_kind::status;
  double rate = 0;
  uint32_t first = 0;
  int status = 500;
  uint32_t retry_after_s = 1;
  uint32_t retry_after_ms = 1000;
  uint32_t after_events = 1;
  uint32_t dimensions = 1;  // fault dimensions: the length of every vector answered
};

// Each field left unset in a rule falls back to the scenario's.
struct fault_spec {
  std::optional<latency_spec> latency;
  std::optional<uint32_t> drip_ms;  // delay between stream events
  std::optional<std::vector<injection>> inject;
};

struct tool_call_spec {
  std::string name;
  nlohmann::json arguments = nlohmann::json::object();
};

struct reply_spec {
  std::string text;
  std::vector<tool_call_spec> tool_calls;
};

// What a rule matches. Every field that is set must hold.
struct match_spec {
  std::optional<std::string> contains;  // substring of the last user text
  std::optional<std::regex> regex;      // searched in the last user text
  std::optional<bool> tools;            // the request declares tools
  std::optional<bool> tool_result;      // the last message is a tool result
  std::optional<std::string> tool_result_contains;
  std::optional<std::string> api;       // openai | anthropic | gemini | openrouter
  std::string kind = "chat";            // chat | embeddings
};

struct usage_override {
  std::optional<int64_t> prompt_tokens;
  std::optional<int64_t> completion_tokens;
};

struct rule {
  std::string name;
  match_spec match;
  reply_spec reply;
  usage_override usage;
  fault_spec faults;
};

struct scenario {
  std::string name;
  uint64_t seed = 0;             // the command line's --seed overrides it
  std::string api_key;           // empty: any non-empty key is accepted
  int64_t created_unix = 1735689600;  // fixed so responses are reproducible
  uint32_t chunk_chars = 8;      // code points per streamed text/argument fragment
  uint32_t embedding_dimensions = 16;
  // true: JSON answers are compressed as the client's Accept-Encoding allows
  // (cpp-httplib prefers brotli, at its slowest, best quality: about half a
  // millisecond per short answer). false: never compressed, so benchmarks
  // measure the clients rather than the mock's compressor.
  bool compress_responses = true;
  uint32_t threads = 8;          // request worker threads
  uint32_t pending_connections_max = 64;  // accepted connections waiting for a worker
  size_t body_bytes_max = 1 << 20;
  uint32_t stream_events_max = 4096;
  // Seconds an idle keep-alive connection is held, announced to clients as
  // `Keep-Alive: timeout=N`. Short by default because stop() waits for idle
  // connections to time out; Node's fetch (undici) does not reuse a
  // connection whose announced timeout is within its safety margin
  // (keepAliveTimeoutThreshold, 2 s in Node 20), so benchmarks with Node
  // clients need 3 or more.
  uint32_t keep_alive_idle_s = 1;
  reply_spec default_reply{"I have no scripted answer for that.", {}};
  fault_spec faults;
  std::vector<rule> rules;
};

// What a rule sees of a request: the same for every vendor's wire format.
struct conversation {
  std::string api;   // openai | anthropic | gemini | openrouter
  std::string kind;  // chat | embeddings
  std::string model;
  std::string last_user_text;
  std::string last_tool_result;
  bool has_tools = false;
  bool last_is_tool_result = false;
  size_t prompt_chars = 0;  // every text the request carries, for usage counting
};

// The fault settings that apply to one request after rule overrides.
struct resolved_faults {
  latency_spec latency;
  uint32_t drip_ms = 0;
  std::vector<injection> inject;
  int inject_owner = -1;  // rule whose list this is (-1: the scenario's); keys the `first` counters
};

struct load_result {
  std::shared_ptr<const scenario> value;  // null on error
  std::string error;                      // "rules[2].reply.text: ..." on error
};

[[nodiscard]] load_result parse_scenario(std::string_view text);
[[nodiscard]] load_result load_scenario_file(const std::string& path);

// Index of the first rule that matches, or -1 (the default reply applies).
[[nodiscard]] int match_rule(const scenario& s, const conversation& c);

// The scenario's faults overridden field by field by rule `index` (-1: none).
[[nodiscard]] resolved_faults resolve_faults(const scenario& s, int index);

}  // namespace agentgraph::mock_llm
