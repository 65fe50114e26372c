// Incremental Server-Sent Events parser, following the WHATWG HTML "event
// stream interpretation" rules. The HTTP client hands over whatever bytes
// arrived; a chunk boundary may fall anywhere, even between the CR and LF of
// one line ending or inside the leading BOM, so the parser carries every
// partial state across calls. Pure: no I/O, no threads, no CAF actors.
//
// Each parser is owned by one stream (one actor or one test); it is not
// thread-safe and needs no synchronisation because nothing shares it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>

namespace agentgraph {

// One dispatched event.
struct sse_event {
  std::string type = "message";  // the `event:` field, "message" when absent
  std::string data;              // `data:` lines joined with '\n'
  std::string id;                // the last event id in effect at dispatch

  friend bool operator==(const sse_event&, const sse_event&) = default;
};

// Both bounds are hard: crossing one fails the stream with limit_exceeded.
// Truncating instead would hand a decoder half a JSON object and turn a clear
// "too big" into a confusing parse error further down.
struct sse_limits {
  // Bytes of one line, without its line ending. LLM events are one JSON
  // object per `data:` line, a few KB even for large tool calls.
  size_t line_bytes_max = 1u << 20;
  // Bytes of one event's joined data.
  size_t event_data_bytes_max = 4u << 20;
};

// True for the `data: [DONE]` sentinel that ends OpenAI-style streams. The
// parser itself gives it no meaning (it is not part of SSE); callers ask.
[[nodiscard]] bool is_done_sentinel(const sse_event& ev);

class sse_parser {
 public:
  explicit sse_parser(sse_limits limits = {});

  // Parses `bytes` and appends every event completed by them to `out`.
  // Errors: limit_exceeded when a bound is crossed. After an error the parser
  // stays failed and every later call returns the same error.
  [[nodiscard]] caf::error feed(std::string_view bytes, std::vector<sse_event>& out);

  // The body ended. Per the spec an event without its terminating blank line
  // is discarded; this returns parse_error in that case so callers can tell a
  // cut-off stream from a complete one. Returns the sticky error if failed.
  [[nodiscard]] caf::error finish();

  [[nodiscard]] const std::string& last_event_id() const { return last_id_; }
  // The server's requested reconnection delay (`retry:` field), if any.
  [[nodiscard]] std::optional<uint64_t> retry_ms() const { return retry_ms_; }

 private:
  caf::error feed_lines(std::string_view bytes, std::vector<sse_event>& out);
  caf::error take_line(std::vector<sse_event>& out);
  caf::error interpret_line(std::string_view line, std::vector<sse_event>& out);
  caf::error apply_field(std::string_view field, std::string_view value);
  void dispatch(std::vector<sse_event>& out);

  const sse_limits limits_;
  std::string line_;        // bytes of the current, unterminated line
  std::string data_;        // data buffer; each data line adds value + '\n'
  std::string event_type_;  // event type buffer
  std::string last_id_;
  std::optional<uint64_t> retry_ms_;
  bool fields_pending_ = false;  // a field arrived since the last dispatch
  bool skip_lf_ = false;         // previous byte was CR: a following LF belongs to it
  size_t bom_bytes_matched_ = 0;
  bool bom_checked_ = false;
  caf::error failed_;
};

}  // namespace agentgraph
