// Gemini generateContent / streamGenerateContent (alt=sse, or a streamed
// JSON array without it) with text and functionCall parts, and
// batchEmbedContents / embedContent. The model and the streaming flag come
// from the URL; the key from x-goog-api-key (or the `key` query parameter).
#include "text.hpp"
#include "wire.hpp"

namespace agentgraph::mock_llm {
namespace gemini_wire_detail {

using nlohmann::json;

constexpr size_t contents_max = 4096;
constexpr size_t embed_requests_max = 100;  // the API's own batch limit

wire_error invalid(const std::string& field, const std::string& why) {
  return {400, "* GenerateContentRequest." + field + ": " + why + "\n", field, ""};
}

std::optional<wire_error> read_part(const json& part, const std::string& path, conversation& c, std::string& text,
                                    bool& has_response) {
  if (!part.is_object()) return invalid(path, "must be an object");
  if (part.contains("text")) {
    if (!part["text"].is_string()) return invalid(path + ".text", "must be a string");
    text += part["text"].get<std::string>();
  }
  if (part.contains("functionCall")) {
    if (!part["functionCall"].is_object() || !part["functionCall"].contains("name"))
      return invalid(path + ".function_call.name", "Name cannot be empty.");
    c.prompt_chars += part["functionCall"].dump().size();
  }
  if (part.contains("functionResponse")) {
    const json& fr = part["functionResponse"];
    if (!fr.is_object() || !fr.contains("name")) return invalid(path + ".function_response.name", "Name cannot be empty.");
    c.last_tool_result = fr.contains("response") ? fr["response"].dump() : "";
    c.prompt_chars += c.last_tool_result.size();
    has_response = true;
  }
  return std::nullopt;
}

std::optional<wire_error> read_content(const json& content, const std::string& path, conversation& c, bool last) {
  if (!content.is_object()) return invalid(path, "must be an object");
  const std::string role = content.value("role", "user");
  if (role != "user" && role != "model" && role != "function")
    return invalid(path + ".role", "Please use a valid role: user, model.");
  if (!content.contains("parts") || !content["parts"].is_array() || content["parts"].empty())
    return invalid(path + ".parts", "contents.parts must not be empty.");
  std::string text;
  bool has_response = false;
  const json& parts = content["parts"];
  for (size_t i = 0; i < parts.size(); ++i)
    if (auto e = read_part(parts[i], path + ".parts[" + std::to_string(i) + "]", c, text, has_response)) return e;
  c.prompt_chars += text.size();
  if (role == "user" && !text.empty()) c.last_user_text = text;
  if (last) c.last_is_tool_result = has_response;
  return std::nullopt;
}

std::optional<wire_error> read_tools(const json& body, conversation& c) {
  if (body.contains("systemInstruction")) c.prompt_chars += body["systemInstruction"].dump().size();
  if (!body.contains("tools")) return std::nullopt;
  const json& tools = body["tools"];
  if (!tools.is_array()) return invalid("tools", "must be a list");
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string path = "tools[" + std::to_string(i) + "]";
    if (!tools[i].is_object()) return invalid(path, "must be an object");
    if (!tools[i].contains("functionDeclarations")) continue;  // search, code execution: accepted, not modelled
    const json& decls = tools[i]["functionDeclarations"];
    if (!decls.is_array()) return invalid(path + ".function_declarations", "must be a list");
    for (size_t k = 0; k < decls.size(); ++k)
      if (!decls[k].is_object() || !decls[k].contains("name"))
        return invalid(path + ".function_declarations[" + std::to_string(k) + "].name", "Name cannot be empty.");
    c.has_tools = c.has_tools || !decls.empty();
  }
  c.prompt_chars += tools.dump().size();
  return std::nullopt;
}

std::optional<wire_error> read_request(const json& body, chat_request& req) {
  if (!body.is_object()) return invalid("body", "must be an object");
  if (!body.contains("contents")) return invalid("contents", "contents is not specified");
  const json& contents = body["contents"];
  if (!contents.is_array()) return invalid("contents", "must be a list");
  if (contents.empty()) return invalid("contents", "contents is not specified");
  if (contents.size() > contents_max) return invalid("contents", "at most " + std::to_string(contents_max));
  for (size_t i = 0; i < contents.size(); ++i)
    if (auto e = read_content(contents[i], "contents[" + std::to_string(i) + "]", req.conv, i + 1 == contents.size()))
      return e;
  return read_tools(body, req.conv);
}

json usage_json(const reply& r) {
  return {{"promptTokenCount", r.use.prompt_tokens},
          {"candidatesTokenCount", r.use.completion_tokens},
          {"totalTokenCount", r.use.prompt_tokens + r.use.completion_tokens}};
}

json function_call_part(const tool_call& call) {
  return {{"functionCall", {{"name", call.name}, {"args", json::parse(call.arguments_json)}}}};
}

// One GenerateContentResponse; `last` adds finishReason and the final usage.
json response(const chat_request& req, const reply& r, json parts, bool last) {
  json candidate = {{"content", {{"parts", std::move(parts)}, {"role", "model"}}}, {"index", 0}};
  if (last) candidate["finishReason"] = "STOP";
  json out = {{"candidates", json::array({std::move(candidate)})}, {"modelVersion", req.conv.model},
              {"responseId", r.id}};
  out["usageMetadata"] = last ? usage_json(r) : json{{"promptTokenCount", r.use.prompt_tokens}};
  return out;
}

std::vector<json> stream_chunks(const chat_request& req, const reply& r) {
  std::vector<json> parts_per_chunk;
  for (auto& piece : utf8_chunks(r.text, r.chunk_chars)) parts_per_chunk.push_back(json::array({{{"text", piece}}}));
  // Gemini delivers function calls whole, in one chunk, never as fragments.
  if (!r.tool_calls.empty()) {
    json calls = json::array();
    for (const auto& call : r.tool_calls) calls.push_back(function_call_part(call));
    parts_per_chunk.push_back(std::move(calls));
  }
  if (parts_per_chunk.empty()) parts_per_chunk.push_back(json::array({{{"text", ""}}}));
  std::vector<json> chunks;
  for (size_t i = 0; i < parts_per_chunk.size(); ++i)
    chunks.push_back(response(req, r, std::move(parts_per_chunk[i]), i + 1 == parts_per_chunk.size()));
  return chunks;
}

const char* status_name(int status) {
  switch (status) {
    case 400: return "INVALID_ARGUMENT";
    case 401: return "UNAUTHENTICATED";
    case 403: return "PERMISSION_DENIED";
    case 404: return "NOT_FOUND";
    case 429: return "RESOURCE_EXHAUSTED";
    case 503: return "UNAVAILABLE";
    case 504: return "DEADLINE_EXCEEDED";
    default: return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
  }
}

class gemini_generate : public chat_wire {
 public:
  std::string_view api() const override { return "gemini"; }

