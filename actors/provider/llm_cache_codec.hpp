// The LLM response cache's key and value formats: the canonical request
// (everything that shapes the answer: model, messages with roles, tool
// calls and results, tool definitions, temperature, max_tokens; never the
// request id) and a chat_response as a Value. Pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/llm_types.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

// Canonical JSON of what determines the answer; equal requests give equal keys.
[[nodiscard]] std::string llm_cache_key(const chat_request& req);

[[nodiscard]] Value response_to_value(const chat_response& r);
// Nothing when `v` is not what response_to_value writes (an entry from
// another version, or corrupted): the caller treats it as a miss.
[[nodiscard]] std::optional<chat_response> response_from_value(const Value& v);

// Tool calls as response_to_value writes them (also the provider
// recording's stream chunks, recording_codec.hpp). from: false when `v` is
// not such an array; `out` may then hold the calls read before the fault.
[[nodiscard]] Value tool_calls_to_value(const std::vector<tool_call>& calls);
[[nodiscard]] bool tool_calls_from_value(const Value* v, std::vector<tool_call>& out);

}  // namespace agentgraph
