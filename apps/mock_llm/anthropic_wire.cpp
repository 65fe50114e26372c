// Anthropic messages API: content blocks (text, tool_use, tool_result), the
// x-api-key and anthropic-version headers, and the named SSE event sequence
// message_start, ping, content_block_start/delta/stop, message_delta,
// message_stop.
#include "text.hpp"
#include "wire.hpp"

namespace agentgraph::mock_llm {
namespace anthropic_wire_detail {

using nlohmann::json;

constexpr size_t messages_max = 4096;
constexpr size_t tools_max = 128;

// Anthropic names fields by dotted path with numeric indices ("messages.0.role").
wire_error field_required(const std::string& path) { return {400, path + ": Field required", path, ""}; }

wire_error invalid(const std::string& path, const std::string& why) { return {400, path + ": " + why, path, ""}; }

void block_text(const json& block, std::string& text) {
  if (block.value("type", "") == "text" && block.contains("text") && block["text"].is_string())
    text += block["text"].get<std::string>();
}

// Text of a tool_result block's content: a string or an array of text blocks.
std::string tool_result_text(const json& block) {
  if (!block.contains("content")) return {};
  if (block["content"].is_string()) return block["content"].get<std::string>();
  std::string text;
  if (block["content"].is_array())
    for (const auto& b : block["content"]) block_text(b, text);
  return text;
}

std::optional<wire_error> read_block(const json& block, const std::string& path, conversation& c,
                                     std::string& text, bool& has_tool_result) {
  if (!block.is_object()) return invalid(path, "Input should be a valid dictionary");
  if (!block.contains("type") || !block["type"].is_string()) return field_required(path + ".type");
  const auto type = block["type"].get<std::string>();
  if (type == "text" && (!block.contains("text") || !block["text"].is_string())) return field_required(path + ".text");
  if (type == "tool_use" && (!block.contains("id") || !block.contains("name") || !block.contains("input")))
    return field_required(path + (block.contains("id") ? (block.contains("name") ? ".input" : ".name") : ".id"));
  if (type == "tool_result") {
    if (!block.contains("tool_use_id")) return field_required(path + ".tool_use_id");
    c.last_tool_result = tool_result_text(block);
    c.prompt_chars += c.last_tool_result.size();
    has_tool_result = true;
  }
  if (type == "tool_use") c.prompt_chars += block["input"].dump().size();
  block_text(block, text);
  return std::nullopt;
}

std::optional<wire_error> read_message(const json& m, const std::string& path, conversation& c, bool last) {
  if (!m.is_object()) return invalid(path, "Input should be a valid dictionary");
  if (!m.contains("role")) return field_required(path + ".role");
  if (m["role"] != "user" && m["role"] != "assistant")
    return invalid(path + ".role", "Input should be 'user' or 'assistant'");
  if (!m.contains("content")) return field_required(path + ".content");
  const json& content = m["content"];
  std::string text;
  bool has_tool_result = false;
  if (content.is_string()) {
    text = content.get<std::string>();
  } else if (content.is_array()) {
    for (size_t i = 0; i < content.size(); ++i)
      if (auto e = read_block(content[i], path + ".content." + std::to_string(i), c, text, has_tool_result)) return e;
  } else {
    return invalid(path + ".content", "Input should be a valid string or list");
  }
  c.prompt_chars += text.size();
  const bool user = m["role"] == "user";
  if (user && !text.empty()) c.last_user_text = text;
  if (last) c.last_is_tool_result = user && has_tool_result;
  return std::nullopt;
}

std::optional<wire_error> read_system_and_tools(const json& body, conversation& c) {
  if (body.contains("system")) {
    const json& s = body["system"];
    if (!s.is_string() && !s.is_array()) return invalid("system", "Input should be a valid string or list");
    c.prompt_chars += s.is_string() ? s.get<std::string>().size() : s.dump().size();
  }
  if (!body.contains("tools")) return std::nullopt;
  const json& tools = body["tools"];
  if (!tools.is_array()) return invalid("tools", "Input should be a valid list");
  if (tools.size() > tools_max) return invalid("tools", "at most " + std::to_string(tools_max) + " tools");
  for (size_t i = 0; i < tools.size(); ++i)
    if (!tools[i].is_object() || !tools[i].contains("name")) return field_required("tools." + std::to_string(i) + ".name");
  c.has_tools = !tools.empty();
  c.prompt_chars += tools.dump().size();
  return std::nullopt;
}

std::optional<wire_error> read_request(const json& body, chat_request& req) {
  if (!body.is_object()) return invalid("body", "Input should be a valid dictionary");
  if (!body.contains("model")) return field_required("model");
  if (!body["model"].is_string()) return invalid("model", "Input should be a valid string");
  req.conv.model = body["model"].get<std::string>();
  if (!body.contains("max_tokens")) return field_required("max_tokens");
  if (!body["max_tokens"].is_number_unsigned() || body["max_tokens"].get<uint64_t>() < 1)
    return invalid("max_tokens", "Input should be a valid integer greater than or equal to 1");
  if (!body.contains("messages")) return field_required("messages");
  const json& messages = body["messages"];
  if (!messages.is_array()) return invalid("messages", "Input should be a valid list");
  if (messages.empty()) return invalid("messages", "at least one message is required");
  if (messages.size() > messages_max) return invalid("messages", "at most " + std::to_string(messages_max) + " messages");
  for (size_t i = 0; i < messages.size(); ++i)
    if (auto e = read_message(messages[i], "messages." + std::to_string(i), req.conv, i + 1 == messages.size())) return e;
  if (auto e = read_system_and_tools(body, req.conv)) return e;
  if (body.contains("stream")) {
    if (!body["stream"].is_boolean()) return invalid("stream", "Input should be a valid boolean");
    req.stream = body["stream"].get<bool>();
  }
  return std::nullopt;
}

json tool_use_block(const tool_call& call, bool with_input) {
  return {{"type", "tool_use"},
          {"id", call.id},
          {"name", call.name},
          {"input", with_input ? json::parse(call.arguments_json) : json::object()}};
}

const char* stop_reason(const reply& r) { return r.tool_calls.empty() ? "end_turn" : "tool_use"; }

bool has_text_block(const reply& r) { return !r.text.empty() || r.tool_calls.empty(); }

std::string event(const char* name, const json& data) {
  return std::string{"event: "} + name + "\ndata: " + data.dump() + "\n\n";
}

void stream_block(std::vector<std::string>& out, size_t index, json start, const std::string& body,
                  const char* delta_type, const char* field, uint32_t chunk_chars) {
  out.push_back(event("content_block_start",
                      {{"type", "content_block_start"}, {"index", index}, {"content_block", std::move(start)}}));
  for (auto& piece : utf8_chunks(body, chunk_chars))
    out.push_back(event("content_block_delta", {{"type", "content_block_delta"},
                                                {"index", index},
                                                {"delta", {{"type", delta_type}, {field, piece}}}}));
  out.push_back(event("content_block_stop", {{"type", "content_block_stop"}, {"index", index}}));
}

class anthropic_messages : public chat_wire {
 public:
  std::string_view api() const override { return "anthropic"; }

