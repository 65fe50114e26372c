// Fuzz target: a provider recording's row decoder
// (actors/provider/recording_codec.hpp, decode_recording_row) reads files
// anyone may edit or truncate. Any bytes must decode to an error or to a
// record within the codec's promises (chunk offsets ordered and within the
// latency, at most recording_chunks_max chunks, a known call kind and error
// code), and what decodes must encode and decode again to the same record.
//
// Input: byte 0 picks the call kind, byte 1 the error code, byte 2 where
// the rest splits into the response bytes and the chunk bytes, byte 3 the
// time to first token.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "actors/provider/recording_codec.hpp"

namespace recording_row_fuzz {

bool same(const agentgraph::call_record& a, const agentgraph::call_record& b) {
  if (a.call != b.call || a.error_code != b.error_code || a.error_text != b.error_text
      || a.latency_us != b.latency_us || a.ttft_us != b.ttft_us
      || a.chunks.size() != b.chunks.size() || a.chat.message.content != b.chat.message.content
      || a.chat.message.tool_calls.size() != b.chat.message.tool_calls.size()
      || a.chat.usage.prompt_tokens != b.chat.usage.prompt_tokens
      || a.embed.vectors != b.embed.vectors)
    return false;
  for (size_t i = 0; i < a.chunks.size(); ++i)
    if (a.chunks[i].offset_us != b.chunks[i].offset_us || a.chunks[i].text != b.chunks[i].text
        || a.chunks[i].tool_calls.size() != b.chunks[i].tool_calls.size())
      return false;
  return true;
}

}  // namespace recording_row_fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace agentgraph;
  if (size < 4)
    return 0;
  recording_row row;
  row.request_hash = std::string(40, 'a');
  row.call = data[0] % 4;          // 3 is no call kind
  row.error_code = data[1] % 20;   // past errc_last is no code
  row.latency_us = 1'000'000;
  row.ttft_us = data[3] == 0xff ? -1 : int64_t{data[3]} * 10'000;
  const size_t rest = size - 4;
  const size_t split = std::min<size_t>(data[2], rest);
  row.response.assign(reinterpret_cast<const char*>(data + 4), split);
  row.chunks.assign(reinterpret_cast<const char*>(data + 4 + split), rest - split);
  auto rec = decode_recording_row(row);
  if (!rec)
    return 0;
  if (rec->chunks.size() > recording_chunks_max)
    std::abort();
  int64_t last = 0;
  for (const auto& c : rec->chunks) {
    if (c.offset_us < last || c.offset_us > rec->latency_us)
      std::abort();
    last = c.offset_us;
  }
  auto again = decode_recording_row(encode_recording_row(*rec));
  if (!again || !recording_row_fuzz::same(*rec, *again))
    std::abort();
  return 0;
}
