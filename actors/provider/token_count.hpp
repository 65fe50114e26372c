// Deterministic token counting for providers that cannot ask a real
// tokenizer: the embedded `scripted` provider reports these counts in
// chat_response.usage, so budgets, metrics and token limits behave the same
// offline as with a real model.
//
// The estimate is deliberately simple and documented (README.md) so tests
// can state exact numbers:
//   * a run of word characters (ASCII letters, digits, '_' and every byte
//     >= 0x80, so UTF-8 words stay whole) costs ceil(length / 4) tokens,
//     about what BPE tokenizers charge for English text;
//   * every other non-space character costs 1 token;
//   * whitespace is free;
//   * every prompt message costs message_overhead_tokens more (role and
//     framing, as real chat formats charge).
// It is an estimate, not any vendor's tokenizer; real providers report the
// vendor's own numbers.
#pragma once

#include <cstdint>
#include <string_view>

#include "actors/provider/provider_interface.hpp"

namespace agentgraph {

// Charged once per prompt message for its role and framing.
constexpr int64_t message_overhead_tokens = 4;
// Characters of a word run that one token covers.
constexpr int64_t word_chars_per_token = 4;

[[nodiscard]] int64_t count_text_tokens(std::string_view text);

// One tool call as the model would emit it: its name plus its arguments'
// canonical JSON.
[[nodiscard]] int64_t count_tool_call_tokens(const tool_call& call);

// Every request message (overhead + content + tool name + tool calls) plus
// every tool definition (name + description + parameters' JSON).
[[nodiscard]] int64_t count_prompt_tokens(const chat_request& req);

// The reply text plus its tool calls; no per-message overhead.
[[nodiscard]] int64_t count_completion_tokens(const chat_message& reply);

}  // namespace agentgraph