  std::optional<wire_error> check_auth(const header_lookup& header, const std::string& expected) const override {
    // x-api-key is the documented header; the 1.x SDKs send the same key as
    // a bearer token, which the service accepts too.
    std::string key = header("x-api-key");
    const std::string auth = header("Authorization");
    if (key.empty() && auth.rfind("Bearer ", 0) == 0) key = auth.substr(7);
    if (key.empty()) return {{401, "x-api-key header is required", "x-api-key", ""}};
    if (!expected.empty() && key != expected) return {{401, "invalid x-api-key", "x-api-key", ""}};
    if (header("anthropic-version").empty())
      return {{400, "anthropic-version: header is required", "anthropic-version", ""}};
    return std::nullopt;
  }

  parsed_chat parse(const json& body, const url_info&) const override {
    parsed_chat p;
    p.req.conv.api = "anthropic";
    p.req.conv.kind = "chat";
    p.error = read_request(body, p.req);
    return p;
  }

  std::string render(const chat_request& req, const reply& r) const override {
    json content = json::array();
    if (has_text_block(r)) content.push_back({{"type", "text"}, {"text", r.text}});
    for (const auto& call : r.tool_calls) content.push_back(tool_use_block(call, true));
    return json{{"id", r.id},
                {"type", "message"},
                {"role", "assistant"},
                {"model", req.conv.model},
                {"content", std::move(content)},
                {"stop_reason", stop_reason(r)},
                {"stop_sequence", nullptr},
                {"usage", usage_json(r.use.prompt_tokens, r.use.completion_tokens)}}
        .dump();
  }

  std::vector<std::string> render_stream(const chat_request& req, const reply& r) const override {
    std::vector<std::string> out;
    json message = {{"id", r.id},         {"type", "message"},          {"role", "assistant"},
                    {"model", req.conv.model}, {"content", json::array()}, {"stop_reason", nullptr},
                    {"stop_sequence", nullptr}, {"usage", usage_json(r.use.prompt_tokens, 1)}};
    out.push_back(event("message_start", {{"type", "message_start"}, {"message", std::move(message)}}));
    out.push_back(event("ping", {{"type", "ping"}}));
    size_t index = 0;
    if (has_text_block(r))
      stream_block(out, index++, {{"type", "text"}, {"text", ""}}, r.text, "text_delta", "text", r.chunk_chars);
    for (const auto& call : r.tool_calls)
      stream_block(out, index++, tool_use_block(call, false), call.arguments_json, "input_json_delta", "partial_json",
                   r.chunk_chars);
    out.push_back(event("message_delta", {{"type", "message_delta"},
                                          {"delta", {{"stop_reason", stop_reason(r)}, {"stop_sequence", nullptr}}},
                                          {"usage", {{"output_tokens", r.use.completion_tokens}}}}));
    out.push_back(event("message_stop", {{"type", "message_stop"}}));
    return out;
  }

  std::string render_error(const wire_error& e) const override {
    return json{{"type", "error"}, {"error", {{"type", error_type(e.status)}, {"message", e.message}}}}.dump();
  }

 private:
  static json usage_json(int64_t input, int64_t output) {
    return {{"input_tokens", input},
            {"output_tokens", output},
            {"cache_creation_input_tokens", 0},
            {"cache_read_input_tokens", 0}};
  }

  static const char* error_type(int status) {
    switch (status) {
      case 401: return "authentication_error";
      case 403: return "permission_error";
      case 404: return "not_found_error";
      case 413: return "request_too_large";
      case 429: return "rate_limit_error";
      case 503:
      case 529: return "overloaded_error";
      default: return status >= 500 ? "api_error" : "invalid_request_error";
    }
  }
};

}  // namespace anthropic_wire_detail

const chat_wire& anthropic_wire() {
  static const anthropic_wire_detail::anthropic_messages wire;
  return wire;
}

}  // namespace agentgraph::mock_llm
