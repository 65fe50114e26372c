// Fuzz target: a request head and body as the gateway's HTTP server reads
// them, on the server's own path: the head through Beast's request parser
// with the server's limits, then the target splitting and bearer parsing,
// then the body through Beast (Content-Length) or our chunked_decoder
// (chunked), all fed in pieces whose sizes come from the input (as a
// trickling client sends them). It must never crash, never accept a body
// above the limit, and decoding must not depend on how the bytes were cut.
// (It found Boost 1.74's split-last-chunk bug; see chunked_decoder.hpp.)
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "net/http_server/chunked_decoder.hpp"
#include "net/http_server/http_server.hpp"

namespace http_request_fuzz {

namespace bhttp = boost::beast::http;

// Small limits so the fuzzer reaches them.
constexpr uint32_t header_max = 512;
constexpr uint64_t body_max = 256;

struct outcome {
  bool head = false;
  bool done = false;
  bool target_ok = false;
  // Beast applies header_limit to the start line and to the fields apart,
  // and only while it waits for more bytes: a head near the limit may pass
  // whole and fail trickled. Both are bounded (2 x the limit); such inputs
  // are left out of the cut-independence check.
  bool header_limited = false;
  std::string path, query, token, body;
};

outcome parse(std::string_view bytes, size_t piece) {
  outcome out;
  bhttp::request_parser<bhttp::string_body> p;
  p.header_limit(header_max);
  p.body_limit(std::numeric_limits<std::uint64_t>::max());
  // Stop after the head, as async_read_header does, so the body limit is
  // set before any body byte is parsed.
  p.eager(false);
  std::optional<agentgraph::net::chunked_decoder> chunked;
  std::string chunked_body;
  std::string pending;
  size_t next = 0;
  // Each round parses or takes input; bounded by the input's size.
  for (size_t round = 0; round < 4 * bytes.size() + 8; ++round) {
    if (!pending.empty() && chunked) {
      size_t used = 0;
      auto st = chunked->feed(pending, used, chunked_body);
      pending.erase(0, used);
      if (st == agentgraph::net::chunked_decoder::status::done) {
        out.done = true;
        out.body = chunked_body;
        if (out.body.size() > body_max)
          std::abort();  // the limit did not hold
        return out;
      }
      if (st != agentgraph::net::chunked_decoder::status::need_more)
        return out;
    } else if (!pending.empty()) {
      boost::beast::error_code ec;
      const size_t used = p.put(boost::asio::buffer(pending), ec);
      pending.erase(0, used);
      if (ec && ec != bhttp::error::need_more) {
        out.header_limited = ec == bhttp::error::header_limit;
        return out;
      }
      if (p.is_header_done() && !out.head) {
        out.head = true;
        auto& req = p.get();
        out.target_ok = agentgraph::net::split_target(
          std::string_view{req.target().data(), req.target().size()}, out.path, out.query);
        auto auth = req.find(bhttp::field::authorization);
        if (auth != req.end())
          out.token = std::string{agentgraph::net::bearer_token(
            std::string_view{auth->value().data(), auth->value().size()})};
        // What the server does next: refuse a declared length above the
        // limit, enforce the limit on the rest.
        if (auto len = p.content_length(); len && *len > body_max)
          return out;
        if (p.chunked() && !p.is_done()) {
          chunked.emplace(body_max, 64);
          continue;
        }
        p.body_limit(body_max);
        p.eager(true);
      }
      if (p.is_done()) {
        out.done = true;
        out.body = p.get().body();
        if (out.body.size() > body_max)
          std::abort();  // the limit did not hold
        return out;
      }
      if (!ec && used > 0)
        continue;  // progress: parse the rest before taking more input
    }
    if (next >= bytes.size())
      return out;
    pending.append(bytes.substr(next, piece));
    next += piece;
  }
  return out;
}

}  // namespace http_request_fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace http_request_fuzz;
  std::string_view bytes{reinterpret_cast<const char*>(data), size};
  auto whole = parse(bytes, bytes.empty() ? 1 : bytes.size());
  auto pieces = parse(bytes, 1 + (size > 0 ? data[0] % 7 : 0));
  if (whole.header_limited || pieces.header_limited)
    return 0;
  if (whole.done != pieces.done || whole.path != pieces.path || whole.query != pieces.query
      || whole.token != pieces.token || whole.body != pieces.body)
    std::abort();  // decoding depended on how the bytes were cut
  if (whole.target_ok && (whole.path.empty() || whole.path.front() != '/'))
    std::abort();
  return 0;
}
