// The Anthropic messages API wire format: the system prompt is a top-level
// field, tool calls are `tool_use` content blocks in assistant turns and
// their results `tool_result` blocks in user turns; streaming is a typed
// event sequence (message_start, content_block_start/delta/stop,
// message_delta, message_stop, ping, error). No embeddings endpoint.
#include "net/llm/vendor_codecs.hpp"
#include "net/llm/wire_common.hpp"
#include "runtime/error.hpp"

namespace agentgraph::wire {

namespace anthropic_codec_detail {

using Kind = Value::Kind;

Value text_block(const std::string& text) {
  Value b = Value::object();
  b["type"] = "text";
  b["text"] = text;
  return b;
}

caf::error append_blocks(const chat_message& m, Value& blocks) {
  // Anthropic rejects empty text blocks, so an empty content adds none.
  if (m.role != chat_role::tool && !m.content.empty())
    blocks.push_back(text_block(m.content));
  for (const auto& call : m.tool_calls) {
    Value b = Value::object();
    b["type"] = "tool_use";
    b["id"] = call.id;
    b["name"] = call.name;
    b["input"] = arguments_object(call);
    blocks.push_back(std::move(b));
  }
  if (m.role == chat_role::tool) {
    Value b = Value::object();
    b["type"] = "tool_result";
    b["tool_use_id"] = m.tool_call_id;
    b["content"] = m.content;
    blocks.push_back(std::move(b));
  }
  return caf::none;
}

std::string system_prompt(const chat_request& req) {
  std::string out;
  for (const auto& m : req.messages) {
    if (m.role != chat_role::system || m.content.empty())
      continue;
    if (!out.empty())
      out += "\n\n";
    out += m.content;
  }
  return out;
}

Value encode_tools(const std::vector<tool_definition>& tools) {
  Value out = Value::array();
  for (const auto& t : tools)
    out.push_back(tool_declaration(t, "input_schema"));
  return out;
}

finish_reason map_finish(const std::string& reason) {
  if (reason == "max_tokens")
    return finish_reason::length;
  if (reason == "tool_use")
    return finish_reason::tool_calls;
  return finish_reason::stop;  // end_turn, stop_sequence, pause_turn, refusal
}

// Cache reads and writes are input the model read too; token_usage has one
// prompt figure, so they are added to it.
int64_t input_tokens(const Value& usage) {
  return int_member(usage, "input_tokens") + int_member(usage, "cache_creation_input_tokens")
         + int_member(usage, "cache_read_input_tokens");
}

caf::error decode_block(const wire_settings& s, const wire_limits& l, const Value& block,
                        std::string& text, tool_call_assembler& calls) {
  auto type = string_member(block, "type");
  if (type == "text")
    return append_content(s, l, text, string_member(block, "text"));
  if (type == "tool_use") {
    const auto* input = member(block, "input", Kind::object);
    return calls.add({string_member(block, "id"), string_member(block, "name"),
                      input ? *input : Value::object()});
  }
  return caf::none;  // thinking and future block types carry no answer text
}

caf::expected<chat_response> decode_body(const wire_settings& s, const wire_limits& l,
                                         const Value& body) {
  const auto* content = member(body, "content", Kind::array);
  if (!content)
    return malformed(s, "response: no content array");
  std::string text;  // bounded by l.content_bytes_max
  tool_call_assembler calls{s, l};
  for (const auto& block : content->as_array())
    if (auto err = decode_block(s, l, block, text, calls))
      return err;
  token_usage usage;
  if (const auto* u = member(body, "usage", Kind::object))
    usage = {input_tokens(*u), int_member(*u, "output_tokens")};
  return make_answer(std::move(text), calls.calls(), usage,
                     map_finish(string_member(body, "stop_reason")), string_member(body, "model"));
}

class anthropic_stream_decoder final : public stream_decoder {
 public:
  anthropic_stream_decoder(wire_settings s, wire_limits l, std::string request_id)
    : stream_decoder(std::move(request_id)), settings_(std::move(s)), limits_(l),
      calls_(settings_, limits_) {}

 private:
  caf::error absorb(const sse_event& ev, stream_chunk& chunk) override {
    if (stopped_)
      return malformed(settings_, "stream: event after message_stop");
    auto v = parse_event(settings_, limits_, ev);
    if (!v)
      return std::move(v.error());
    // The payload's `type` is authoritative; the SSE event name repeats it.
    return dispatch(string_member(*v, "type"), *v, chunk);
  }

  caf::expected<chat_response> assemble() override {
    if (!stopped_)
      return malformed(settings_, "stream: ended before message_stop (connection dropped?)");
    return make_answer(text_, calls_.calls(), usage_, map_finish(stop_reason_), model_);
  }

  caf::error dispatch(const std::string& type, const Value& v, stream_chunk& chunk) {
    if (type == "message_start")
      return on_message_start(v);
    if (type == "content_block_start")
      return on_block_start(v, chunk);
    if (type == "content_block_delta")
      return on_block_delta(v, chunk);
    if (type == "content_block_stop")
      return on_block_stop(v, chunk);
    if (type == "message_delta")
      return on_message_delta(v);
    if (type == "message_stop")
      stopped_ = true;
    return caf::none;  // ping, and event types added later, are ignored
  }

