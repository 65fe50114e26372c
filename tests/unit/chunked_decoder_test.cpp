// The chunked body decoder of the gateway's HTTP server, without a socket:
// whole and cut into pieces, every framing error, the body limit before the
// bytes. (On real sockets: http_server_test.cpp.)
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "net/http_server/chunked_decoder.hpp"

using namespace agentgraph;

TEST_CASE("chunked decoder: sizes, extensions, trailers and every way to be wrong") {
  using st = net::chunked_decoder::status;
  auto decode = [](std::string_view in, size_t piece, std::string& body, size_t& rest) {
    net::chunked_decoder d{16, 32};
    st s = st::need_more;
    size_t at = 0;
    while (at < in.size() && s == st::need_more) {
      size_t used = 0;
      s = d.feed(in.substr(at, piece), used, body);
      at += used;
      if (s == st::need_more && used == 0)
        break;
    }
    rest = in.size() - at;
    return s;
  };
  for (size_t piece : {1, 2, 3, 100}) {
    std::string body;
    size_t rest = 0;
    CHECK(decode("4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\nT: v\r\n\r\nNEXT", piece, body, rest)
          == st::done);
    CHECK(body == "wikipedia");
    CHECK(rest == 4);  // the next request's bytes stay unread
    body.clear();
    CHECK(decode("11\r\n", piece, body, rest) == st::too_large);  // 17 > 16, before any byte
    CHECK(decode("zz\r\n", piece, body, rest) == st::malformed);
    CHECK(decode("4\nwiki\r\n", piece, body, rest) == st::malformed);  // bare LF
    CHECK(decode("2\r\nabc\r\n", piece, body, rest) == st::malformed);  // longer than said
    CHECK(decode("11111111111111111\r\n", piece, body, rest) == st::malformed);  // 17 digits
    CHECK(decode(std::string(40, '1'), piece, body, rest) == st::malformed);  // line too long
    CHECK(decode("f\r\n0123456789\r\n2\r\n", piece, body, rest) != st::done);
  }
  // Two chunks that together pass the limit: too_large at the second size.
  std::string body;
  size_t rest = 0;
  CHECK(decode("a\r\n0123456789\r\n7\r\n", 100, body, rest) == st::too_large);
}

