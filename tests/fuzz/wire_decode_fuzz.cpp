// Fuzz target: every vendor decoder (whole bodies, error bodies, embedding
// bodies, SSE event streams) must turn any bytes into an answer or a clear
// provider error, never a crash, and no error may carry the API key; a
// decoded embedding answer has vectors of one length. The first input byte
// picks the vendor, the second the mode (and, for embeddings, a length
// asked); the rest is the body or stream.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "net/llm/wire_codec.hpp"
#include "net/sse/sse_parser.hpp"
#include "runtime/error.hpp"

namespace wire_decode_fuzz {

const std::string key = "sk-fuzz-KEY-0123456789";

void check(const caf::error& err) {
  if (!err)
    return;
  auto text = agentgraph::describe(err);
  if (text.empty() || text.find(key) != std::string::npos)
    std::abort();
}

void decode_stream(const agentgraph::wire_codec& codec, std::string_view bytes) {
  agentgraph::sse_parser parser;
  auto decoder = codec.make_stream_decoder("fuzz");
  std::vector<agentgraph::sse_event> events;
  // Cut in two places so partial-state paths run too.
  size_t cut = bytes.size() / 3;
  for (auto piece : {bytes.substr(0, cut), bytes.substr(cut)}) {
    events.clear();
    if (auto err = parser.feed(piece, events)) {
      check(err);
      return;
    }
    for (const auto& ev : events) {
      auto chunks = decoder->on_event(ev);
      if (!chunks) {
        check(chunks.error());
        return;
      }
    }
  }
  check(parser.finish());
  auto final_answer = decoder->finish();
  if (!final_answer)
    check(final_answer.error());
}

}  // namespace wire_decode_fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2)
    return 0;
  agentgraph::wire_settings settings;
  settings.kind = static_cast<agentgraph::wire_kind>(data[0] % 5);
  settings.api_key = wire_decode_fuzz::key;
  settings.base_url = "http://127.0.0.1:1/v1";
  auto codec = agentgraph::make_wire_codec(settings);
  if (!codec)
    std::abort();
  std::string_view rest{reinterpret_cast<const char*>(data) + 2, size - 2};
  switch (data[1] % 4) {
    case 0:
      if (auto r = (*codec)->decode_chat(200, rest); !r)
        wire_decode_fuzz::check(r.error());
      break;
    case 1:
      wire_decode_fuzz::check((*codec)->decode_error(400, rest));
      break;
    case 2: {
      // The mode byte's upper bits ask a length (0: none): an answer that
      // decodes has one length, and the one asked.
      const uint32_t dims = data[1] / 4;
      auto r = (*codec)->decode_embed(200, rest, dims);
      if (!r) {
        wire_decode_fuzz::check(r.error());
        break;
      }
      for (const auto& v : r->vectors)
        if (v.empty() || v.size() != r->vectors.front().size() || (dims > 0 && v.size() != dims))
          std::abort();
      break;
    }
    default:
      wire_decode_fuzz::decode_stream(**codec, rest);
  }
  return 0;
}
