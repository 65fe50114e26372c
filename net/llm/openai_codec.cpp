// The OpenAI chat completions wire format, shared by `openai`, `openrouter`
// and `openai_compatible` (Ollama, vLLM, llama.cpp server). The three differ
// only in settings: base URL, the max-tokens field name and OpenRouter's
// attribution headers. Embeddings: POST /embeddings.
#include "net/llm/vendor_codecs.hpp"
#include "net/llm/wire_common.hpp"
#include "runtime/error.hpp"

namespace agentgraph::wire {

namespace openai_codec_detail {

using Kind = Value::Kind;

// Kept here rather than calling actors/' to_string(chat_role): net/ links
// nothing from actors/, and these are wire names, not display names.
const char* wire_role(chat_role role) {
  switch (role) {
    case chat_role::system: return "system";
    case chat_role::user: return "user";
    case chat_role::assistant: return "assistant";
    case chat_role::tool: return "tool";
  }
  return "user";
}

Value encode_tool_call(const tool_call& call) {
  Value fn = Value::object();
  fn["name"] = call.name;
  // The wire carries arguments as a JSON *string*, not an object.
  fn["arguments"] = call.arguments.is_null() ? std::string{"{}"} : call.arguments.to_json();
  Value out = Value::object();
  out["id"] = call.id;
  out["type"] = "function";
  out["function"] = std::move(fn);
  return out;
}

Value encode_message(const chat_message& m) {
  Value out = Value::object();
  out["role"] = wire_role(m.role);
  out["content"] = m.content;
  if (m.role == chat_role::assistant && !m.tool_calls.empty()) {
    if (m.content.empty())
      out["content"] = nullptr;  // what OpenAI itself sends for a pure tool-call turn
    Value calls = Value::array();
    for (const auto& call : m.tool_calls)
      calls.push_back(encode_tool_call(call));
    out["tool_calls"] = std::move(calls);
  }
  if (m.role == chat_role::tool)
    out["tool_call_id"] = m.tool_call_id;
  return out;
}

Value encode_tools(const std::vector<tool_definition>& tools) {
  Value out = Value::array();
  for (const auto& t : tools) {
    Value tool = Value::object();
    tool["type"] = "function";
    tool["function"] = tool_declaration(t, "parameters");
    out.push_back(std::move(tool));
  }
  return out;
}

finish_reason map_finish(const std::string& reason) {
  if (reason == "length")
    return finish_reason::length;
  if (reason == "tool_calls" || reason == "function_call")
    return finish_reason::tool_calls;
  return finish_reason::stop;  // stop, content_filter, and anything newer
}

token_usage decode_usage(const Value& usage) {
  return {int_member(usage, "prompt_tokens"), int_member(usage, "completion_tokens")};
}

// Arguments are a JSON string on the wire; some compatible servers send an
// object instead, which is accepted as it is.
caf::expected<Value> decode_arguments(const wire_settings& s, const wire_limits& l,
                                      const Value& fn, const std::string& name) {
  if (const auto* obj = member(fn, "arguments", Kind::object))
    return *obj;
  return parse_arguments(s, l, string_member(fn, "arguments"), name);
}

caf::error decode_tool_calls(const wire_settings& s, const wire_limits& l, const Value& message,
                             tool_call_assembler& calls) {
  const auto* list = member(message, "tool_calls", Kind::array);
  if (!list)
    return caf::none;
  for (const auto& item : list->as_array()) {
    const auto* fn = member(item, "function", Kind::object);
    if (!fn)
      return malformed(s, "response: tool call without a function");
    auto name = string_member(*fn, "name");
    auto args = decode_arguments(s, l, *fn, name);
    if (!args)
      return std::move(args.error());
    if (auto err = calls.add({string_member(item, "id"), name, std::move(*args)}))
      return err;
  }
  return caf::none;
}

const Value* first_choice(const Value& body) {
  const auto* choices = member(body, "choices", Kind::array);
  if (!choices)
    return nullptr;
  // Only choice 0 is used: requests never ask for n > 1.
  for (const auto& c : choices->as_array())
    if (c.is_object() && int_member(c, "index") == 0)
      return &c;
  return nullptr;
}

caf::expected<chat_response> decode_body(const wire_settings& s, const wire_limits& l,
                                         const Value& body) {
  const auto* choice = first_choice(body);
  if (!choice)
    return malformed(s, "response: no choices");
  const auto* message = member(*choice, "message", Kind::object);
  if (!message)
    return malformed(s, "response: choice without a message");
  std::string text;  // bounded by l.content_bytes_max
  if (auto err = append_content(s, l, text, string_member(*message, "content")))
    return err;
  tool_call_assembler calls{s, l};
  if (auto err = decode_tool_calls(s, l, *message, calls))
    return err;
  token_usage usage;
  if (const auto* u = member(body, "usage", Kind::object))
    usage = decode_usage(*u);
  return make_answer(std::move(text), calls.calls(), usage,
                     map_finish(string_member(*choice, "finish_reason")),
                     string_member(body, "model"));
}

// Streamed chat completion chunks: `choices[0].delta` carries text and
// tool-call fragments keyed by `index`; `finish_reason` closes the turn; with
// stream_options.include_usage a last chunk with empty choices carries
// usage; `data: [DONE]` ends the stream.
class openai_stream_decoder final : public stream_decoder {
 public:
  openai_stream_decoder(wire_settings s, wire_limits l, std::string request_id)
    : stream_decoder(std::move(request_id)), settings_(std::move(s)), limits_(l),
      calls_(settings_, limits_) {}

