// The mechanism the vendor codecs share, so that no codec re-implements it:
// reading untrusted JSON with clear errors, turning any vendor's error body
// into one provider_error (with the API key scrubbed), bounded text
// accumulation, merging messages into alternating turns and encoding tool
// calls (Anthropic, Gemini), assembling tool calls from argument fragments
// (OpenAI `tool_calls[i].function.arguments` pieces, Anthropic
// `input_json_delta`), and building the final answer.
// Internal to net/llm; not part of the installed API surface users rely on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "net/llm/wire_codec.hpp"
#include "runtime/value.hpp"

namespace agentgraph::wire {

[[nodiscard]] inline bool is_success(int status) { return status >= 200 && status < 300; }

// provider_error "<vendor>: malformed <what>". `what` is our own text.
[[nodiscard]] caf::error malformed(const wire_settings& s, std::string_view what);

// Parses a body or event payload that must be a JSON object. Errors:
// provider_error for oversize input, invalid JSON or a non-object.
[[nodiscard]] caf::expected<Value> parse_object(const wire_settings& s, const wire_limits& l,
                                                std::string_view text, std::string_view what);

// Typed member access on untrusted objects: nullptr when `obj` is not an
// object, the key is missing, or the member has another kind.
[[nodiscard]] const Value* member(const Value& obj, const char* key, Value::Kind kind);
[[nodiscard]] std::string string_member(const Value& obj, const char* key);
[[nodiscard]] int64_t int_member(const Value& obj, const char* key);

// `text` with every occurrence of `secret` replaced by "[redacted]".
[[nodiscard]] std::string redact(std::string text, std::string_view secret);

// The provider_error for a vendor's error object (any of the shapes the
// vendors and OpenAI-compatible servers use). status 0 means "inside a
// stream". The text is bounded, control characters are removed and the key
// is scrubbed.
[[nodiscard]] caf::error vendor_error(const wire_settings& s, int status, const Value& body);
[[nodiscard]] caf::error vendor_error(const wire_settings& s, int status, std::string_view body);

// Parses one SSE event's JSON payload; an error event (by SSE event name or
// payload) becomes the vendor's provider_error.
[[nodiscard]] caf::expected<Value> parse_event(const wire_settings& s, const wire_limits& l,
                                               const sse_event& ev);

// True if a parsed 2xx body or event is in fact an error object.
[[nodiscard]] bool is_error_object(const Value& v);

// A whole chat answer's body as a JSON object. A non-2xx status, or an error
// object inside a 2xx body (OpenRouter reports some upstream failures so), is
// the vendor's provider_error; so are oversize input, invalid JSON and a
// non-object.
[[nodiscard]] caf::expected<Value> parse_answer(const wire_settings& s, const wire_limits& l,
                                                int status, std::string_view body);

// Appends `piece` to `text` unless that crosses content_bytes_max.
[[nodiscard]] caf::error append_content(const wire_settings& s, const wire_limits& l,
                                        std::string& text, std::string_view piece);

// A streamed text piece: appended to the answer so far (`text`, bounded as
// by append_content) and to the chunk that carries it to the caller.
[[nodiscard]] caf::error append_delta(const wire_settings& s, const wire_limits& l,
                                      std::string& text, std::string_view piece,
                                      stream_chunk& chunk);

// Checks what every encoder needs. Errors: invalid_argument.
[[nodiscard]] caf::error check_chat_request(const chat_request& req);
[[nodiscard]] caf::error check_embed_request(const wire_limits& l, const embed_request& req);

// Every vector of `r` has one length, and exactly `dimensions` when it is
// > 0. Errors: provider_error "<vendor>: dimension mismatch: ...".
[[nodiscard]] caf::error check_embed_lengths(const wire_settings& s, const embed_response& r,
                                             uint32_t dimensions);

// Model names go into Gemini URL paths: letters, digits, '.', '_', '-' and
// '/' only, and no "..".
[[nodiscard]] bool is_path_safe_model(std::string_view model);

// Serialises a body; errors with limit_exceeded above body_bytes_max.
[[nodiscard]] caf::expected<std::string> to_body(const wire_limits& l, const Value& body);

// Content-Type, plus Accept: text/event-stream for streams.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> json_headers(bool stream);

// A POST of `body` to `url` with json_headers(stream); the caller adds its
// key header. Errors: limit_exceeded above body_bytes_max (to_body).
[[nodiscard]] caf::expected<http_request_spec> post_json(const wire_limits& l, std::string url,
                                                         const Value& body, bool stream);

// The name of the tool whose call had `tool_call_id`, looked up in the
// request's assistant messages; "" if none. Gemini answers calls by name.
[[nodiscard]] std::string tool_name_for(const chat_request& req, std::string_view tool_call_id);

// A tool's parameter schema, or an empty object schema when it has none.
[[nodiscard]] Value parameters_or_empty(const tool_definition& t);

// {"name", "description", <schema_key>: parameters_or_empty(t)}: a tool as
// Anthropic ("input_schema") and OpenAI (inside "function", "parameters")
// declare it.
[[nodiscard]] Value tool_declaration(const tool_definition& t, const char* schema_key);

// A call's arguments as the JSON object the wire carries (Anthropic's
// tool_use `input`, Gemini's functionCall `args`); {} when they are not an
// object.
[[nodiscard]] Value arguments_object(const tool_call& call);

// Adds one message's blocks (content parts) to the array of its turn.
using block_encoder = std::function<caf::error(const chat_message& m, Value& blocks)>;

// Anthropic's and Gemini's conversations alternate between the user and the
// model, and every tool result for one model turn must be in the next user
// turn. So consecutive messages with the same wire role (`assistant_role`
// for assistant messages, "user" for user and tool messages) are merged into
// one turn {"role": ..., <blocks_key>: [...]}. System messages are left out:
// both vendors send them beside the turns. Errors: whatever `encode` returns.
[[nodiscard]] caf::expected<Value> merge_turns(const chat_request& req,
                                               std::string_view assistant_role,
                                               const char* blocks_key,
                                               const block_encoder& encode);

// Parses JSON tool arguments; "" means no arguments ({}). Errors:
// provider_error naming the tool (arguments are model output).
[[nodiscard]] caf::expected<Value> parse_arguments(const wire_settings& s, const wire_limits& l,
                                                   std::string_view text,
                                                   std::string_view tool_name);

// Vectors of floats from a JSON array of numbers. Errors: provider_error.
[[nodiscard]] caf::expected<std::vector<float>> parse_vector(const wire_settings& s,
                                                             const wire_limits& l,
                                                             const Value* values);

// If the model asked for tools and did not run out of tokens, the finish
// reason is tool_calls whatever the vendor said (Ollama says "stop").
void settle_finish(chat_response& r);

// The assistant's answer from what a decoder gathered, finish settled as
// above.
[[nodiscard]] chat_response make_answer(std::string text, std::vector<tool_call> calls,
                                        token_usage usage, finish_reason finish,
                                        std::string model);

// Assembles tool calls keyed by the vendor's index. Calls can arrive whole
// (add) or as an opening (id, name) followed by argument fragments that are
// only valid JSON once joined (open, append, close).
class tool_call_assembler {
 public:
  tool_call_assembler(const wire_settings& s, const wire_limits& l);
  tool_call_assembler(const tool_call_assembler&) = delete;
  tool_call_assembler& operator=(const tool_call_assembler&) = delete;

