// The Gemini generateContent wire format (Google AI, v1beta): `contents`
// with roles user/model made of parts (text, functionCall,
// functionResponse), a top-level `systemInstruction`, tools as
// `functionDeclarations`, limits in `generationConfig`. The key travels in
// `x-goog-api-key`, never as `?key=`. streamGenerateContent?alt=sse sends a
// sequence of ordinary GenerateContentResponse objects, so one accumulator
// decodes both the whole body and the stream. Embeddings: batchEmbedContents.
#include "net/llm/vendor_codecs.hpp"
#include "net/llm/wire_common.hpp"
#include "runtime/error.hpp"

namespace agentgraph::wire {

namespace gemini_codec_detail {

using Kind = Value::Kind;

// batchEmbedContents takes at most this many requests; more is a 400 from
// the vendor, so it is refused here with a clearer message.
constexpr size_t embed_batch_requests_max = 100;

Value text_part(const std::string& text) {
  Value p = Value::object();
  p["text"] = text;
  return p;
}

// functionResponse.response must be an object: a JSON object result is sent
// as it is, anything else is wrapped as {"result": ...}.
Value response_object(const std::string& content) {
  auto parsed = Value::from_json(content);
  if (parsed && parsed->is_object())
    return *parsed;
  Value out = Value::object();
  out["result"] = parsed ? *parsed : Value{content};
  return out;
}

caf::error append_parts(const chat_request& req, const chat_message& m, Value& parts) {
  if (m.role != chat_role::tool && !m.content.empty())
    parts.push_back(text_part(m.content));
  for (const auto& call : m.tool_calls) {
    Value fc = Value::object();
    fc["name"] = call.name;
    fc["args"] = arguments_object(call);
    Value p = Value::object();
    p["functionCall"] = std::move(fc);
    parts.push_back(std::move(p));
  }
  if (m.role != chat_role::tool)
    return caf::none;
  // Gemini pairs results with calls by function name.
  auto name = m.name.empty() ? tool_name_for(req, m.tool_call_id) : m.name;
  if (name.empty())
    return make_error(errc::invalid_argument,
                      "gemini: tool message answers an unknown call '" + m.tool_call_id + "'");
  Value fr = Value::object();
  fr["name"] = name;
  fr["response"] = response_object(m.content);
  Value p = Value::object();
  p["functionResponse"] = std::move(fr);
  parts.push_back(std::move(p));
  return caf::none;
}

// Consecutive messages with the same wire role share one turn (merge_turns),
// so the results of parallel calls arrive together, as Gemini expects.
caf::expected<Value> encode_contents(const chat_request& req) {
  return merge_turns(req, "model", "parts", [&req](const chat_message& m, Value& parts) {
    return append_parts(req, m, parts);
  });
}

Value encode_system(const chat_request& req) {
  Value parts = Value::array();
  for (const auto& m : req.messages)
    if (m.role == chat_role::system && !m.content.empty())
      parts.push_back(text_part(m.content));
  if (parts.size() == 0)
    return {};
  Value out = Value::object();
  out["parts"] = std::move(parts);
  return out;
}

Value encode_tools(const std::vector<tool_definition>& tools) {
  Value decls = Value::array();
  for (const auto& t : tools) {
    Value d = Value::object();
    d["name"] = t.name;
    d["description"] = t.description;
    // Gemini rejects an OBJECT schema with no properties, so a tool without
    // parameters is declared without a schema.
    const auto* props = member(t.parameters, "properties", Kind::object);
    if (props && props->size() > 0)
      d["parameters"] = t.parameters;
    decls.push_back(std::move(d));
  }
  Value tool = Value::object();
  tool["functionDeclarations"] = std::move(decls);
  return Value::Array{std::move(tool)};
}

std::string bare_model(std::string_view model) {
  if (model.starts_with("models/"))
    model.remove_prefix(7);
  return std::string{model};
}

// Folds GenerateContentResponse objects (one body, or one per SSE event)
// into an answer. Owned by a codec call or a stream decoder.
class accumulator {
 public:
  accumulator(const wire_settings& s, const wire_limits& l) : s_(s), l_(l), calls_(s, l) {}

