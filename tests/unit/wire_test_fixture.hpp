// Shared by the sse_*_test.cpp and wire_*_test.cpp files: reading the
// recorded wire samples in tests/data/wire/, settings with a recognisable
// test key, a driver that pushes a byte stream through the SSE parser into a
// stream decoder in chosen pieces, and a canonical rendering of answers so
// two decodes compare as strings (with a readable diff on failure).
#pragma once

#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "net/llm/wire_codec.hpp"
#include "net/sse/sse_parser.hpp"
#include "runtime/error.hpp"

namespace wire_test {

// Distinctive, so a leak is unmistakable; tests search error texts for it.
inline const std::string test_key = "sk-test-SECRET-0123456789abcdef";

inline std::string read_sample(const std::string& name) {
  std::ifstream in{std::string{AGENTGRAPH_SOURCE_DIR} + "/tests/data/wire/" + name,
                   std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

inline agentgraph::wire_settings settings(agentgraph::wire_kind kind) {
  agentgraph::wire_settings s;
  s.kind = kind;
  s.api_key = test_key;
  if (kind == agentgraph::wire_kind::openai_compatible)
    s.base_url = "http://127.0.0.1:11434/v1/";
  return s;
}

inline std::unique_ptr<agentgraph::wire_codec> codec(agentgraph::wire_kind kind) {
  auto c = agentgraph::make_wire_codec(settings(kind));
  return c ? std::move(*c) : nullptr;
}

inline std::string render(const agentgraph::tool_call& c) {
  return "call " + c.id + " " + c.name + " " + c.arguments.to_json();
}

inline std::string render(const agentgraph::chat_response& r) {
  std::ostringstream out;
  out << "content=" << r.message.content << "\nfinish=" << static_cast<int>(r.finish)
      << "\nusage=" << r.usage.prompt_tokens << "/" << r.usage.completion_tokens
      << "\nmodel=" << r.model;
  for (const auto& c : r.message.tool_calls)
    out << "\n" << render(c);
  return out.str();
}

inline std::string render(const std::vector<agentgraph::stream_chunk>& chunks) {
  std::string out;
  for (const auto& ch : chunks) {
    out += "[" + ch.request_id + "|" + ch.delta_text;
    for (const auto& c : ch.tool_calls)
      out += "|" + render(c);
    out += "]";
  }
  return out;
}

// What a streamed request produced: the chunks, and the final answer or the
// first error (from the parser or the decoder).
struct stream_outcome {
  std::vector<agentgraph::stream_chunk> chunks;
  std::optional<agentgraph::chat_response> response;
  caf::error error;

  [[nodiscard]] std::string describe() const {
    if (error)
      return "error: " + agentgraph::describe(error);
    return render(chunks) + "\n" + render(*response);
  }
};

// Feeds `bytes` cut at `cuts` (ascending offsets) through a fresh parser and
// decoder, as the HTTP client would deliver them.
inline stream_outcome run_stream(const agentgraph::wire_codec& c, std::string_view bytes,
                                 const std::vector<size_t>& cuts) {
  stream_outcome out;
  agentgraph::sse_parser parser;
  auto decoder = c.make_stream_decoder("req-1");
  size_t from = 0;
  auto feed = [&](size_t to) {
    std::vector<agentgraph::sse_event> events;
    if (auto err = parser.feed(bytes.substr(from, to - from), events))
      return err;
    from = to;
    for (const auto& ev : events) {
      auto chunks = decoder->on_event(ev);
      if (!chunks)
        return chunks.error();
      out.chunks.insert(out.chunks.end(), chunks->begin(), chunks->end());
    }
    return caf::error{};
  };
  for (auto cut : cuts)
    if ((out.error = feed(cut)))
      return out;
  if ((out.error = feed(bytes.size())) || (out.error = parser.finish()))
    return out;
  auto final_answer = decoder->finish();
  if (!final_answer)
    out.error = final_answer.error();
  else
    out.response = std::move(*final_answer);
  return out;
}

inline stream_outcome run_stream(const agentgraph::wire_codec& c, std::string_view bytes) {
  return run_stream(c, bytes, {});
}

// Chunks merged the way a caller would see them: the concatenated text and
// all calls, independent of how the bytes were cut.
inline std::string merged(const std::vector<agentgraph::stream_chunk>& chunks) {
  std::string text;
  std::string calls;
  for (const auto& ch : chunks) {
    text += ch.delta_text;
    for (const auto& c : ch.tool_calls)
      calls += render(c) + "\n";
  }
  return text + "\n" + calls;
}

}  // namespace wire_test