  std::optional<wire_error> check_auth(const header_lookup& header, const std::string& expected) const override {
    std::string key = header("x-goog-api-key");
    if (key.empty()) key = header("?key");
    if (key.empty())
      return {{403, "Method doesn't allow unregistered callers (callers without established identity). Please use API "
                    "Key or other form of API consumer identity to call this API.", "", ""}};
    if (!expected.empty() && key != expected) return {{400, "API key not valid. Please pass a valid API key.", "", ""}};
    return std::nullopt;
  }

  parsed_chat parse(const json& body, const url_info& url) const override {
    parsed_chat p;
    p.req.conv.api = "gemini";
    p.req.conv.kind = "chat";
    p.req.conv.model = url.model;
    p.req.stream = url.stream;
    p.req.sse = url.sse;
    p.error = read_request(body, p.req);
    return p;
  }

  std::string render(const chat_request& req, const reply& r) const override {
    json parts = json::array();
    if (!r.text.empty() || r.tool_calls.empty()) parts.push_back({{"text", r.text}});
    for (const auto& call : r.tool_calls) parts.push_back(function_call_part(call));
    return response(req, r, std::move(parts), true).dump();
  }

  std::vector<std::string> render_stream(const chat_request& req, const reply& r) const override {
    std::vector<std::string> out;
    auto chunks = stream_chunks(req, r);
    for (size_t i = 0; i < chunks.size(); ++i) {
      // The service ends SSE events with CRLF CRLF; without alt=sse it streams one JSON array.
      if (req.sse) out.push_back("data: " + chunks[i].dump() + "\r\n\r\n");
      else out.push_back((i == 0 ? "[" : ",\r\n") + chunks[i].dump());
    }
    if (!req.sse) out.push_back("]");
    return out;
  }

