// OpenAI chat completions and embeddings, and OpenRouter (the same wire
// format under /api/v1 with its own error shape and a processing comment at
// the start of streams).
#include "text.hpp"
#include "wire.hpp"

namespace agentgraph::mock_llm {
namespace openai_wire_detail {

using nlohmann::json;

// A request larger than this is refused (OpenAI's own bounds are similar).
constexpr size_t messages_max = 4096;
constexpr size_t tools_max = 128;
constexpr size_t embedding_inputs_max = 2048;

wire_error missing(const std::string& param) {
  return {400, "Missing required parameter: '" + param + "'.", param, "missing_required_parameter"};
}

wire_error wrong_type(const std::string& param, const std::string& expected, const json& got) {
  return {400, "Invalid type for '" + param + "': expected " + expected + ", but got " + json_type(got) + " instead.",
          param, "invalid_type"};
}

wire_error bad_value(const std::string& param, const std::string& why) {
  return {400, "Invalid value for '" + param + "': " + why, param, "invalid_value"};
}

// Text of a message's content: a string, or the text parts of an array.
std::optional<wire_error> content_text(const json& content, const std::string& path, std::string& out) {
  if (content.is_null()) return std::nullopt;
  if (content.is_string()) {
    out = content.get<std::string>();
    return std::nullopt;
  }
  if (!content.is_array()) return wrong_type(path, "one of a string or array of objects", content);
  for (size_t i = 0; i < content.size(); ++i) {
    const json& part = content[i];
    const std::string sub = path + "[" + std::to_string(i) + "]";
    if (!part.is_object()) return wrong_type(sub, "an object", part);
    if (!part.contains("type")) return missing(sub + ".type");
    if (part["type"] == "text") {
      if (!part.contains("text") || !part["text"].is_string()) return missing(sub + ".text");
      out += part["text"].get<std::string>();
    }
  }
  return std::nullopt;
}

std::optional<wire_error> read_message(const json& m, const std::string& path, conversation& c, bool last) {
  if (!m.is_object()) return wrong_type(path, "an object", m);
  if (!m.contains("role")) return missing(path + ".role");
  if (!m["role"].is_string()) return wrong_type(path + ".role", "a string", m["role"]);
  const auto role = m["role"].get<std::string>();
  if (role != "system" && role != "developer" && role != "user" && role != "assistant" && role != "tool" &&
      role != "function")
    return {{400,
             "Invalid value: '" + role +
                 "'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.",
             path + ".role", "invalid_value"}};
  if ((role == "user" || role == "tool" || role == "system") && !m.contains("content"))
    return missing(path + ".content");
  if (role == "tool" && (!m.contains("tool_call_id") || !m["tool_call_id"].is_string()))
    return missing(path + ".tool_call_id");
  std::string text;
  if (m.contains("content"))
    if (auto e = content_text(m["content"], path + ".content", text)) return e;
  c.prompt_chars += text.size();
  if (m.contains("tool_calls")) {
    if (!m["tool_calls"].is_array()) return wrong_type(path + ".tool_calls", "an array", m["tool_calls"]);
    c.prompt_chars += m["tool_calls"].dump().size();
  }
  if (role == "user") c.last_user_text = text;
  if (role == "tool" || role == "function") c.last_tool_result = text;
  if (last) c.last_is_tool_result = role == "tool" || role == "function";
  return std::nullopt;
}

std::optional<wire_error> read_tools(const json& body, conversation& c) {
  if (!body.contains("tools") || body["tools"].is_null()) return std::nullopt;
  const json& tools = body["tools"];
  if (!tools.is_array()) return wrong_type("tools", "an array", tools);
  if (tools.size() > tools_max) return bad_value("tools", "at most " + std::to_string(tools_max) + " tools.");
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string path = "tools[" + std::to_string(i) + "]";
    if (!tools[i].is_object()) return wrong_type(path, "an object", tools[i]);
    if (!tools[i].contains("type")) return missing(path + ".type");
    if (!tools[i].contains("function") || !tools[i]["function"].is_object()) return missing(path + ".function");
    if (!tools[i]["function"].contains("name")) return missing(path + ".function.name");
  }
  c.has_tools = !tools.empty();
  c.prompt_chars += tools.dump().size();
  return std::nullopt;
}

std::optional<wire_error> read_stream_flags(const json& body, chat_request& req) {
  if (body.contains("stream") && !body["stream"].is_null()) {
    if (!body["stream"].is_boolean()) return wrong_type("stream", "a boolean", body["stream"]);
    req.stream = body["stream"].get<bool>();
  }
  if (!body.contains("stream_options") || body["stream_options"].is_null()) return std::nullopt;
  if (!req.stream)
    return {{400, "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options",
             "invalid_value"}};
  const json& opts = body["stream_options"];
  if (!opts.is_object()) return wrong_type("stream_options", "an object", opts);
  if (opts.contains("include_usage")) {
    if (!opts["include_usage"].is_boolean())
      return wrong_type("stream_options.include_usage", "a boolean", opts["include_usage"]);
    req.include_usage = opts["include_usage"].get<bool>();
  }
  return std::nullopt;
}

std::optional<wire_error> read_chat(const json& body, chat_request& req) {
  if (!body.is_object()) return wrong_type("body", "an object", body);
  if (!body.contains("model")) return missing("model");
  if (!body["model"].is_string()) return wrong_type("model", "a string", body["model"]);
  req.conv.model = body["model"].get<std::string>();
  if (!body.contains("messages")) return missing("messages");
  const json& messages = body["messages"];
  if (!messages.is_array()) return wrong_type("messages", "an array", messages);
  if (messages.empty())
    return {{400, "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array "
                  "instead.", "messages", "empty_array"}};
  if (messages.size() > messages_max) return bad_value("messages", "at most " + std::to_string(messages_max) + ".");
  for (size_t i = 0; i < messages.size(); ++i)
    if (auto e = read_message(messages[i], "messages[" + std::to_string(i) + "]", req.conv, i + 1 == messages.size()))
      return e;
  if (auto e = read_tools(body, req.conv)) return e;
  return read_stream_flags(body, req);
}

json message_json(const reply& r) {
  json msg = {{"role", "assistant"},
              {"content", r.text.empty() && !r.tool_calls.empty() ? json(nullptr) : json(r.text)},
              {"refusal", nullptr},
              {"annotations", json::array()}};
  if (r.tool_calls.empty()) return msg;
  json calls = json::array();
  for (const auto& call : r.tool_calls)
    calls.push_back({{"id", call.id},
                     {"type", "function"},
                     {"function", {{"name", call.name}, {"arguments", call.arguments_json}}}});
  msg["tool_calls"] = std::move(calls);
  return msg;
}

json usage_json(const reply& r) {
  return {{"prompt_tokens", r.use.prompt_tokens},
          {"completion_tokens", r.use.completion_tokens},
          {"total_tokens", r.use.prompt_tokens + r.use.completion_tokens}};
}

const char* finish_reason(const reply& r) { return r.tool_calls.empty() ? "stop" : "tool_calls"; }

class openai_chat : public chat_wire {
 public:
  explicit openai_chat(bool openrouter) : openrouter_(openrouter) {}

