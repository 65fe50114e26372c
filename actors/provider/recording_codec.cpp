#include "actors/provider/recording_codec.hpp"

#include <array>
#include <cmath>
#include <limits>


#include "actors/provider/llm_cache_codec.hpp"
#include "runtime/digest.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

namespace recording_codec_detail {

// Bounds a decoded row must respect: a damaged file must not make the
// replay allocate without limit or wait for years.
constexpr int64_t latency_us_max = int64_t{24} * 3600 * 1'000'000;  // one day
constexpr size_t embed_vectors_max = 4096;
constexpr size_t embed_dims_max = 65536;

Value embed_to_value(const embed_response& e) {
  Value vectors = Value::array();
  for (const auto& v : e.vectors) {
    Value one = Value::array();
    one.as_array().reserve(v.size());
    for (float x : v)
      one.as_array().push_back(Value{static_cast<double>(x)});
    vectors.as_array().push_back(std::move(one));
  }
  return Value{Value::Object{{"vectors", std::move(vectors)},
                             {"prompt_tokens", Value{e.usage.prompt_tokens}},
                             {"completion_tokens", Value{e.usage.completion_tokens}}}};
}

bool is_count(const Value* v) {
  return v != nullptr && v->is_int() && v->as_int() >= 0;
}

std::optional<embed_response> embed_from_value(const Value& v) {
  const Value* vectors = v.is_object() ? v.find("vectors") : nullptr;
  if (vectors == nullptr || !vectors->is_array() || vectors->as_array().size() > embed_vectors_max
      || !is_count(v.find("prompt_tokens")) || !is_count(v.find("completion_tokens")))
    return std::nullopt;
  embed_response out;
  for (const auto& one : vectors->as_array()) {
    if (!one.is_array() || one.as_array().size() > embed_dims_max)
      return std::nullopt;
    auto& vec = out.vectors.emplace_back();
    vec.reserve(one.as_array().size());
    for (const auto& x : one.as_array()) {
      // Finite as a float too: 1e300 would come back as inf.
      if (!x.is_number() || !std::isfinite(static_cast<float>(x.as_double())))
        return std::nullopt;
      vec.push_back(static_cast<float>(x.as_double()));
    }
  }
  out.usage = {v.find("prompt_tokens")->as_int(), v.find("completion_tokens")->as_int()};
  return out;
}

Value chunks_to_value(const std::vector<recorded_chunk>& chunks) {
  Value out = Value::array();
  for (const auto& c : chunks)
    out.as_array().push_back(Value{Value::Object{{"t", Value{c.offset_us}},
                                                 {"text", Value{c.text}},
                                                 {"tool_calls", tool_calls_to_value(c.tool_calls)}}});
  return out;
}

// Offsets must not go backwards and must stay within the call's latency.
caf::error chunks_from_value(const Value& v, int64_t latency_us,
                             std::vector<recorded_chunk>& out) {
  auto bad = [](std::string what) { return make_error(errc::parse_error, "chunks: " + what); };
  if (!v.is_array())
    return bad("not an array");
  if (v.as_array().size() > recording_chunks_max)
    return bad(std::to_string(v.as_array().size()) + " chunks, more than "
               + std::to_string(recording_chunks_max));
  int64_t last = 0;
  for (const auto& c : v.as_array()) {
    const Value* t = c.is_object() ? c.find("t") : nullptr;
    const Value* text = c.is_object() ? c.find("text") : nullptr;
    if (!is_count(t) || text == nullptr || !text->is_string())
      return bad("chunk " + std::to_string(out.size()) + " has no offset or text");
    if (t->as_int() < last || t->as_int() > latency_us)
      return bad("chunk " + std::to_string(out.size()) + " offset out of order or past latency");
    recorded_chunk chunk{t->as_int(), text->as_string(), {}};
    if (!tool_calls_from_value(c.find("tool_calls"), chunk.tool_calls))
      return bad("chunk " + std::to_string(out.size()) + " has bad tool calls");
    last = chunk.offset_us;
    out.push_back(std::move(chunk));
  }
  return caf::none;
}

bool is_hex_hash(const std::string& s) {
  if (s.size() != 40)
    return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

caf::error check_scalars(const recording_row& row) {
  auto bad = [](std::string what) { return make_error(errc::parse_error, std::move(what)); };
  if (!is_hex_hash(row.request_hash))
    return bad("request_hash: not 40 lowercase hex digits");
  if (row.call < 0 || row.call > static_cast<int64_t>(recorded_call::embed))
    return bad("call: " + std::to_string(row.call) + " is no call kind");
  if (row.error_code < 0 || row.error_code > static_cast<int64_t>(errc_last))
    return bad("error_code: " + std::to_string(row.error_code) + " is no error code");
  if (row.latency_us < 0 || row.latency_us > latency_us_max)
    return bad("latency_us: " + std::to_string(row.latency_us) + " out of 0..1 day");
  if (row.ttft_us < -1 || row.ttft_us > row.latency_us)
    return bad("ttft_us: " + std::to_string(row.ttft_us) + " out of -1..latency_us");
  if (row.prompt_tokens < 0 || row.completion_tokens < 0)
    return bad("tokens: negative");
  return caf::none;
}

caf::error decode_response(const recording_row& row, call_record& out) {
  auto bad = [](std::string what) { return make_error(errc::parse_error, std::move(what)); };
  if (out.error_code != errc::none) {
    if (!row.response.empty())
      return bad("response: a failed call has no response");
    return caf::none;
  }
  auto v = Value::from_msgpack(row.response);
  if (!v)
    return bad("response: not msgpack");
  if (out.call == recorded_call::embed) {
    auto e = embed_from_value(*v);
    if (!e)
      return bad("response: not an embedding response");
    out.embed = std::move(*e);
    return caf::none;
  }
  auto r = response_from_value(*v);
  if (!r)
    return bad("response: not a chat response");
  out.chat = std::move(*r);
  return caf::none;
}

}  // namespace recording_codec_detail

std::string request_hash_of(const std::string& key) {
  return ripemd160_hex(key);
}

std::string chat_request_hash(const chat_request& req) {
  return request_hash_of(llm_cache_key(req));
}

std::string embed_request_hash(const embed_request& req) {
  // A shape of its own ("embed_model", not "model"), so no chat key equals it.
  Value inputs = Value::array();
  for (const auto& s : req.inputs)
    inputs.as_array().push_back(Value{s});
  Value key{Value::Object{{"embed_model", Value{req.model}}, {"inputs", std::move(inputs)}}};
  // Only when asked: recordings made before dimensions existed keep their
  // hashes, and a shortened vector never replays for a full-length request.
  if (req.dimensions > 0)
    key["dimensions"] = Value{static_cast<int64_t>(req.dimensions)};
  return request_hash_of(key.to_json());
}

recording_row encode_recording_row(const call_record& r) {
  using namespace recording_codec_detail;
  recording_row row;
  row.request_hash = r.request_hash;
  row.call = static_cast<int64_t>(r.call);
  row.provider = r.provider;
  row.model = r.model;
  row.error_code = static_cast<int64_t>(r.error_code);
  row.error_text = r.error_text;
  const bool embed = r.call == recorded_call::embed;
  if (r.error_code == errc::none)
    row.response = embed ? embed_to_value(r.embed).to_msgpack()
                         : response_to_value(r.chat).to_msgpack();
  if (!r.chunks.empty())
    row.chunks = chunks_to_value(r.chunks).to_msgpack();
  row.ttft_us = r.ttft_us;
  row.latency_us = r.latency_us;
  const auto& usage = embed ? r.embed.usage : r.chat.usage;
  if (r.error_code == errc::none) {
    row.prompt_tokens = usage.prompt_tokens;
    row.completion_tokens = usage.completion_tokens;
  }
  row.recorded_unix_ms = r.recorded_unix_ms;
  return row;
}

caf::expected<call_record> decode_recording_row(const recording_row& row) {
  using namespace recording_codec_detail;
  if (auto err = check_scalars(row))
    return err;
  call_record out;
  out.request_hash = row.request_hash;
  out.call = static_cast<recorded_call>(row.call);
  out.provider = row.provider;
  out.model = row.model;
  out.error_code = static_cast<errc>(row.error_code);
  out.error_text = row.error_text;
  out.ttft_us = row.ttft_us;
  out.latency_us = row.latency_us;
  out.recorded_unix_ms = row.recorded_unix_ms;
  if (auto err = decode_response(row, out))
    return err;
  if (!row.chunks.empty()) {
    if (out.call != recorded_call::chat_stream)
      return make_error(errc::parse_error, "chunks: only a chat_stream call has chunks");
    auto v = Value::from_msgpack(row.chunks);
    if (!v)
      return make_error(errc::parse_error, "chunks: not msgpack");
    if (auto err = chunks_from_value(*v, row.latency_us, out.chunks))
      return err;
  }
  return out;
}

void add_recorded_chunk(std::vector<recorded_chunk>& chunks, recorded_chunk c) {
  if (chunks.size() < recording_chunks_max) {
    chunks.push_back(std::move(c));
    return;
  }
  auto& last = chunks.back();
  last.text += c.text;
  for (auto& call : c.tool_calls)
    last.tool_calls.push_back(std::move(call));
}

}  // namespace agentgraph