  std::string render_error(const wire_error& e) const override {
    return json{{"error", {{"code", e.status}, {"message", e.message}, {"status", status_name(e.status)}}}}.dump();
  }

  std::string stream_content_type(const chat_request& req) const override {
    return req.sse ? "text/event-stream" : "application/json; charset=UTF-8";
  }
};

// One EmbedContentRequest: an element of batchEmbedContents' `requests`
// (`path` "requests[i]", where `model` is required) or the whole body of
// embedContent (`path` empty, where the URL names the model and `model` may
// be left out).
std::optional<wire_error> read_embed_request(const json& r, const std::string& path, const url_info& url,
                                             embed_request& req) {
  const std::string where = path.empty() ? "EmbedContentRequest" : "BatchEmbedContentsRequest." + path;
  const std::string field = path.empty() ? "" : path + ".";
  if (!r.is_object()) return invalid(path.empty() ? "body" : path, "must be an object");
  if ((!path.empty() || r.contains("model")) && (!r.contains("model") || r["model"] != "models/" + url.model))
    return {{400, "* " + where + ".model: the model must match the one in the URL (models/" + url.model + ")\n",
             field + "model", ""}};
  if (!r.contains("content") || !r["content"].is_object() || !r["content"].contains("parts") ||
      !r["content"]["parts"].is_array())
    return {{400, "* " + where + ".content: content is not specified\n", field + "content", ""}};
  std::string text;
  for (const auto& part : r["content"]["parts"])
    if (part.is_object() && part.contains("text") && part["text"].is_string()) text += part["text"].get<std::string>();
  req.inputs.push_back(std::move(text));
  if (r.contains("outputDimensionality")) {
    const json& d = r["outputDimensionality"];
    if (!d.is_number_unsigned() || d.get<uint64_t>() < 1 || d.get<uint64_t>() > embedding_dimensions_max)
      return {{400, "* " + where + ".output_dimensionality: out of range\n", field + "outputDimensionality", ""}};
    req.dimensions = d.get<uint32_t>();
  }
  return std::nullopt;
}

}  // namespace gemini_wire_detail

const chat_wire& gemini_wire() {
  static const gemini_wire_detail::gemini_generate wire;
  return wire;
}

parsed_embed parse_gemini_embeddings(const nlohmann::json& body, const url_info& url) {
  parsed_embed p;
  p.req.conv.api = "gemini";
  p.req.conv.kind = "embeddings";
  p.req.conv.model = url.model;
  if (!body.is_object() || !body.contains("requests") || !body["requests"].is_array() || body["requests"].empty()) {
    p.error = wire_error{400, "* BatchEmbedContentsRequest.requests: requests is not specified\n", "requests", ""};
    return p;
  }
  const auto& requests = body["requests"];
  if (requests.size() > gemini_wire_detail::embed_requests_max) {
    p.error = wire_error{400, "* BatchEmbedContentsRequest.requests: at most 100 requests\n", "requests", ""};
    return p;
  }
  for (size_t i = 0; i < requests.size() && !p.error; ++i)
    p.error = gemini_wire_detail::read_embed_request(requests[i], "requests[" + std::to_string(i) + "]", url, p.req);
  for (const auto& in : p.req.inputs) p.req.conv.prompt_chars += in.size();
  if (!p.req.inputs.empty()) p.req.conv.last_user_text = p.req.inputs.back();
  return p;
}

parsed_embed parse_gemini_embed_content(const nlohmann::json& body, const url_info& url) {
  parsed_embed p;
  p.req.conv.api = "gemini";
  p.req.conv.kind = "embeddings";
  p.req.conv.model = url.model;
  p.error = gemini_wire_detail::read_embed_request(body, "", url, p.req);
  for (const auto& in : p.req.inputs) p.req.conv.prompt_chars += in.size();
  if (!p.req.inputs.empty()) p.req.conv.last_user_text = p.req.inputs.back();
  return p;
}

std::string render_gemini_embed_content(const std::vector<float>& vector) {
  return nlohmann::json{{"embedding", {{"values", vector}}}}.dump();
}

std::string render_gemini_embeddings(const std::vector<std::vector<float>>& vectors) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& v : vectors) list.push_back({{"values", v}});
  return nlohmann::json{{"embeddings", std::move(list)}}.dump();
}

}  // namespace agentgraph::mock_llm