 private:
  caf::error absorb(const sse_event& ev, stream_chunk& chunk) override {
    if (done_)
      return malformed(settings_, "stream: event after [DONE]");
    if (is_done_sentinel(ev)) {
      done_ = true;
      return caf::none;
    }
    auto v = parse_event(settings_, limits_, ev);
    if (!v)
      return std::move(v.error());
    if (auto m = string_member(*v, "model"); !m.empty())
      model_ = std::move(m);
    if (const auto* usage = member(*v, "usage", Kind::object)) {
      usage_ = decode_usage(*usage);
      usage_seen_ = true;
    }
    const auto* choice = first_choice(*v);
    return choice ? absorb_choice(*choice, chunk) : caf::none;
  }

  caf::expected<chat_response> assemble() override {
    if (!finish_)
      return malformed(settings_, "stream: ended before finish_reason (connection dropped?)");
    // Usage follows finish_reason, so a stream cut between the two would
    // report zero tokens: require the end marker or the usage chunk.
    if (!done_ && !usage_seen_)
      return malformed(settings_, "stream: ended before [DONE]");
    return make_answer(text_, calls_.calls(), usage_, *finish_, model_);
  }

  caf::error absorb_choice(const Value& choice, stream_chunk& chunk) {
    if (const auto* delta = member(choice, "delta", Kind::object)) {
      if (auto err = append_delta(settings_, limits_, text_, string_member(*delta, "content"),
                                  chunk))
        return err;
      if (auto err = absorb_tool_deltas(*delta))
        return err;
    }
    auto reason = string_member(choice, "finish_reason");
    if (reason.empty())
      return caf::none;
    finish_ = map_finish(reason);
    // The turn is over, so every call has all its fragments.
    auto closed = calls_.close_all();
    if (!closed)
      return std::move(closed.error());
    chunk.tool_calls = std::move(*closed);
    return caf::none;
  }

  caf::error absorb_tool_deltas(const Value& delta) {
    const auto* list = member(delta, "tool_calls", Kind::array);
    if (!list)
      return caf::none;
    int64_t position = 0;
    for (const auto& item : list->as_array()) {
      // `index` is required by OpenAI; position is a fallback for servers
      // that leave it out when sending whole calls.
      const auto* idx = member(item, "index", Kind::integer);
      int64_t index = idx ? idx->as_int() : position;
      ++position;
      const auto* fn = member(item, "function", Kind::object);
      auto name = fn ? string_member(*fn, "name") : std::string{};
      if (auto err = calls_.open(index, string_member(item, "id"), name))
        return err;
      if (auto err = calls_.append(index, fn ? string_member(*fn, "arguments") : std::string{}))
        return err;
    }
    return caf::none;
  }

  const wire_settings settings_;
  const wire_limits limits_;
  tool_call_assembler calls_;  // bounded by limits_.tool_calls_max
  std::string text_;           // bounded by limits_.content_bytes_max
  token_usage usage_;
  bool usage_seen_ = false;
  std::optional<finish_reason> finish_;
  std::string model_;
  bool done_ = false;
};

class openai_codec final : public wire_codec {
 public:
  using wire_codec::wire_codec;

