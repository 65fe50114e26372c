#include "net/llm/wire_common.hpp"

#include <algorithm>

#include "runtime/error.hpp"

namespace agentgraph::wire {

namespace wire_common_detail {

// Vendor messages are quoted into errors; a hostile or broken server must
// not be able to fill logs with megabytes or terminal escapes.
constexpr size_t vendor_text_bytes_max = 400;

std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, vendor_text_bytes_max)) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  if (text.size() > vendor_text_bytes_max)
    out += "...";
  return out;
}

// Untrusted text quoted into an error: the key scrubbed first (so a cut
// cannot leave half a key behind), then bounded and made printable.
std::string quote(const wire_settings& s, std::string_view text) {
  return printable(redact(std::string{text}, s.api_key));
}

// A JSON parse error without nlohmann's "last read: '...'" echo of the
// input, which could quote anything the server sent.
std::string json_error_summary(const caf::error& err) {
  auto text = error_context(err);
  auto cut = text.find("; last read");
  return cut == std::string::npos ? text : text.substr(0, cut);
}

// The human part of an error object: error.message, message, or error as a
// string (vLLM, Ollama and llama.cpp each use one of these shapes).
std::string error_message(const Value& v) {
  if (const auto* err = member(v, "error", Value::Kind::object))
    return string_member(*err, "message");
  if (const auto* err = member(v, "error", Value::Kind::string))
    return err->as_string();
  return string_member(v, "message");
}

// The machine part: error.type (OpenAI, Anthropic), error.status (Gemini),
// or a string error.code.
std::string error_label(const Value& v) {
  const Value* err = member(v, "error", Value::Kind::object);
  const Value& src = err ? *err : v;
  for (const char* key : {"type", "status", "code"}) {
    auto label = string_member(src, key);
    if (!label.empty() && label != "error")
      return label;
  }
  return {};
}

// Gemini's streaming errors may come wrapped in a one-element array.
const Value& unwrap(const Value& v) {
  if (v.is_array() && v.size() == 1)
    return v.as_array().front();
  return v;
}

}  // namespace wire_common_detail

caf::error malformed(const wire_settings& s, std::string_view what) {
  return make_error(errc::provider_error,
                    redact(std::string{to_string(s.kind)} + ": malformed " + std::string{what},
                           s.api_key));
}

caf::expected<Value> parse_object(const wire_settings& s, const wire_limits& l,
                                  std::string_view text, std::string_view what) {
  if (text.size() > l.body_bytes_max)
    return malformed(s, std::string{what} + ": larger than "
                          + std::to_string(l.body_bytes_max) + " bytes");
  auto v = Value::from_json(text);
  if (!v)
    return malformed(s, std::string{what} + ": not valid JSON ("
                          + wire_common_detail::json_error_summary(v.error()) + ")");
  if (!v->is_object())
    return malformed(s, std::string{what} + ": not a JSON object");
  return v;
}

const Value* member(const Value& obj, const char* key, Value::Kind kind) {
  const Value* v = obj.find(key);
  return v && v->kind() == kind ? v : nullptr;
}

std::string string_member(const Value& obj, const char* key) {
  const Value* v = member(obj, key, Value::Kind::string);
  return v ? v->as_string() : std::string{};
}

int64_t int_member(const Value& obj, const char* key) {
  const Value* v = member(obj, key, Value::Kind::integer);
  return v ? v->as_int() : 0;
}

std::string redact(std::string text, std::string_view secret) {
  if (secret.empty())
    return text;
  constexpr std::string_view mask = "[redacted]";
  for (auto pos = text.find(secret); pos != std::string::npos;
       pos = text.find(secret, pos + mask.size()))
    text.replace(pos, secret.size(), mask);
  return text;
}

bool is_error_object(const Value& v) {
  const Value& x = wire_common_detail::unwrap(v);
  return x.find("error") != nullptr || string_member(x, "type") == "error";
}