  caf::error absorb(const Value& v, stream_chunk& chunk) {
    if (auto id = string_member(v, "responseId"); !id.empty())
      response_id_ = std::move(id);
    if (auto m = string_member(v, "modelVersion"); !m.empty())
      model_ = std::move(m);
    if (const auto* usage = member(v, "usageMetadata", Kind::object))
      // Thinking tokens are billed as output, so they count as completion.
      usage_ = {int_member(*usage, "promptTokenCount"),
                int_member(*usage, "candidatesTokenCount")
                  + int_member(*usage, "thoughtsTokenCount")};
    const auto* candidates = member(v, "candidates", Kind::array);
    if (!candidates || candidates->size() == 0)
      return blocked(v);
    candidate_seen_ = true;
    return absorb_candidate(candidates->as_array().front(), chunk);
  }

  [[nodiscard]] bool finished() const { return finish_.has_value(); }
  [[nodiscard]] bool candidate_seen() const { return candidate_seen_; }

  chat_response result() const {
    return make_answer(text_, calls_.calls(), usage_, finish_.value_or(finish_reason::stop),
                       model_);
  }

 private:
  caf::error blocked(const Value& v) {
    const auto* feedback = member(v, "promptFeedback", Kind::object);
    auto reason = feedback ? string_member(*feedback, "blockReason") : std::string{};
    if (!reason.empty())
      return make_error(errc::provider_error, "gemini: prompt blocked (" + reason + ")");
    return caf::none;  // a usage-only chunk
  }

  caf::error absorb_candidate(const Value& cand, stream_chunk& chunk) {
    const auto* content = member(cand, "content", Kind::object);
    const auto* parts = content ? member(*content, "parts", Kind::array) : nullptr;
    if (parts)
      for (const auto& part : parts->as_array())
        if (auto err = absorb_part(part, chunk))
          return err;
    auto reason = string_member(cand, "finishReason");
    if (reason.empty())
      return caf::none;
    if (reason == "MALFORMED_FUNCTION_CALL")
      return make_error(errc::provider_error, "gemini: the model produced a malformed function call");
    finish_ = reason == "MAX_TOKENS" ? finish_reason::length : finish_reason::stop;
    return caf::none;
  }

  caf::error absorb_part(const Value& part, stream_chunk& chunk) {
    if (const auto* thought = member(part, "thought", Kind::boolean); thought && thought->as_bool())
      return caf::none;  // thought summaries are not part of the answer
    if (const auto* text = member(part, "text", Kind::string))
      return append_delta(s_, l_, text_, text->as_string(), chunk);
    const auto* fc = member(part, "functionCall", Kind::object);
    if (!fc)
      return caf::none;
    const auto* args = member(*fc, "args", Kind::object);
    tool_call call{string_member(*fc, "id"), string_member(*fc, "name"),
                   args ? *args : Value::object()};
    // Gemini may omit call ids; derive a stable one from the response id.
    if (call.id.empty())
      call.id = (response_id_.empty() ? std::string{} : response_id_ + "_") + "call_"
                + std::to_string(calls_added_);
    if (auto err = calls_.add(call))
      return err;
    ++calls_added_;
    chunk.tool_calls.push_back(std::move(call));
    return caf::none;
  }

  const wire_settings& s_;  // the owner's, which outlives this
  const wire_limits& l_;
  tool_call_assembler calls_;  // bounded by l_.tool_calls_max
  std::string text_;           // bounded by l_.content_bytes_max
  token_usage usage_;
  std::optional<finish_reason> finish_;
  std::string model_;
  std::string response_id_;
  size_t calls_added_ = 0;
  bool candidate_seen_ = false;
};

class gemini_stream_decoder final : public stream_decoder {
 public:
  gemini_stream_decoder(wire_settings s, wire_limits l, std::string request_id)
    : stream_decoder(std::move(request_id)), settings_(std::move(s)), limits_(l),
      acc_(settings_, limits_) {}

 private:
  // No "after the end" check: the end is only known when the body ends, and
  // a usage-only chunk may follow the finishReason.
  caf::error absorb(const sse_event& ev, stream_chunk& chunk) override {
    auto v = parse_event(settings_, limits_, ev);
    if (!v)
      return std::move(v.error());
    return acc_.absorb(*v, chunk);
  }

  caf::expected<chat_response> assemble() override {
    // The stream has no end marker but the finishReason of its last chunk.
    if (!acc_.finished())
      return malformed(settings_, "stream: ended before finishReason (connection dropped?)");
    return acc_.result();
  }

