// LLM wire codecs: the pure half of every HTTP provider. A codec turns a
// chat_request / embed_request into the HTTP request a vendor expects and
// turns the vendor's answer (a whole body, or its SSE events one by one)
// back into chat_response / stream_chunk / embed_response. No I/O, no
// threads, no actors: the provider pipeline (queue, rate limit, breaker,
// retries, libcurl) is shared by every vendor and calls into this.
//
// Three wire formats exist: OpenAI chat completions (used by `openai`,
// `openrouter` and `openai_compatible`, which differ only in settings:
// base URL, extra headers, the max-tokens field name), Anthropic messages
// and Gemini generateContent. make_wire_codec picks one from the settings.
//
// Secrets: the API key goes into exactly one request header. It is never put
// into a URL, a body or an error, and vendor error text is scrubbed of it
// before it becomes an error context. Use to_loggable() to print a request.
//
// Threads: a codec holds only its settings and limits, both const, so its
// const members may run on any thread at once (the HTTP providers decode
// whole bodies on the libcurl I/O thread); a stream_decoder has state and
// belongs to one call.
//
// The message types (chat_request, chat_response, ...) are shared with the
// provider actors through runtime/llm_types.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "runtime/llm_types.hpp"
#include "net/sse/sse_parser.hpp"

namespace agentgraph {

enum class wire_kind : uint8_t { openai, anthropic, gemini, openrouter, openai_compatible };

[[nodiscard]] const char* to_string(wire_kind kind);
// Accepts exactly the names to_string produces. Errors: invalid_argument.
[[nodiscard]] caf::expected<wire_kind> wire_kind_from_string(std::string_view name);

struct wire_settings {
  wire_kind kind = wire_kind::openai;
  // Empty means the kind's public endpoint; openai_compatible requires one
  // (e.g. http://127.0.0.1:11434/v1 for Ollama). No trailing slash needed.
  std::string base_url;
  // Sent in one header only. May be empty (local OpenAI-compatible servers).
  std::string api_key;
  // Anthropic: the `anthropic-version` header; empty means "2023-06-01".
  std::string anthropic_version;
  // OpenRouter attribution headers, sent when non-empty.
  std::string openrouter_referer;  // HTTP-Referer
  std::string openrouter_title;    // X-Title
  // OpenAI family: the body field carrying chat_request::max_tokens. Empty
  // means the kind's default: `max_completion_tokens` for openai (OpenAI
  // deprecated `max_tokens` and its reasoning models reject it) and
  // `max_tokens` for openrouter and openai_compatible (what OpenRouter
  // documents and what Ollama, vLLM and llama.cpp server all accept).
  std::string max_tokens_field;
};

// Bounds on what a decoder accepts from the network. Crossing one is a
// provider_error naming the bound; nothing is silently truncated.
struct wire_limits {
  size_t body_bytes_max = 8u << 20;               // a whole response body
  size_t content_bytes_max = 1u << 20;            // assembled text of one answer
  size_t tool_calls_max = 64;                     // tool calls in one answer
  size_t tool_arguments_bytes_max = 256u << 10;   // JSON arguments of one call
  size_t embed_inputs_max = 2048;                 // inputs per embedding request
  size_t embed_dimensions_max = 16384;            // floats per embedding vector
};

// What the HTTP client must send. `headers` include the secret header; never
// log them directly (see to_loggable).
struct http_request_spec {
  std::string method;
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool stream = false;  // the 2xx answer is an SSE stream (text/event-stream)
};

// True for headers that carry credentials (Authorization, x-api-key,
// x-goog-api-key), compared case-insensitively.
[[nodiscard]] bool is_secret_header(std::string_view name);

// "POST <url>" plus headers, with secret header values replaced by
// "[redacted]"; the body is left out. Safe to log.
[[nodiscard]] std::string to_loggable(const http_request_spec& spec);

// Feeds the SSE events of one streamed answer. One decoder per request; not
// thread-safe (owned by one actor). The base class keeps what every vendor
// shares (chunk tagging, the spent-after-error rule); a vendor implements
// absorb and assemble.
class stream_decoder {
 public:
  explicit stream_decoder(std::string request_id) : request_id_(std::move(request_id)) {}
  virtual ~stream_decoder() = default;