caf::error vendor_error(const wire_settings& s, int status, const Value& body) {
  using namespace wire_common_detail;
  const Value& v = unwrap(body);
  std::string text = to_string(s.kind);
  text += status == 0 ? ": stream error" : ": HTTP " + std::to_string(status);
  auto label = error_label(v);
  if (!label.empty())
    text += " " + quote(s, label);
  auto message = error_message(v);
  text += ": " + (message.empty() ? std::string{"(no message)"} : quote(s, message));
  return make_error(errc::provider_error, std::move(text));
}

caf::expected<Value> parse_answer(const wire_settings& s, const wire_limits& l, int status,
                                  std::string_view body) {
  if (!is_success(status))
    return vendor_error(s, status, body);
  auto v = parse_object(s, l, body, "response");
  if (!v)
    return std::move(v.error());
  if (is_error_object(*v))
    return vendor_error(s, status, *v);
  return v;
}

caf::error vendor_error(const wire_settings& s, int status, std::string_view body) {
  using namespace wire_common_detail;
  auto v = Value::from_json(body.substr(0, std::min(body.size(), size_t{1} << 20)));
  if (v && (v->is_object() || v->is_array()))
    return vendor_error(s, status, *v);
  std::string text = std::string{to_string(s.kind)} + ": HTTP " + std::to_string(status)
                     + " (body is not JSON: " + quote(s, body) + ")";
  return make_error(errc::provider_error, std::move(text));
}

caf::expected<Value> parse_event(const wire_settings& s, const wire_limits& l,
                                 const sse_event& ev) {
  auto v = parse_object(s, l, ev.data, "stream event");
  if (!v)
    return v;
  if (ev.type == "error" || is_error_object(*v))
    return vendor_error(s, 0, *v);
  return v;
}

caf::error append_content(const wire_settings& s, const wire_limits& l, std::string& text,
                          std::string_view piece) {
  if (text.size() + piece.size() > l.content_bytes_max)
    return malformed(s, "response: content longer than " + std::to_string(l.content_bytes_max)
                          + " bytes");
  text.append(piece);
  return caf::none;
}

caf::error append_delta(const wire_settings& s, const wire_limits& l, std::string& text,
                        std::string_view piece, stream_chunk& chunk) {
  if (auto err = append_content(s, l, text, piece))
    return err;
  chunk.delta_text += piece;
  return caf::none;
}

caf::error check_chat_request(const chat_request& req) {
  if (req.model.empty())
    return make_error(errc::invalid_argument, "chat request without a model");
  if (req.messages.empty())
    return make_error(errc::invalid_argument, "chat request without messages");
  if (req.max_tokens <= 0)
    return make_error(errc::invalid_argument, "chat request max_tokens must be > 0");
  for (const auto& m : req.messages)
    if (m.role == chat_role::tool && m.tool_call_id.empty())
      return make_error(errc::invalid_argument, "tool message without tool_call_id");
  for (const auto& t : req.tools)
    if (t.name.empty())
      return make_error(errc::invalid_argument, "tool definition without a name");
  return caf::none;
}

caf::error check_embed_request(const wire_limits& l, const embed_request& req) {
  if (req.model.empty())
    return make_error(errc::invalid_argument, "embed request without a model");
  if (req.inputs.empty())
    return make_error(errc::invalid_argument, "embed request without inputs");
  if (req.inputs.size() > l.embed_inputs_max)
    return make_error(errc::invalid_argument, "embed request has more than "
                                                  + std::to_string(l.embed_inputs_max)
                                                  + " inputs");
  if (req.dimensions > l.embed_dimensions_max)
    return make_error(errc::invalid_argument, "embed request asks for "
                                                  + std::to_string(req.dimensions)
                                                  + " dimensions; at most "
                                                  + std::to_string(l.embed_dimensions_max));
  return caf::none;
}

caf::error check_embed_lengths(const wire_settings& s, const embed_response& r,
                               uint32_t dimensions) {
  if (r.vectors.empty())
    return caf::none;
  const size_t first = r.vectors.front().size();
  auto mismatch = [&](std::string what) {
    return make_error(errc::provider_error,
                      std::string{to_string(s.kind)} + ": dimension mismatch: " + what);
  };
  for (const auto& v : r.vectors)
    if (v.size() != first)
      return mismatch("vectors of " + std::to_string(first) + " and " + std::to_string(v.size())
                      + " floats in one answer");
  if (dimensions > 0 && first != dimensions)
    return mismatch("asked " + std::to_string(dimensions) + ", got " + std::to_string(first));
  // An empty vector is no embedding (cosine against it is undefined).
  if (first == 0)
    return mismatch("vectors of 0 floats");
  return caf::none;
}