  caf::expected<http_request_spec> encode_chat(const chat_request& req,
                                               bool stream) const override {
    if (auto err = check_chat_request(req))
      return err;
    Value body = Value::object();
    body["model"] = req.model;
    Value messages = Value::array();
    for (const auto& m : req.messages)
      messages.push_back(encode_message(m));
    body["messages"] = std::move(messages);
    if (!req.tools.empty())
      body["tools"] = encode_tools(req.tools);
    body["temperature"] = req.temperature;
    body[settings_.max_tokens_field] = req.max_tokens;
    if (stream) {
      body["stream"] = true;
      body["stream_options"]["include_usage"] = true;
    }
    return make_spec("/chat/completions", body, stream);
  }

  caf::expected<chat_response> decode_chat(int status, std::string_view body) const override {
    // parse_answer: OpenRouter reports some upstream failures inside a 200 body.
    auto v = parse_answer(settings_, limits_, status, body);
    if (!v)
      return std::move(v.error());
    return decode_body(settings_, limits_, *v);
  }

  std::unique_ptr<stream_decoder> make_stream_decoder(std::string request_id) const override {
    return std::make_unique<openai_stream_decoder>(settings_, limits_, std::move(request_id));
  }

  caf::expected<http_request_spec> encode_embed(const embed_request& req) const override {
    if (auto err = check_embed_request(limits_, req))
      return err;
    Value body = Value::object();
    body["model"] = req.model;
    Value inputs = Value::array();
    for (const auto& text : req.inputs)
      inputs.push_back(text);
    body["input"] = std::move(inputs);
    // Only models that can shorten their vectors accept it (OpenAI's
    // text-embedding-3-*; local servers for some Matryoshka models). OpenAI
    // answers 400 for the others, which is right: the caller asked for a
    // length this model cannot give; a server that ignores the field is
    // caught by decode_embed's length check.
    if (req.dimensions > 0)
      body["dimensions"] = static_cast<int64_t>(req.dimensions);
    return make_spec("/embeddings", body, false);
  }

  caf::expected<embed_response> decode_embed_vectors(int status,
                                                     std::string_view body) const override {
    if (!is_success(status))
      return decode_error(status, body);
    auto v = parse_object(settings_, limits_, body, "embedding response");
    if (!v)
      return std::move(v.error());
    const auto* data = member(*v, "data", Kind::array);
    if (!data || data->size() == 0)
      return malformed(settings_, "embedding response: no data");
    embed_response r;
    r.vectors.resize(data->size());
    std::vector<bool> seen(data->size(), false);
    for (const auto& item : data->as_array()) {
      // Results carry their input's index; order is not promised.
      const auto* idx = member(item, "index", Kind::integer);
      if (!idx || idx->as_int() < 0 || static_cast<size_t>(idx->as_int()) >= r.vectors.size()
          || seen[idx->as_int()])
        return malformed(settings_, "embedding response: bad or repeated index");
      auto vec = parse_vector(settings_, limits_, item.find("embedding"));
      if (!vec)
        return std::move(vec.error());
      seen[idx->as_int()] = true;
      r.vectors[idx->as_int()] = std::move(*vec);
    }
    if (const auto* usage = member(*v, "usage", Kind::object))
      r.usage.prompt_tokens = int_member(*usage, "prompt_tokens");
    return r;
  }

 private:
  caf::expected<http_request_spec> make_spec(const char* path, const Value& body,
                                             bool stream) const {
    auto spec = post_json(limits_, settings_.base_url + path, body, stream);
    if (!spec)
      return spec;
    if (!settings_.api_key.empty())
      spec->headers.emplace_back("Authorization", "Bearer " + settings_.api_key);
    if (settings_.kind != wire_kind::openrouter)
      return spec;
    if (!settings_.openrouter_referer.empty())
      spec->headers.emplace_back("HTTP-Referer", settings_.openrouter_referer);
    if (!settings_.openrouter_title.empty())
      spec->headers.emplace_back("X-Title", settings_.openrouter_title);
    return spec;
  }
};

}  // namespace openai_codec_detail

std::unique_ptr<wire_codec> make_openai_codec(wire_settings s, wire_limits l) {
  return std::make_unique<openai_codec_detail::openai_codec>(std::move(s), l);
}

}  // namespace agentgraph::wire