  std::string_view api() const override { return openrouter_ ? "openrouter" : "openai"; }

  std::optional<wire_error> check_auth(const header_lookup& header, const std::string& expected) const override {
    const std::string auth = header("Authorization");
    if (auth.rfind("Bearer ", 0) != 0 || auth.size() == 7)
      return {{401, "You didn't provide an API key. You need to provide your API key in an Authorization header "
                    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", "", ""}};
    if (!expected.empty() && auth.substr(7) != expected)
      return {{401, "Incorrect API key provided.", "", "invalid_api_key"}};
    return std::nullopt;
  }

  parsed_chat parse(const json& body, const url_info&) const override {
    parsed_chat p;
    p.req.conv.api = std::string{api()};
    p.req.conv.kind = "chat";
    p.error = read_chat(body, p.req);
    // OpenRouter reports usage at the end of every stream, asked for or not.
    if (openrouter_ && p.req.stream) p.req.include_usage = true;
    return p;
  }

  std::string render(const chat_request& req, const reply& r) const override {
    json body = {{"id", r.id},
                 {"object", "chat.completion"},
                 {"created", r.created_unix},
                 {"model", req.conv.model},
                 {"choices", json::array({{{"index", 0},
                                           {"message", message_json(r)},
                                           {"logprobs", nullptr},
                                           {"finish_reason", finish_reason(r)}}})},
                 {"usage", usage_json(r)},
                 {"system_fingerprint", "fp_mock"}};
    if (openrouter_) body["provider"] = "Mock";
    return body.dump();
  }

  std::vector<std::string> render_stream(const chat_request& req, const reply& r) const override {
    std::vector<std::string> events;
    // OpenRouter keeps idle connections alive with SSE comments; clients must skip them.
    if (openrouter_) events.push_back(": OPENROUTER PROCESSING\n\n");
    auto chunk = [&](json delta, json finish) {
      json c = {{"id", r.id},           {"object", "chat.completion.chunk"}, {"created", r.created_unix},
                {"model", req.conv.model}, {"system_fingerprint", "fp_mock"},
                {"choices", json::array({{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr},
                                          {"finish_reason", std::move(finish)}}})}};
      if (openrouter_) c["provider"] = "Mock";
      if (req.include_usage) c["usage"] = nullptr;  // every chunk but the last carries usage: null
      events.push_back("data: " + c.dump() + "\n\n");
    };
    chunk({{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}, nullptr);
    for (auto& piece : utf8_chunks(r.text, r.chunk_chars)) chunk({{"content", piece}}, nullptr);
    for (size_t i = 0; i < r.tool_calls.size(); ++i) {
      const auto& call = r.tool_calls[i];
      chunk({{"tool_calls", json::array({{{"index", i}, {"id", call.id}, {"type", "function"},
                                          {"function", {{"name", call.name}, {"arguments", ""}}}}})}},
            nullptr);
      for (auto& piece : utf8_chunks(call.arguments_json, r.chunk_chars))
        chunk({{"tool_calls", json::array({{{"index", i}, {"function", {{"arguments", piece}}}}})}}, nullptr);
    }
    chunk(json::object(), finish_reason(r));
    if (req.include_usage) {
      json last = {{"id", r.id},           {"object", "chat.completion.chunk"}, {"created", r.created_unix},
                   {"model", req.conv.model}, {"system_fingerprint", "fp_mock"}, {"choices", json::array()},
                   {"usage", usage_json(r)}};
      events.push_back("data: " + last.dump() + "\n\n");
    }
    events.push_back("data: [DONE]\n\n");
    return events;
  }

  std::string render_error(const wire_error& e) const override {
    if (openrouter_) return json{{"error", {{"code", e.status}, {"message", e.message}}}}.dump();
    return json{{"error",
                 {{"message", e.message},
                  {"type", error_type(e.status)},
                  {"param", e.param.empty() ? json(nullptr) : json(e.param)},
                  {"code", e.code.empty() ? json(nullptr) : json(e.code)}}}}
        .dump();
  }

 private:
  static const char* error_type(int status) {
    if (status == 429) return "requests";
    if (status >= 500) return "server_error";
    return "invalid_request_error";
  }

  bool openrouter_;
};

std::optional<wire_error> read_inputs(const json& input, embed_request& req) {
  if (input.is_string()) {
    req.inputs.push_back(input.get<std::string>());
    return std::nullopt;
  }
  if (!input.is_array()) return wrong_type("input", "a string or array", input);
  if (input.empty()) return bad_value("input", "must not be empty.");
  if (input.size() > embedding_inputs_max)
    return bad_value("input", "at most " + std::to_string(embedding_inputs_max) + " inputs.");
  for (size_t i = 0; i < input.size(); ++i) {
    // Token arrays are accepted and embedded by their JSON text.
    if (input[i].is_string()) req.inputs.push_back(input[i].get<std::string>());
    else if (input[i].is_array()) req.inputs.push_back(input[i].dump());
    else return wrong_type("input[" + std::to_string(i) + "]", "a string", input[i]);
  }
  return std::nullopt;
}

std::optional<wire_error> read_embeddings(const json& body, embed_request& req) {
  if (!body.is_object()) return wrong_type("body", "an object", body);
  if (!body.contains("model")) return missing("model");
  if (!body["model"].is_string()) return wrong_type("model", "a string", body["model"]);
  req.conv.model = body["model"].get<std::string>();
  if (!body.contains("input")) return missing("input");
  if (auto e = read_inputs(body["input"], req)) return e;
  if (body.contains("encoding_format") && !body["encoding_format"].is_null()) {
    const json& f = body["encoding_format"];
    if (f != "float" && f != "base64") return bad_value("encoding_format", "must be 'float' or 'base64'.");
    req.base64 = f == "base64";
  }
  if (body.contains("dimensions") && !body["dimensions"].is_null()) {
    const json& d = body["dimensions"];
    if (!d.is_number_unsigned() || d.get<uint64_t>() < 1 || d.get<uint64_t>() > embedding_dimensions_max)
      return bad_value("dimensions", "must be an integer in [1, " + std::to_string(embedding_dimensions_max) + "].");
    req.dimensions = d.get<uint32_t>();
  }
  return std::nullopt;
}

}  // namespace openai_wire_detail

const chat_wire& openai_wire() {
  static const openai_wire_detail::openai_chat wire{false};
  return wire;
}

const chat_wire& openrouter_wire() {
  static const openai_wire_detail::openai_chat wire{true};
  return wire;
}

parsed_embed parse_openai_embeddings(const nlohmann::json& body, std::string_view api) {
  parsed_embed p;
  p.req.conv.api = std::string{api};
  p.req.conv.kind = "embeddings";
  p.error = openai_wire_detail::read_embeddings(body, p.req);
  for (const auto& in : p.req.inputs) p.req.conv.prompt_chars += in.size();
  if (!p.req.inputs.empty()) p.req.conv.last_user_text = p.req.inputs.back();
  return p;
}

std::string render_openai_embeddings(const embed_request& req, const std::vector<std::vector<float>>& vectors) {
  using nlohmann::json;
  json data = json::array();
  for (size_t i = 0; i < vectors.size(); ++i) {
    json values = req.base64 ? json(base64_floats(vectors[i])) : json(vectors[i]);
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", std::move(values)}});
  }
  const int64_t tokens = estimate_tokens(req.conv.prompt_chars);
  return json{{"object", "list"},
              {"data", std::move(data)},
              {"model", req.conv.model},
              {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}}
      .dump();
}

}  // namespace agentgraph::mock_llm
