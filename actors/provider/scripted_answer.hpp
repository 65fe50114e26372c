// How the `scripted` provider answers one chat request: pure functions, no
// CAF actor involved, so every rule condition and template is table-tested
// without an actor system. The actor (scripted_provider.hpp) only adds
// delays, cancellation, streaming and bounds.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/provider/provider_interface.hpp"
#include "actors/provider/scripted_rules.hpp"
#include "actors/provider/scripted_template.hpp"

namespace agentgraph {

// Messages per request; more is invalid_argument (agents bound their
// history far below this).
constexpr size_t scripted_request_messages_max = 4096;
// Stream chunks per answer; the rest of the text goes in the last chunk.
constexpr size_t scripted_stream_chunks_max = 4096;
// Characters of the user message quoted in "no rule matched".
constexpr size_t scripted_quote_chars_max = 60;

// The line that opens the memory block in a system prompt, and the
// contract agents follow: the lines after it, up to the first blank line
// (or the end of the message), are the recalled memory.
constexpr std::string_view scripted_memory_marker = "Relevant memory:";

// What the provider does with one request: after `delay`, reply with
// `response`, or with `error` when the rule injects one.
struct scripted_outcome {
  std::string rule;  // name of the rule that answered, "default" for the fallback
  std::chrono::milliseconds delay{0};
  caf::error error;  // set: reply with this error instead of `response`
  chat_response response;
};

// Errors: invalid_argument (no messages, too many messages, empty request_id).
[[nodiscard]] caf::error validate_chat_request(const chat_request& req);

// First rule whose conditions all hold answers; then `default`.
// Errors: provider_error "no rule matched ..." (no rule and no default),
// provider_error naming the rule and placeholder when a template has no
// value in this conversation (e.g. {{tool_output.answer}} without `answer`).
// A rule's `error` is not an error here: it is returned in the outcome so
// that the caller can apply its delay first.
[[nodiscard]] caf::expected<scripted_outcome> answer_scripted(const scripted_rules& rules,
                                                              const chat_request& req);

// The memory block of `system_text` (see scripted_memory_marker), or "".
[[nodiscard]] std::string extract_memory(std::string_view system_text);

// The conversation as templates see it, before any regex ran.
[[nodiscard]] scripted_context make_scripted_context(const chat_request& req);

// Splits `text` into stream pieces, one word plus its trailing whitespace
// each (leading whitespace joins the first piece), at most `pieces_max`;
// concatenated they are exactly `text`.
[[nodiscard]] std::vector<std::string> split_stream_pieces(std::string_view text,
                                                           size_t pieces_max);

}  // namespace agentgraph
