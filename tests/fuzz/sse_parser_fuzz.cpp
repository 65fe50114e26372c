// Fuzz target: the SSE parser must never crash or grow past its bounds, and
// the events it produces must not depend on how the bytes were cut: the
// input fed whole and fed in pieces (sizes taken from the input) must give
// the same events and the same error code.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "net/sse/sse_parser.hpp"
#include "runtime/error.hpp"

namespace sse_parser_fuzz {

struct run {
  std::vector<agentgraph::sse_event> events;
  caf::error error;
};

run parse(std::string_view bytes, size_t piece_bytes) {
  // Small bounds so the fuzzer reaches them.
  agentgraph::sse_parser p{agentgraph::sse_limits{256, 1024}};
  run out;
  for (size_t i = 0; i < bytes.size() && !out.error; i += piece_bytes)
    out.error = p.feed(bytes.substr(i, piece_bytes), out.events);
  if (!out.error)
    out.error = p.finish();
  return out;
}

}  // namespace sse_parser_fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes{reinterpret_cast<const char*>(data), size};
  auto whole = sse_parser_fuzz::parse(bytes, bytes.size() + 1);
  size_t piece = size == 0 ? 1 : 1 + data[0] % 13;
  auto split = sse_parser_fuzz::parse(bytes, piece);
  if (whole.events != split.events)
    std::abort();
  if (agentgraph::errc_of(whole.error) != agentgraph::errc_of(split.error))
    std::abort();
  for (const auto& ev : whole.events)
    if (ev.data.size() > 1024)
      std::abort();
  return 0;
}