  // Consumes one event and returns the chunks it completes (zero or one):
  // text deltas at once, each tool call when its last fragment arrived.
  // Errors: provider_error for a vendor error event, malformed JSON, an event
  // after the end of the stream, or a crossed wire_limits bound. After an
  // error the decoder is spent: every later call returns that error.
  [[nodiscard]] caf::expected<std::vector<stream_chunk>> on_event(const sse_event& ev);

  // The body ended. Returns the assembled answer with usage and finish
  // reason, or provider_error if the stream stopped before the vendor's end
  // marker (a dropped connection must not look like a short answer).
  // Call once, after the last on_event.
  [[nodiscard]] caf::expected<chat_response> finish();

 protected:
  // Adds what `ev` completes to `chunk` (delta_text, tool_calls).
  [[nodiscard]] virtual caf::error absorb(const sse_event& ev, stream_chunk& chunk) = 0;
  [[nodiscard]] virtual caf::expected<chat_response> assemble() = 0;

 private:
  const std::string request_id_;
  caf::error failed_;
  bool finished_ = false;
};

// One vendor's wire format. Immutable after construction, so one instance may
// be shared by the threads of a provider pipeline.
class wire_codec {
 public:
  wire_codec(wire_settings settings, wire_limits limits);
  virtual ~wire_codec() = default;

  // Errors: invalid_argument (no model, no messages, max_tokens <= 0, a model
  // name that is not safe in a URL path).
  [[nodiscard]] virtual caf::expected<http_request_spec> encode_chat(const chat_request& req,
                                                                     bool stream) const = 0;

  // A whole (non-streamed) answer. Any non-2xx status gives provider_error
  // with the vendor's message and the status, e.g.
  // "anthropic: HTTP 529 overloaded_error: Overloaded". Use it also for the
  // body of a non-2xx answer to a streaming request.
  [[nodiscard]] virtual caf::expected<chat_response> decode_chat(int status,
                                                                 std::string_view body) const = 0;

  [[nodiscard]] virtual std::unique_ptr<stream_decoder> make_stream_decoder(
    std::string request_id) const = 0;

  // `req.dimensions` > 0 asks the vendor to shorten its vectors (OpenAI
  // `dimensions`, Gemini `outputDimensionality`); 0 sends nothing.
  // Errors: unsupported for vendors without embeddings (Anthropic);
  // invalid_argument (no model, no inputs, too many inputs, dimensions above
  // embed_dimensions_max).
  [[nodiscard]] virtual caf::expected<http_request_spec> encode_embed(
    const embed_request& req) const = 0;

  // A whole embedding answer. `dimensions` is what the request asked for (0:
  // the model's own length). Every vector of one answer must have the same
  // length, and exactly `dimensions` when it is > 0: otherwise
  // provider_error "<vendor>: dimension mismatch: asked N, got M" (or "...
  // vectors of N and M floats in one answer"), so a caller is never handed
  // vectors of another length than it asked for or than its neighbours.
  // Other errors as decode_chat.
  [[nodiscard]] caf::expected<embed_response> decode_embed(int status, std::string_view body,
                                                           uint32_t dimensions = 0) const;

  // The provider_error for a non-2xx answer, from any vendor's error body.
  [[nodiscard]] caf::error decode_error(int status, std::string_view body) const;

  [[nodiscard]] const wire_settings& settings() const { return settings_; }
  [[nodiscard]] const wire_limits& limits() const { return limits_; }

 protected:
  // The vendor's half of decode_embed: the vectors as sent, before the
  // shared length checks.
  [[nodiscard]] virtual caf::expected<embed_response> decode_embed_vectors(
    int status, std::string_view body) const = 0;

  const wire_settings settings_;
  const wire_limits limits_;
};

// Fills in the kind's defaults and checks the settings. Errors:
// invalid_argument (openai_compatible without base_url, a base_url that is
// not http(s)://, a key or header value with CR/LF). Error texts never
// contain the key.
[[nodiscard]] caf::expected<std::unique_ptr<wire_codec>> make_wire_codec(wire_settings settings,
                                                                        wire_limits limits = {});

}  // namespace agentgraph
