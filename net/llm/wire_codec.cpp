#include "net/llm/wire_codec.hpp"

#include <algorithm>
#include <array>

#include "net/llm/vendor_codecs.hpp"
#include "net/llm/wire_common.hpp"
#include "runtime/assert.hpp"
#include "runtime/config/config_text.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace wire_codec_detail {

constexpr std::array<wire_kind, 5> all_kinds{wire_kind::openai, wire_kind::anthropic,
                                             wire_kind::gemini, wire_kind::openrouter,
                                             wire_kind::openai_compatible};

const char* default_base_url(wire_kind kind) {
  switch (kind) {
    case wire_kind::openai: return "https://api.openai.com/v1";
    case wire_kind::anthropic: return "https://api.anthropic.com/v1";
    case wire_kind::gemini: return "https://generativelanguage.googleapis.com/v1beta";
    case wire_kind::openrouter: return "https://openrouter.ai/api/v1";
    case wire_kind::openai_compatible: return "";
  }
  return "";
}

bool has_line_break(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

// Header values with CR/LF would let a config value inject headers.
caf::error check_header_values(const wire_settings& s) {
  if (has_line_break(s.api_key))
    return make_error(errc::invalid_argument, "api key contains a line break");
  for (const auto* v : {&s.anthropic_version, &s.openrouter_referer, &s.openrouter_title,
                        &s.max_tokens_field, &s.base_url})
    if (has_line_break(*v))
      return make_error(errc::invalid_argument, "provider setting contains a line break");
  return caf::none;
}

caf::error complete_base_url(wire_settings& s) {
  if (s.base_url.empty())
    s.base_url = default_base_url(s.kind);
  if (s.base_url.empty())
    return make_error(errc::invalid_argument,
                      std::string{to_string(s.kind)} + ": base_url is required");
  auto url = std::string_view{s.base_url};
  if (!url.starts_with("http://") && !url.starts_with("https://"))
    return make_error(errc::invalid_argument,
                      std::string{to_string(s.kind)} + ": base_url must start with http:// or https://");
  // A key in the URL would end up in logs and proxies: keys go in headers.
  if (url.find('?') != std::string_view::npos || url.find('#') != std::string_view::npos)
    return make_error(errc::invalid_argument,
                      std::string{to_string(s.kind)} + ": base_url must not have a query or fragment");
  while (s.base_url.ends_with('/'))
    s.base_url.pop_back();
  return caf::none;
}

void complete_vendor_defaults(wire_settings& s) {
  if (s.kind == wire_kind::anthropic && s.anthropic_version.empty())
    s.anthropic_version = "2023-06-01";
  if (s.max_tokens_field.empty())
    s.max_tokens_field = s.kind == wire_kind::openai ? "max_completion_tokens" : "max_tokens";
}

}  // namespace wire_codec_detail

const char* to_string(wire_kind kind) {
  switch (kind) {
    case wire_kind::openai: return "openai";
    case wire_kind::anthropic: return "anthropic";
    case wire_kind::gemini: return "gemini";
    case wire_kind::openrouter: return "openrouter";
    case wire_kind::openai_compatible: return "openai_compatible";
  }
  return "unknown";
}

caf::expected<wire_kind> wire_kind_from_string(std::string_view name) {
  for (auto kind : wire_codec_detail::all_kinds)
    if (name == to_string(kind))
      return kind;
  return make_error(errc::invalid_argument, "unknown wire kind '" + std::string{name}
                                                + "' (openai, anthropic, gemini, openrouter, "
                                                  "openai_compatible)");
}

bool is_secret_header(std::string_view name) {
  auto lower = to_lower(name);
  return lower == "authorization" || lower == "x-api-key" || lower == "x-goog-api-key"
         || lower == "proxy-authorization";
}

std::string to_loggable(const http_request_spec& spec) {
  std::string out = spec.method + " " + spec.url;
  for (const auto& [name, value] : spec.headers)
    out += "\n" + name + ": " + (is_secret_header(name) ? std::string{"[redacted]"} : value);
  return out;
}

caf::expected<std::vector<stream_chunk>> stream_decoder::on_event(const sse_event& ev) {
  AG_ASSERT(!finished_);
  if (failed_)
    return failed_;
  stream_chunk chunk;
  chunk.request_id = request_id_;
  if (auto err = absorb(ev, chunk)) {
    failed_ = err;
    return err;
  }
  std::vector<stream_chunk> out;
  if (!chunk.delta_text.empty() || !chunk.tool_calls.empty())
    out.push_back(std::move(chunk));
  return out;
}

caf::expected<chat_response> stream_decoder::finish() {
  AG_ASSERT(!finished_);
  finished_ = true;
  if (failed_)
    return failed_;
  return assemble();
}

wire_codec::wire_codec(wire_settings settings, wire_limits limits)
  : settings_(std::move(settings)), limits_(limits) {}

caf::error wire_codec::decode_error(int status, std::string_view body) const {
  return wire::vendor_error(settings_, status, body);
}

caf::expected<embed_response> wire_codec::decode_embed(int status, std::string_view body,
                                                       uint32_t dimensions) const {
  auto r = decode_embed_vectors(status, body);
  if (!r)
    return r;
  if (auto err = wire::check_embed_lengths(settings_, *r, dimensions))
    return err;
  return r;
}

caf::expected<std::unique_ptr<wire_codec>> make_wire_codec(wire_settings settings,
                                                          wire_limits limits) {
  using namespace wire_codec_detail;
  if (auto err = check_header_values(settings))
    return err;
  if (auto err = complete_base_url(settings))
    return err;
  complete_vendor_defaults(settings);
  switch (settings.kind) {
    case wire_kind::anthropic: return wire::make_anthropic_codec(std::move(settings), limits);
    case wire_kind::gemini: return wire::make_gemini_codec(std::move(settings), limits);
    default: return wire::make_openai_codec(std::move(settings), limits);
  }
}

}  // namespace agentgraph