  // Starts the call at `index` or fills in its id/name; empty ones keep the
  // known values. Errors: more than tool_calls_max calls, negative index.
  [[nodiscard]] caf::error open(int64_t index, std::string_view id, std::string_view name);
  // Errors: unknown index, closed call, tool_arguments_bytes_max crossed.
  [[nodiscard]] caf::error append(int64_t index, std::string_view fragment);
  // Parses the call's arguments; the call is then complete.
  [[nodiscard]] caf::expected<tool_call> close(int64_t index);
  // Closes every open call, in index order.
  [[nodiscard]] caf::expected<std::vector<tool_call>> close_all();
  // A call that arrived complete; it gets the next free index.
  [[nodiscard]] caf::error add(tool_call call);

  [[nodiscard]] bool has(int64_t index) const { return slots_.count(index) > 0; }
  // Completed calls in index order.
  [[nodiscard]] std::vector<tool_call> calls() const;

 private:
  struct slot {
    std::string id;
    std::string name;
    std::string arguments;
    std::optional<tool_call> done;
  };

  const wire_settings& settings_;  // the owner's (codec or decoder), which outlives this
  const wire_limits& limits_;
  std::map<int64_t, slot> slots_;  // bounded by limits_.tool_calls_max
};

}  // namespace agentgraph::wire