  const wire_settings settings_;
  const wire_limits limits_;
  accumulator acc_;
};

class gemini_codec final : public wire_codec {
 public:
  using wire_codec::wire_codec;

  caf::expected<http_request_spec> encode_chat(const chat_request& req,
                                               bool stream) const override {
    if (auto err = check_chat_request(req))
      return err;
    auto contents = encode_contents(req);
    if (!contents)
      return std::move(contents.error());
    Value body = Value::object();
    body["contents"] = std::move(*contents);
    if (auto system = encode_system(req); !system.is_null())
      body["systemInstruction"] = std::move(system);
    if (!req.tools.empty())
      body["tools"] = encode_tools(req.tools);
    body["generationConfig"]["temperature"] = req.temperature;
    body["generationConfig"]["maxOutputTokens"] = req.max_tokens;
    return make_spec(req.model, stream ? ":streamGenerateContent?alt=sse" : ":generateContent",
                     body, stream);
  }

  caf::expected<chat_response> decode_chat(int status, std::string_view body) const override {
    auto v = parse_answer(settings_, limits_, status, body);
    if (!v)
      return std::move(v.error());
    accumulator acc{settings_, limits_};
    stream_chunk ignored;
    if (auto err = acc.absorb(*v, ignored))
      return err;
    if (!acc.candidate_seen())
      return malformed(settings_, "response: no candidates");
    return acc.result();
  }

  std::unique_ptr<stream_decoder> make_stream_decoder(std::string request_id) const override {
    return std::make_unique<gemini_stream_decoder>(settings_, limits_, std::move(request_id));
  }

  caf::expected<http_request_spec> encode_embed(const embed_request& req) const override {
    if (auto err = check_embed_request(limits_, req))
      return err;
    if (req.inputs.size() > embed_batch_requests_max)
      return make_error(errc::invalid_argument,
                        "gemini: batchEmbedContents takes at most "
                          + std::to_string(embed_batch_requests_max) + " inputs, got "
                          + std::to_string(req.inputs.size()));
    Value requests = Value::array();
    for (const auto& text : req.inputs) {
      Value r = Value::object();
      r["model"] = "models/" + bare_model(req.model);
      r["content"]["parts"] = Value::Array{text_part(text)};
      // Per request: batchEmbedContents has no batch-wide setting.
      if (req.dimensions > 0)
        r["outputDimensionality"] = static_cast<int64_t>(req.dimensions);
      requests.push_back(std::move(r));
    }
    Value body = Value::object();
    body["requests"] = std::move(requests);
    return make_spec(req.model, ":batchEmbedContents", body, false);
  }

  caf::expected<embed_response> decode_embed_vectors(int status,
                                                     std::string_view body) const override {
    if (!is_success(status))
      return decode_error(status, body);
    auto v = parse_object(settings_, limits_, body, "embedding response");
    if (!v)
      return std::move(v.error());
    const auto* list = member(*v, "embeddings", Kind::array);
    if (!list || list->size() == 0)
      return malformed(settings_, "embedding response: no embeddings");
    embed_response r;
    for (const auto& e : list->as_array()) {
      auto vec = parse_vector(settings_, limits_, e.find("values"));
      if (!vec)
        return std::move(vec.error());
      r.vectors.push_back(std::move(*vec));
    }
    return r;  // batchEmbedContents reports no token usage
  }

 private:
  caf::expected<http_request_spec> make_spec(const std::string& model, const char* method,
                                             const Value& body, bool stream) const {
    auto name = bare_model(model);
    if (!is_path_safe_model(name))
      return make_error(errc::invalid_argument, "gemini: model name '" + model
                                                    + "' is not safe in a URL path");
    auto spec = post_json(limits_, settings_.base_url + "/models/" + name + method, body, stream);
    if (!spec)
      return spec;
    if (!settings_.api_key.empty())  // a gateway in front may hold the key instead
      spec->headers.emplace_back("x-goog-api-key", settings_.api_key);
    return spec;
  }
};

}  // namespace gemini_codec_detail

std::unique_ptr<wire_codec> make_gemini_codec(wire_settings s, wire_limits l) {
  return std::make_unique<gemini_codec_detail::gemini_codec>(std::move(s), l);
}

}  // namespace agentgraph::wire