  caf::error on_message_start(const Value& v) {
    const auto* msg = member(v, "message", Kind::object);
    if (!msg)
      return malformed(settings_, "stream: message_start without a message");
    model_ = string_member(*msg, "model");
    if (const auto* usage = member(*msg, "usage", Kind::object))
      usage_ = {input_tokens(*usage), int_member(*usage, "output_tokens")};
    return caf::none;
  }

  caf::error on_block_start(const Value& v, stream_chunk& chunk) {
    const auto* block = member(v, "content_block", Kind::object);
    if (!block)
      return malformed(settings_, "stream: content_block_start without a block");
    auto type = string_member(*block, "type");
    if (type == "text")
      return add_text(string_member(*block, "text"), chunk);
    if (type != "tool_use")
      return caf::none;
    auto index = int_member(v, "index");
    if (auto err = calls_.open(index, string_member(*block, "id"), string_member(*block, "name")))
      return err;
    // The block starts with `input: {}` and the input arrives as JSON
    // fragments; a non-empty start input is taken as the first fragment.
    const auto* input = member(*block, "input", Kind::object);
    if (input && input->size() > 0)
      return calls_.append(index, input->to_json());
    return caf::none;
  }

  caf::error on_block_delta(const Value& v, stream_chunk& chunk) {
    const auto* delta = member(v, "delta", Kind::object);
    if (!delta)
      return malformed(settings_, "stream: content_block_delta without a delta");
    auto type = string_member(*delta, "type");
    if (type == "text_delta")
      return add_text(string_member(*delta, "text"), chunk);
    if (type == "input_json_delta")
      return calls_.append(int_member(v, "index"), string_member(*delta, "partial_json"));
    return caf::none;  // thinking_delta, signature_delta, ...
  }

  caf::error on_block_stop(const Value& v, stream_chunk& chunk) {
    auto index = int_member(v, "index");
    if (!calls_.has(index))
      return caf::none;  // a text block
    auto call = calls_.close(index);
    if (!call)
      return std::move(call.error());
    chunk.tool_calls.push_back(std::move(*call));
    return caf::none;
  }

  caf::error on_message_delta(const Value& v) {
    if (const auto* delta = member(v, "delta", Kind::object))
      if (auto reason = string_member(*delta, "stop_reason"); !reason.empty())
        stop_reason_ = std::move(reason);
    // message_delta usage is cumulative: it replaces, not adds.
    if (const auto* usage = member(v, "usage", Kind::object)) {
      usage_.completion_tokens = int_member(*usage, "output_tokens");
      if (auto in = input_tokens(*usage); in > 0)
        usage_.prompt_tokens = in;
    }
    return caf::none;
  }

  caf::error add_text(const std::string& text, stream_chunk& chunk) {
    return append_delta(settings_, limits_, text_, text, chunk);
  }

  const wire_settings settings_;
  const wire_limits limits_;
  tool_call_assembler calls_;  // bounded by limits_.tool_calls_max
  std::string text_;           // bounded by limits_.content_bytes_max
  token_usage usage_;
  std::string stop_reason_;
  std::string model_;
  bool stopped_ = false;
};

class anthropic_codec final : public wire_codec {
 public:
  using wire_codec::wire_codec;

  caf::expected<http_request_spec> encode_chat(const chat_request& req,
                                               bool stream) const override {
    if (auto err = check_chat_request(req))
      return err;
    Value body = Value::object();
    body["model"] = req.model;
    body["max_tokens"] = req.max_tokens;  // required by this API
    if (auto system = system_prompt(req); !system.empty())
      body["system"] = std::move(system);
    // Tool results travel in user turns (merge_turns).
    auto messages = merge_turns(req, "assistant", "content", append_blocks);
    if (!messages)
      return std::move(messages.error());
    body["messages"] = std::move(*messages);
    if (!req.tools.empty())
      body["tools"] = encode_tools(req.tools);
    body["temperature"] = req.temperature;
    if (stream)
      body["stream"] = true;
    auto spec = post_json(limits_, settings_.base_url + "/messages", body, stream);
    if (!spec)
      return spec;
    spec->headers.emplace_back("anthropic-version", settings_.anthropic_version);
    if (!settings_.api_key.empty())  // a gateway in front may hold the key instead
      spec->headers.emplace_back("x-api-key", settings_.api_key);
    return spec;
  }

  caf::expected<chat_response> decode_chat(int status, std::string_view body) const override {
    auto v = parse_answer(settings_, limits_, status, body);
    if (!v)
      return std::move(v.error());
    return decode_body(settings_, limits_, *v);
  }

  std::unique_ptr<stream_decoder> make_stream_decoder(std::string request_id) const override {
    return std::make_unique<anthropic_stream_decoder>(settings_, limits_, std::move(request_id));
  }

  caf::expected<http_request_spec> encode_embed(const embed_request&) const override {
    return make_error(errc::unsupported, "anthropic: no embeddings API");
  }

  caf::expected<embed_response> decode_embed_vectors(int, std::string_view) const override {
    return make_error(errc::unsupported, "anthropic: no embeddings API");
  }
};

}  // namespace anthropic_codec_detail

std::unique_ptr<wire_codec> make_anthropic_codec(wire_settings s, wire_limits l) {
  return std::make_unique<anthropic_codec_detail::anthropic_codec>(std::move(s), l);
}

}  // namespace agentgraph::wire