bool is_path_safe_model(std::string_view model) {
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c == '.' || c == '_' || c == '-' || c == '/';
  };
  return !model.empty() && std::all_of(model.begin(), model.end(), ok)
         && model.find("..") == std::string_view::npos;
}

caf::expected<std::string> to_body(const wire_limits& l, const Value& body) {
  auto text = body.to_json();
  if (text.size() > l.body_bytes_max)
    return make_error(errc::limit_exceeded, "request body larger than "
                                                + std::to_string(l.body_bytes_max) + " bytes");
  return text;
}

std::vector<std::pair<std::string, std::string>> json_headers(bool stream) {
  std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "application/json"}};
  if (stream)
    headers.emplace_back("Accept", "text/event-stream");
  return headers;
}

caf::expected<http_request_spec> post_json(const wire_limits& l, std::string url,
                                           const Value& body, bool stream) {
  auto text = to_body(l, body);
  if (!text)
    return std::move(text.error());
  return http_request_spec{"POST", std::move(url), json_headers(stream), std::move(*text), stream};
}

std::string tool_name_for(const chat_request& req, std::string_view tool_call_id) {
  for (const auto& m : req.messages)
    for (const auto& call : m.tool_calls)
      if (call.id == tool_call_id)
        return call.name;
  return {};
}

Value parameters_or_empty(const tool_definition& t) {
  if (t.parameters.is_object())
    return t.parameters;
  Value schema = Value::object();
  schema["type"] = "object";
  schema["properties"] = Value::object();
  return schema;
}

Value tool_declaration(const tool_definition& t, const char* schema_key) {
  Value out = Value::object();
  out["name"] = t.name;
  out["description"] = t.description;
  out[schema_key] = parameters_or_empty(t);
  return out;
}

Value arguments_object(const tool_call& call) {
  return call.arguments.is_object() ? call.arguments : Value::object();
}

caf::expected<Value> merge_turns(const chat_request& req, std::string_view assistant_role,
                                 const char* blocks_key, const block_encoder& encode) {
  Value out = Value::array();
  std::string_view last_role;
  for (const auto& m : req.messages) {
    if (m.role == chat_role::system)
      continue;
    std::string_view role = m.role == chat_role::assistant ? assistant_role : "user";
    if (role != last_role) {
      Value turn = Value::object();
      turn["role"] = std::string{role};
      turn[blocks_key] = Value::array();
      out.push_back(std::move(turn));
      last_role = role;
    }
    if (auto err = encode(m, out.as_array().back()[blocks_key]))
      return err;
  }
  return out;
}

caf::expected<Value> parse_arguments(const wire_settings& s, const wire_limits& l,
                                     std::string_view text, std::string_view tool_name) {
  if (text.size() > l.tool_arguments_bytes_max)
    return malformed(s, "tool call '" + std::string{tool_name} + "': arguments longer than "
                          + std::to_string(l.tool_arguments_bytes_max) + " bytes");
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return Value::object();
  auto v = Value::from_json(text);
  if (!v)
    return malformed(s, "tool call '" + std::string{tool_name}
                          + "': arguments are not valid JSON ("
                          + wire_common_detail::json_error_summary(v.error()) + ")");
  return v;
}

caf::expected<std::vector<float>> parse_vector(const wire_settings& s, const wire_limits& l,
                                               const Value* values) {
  if (!values || !values->is_array())
    return malformed(s, "embedding: no array of numbers");
  if (values->size() > l.embed_dimensions_max)
    return malformed(s, "embedding: more than " + std::to_string(l.embed_dimensions_max)
                          + " dimensions");
  std::vector<float> out;
  out.reserve(values->size());
  for (const auto& x : values->as_array()) {
    if (!x.is_number())
      return malformed(s, "embedding: a value is not a number");
    out.push_back(static_cast<float>(x.as_double()));
  }
  return out;
}

