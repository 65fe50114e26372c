// http_client's error space against real loopback sockets: each transport
// failure kind it documents (refused, DNS, connect / total / stream-idle
// timeouts, size limits), requests refused at submit, and the pure
// classification and no-proxy helpers.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "http_client_fixture.hpp"
#include "net/http_client.hpp"
#include "net/http_client_transfer.hpp"
#include "runtime/error.hpp"

namespace http_client_failure_test {

using namespace http_client_fixture;
using agentgraph::errc;
using agentgraph::net::http_client;
using agentgraph::net::transport_error;

sockaddr_in loopback_any_port() {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  return addr;
}

int port_of(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

// A bound TCP socket that never listens: connecting to it is refused.
struct refused_port {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int port = 0;
  refused_port() {
    auto addr = loopback_any_port();
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    port = port_of(fd);
  }
  ~refused_port() { ::close(fd); }
};

// A listener with a full accept queue that never accepts: further SYNs are
// dropped, so a connect hangs until the client's connect timeout.
struct unaccepting_port {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int port = 0;
  std::vector<int> fillers;
  unaccepting_port() {
    auto addr = loopback_any_port();
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd, 0);
    port = port_of(fd);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    for (int i = 0; i < 4; ++i) {
      int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      ::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
      fillers.push_back(c);
    }
  }
  ~unaccepting_port() {
    for (int c : fillers)
      ::close(c);
    ::close(fd);
  }
};

TEST_CASE("http_client: refused connection reports connect_refused") {
  refused_port closed;
  probe p;
  {
    http_client client{test_limits()};
    auto url = "http://127.0.0.1:" + std::to_string(closed.port) + "/";
    REQUIRE(client.submit(get(url), p.handlers()));
    REQUIRE(p.wait());
    REQUIRE_FALSE(p.ok());
    CHECK(p.kind() == transport_error::connect_refused);
    CHECK(p.code() == errc::unavailable);
    CHECK(p.context().rfind("connect_refused: ", 0) == 0);
    CHECK(client.counters().errors[static_cast<size_t>(transport_error::connect_refused)] == 1);
  }
  CHECK(p.completions() == 1);
}

TEST_CASE("http_client: unresolvable host reports dns") {
  probe p;
  {
    http_client client{test_limits()};
    // RFC 6761: .invalid never resolves.
    REQUIRE(client.submit(get("http://agentgraph-test.invalid/"), p.handlers()));
    REQUIRE(p.wait());
    REQUIRE_FALSE(p.ok());
    CHECK(p.kind() == transport_error::dns);
    CHECK(p.code() == errc::unavailable);
  }
  CHECK(p.completions() == 1);
}

TEST_CASE("http_client: connect timeout when the server never accepts") {
  unaccepting_port silent;
  probe p;
  {
    auto limits = test_limits();
    limits.connect_timeout = 200ms;
    http_client client{limits};
    auto url = "http://127.0.0.1:" + std::to_string(silent.port) + "/";
    REQUIRE(client.submit(get(url), p.handlers()));
    REQUIRE(p.wait());
    REQUIRE_FALSE(p.ok());
    CHECK(p.kind() == transport_error::connect_timeout);
    CHECK(p.code() == errc::timeout);
  }
  CHECK(p.completions() == 1);
}

TEST_CASE("http_client: total timeout against a slow handler") {
  test_server server;
  probe p;
  {
    http_client client{test_limits()};
    auto req = get(server.url("/hold"));
    req.total_timeout = 200ms;
    REQUIRE(client.submit(std::move(req), p.handlers()));
    REQUIRE(p.wait());
    REQUIRE_FALSE(p.ok());
    CHECK(p.kind() == transport_error::total_timeout);
    CHECK(p.code() == errc::timeout);
    CHECK(agentgraph::is_retryable(p.result().response.error()));
  }
  CHECK(p.completions() == 1);
}

TEST_CASE("http_client: stream idle timeout after one chunk then silence") {
  test_server server;
  probe p;
  {
    http_client client{test_limits()};  // total timeout: wait_max, far later
    auto req = get(server.url("/stall"));
    req.stream = true;
    req.stream_idle_timeout = 300ms;
    REQUIRE(client.submit(std::move(req), p.handlers(true)));
    REQUIRE(p.wait());
    REQUIRE_FALSE(p.ok());
    CHECK(p.data() == "first\n");
    CHECK(p.header_calls() == 1);
    CHECK(p.kind() == transport_error::stream_idle_timeout);
    CHECK(p.code() == errc::timeout);
    CHECK(p.context().find("stream_idle_timeout") != std::string::npos);
  }
  CHECK(p.completions() == 1);
}

TEST_CASE("http_client: response over response_bytes_max is an error naming the limit") {
  test_server server;
  probe announced;
  probe chunked;
  probe streamed;
  {
    http_client client{test_limits()};
    REQUIRE(client.submit(get(server.url("/big")), announced.handlers()));
    REQUIRE(client.submit(get(server.url("/big_chunked")), chunked.handlers()));
    auto req = get(server.url("/big_chunked"));
    req.stream = true;
    REQUIRE(client.submit(std::move(req), streamed.handlers(true)));
    for (auto* p : {&announced, &chunked, &streamed}) {
      REQUIRE(p->wait());
      REQUIRE_FALSE(p->ok());
      CHECK(p->kind() == transport_error::response_too_large);
      CHECK(p->code() == errc::limit_exceeded);
      CHECK(p->context().find("response_bytes_max (1000 bytes)") != std::string::npos);
    }
    CHECK(streamed.data().size() <= response_bytes_max);
  }
  CHECK(announced.completions() == 1);
  CHECK(chunked.completions() == 1);
  CHECK(streamed.completions() == 1);
}

TEST_CASE("http_client: headers over header_bytes_max is an error naming the limit") {
  test_server server;
  probe p;
  {
    auto limits = test_limits();
    limits.header_bytes_max = 1024;  // the route sends ~3 KB of headers
    http_client client{limits};
    REQUIRE(client.submit(get(server.url("/big_headers")), p.handlers()));
    REQUIRE(p.wait());
    REQUIRE_FALSE(p.ok());
    CHECK(p.kind() == transport_error::headers_too_large);
    CHECK(p.code() == errc::limit_exceeded);
    CHECK(p.context().find("header_bytes_max (1024 bytes)") != std::string::npos);
    CHECK(p.header_calls() == 0);
  }
  CHECK(p.completions() == 1);
}

TEST_CASE("http_client: a throwing on_data fails only its own transfer") {
  test_server server;
  probe p;
  probe next;
  {
    http_client client{test_limits()};
    auto h = p.handlers(true);
    h.on_data = [](std::string_view) { throw std::runtime_error{"bug"}; };
    auto req = get(server.url("/stream"));
    req.stream = true;
    REQUIRE(client.submit(std::move(req), std::move(h)));
    REQUIRE(p.wait());
    CHECK(p.kind() == transport_error::callback_failed);
    CHECK(p.code() == errc::internal);
    REQUIRE(client.submit(get(server.url("/status500")), next.handlers()));
    REQUIRE(next.wait());
    CHECK(next.ok());
  }
  CHECK(p.completions() == 1);
  CHECK(next.completions() == 1);
}

TEST_CASE("http_client: invalid requests are refused at submit without callbacks") {
  probe p;
  {
    http_client client{test_limits()};
    auto refused = [&](agentgraph::net::http_request req) {
      auto id = client.submit(std::move(req), p.handlers());
      REQUIRE_FALSE(id);
      CHECK(agentgraph::errc_of(id.error()) == errc::invalid_argument);
      return agentgraph::error_context(id.error());
    };
    CHECK(refused(get("ftp://127.0.0.1/file")).find("scheme") != std::string::npos);
    CHECK(refused(get("not a url")).find("URL") != std::string::npos);
    CHECK(refused(get("")).find("URL") != std::string::npos);
    auto lower = get("http://127.0.0.1/");
    lower.method = "post";
    CHECK(refused(lower).find("method") != std::string::npos);
    auto injected = get("http://127.0.0.1/");
    injected.headers = {{"Authorization", "Bearer sk-secret\r\nX-Evil: 1"}};
    auto context = refused(injected);
    CHECK(context.find("Authorization") != std::string::npos);
    CHECK(context.find("sk-secret") == std::string::npos);  // values never leak
    auto bad_name = get("http://127.0.0.1/");
    bad_name.headers = {{"Bad Name", "v"}};
    CHECK(refused(bad_name).find("name") != std::string::npos);
    auto zero = get("http://127.0.0.1/");
    zero.total_timeout = 0ms;
    CHECK(refused(zero).find("total_timeout") != std::string::npos);
    CHECK(client.counters().requests == 0);
    CHECK(client.counters().errors[static_cast<size_t>(transport_error::invalid_request)] == 7);
  }
  CHECK(p.completions() == 0);
}

TEST_CASE("http_client: failure classification") {
  namespace d = agentgraph::net::http_client_transfer_detail;
  using d::abort_reason;
  CHECK(d::classify(CURLE_OPERATION_TIMEDOUT, abort_reason::none, false)
        == transport_error::connect_timeout);
  CHECK(d::classify(CURLE_OPERATION_TIMEDOUT, abort_reason::none, true)
        == transport_error::total_timeout);
  CHECK(d::classify(CURLE_WRITE_ERROR, abort_reason::response_too_large, true)
        == transport_error::response_too_large);
  CHECK(d::classify(CURLE_WRITE_ERROR, abort_reason::headers_too_large, true)
        == transport_error::headers_too_large);
  CHECK(d::classify(CURLE_WRITE_ERROR, abort_reason::none, true) == transport_error::other);
  CHECK(d::classify(CURLE_FILESIZE_EXCEEDED, abort_reason::none, true)
        == transport_error::response_too_large);
  CHECK(d::classify(CURLE_COULDNT_CONNECT, abort_reason::none, false)
        == transport_error::connect_refused);
  CHECK(d::classify(CURLE_COULDNT_RESOLVE_HOST, abort_reason::none, false)
        == transport_error::dns);
  CHECK(d::classify(CURLE_RECV_ERROR, abort_reason::none, true)
        == transport_error::connection_reset);
  CHECK(d::classify(CURLE_GOT_NOTHING, abort_reason::none, true)
        == transport_error::connection_reset);
  CHECK(d::classify(CURLE_PEER_FAILED_VERIFICATION, abort_reason::none, false)
        == transport_error::tls);
  CHECK(agentgraph::net::errc_for(transport_error::connection_reset) == errc::unavailable);
  CHECK(agentgraph::net::errc_for(transport_error::protocol) == errc::provider_error);
  for (size_t i = 0; i < agentgraph::net::transport_error_count; ++i)
    CHECK(std::string{to_string(static_cast<transport_error>(i))} != "unknown");
}

TEST_CASE("http_client: header parsing and the no-proxy list") {
  namespace d = agentgraph::net::http_client_transfer_detail;
  CHECK(d::parse_status_line("HTTP/1.1 200 OK") == 200);
  CHECK(d::parse_status_line("HTTP/2 429 ") == 429);
  CHECK_FALSE(d::parse_status_line("Content-Type: x"));
  auto field = d::parse_field("Retry-After:  7 ");
  REQUIRE(field);
  CHECK(field->first == "retry-after");
  CHECK(field->second == "7");
  CHECK_FALSE(d::parse_field(": no name"));
  CHECK(d::noproxy_list(nullptr) == "localhost,127.0.0.1,::1");
  CHECK(d::noproxy_list("") == "localhost,127.0.0.1,::1");
  CHECK(d::noproxy_list("example.org,.corp") == "example.org,.corp,localhost,127.0.0.1,::1");
  CHECK(d::noproxy_list("*") == "*");
}

}  // namespace http_client_failure_test
