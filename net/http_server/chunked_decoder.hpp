// An incremental decoder of an HTTP/1.1 chunked request body (RFC 9112
// §7.1), for the gateway's server. Ours rather than Beast's: Boost 1.74's
// parser corrupts its state when the last chunk arrives split across reads
// (a size_t underflow in parse_chunk_header; with assertions on, any client
// could abort the node with "0\r\n" then "\r\n" in separate segments; found
// by fuzz/http_request_fuzz). Beast still parses the request head.
//
// Strict on purpose, since the framing decides where the next request
// starts: CRLF line ends only, 1-16 hex digits of size, extensions
// (";...") skipped, trailer fields read and dropped, every line at most
// `line_max` bytes, the decoded body at most `body_max` bytes (too_large
// the moment a chunk would pass it, before its bytes are read).
// No I/O, no Boost: tested and fuzzed on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace agentgraph::net {

class chunked_decoder {
 public:
  enum class status : uint8_t { need_more, done, too_large, malformed };

  chunked_decoder(uint64_t body_max, size_t line_max) : body_max_(body_max), line_max_(line_max) {}

  // Decodes from the front of `in`: appends body bytes to `body` and sets
  // `used` to the bytes consumed (the rest, after `done`, belongs to the
  // next request). need_more: everything given was consumed; call again
  // with what follows. Once it returned anything but need_more, it
  // returns that again.
  status feed(std::string_view in, size_t& used, std::string& body);

 private:
  enum class state : uint8_t { size_line, data, data_end, trailer, finished };
  status take_line(std::string_view in, size_t& i, bool& complete);

  const uint64_t body_max_;
  const size_t line_max_;
  state state_ = state::size_line;
  status result_ = status::need_more;
  std::string line_;        // the line being read (size or trailer), without CRLF
  uint64_t chunk_left_ = 0; // bytes of the current chunk still to come
  uint64_t decoded_ = 0;    // body bytes so far
  // Trailer fields are read and dropped; a client may send this many.
  static constexpr uint32_t trailer_lines_max = 64;
  uint32_t trailer_lines_ = 0;
};

}  // namespace agentgraph::net