void settle_finish(chat_response& r) {
  if (!r.message.tool_calls.empty() && r.finish != finish_reason::length)
    r.finish = finish_reason::tool_calls;
}

chat_response make_answer(std::string text, std::vector<tool_call> calls, token_usage usage,
                          finish_reason finish, std::string model) {
  chat_response r;
  r.message.role = chat_role::assistant;
  r.message.content = std::move(text);
  r.message.tool_calls = std::move(calls);
  r.usage = usage;
  r.finish = finish;
  r.model = std::move(model);
  settle_finish(r);
  return r;
}

tool_call_assembler::tool_call_assembler(const wire_settings& s, const wire_limits& l)
  : settings_(s), limits_(l) {}

caf::error tool_call_assembler::open(int64_t index, std::string_view id, std::string_view name) {
  if (index < 0)
    return malformed(settings_, "tool call: negative index");
  auto i = slots_.find(index);
  if (i == slots_.end()) {
    if (slots_.size() >= limits_.tool_calls_max)
      return malformed(settings_, "response: more than " + std::to_string(limits_.tool_calls_max)
                                    + " tool calls");
    i = slots_.emplace(index, slot{}).first;
  }
  if (!id.empty() && i->second.id.empty())
    i->second.id = id;
  if (!name.empty() && i->second.name.empty())
    i->second.name = name;
  return caf::none;
}

caf::error tool_call_assembler::append(int64_t index, std::string_view fragment) {
  auto i = slots_.find(index);
  if (i == slots_.end() || i->second.done)
    return malformed(settings_, "stream: arguments for a tool call that is not open");
  auto& args = i->second.arguments;
  if (args.size() + fragment.size() > limits_.tool_arguments_bytes_max)
    return malformed(settings_, "tool call '" + i->second.name + "': arguments longer than "
                                  + std::to_string(limits_.tool_arguments_bytes_max) + " bytes");
  args.append(fragment);
  return caf::none;
}

caf::expected<tool_call> tool_call_assembler::close(int64_t index) {
  auto i = slots_.find(index);
  if (i == slots_.end() || i->second.done)
    return malformed(settings_, "stream: closing a tool call that is not open");
  auto& sl = i->second;
  if (sl.name.empty())
    return malformed(settings_, "tool call without a name");
  auto args = parse_arguments(settings_, limits_, sl.arguments, sl.name);
  if (!args)
    return std::move(args.error());
  // Vendors always send ids today; the fallback keeps call/result pairing
  // possible for OpenAI-compatible servers that do not.
  std::string id = sl.id.empty() ? "call_" + std::to_string(index) : sl.id;
  sl.done = tool_call{std::move(id), sl.name, std::move(*args)};
  sl.arguments.clear();
  sl.arguments.shrink_to_fit();
  return *sl.done;
}

caf::expected<std::vector<tool_call>> tool_call_assembler::close_all() {
  std::vector<tool_call> out;
  for (auto& [index, sl] : slots_) {
    if (sl.done)
      continue;
    auto call = close(index);
    if (!call)
      return std::move(call.error());
    out.push_back(std::move(*call));
  }
  return out;
}

caf::error tool_call_assembler::add(tool_call call) {
  int64_t index = slots_.empty() ? 0 : slots_.rbegin()->first + 1;
  if (slots_.size() >= limits_.tool_calls_max)
    return malformed(settings_, "response: more than " + std::to_string(limits_.tool_calls_max)
                                  + " tool calls");
  if (call.name.empty())
    return malformed(settings_, "tool call without a name");
  if (call.id.empty())
    call.id = "call_" + std::to_string(index);
  slot sl;
  sl.done = std::move(call);
  slots_.emplace(index, std::move(sl));
  return caf::none;
}

std::vector<tool_call> tool_call_assembler::calls() const {
  std::vector<tool_call> out;
  for (const auto& [index, sl] : slots_)
    if (sl.done)
      out.push_back(*sl.done);
  return out;
}

}  // namespace agentgraph::wire
