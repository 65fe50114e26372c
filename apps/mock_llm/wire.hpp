// One wire format per vendor behind one interface. A wire parses the
// vendor's request JSON into the vendor-neutral chat_request (refusing bad
// requests with the vendor's own error JSON and status) and renders a reply
// as the vendor's body or its exact stream of SSE events.
//
// This is an independent implementation written from the vendors' public API
// references; it shares no code with agentgraph's client codecs in net/, so
// a client passing against the mock is evidence, not a tautology.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "exchange.hpp"

namespace agentgraph::mock_llm {

// Looks a request header up case-insensitively; "" when absent.
using header_lookup = std::function<std::string(const std::string& name)>;

// What the URL says, for vendors that put request fields there (Gemini).
struct url_info {
  std::string model;
  bool stream = false;
  bool sse = true;
};

class chat_wire {
 public:
  virtual ~chat_wire() = default;
  [[nodiscard]] virtual std::string_view api() const = 0;
  // `expected_key` empty accepts any non-empty key.
  [[nodiscard]] virtual std::optional<wire_error> check_auth(const header_lookup& header,
                                                             const std::string& expected_key) const = 0;
  [[nodiscard]] virtual parsed_chat parse(const nlohmann::json& body, const url_info& url) const = 0;
  [[nodiscard]] virtual std::string render(const chat_request& req, const reply& r) const = 0;
  // Complete, framed events ("data: ...\n\n"), in order, ready to write.
  [[nodiscard]] virtual std::vector<std::string> render_stream(const chat_request& req, const reply& r) const = 0;
  [[nodiscard]] virtual std::string render_error(const wire_error& e) const = 0;
  [[nodiscard]] virtual std::string stream_content_type(const chat_request& req) const;
};

[[nodiscard]] const chat_wire& openai_wire();
[[nodiscard]] const chat_wire& openrouter_wire();
[[nodiscard]] const chat_wire& anthropic_wire();
[[nodiscard]] const chat_wire& gemini_wire();

// Embeddings: OpenAI's /v1/embeddings (also under OpenRouter) and Gemini's
// batchEmbedContents and embedContent (one content, one `embedding` back).
// Auth and errors are those of the vendor's chat wire.
enum class embed_route { openai, gemini_batch, gemini_single };

[[nodiscard]] parsed_embed parse_openai_embeddings(const nlohmann::json& body, std::string_view api);
[[nodiscard]] std::string render_openai_embeddings(const embed_request& req,
                                                   const std::vector<std::vector<float>>& vectors);
[[nodiscard]] parsed_embed parse_gemini_embeddings(const nlohmann::json& body, const url_info& url);
[[nodiscard]] std::string render_gemini_embeddings(const std::vector<std::vector<float>>& vectors);
[[nodiscard]] parsed_embed parse_gemini_embed_content(const nlohmann::json& body, const url_info& url);
[[nodiscard]] std::string render_gemini_embed_content(const std::vector<float>& vector);

// The malformed-JSON fault: the payload of the event's data line cut in
// half, framing kept, so a client fails to parse instead of waiting.
[[nodiscard]] std::string malform_event(std::string_view event);
[[nodiscard]] std::string malform_body(std::string_view body);

// nlohmann's name for a JSON value's type ("string", "array", ...).
[[nodiscard]] std::string json_type(const nlohmann::json& j);

}  // namespace agentgraph::mock_llm
