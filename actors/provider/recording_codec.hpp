// A provider recording's data model and its row codec (pure, no SQLite, no
// CAF actors): what record mode stores for one completed provider call and
// what the replay provider reads back (recording_store.hpp holds the
// SQLite file; recording_provider.hpp and replay_provider.hpp the actors).
//
// One mechanism for "the same request": a chat call's hash is the
// RIPEMD-160 of llm_cache_key (llm_cache_codec.hpp: model, messages, tools,
// temperature, max_tokens; never the request id), the key the LLM cache
// uses, and its response is stored as response_to_value's msgpack. An
// embedding call's key is the canonical JSON of its model and inputs.
// 160 bits make two different requests of one recording colliding
// negligible, and a 40-character hex hash fits in an error message, where
// the canonical request (a whole conversation) would not.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include "runtime/error.hpp"
#include "runtime/llm_types.hpp"

namespace agentgraph {

// Which provider call a record answers. The numbers are stored in files:
// append only.
enum class recorded_call : uint8_t { chat = 0, chat_stream = 1, embed = 2 };

// Chunks kept per streamed call; a longer stream keeps its first chunks and
// folds the rest into the last one kept (its text appended, its tool calls
// added), so the replay still delivers the whole answer.
constexpr size_t recording_chunks_max = 4096;

// One chunk of a recorded stream, with its offset from the call's start.
struct recorded_chunk {
  int64_t offset_us = 0;
  std::string text;
  std::vector<tool_call> tool_calls;
};

// One completed call: the request's hash, its outcome (a response, or the
// error code and text it failed with) and its timing as the recording
// provider measured it on its actor clock.
struct call_record {
  std::string request_hash;  // 40 hex digits (request_hash_of)
  recorded_call call = recorded_call::chat;
  std::string provider;  // the [provider.<name>] that answered
  std::string model;     // the request's model
  errc error_code = errc::none;  // none: the call succeeded
  std::string error_text;        // the error's context, replayed as is
  chat_response chat;            // chat and chat_stream successes
  embed_response embed;          // embed successes
  std::vector<recorded_chunk> chunks;  // chat_stream: what reached the sink
  int64_t ttft_us = -1;     // first chunk's offset; -1: no chunk (or not a stream)
  int64_t latency_us = 0;   // call accepted to answered
  int64_t recorded_unix_ms = 0;
};

// A record as the columns of one row of recording_calls (recording_store.cpp).
// Strings and integers only, so the recording provider encodes it on the
// scheduler and its writer thread only binds it.
struct recording_row {
  int64_t seq = 0;  // the row's id in the file; 0 before it is stored
  std::string request_hash;
  int64_t call = 0;
  std::string provider;
  std::string model;
  int64_t error_code = 0;
  std::string error_text;
  std::string response;  // msgpack; empty for a failed call
  std::string chunks;    // msgpack array; empty when there are none
  int64_t ttft_us = -1;
  int64_t latency_us = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t recorded_unix_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, recording_row& x) {
  return f(caf::meta::type_name("agentgraph::recording_row"), x.seq, x.request_hash, x.call,
           x.provider, x.model, x.error_code, x.error_text, x.response, x.chunks, x.ttft_us,
           x.latency_us, x.prompt_tokens, x.completion_tokens, x.recorded_unix_ms);
}

// 40 lowercase hex digits of RIPEMD-160(key).
[[nodiscard]] std::string request_hash_of(const std::string& key);
// The hash of a chat request (llm_cache_key) and of an embed request.
[[nodiscard]] std::string chat_request_hash(const chat_request& req);
[[nodiscard]] std::string embed_request_hash(const embed_request& req);

[[nodiscard]] recording_row encode_recording_row(const call_record& r);

// The record a row holds. Errors: parse_error naming the bad column and
// what is wrong with it ("response: not a chat response"); the caller adds
// the file and the row. Never trusts the row: every field is checked, so a
// foreign or damaged file cannot make a replay answer garbage.
[[nodiscard]] caf::expected<call_record> decode_recording_row(const recording_row& row);

// Appends a chunk to a stream's record under recording_chunks_max (see there).
void add_recorded_chunk(std::vector<recorded_chunk>& chunks, recorded_chunk c);

}  // namespace agentgraph
