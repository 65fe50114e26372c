// net::http_server on real loopback sockets, driven by raw clients that
// behave as hostile ones do: bodies without tokens, chunked floods, headers
// trickled a byte at a time, thousands of idle connections, event-stream
// subscribers that never read, requests racing a stop. Every wait is
// bounded (poll with a generous limit); no test asserts how long anything
// took, only what the server answered and whether it kept answering.
// (Slightly over 600 lines: every case shares the raw client and fixture
// below; the socket-free decoder cases are in chunked_decoder_test.cpp.)
// Over 600 lines on purpose: the raw-socket clients and the server fixture
// are shared by every case; split files would each repeat them.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "net/http_server/http_server.hpp"
#include "runtime/metrics/registry.hpp"

using namespace agentgraph;
using namespace std::chrono_literals;

namespace http_server_test {

// Upper bound of every wait for the server; far above what any answer
// takes, so only a server that does not answer at all fails on it.
constexpr int wait_ms = 15'000;

// A blocking-free raw client: one socket, bounded reads.
class raw_client {
 public:
  explicit raw_client(uint16_t port, int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    if (rcvbuf > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~raw_client() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  bool connected() const { return connected_; }

  // False when the peer closed or reset the connection.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Sends without waiting for room; false when the kernel buffer is full
  // or the connection is gone.
  bool send_some(std::string_view bytes) {
    auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return n > 0;
  }

  // Reads until `stop(received)` holds, the peer closes, or `ms` pass.
  // `closed` says whether the read ended on the peer's close (EOF or reset).
  template <class Stop>
  std::string read_until(Stop stop, int ms = wait_ms) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{ms};
    char buf[16384];
    while (!stop(out)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
      if (left <= 0)
        break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0)
        break;
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed = true;
        reset = n < 0;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

  // One whole response: headers plus Content-Length bytes.
  std::string read_response(int ms = wait_ms) {
    return read_until([](const std::string& s) { return complete_response(s); }, ms);
  }

  // True once the server closed its side (reads EOF), within `ms`.
  bool closed_by_peer(int ms = wait_ms) {
    read_until([](const std::string&) { return false; }, ms);
    return closed;
  }

  static bool complete_response(const std::string& s) {
    auto end = s.find("\r\n\r\n");
    if (end == std::string::npos)
      return false;
    auto cl = s.find("Content-Length: ");
    if (cl == std::string::npos || cl > end)
      return true;
    auto len = std::stoul(s.substr(cl + 16));
    return s.size() >= end + 4 + len;
  }

  bool closed = false;
  bool reset = false;

 private:
  int fd_ = -1;
  bool connected_ = false;
};

int status_of(const std::string& response) {
  if (response.size() < 12 || response.rfind("HTTP/1.", 0) != 0)
    return 0;
  return std::stoi(response.substr(9, 3));
}

bool has_header(const std::string& response, const std::string& line) {
  auto end = response.find("\r\n\r\n");
  return response.find(line) < end;
}

// Raises this process's open-file limit so a test can hold `n` sockets.
bool fit_files(rlim_t n) {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur >= n)
    return true;
  lim.rlim_cur = std::min(n, lim.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &lim);
  ::getrlimit(RLIMIT_NOFILE, &lim);
  return lim.rlim_cur >= n;
}

// A server with an echo route, a held route (answers only when told), and
// a route that streams `stream_events` events as fast as it can.
struct fixture {
  metrics::registry reg;
  std::unique_ptr<net::http_server> server;
  std::atomic<int> echo_calls{0};
  std::atomic<int> health_calls{0};
  std::atomic<size_t> last_body_size{0};
  std::mutex held_mutex;
  std::vector<net::responder> held;  // guarded by held_mutex
  std::atomic<int> streams_closed{0};
  std::atomic<bool> stream_refused{false};

  explicit fixture(net::http_server_options o = {}) {
    o.port = 0;
    o.metrics = &reg;
    server = std::make_unique<net::http_server>(o);
    server->route("GET", "/health", [this](const net::server_request&, net::responder r) {
      ++health_calls;
      r.send(net::json_response(200, R"({"status":"alive"})"));
    });
    server->route("POST", "/echo", [this](const net::server_request& req, net::responder r) {
      ++echo_calls;
      last_body_size = req.body.size();
      r.send(net::json_response(200, "{\"bytes\":" + std::to_string(req.body.size()) + "}"));
    });
    server->route("GET", "/held", [this](const net::server_request&, net::responder r) {
      std::lock_guard lock{held_mutex};
      held.push_back(std::move(r));
    });
    server->route("GET", "/flood", [this](const net::server_request&, net::responder r) {
      auto s = r.stream();
      REQUIRE(s);
      s->on_close([this] { ++streams_closed; });
      // A producer on its own thread, as a task's runner would be.
      std::thread([this, s] {
        std::string payload(4096, 'x');
        for (int i = 0; i < 100'000; ++i)
          if (!s->send({{"token", payload}})) {
            stream_refused = true;
            return;
          }
      }).detach();
    });
    REQUIRE(!server->start());
  }

  uint16_t port() const { return server->port(); }

  // The first held request's responder, once its handler ran.
  net::responder first_held() {
    for (int i = 0; i < wait_ms; ++i) {
      {
        std::lock_guard lock{held_mutex};
        if (!held.empty())
          return held.front();
      }
      std::this_thread::sleep_for(1ms);
    }
    FAIL("the held request never reached its handler");
    throw std::logic_error("unreachable");
  }

  double counter(const std::string& needle) const {
    auto text = "\n" + reg.scrape();
    auto at = text.find("\n" + needle + " ");
    if (at == std::string::npos)
      return 0;
    return std::stod(text.substr(at + needle.size() + 2));
  }

  int health() const {
    raw_client c{port()};
    if (!c.connected() || !c.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"))
      return 0;
    return status_of(c.read_response());
  }
};

net::http_server_options with_token() {
  net::http_server_options o;
  o.auth_token = "s3cret";
  o.open_paths = {"/health"};
  o.body_bytes_max = 64 * 1024;
  return o;
}

}  // namespace http_server_test

using namespace http_server_test;

TEST_CASE("http server: a request without a token is refused on its headers, before its body") {
  fixture f{with_token()};
  // Declares 50 MB and sends none of it: a server that read bodies first
  // would wait here forever.
  raw_client big{f.port()};
  REQUIRE(big.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n"));
  auto r = big.read_response();
  CHECK(status_of(r) == 401);
  CHECK(has_header(r, "WWW-Authenticate: Bearer"));
  CHECK(r.find("\"unauthorized\"") != std::string::npos);
  // The same for a chunked body.
  raw_client chunked{f.port()};
  REQUIRE(chunked.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "10\r\n0123456789abcdef\r\n"));
  CHECK(status_of(chunked.read_response()) == 401);
  CHECK(f.echo_calls == 0);
  CHECK(f.counter("agentgraph_http_requests_rejected_total{reason=\"unauthorized\"}") == 2);
}

TEST_CASE("http server: the body limit holds for Content-Length and chunked bodies alike") {
  fixture f{with_token()};
  const std::string auth = "Authorization: Bearer s3cret\r\n";
  // Declared too large: refused before a byte of it is read.
  raw_client declared{f.port()};
  REQUIRE(declared.send("POST /echo HTTP/1.1\r\nHost: x\r\n" + auth
                        + "Content-Length: 70000\r\n\r\n"));
  auto r = declared.read_response();
  CHECK(status_of(r) == 413);
  CHECK(r.find("\"body_too_large\"") != std::string::npos);
  // Chunked: cut off once it passes the limit, whatever it would total.
  raw_client flood{f.port()};
  REQUIRE(flood.send("POST /echo HTTP/1.1\r\nHost: x\r\n" + auth
                     + "Transfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "1000\r\n" + std::string(4096, 'a') + "\r\n";
  size_t sent = 0;
  std::string answer;
  // Up to 64 MB, stopping at the first answer or refusal.
  for (int i = 0; i < 16'384 && answer.empty(); ++i) {
    if (!flood.send_some(chunk)) {
      answer = flood.read_response(200);
      continue;
    }
    sent += chunk.size();
  }
  if (answer.empty())
    answer = flood.read_response();
  CHECK(status_of(answer) == 413);
  CHECK(sent < 64u * 1024 * 1024);  // refused long before the flood ended
  CHECK(f.echo_calls == 0);
  // A body within the limit still arrives whole, chunked too.
  raw_client ok{f.port()};
  REQUIRE(ok.send("POST /echo HTTP/1.1\r\nHost: x\r\n" + auth
                  + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  auto good = ok.read_response();
  CHECK(status_of(good) == 200);
  CHECK(good.find("{\"bytes\":11}") != std::string::npos);
}

TEST_CASE("http server: a chunked body sent a byte at a time decodes, last chunk included") {
  // Boost 1.74's own chunked parser aborted the process on this (its last
  // chunk split across reads); the server must answer it like any other.
  fixture f;
  for (const std::string trailer : {"", "X-Trailer: yes\r\n"}) {
    raw_client c{f.port()};
    const std::string request = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                "\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n"
                                + trailer + "\r\n";
    for (char ch : request)
      REQUIRE(c.send(std::string_view{&ch, 1}));
    auto r = c.read_response();
    CHECK(status_of(r) == 200);
    CHECK(r.find("{\"bytes\":11}") != std::string::npos);
  }
  // Bad framing is a 400, and the server serves on.
  raw_client bad{f.port()};
  REQUIRE(bad.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "3\r\nabcdef\r\n0\r\n\r\n"));
  CHECK(status_of(bad.read_response()) == 400);
  CHECK(f.health() == 200);
}

TEST_CASE("http server: framings a proxy could read differently are refused, long targets too") {
  fixture f;
  // gzip alone, or chunked not last: no end of body we could agree on.
  for (const char* te : {"gzip", "chunked, gzip"}) {
    raw_client c{f.port()};
    REQUIRE(c.send(std::string{"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "} + te
                   + "\r\nContent-Length: 5\r\n\r\nhello"));
    CHECK(status_of(c.read_response()) == 501);
  }
  raw_client old{f.port()};
  REQUIRE(old.send("POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  CHECK(status_of(old.read_response()) == 501);
  raw_client longer{f.port()};
  REQUIRE(longer.send("GET /" + std::string(3000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(status_of(longer.read_response()) == 414);
  CHECK(f.echo_calls == 0);
  CHECK(f.health() == 200);
}

TEST_CASE("http server: a request with neither length nor chunking has no body to read") {
  fixture f{with_token()};
  raw_client c{f.port()};
  // The bytes after the headers are not a body (RFC 9112 §6.3): the POST is
  // served empty and the rest is parsed as a next request, which is garbage.
  REQUIRE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n\r\n"
                 + std::string(100'000, 'z')));
  // Both answers, then the server's close.
  auto both = c.read_until([](const std::string&) { return false; });
  CHECK(c.closed);
  CHECK(status_of(both) == 200);
  CHECK(both.find("{\"bytes\":0}") != std::string::npos);
  auto second = both.find("HTTP/1.1 ", 1);
  REQUIRE(second != std::string::npos);
  CHECK((status_of(both.substr(second)) == 400 || status_of(both.substr(second)) == 431));
}

TEST_CASE("http server: slow uploads together hold at most bodies_bytes_max") {
  net::http_server_options o;
  o.body_bytes_max = 64 * 1024;
  o.bodies_bytes_max = 100 * 1024;
  fixture f{o};
  // One upload declares 60 KB and sends it slowly: the budget has 40 KB
  // left, so a second 60 KB upload is refused. The server may take the two
  // connections in either order, so a round where the second one got in
  // first is closed (releasing it) and tried again.
  std::unique_ptr<raw_client> slow;
  std::string refused;
  // (A refusal only counts while the slow one is still being read: an
  // earlier round's connection may not be released yet.)
  for (int round = 0; round < 100; ++round) {
    slow = std::make_unique<raw_client>(f.port());
    REQUIRE(slow->send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\nabc"));
    raw_client second{f.port()};
    REQUIRE(second.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n"));
    refused = second.read_response(500);
    if (status_of(refused) == 503 && slow->read_response(200).empty() && !slow->closed)
      break;
    refused.clear();
  }
  CHECK(status_of(refused) == 503);
  CHECK(has_header(refused, "Retry-After: "));
  // A small one still fits, and once the slow one ends the budget is back.
  raw_client small{f.port()};
  REQUIRE(small.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"));
  CHECK(status_of(small.read_response()) == 200);
  REQUIRE(slow->send(std::string(60000 - 3, 's')));
  CHECK(status_of(slow->read_response()) == 200);
  raw_client again{f.port()};
  REQUIRE(again.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n"
                     + std::string(60000, 'a')));
  CHECK(status_of(again.read_response()) == 200);
  CHECK(f.counter("agentgraph_http_requests_rejected_total{reason=\"bodies_busy\"}") >= 1);
}

TEST_CASE("http server: header, body and keep-alive deadlines close slow connections") {
  net::http_server_options o;
  o.header_timeout = 200ms;
  o.body_timeout = 200ms;
  o.keep_alive_timeout = 200ms;
  fixture f{o};
  // Headers trickled and then stalled: the connection is closed.
  raw_client slow_headers{f.port()};
  REQUIRE(slow_headers.send("GET /health HTTP/1.1\r\nHo"));
  CHECK(slow_headers.closed_by_peer());
  // A body that never finishes.
  raw_client slow_body{f.port()};
  REQUIRE(slow_body.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"));
  CHECK(slow_body.closed_by_peer());
  CHECK(f.echo_calls == 0);
  // A connection that says nothing at all.
  raw_client silent{f.port()};
  CHECK(silent.closed_by_peer());
  // A kept-alive connection after its answer.
  raw_client idle{f.port()};
  REQUIRE(idle.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(status_of(idle.read_response()) == 200);
  CHECK(idle.closed_by_peer());
  CHECK(f.counter("agentgraph_http_requests_rejected_total{reason=\"header_timeout\"}") >= 1);
  CHECK(f.counter("agentgraph_http_requests_rejected_total{reason=\"body_timeout\"}") == 1);
}

TEST_CASE("http server: oversized headers get 431") {
  net::http_server_options o;
  o.header_bytes_max = 2048;
  fixture f{o};
  raw_client c{f.port()};
  REQUIRE(c.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'h')
                 + "\r\n\r\n"));
  CHECK(status_of(c.read_response()) == 431);
  CHECK(f.health() == 200);
}

TEST_CASE("http server: thousands of slow and idle connections do not delay /health") {
  constexpr int slow_count = 2000;
  REQUIRE_MESSAGE(fit_files(slow_count + 512), "this test needs an open-file limit above "
                                                 << slow_count + 512);
  fixture f;
  std::vector<std::unique_ptr<raw_client>> slow;
  slow.reserve(slow_count);
  for (int i = 0; i < slow_count; ++i) {
    slow.push_back(std::make_unique<raw_client>(f.port()));
    REQUIRE(slow.back()->connected());
    // Half trickle the start of their headers, half say nothing.
    if (i % 2 == 0)
      REQUIRE(slow.back()->send("GET /health HTTP/1.1\r\nX-Slow: "));
  }
  for (int i = 0; i < 20; ++i)
    CHECK(f.health() == 200);
  CHECK(f.server->connections() >= static_cast<size_t>(slow_count));
}

TEST_CASE("http server: beyond connections_max a connection gets 503 with Retry-After") {
  net::http_server_options o;
  o.connections_max = 20;
  fixture f{o};
  std::vector<std::unique_ptr<raw_client>> open;
  for (int i = 0; i < 20; ++i) {
    open.push_back(std::make_unique<raw_client>(f.port()));
    REQUIRE(open.back()->connected());
  }
  // The server counts a connection once it accepted it; wait for all 20.
  for (int i = 0; i < 3000 && f.server->connections() < 20; ++i)
    std::this_thread::sleep_for(1ms);
  REQUIRE(f.server->connections() == 20);
  raw_client extra{f.port()};
  auto r = extra.read_response();
  CHECK(status_of(r) == 503);
  CHECK(has_header(r, "Retry-After: "));
  CHECK(r.find("too many connections") != std::string::npos);
  CHECK(f.counter("agentgraph_http_connections_refused_total") >= 1);
  // Room again once one closes.
  open.pop_back();
  for (int i = 0; i < 3000 && f.server->connections() >= 20; ++i)
    std::this_thread::sleep_for(1ms);
  CHECK(f.health() == 200);
}

TEST_CASE("http server: an event-stream subscriber that never reads is dropped, not buffered") {
  net::http_server_options o;
  o.stream_buffer_bytes = 256 * 1024;
  fixture f{o};
  std::vector<std::unique_ptr<raw_client>> readers;
  for (int i = 0; i < 4; ++i) {
    readers.push_back(std::make_unique<raw_client>(f.port(), 4096));
    REQUIRE(readers.back()->send("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  // Each producer is refused once its subscriber's buffer is full, and
  // the server closes those connections; /health answers meanwhile.
  for (int i = 0; i < 15'000 && f.streams_closed < 4; ++i) {
    if (i % 1000 == 0)
      CHECK(f.health() == 200);
    std::this_thread::sleep_for(1ms);
  }
  CHECK(f.streams_closed == 4);
  CHECK(f.stream_refused);
  CHECK(f.counter("agentgraph_http_streams_dropped_total{reason=\"buffer_full\"}") >= 1);
  CHECK(f.health() == 200);
}

TEST_CASE("http server: a responder's deadline answers for a handler that never does") {
  fixture f;
  raw_client c{f.port()};
  REQUIRE(c.send("GET /held HTTP/1.1\r\nHost: x\r\n\r\n"));
  net::responder r = f.first_held();
  r.deadline(50ms, net::json_error(504, "timeout", "too slow"));
  auto answer = c.read_response();
  CHECK(status_of(answer) == 504);
  // The handler's own late answer changes nothing; the connection serves on.
  r.send(net::json_response(200, "{}"));
  REQUIRE(c.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(status_of(c.read_response()) == 200);
}

TEST_CASE("http server: stop answers every request it read, held ones get 503 + Retry-After") {
  net::http_server_options o;
  o.stop_grace = 300ms;
  fixture f{o};
  raw_client held{f.port()};
  REQUIRE(held.send("GET /held HTTP/1.1\r\nHost: x\r\n\r\n"));
  for (int i = 0; i < 5000; ++i) {
    std::lock_guard lock{f.held_mutex};
    if (!f.held.empty())
      break;
    std::this_thread::sleep_for(1ms);
  }
  raw_client idle{f.port()};
  REQUIRE(idle.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(status_of(idle.read_response()) == 200);
  // Clients hammering the server while it stops. Every request the server
  // read (its handler ran, or it was refused for stopping) must reach its
  // client whole. A connection the kernel completes in the instant between
  // the server's last accept and its close() is reset by the kernel before
  // anything of it was read: such clients are "cut" without a request read,
  // which the count below tells apart.
  const int health_before = f.health_calls.load();
  std::atomic<bool> go{true};
  std::atomic<int> answered{0}, refused{0}, cut{0};
  std::mutex cut_mutex;
  std::string cut_seen;  // guarded by cut_mutex
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&] {
      while (go) {
        raw_client c{f.port()};
        if (!c.connected()) {
          ++refused;
          continue;
        }
        if (!c.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) {
          ++cut;
          continue;
        }
        auto r = c.read_response();
        if (raw_client::complete_response(r) && (status_of(r) == 200 || status_of(r) == 503)) {
          ++answered;
        } else {
          ++cut;
          std::lock_guard lock{cut_mutex};
          cut_seen = "after " + std::to_string(r.size()) + " bytes, reset=" + std::to_string(c.reset)
                     + ": " + r.substr(0, 60);
        }
      }
    });
  std::this_thread::sleep_for(50ms);
  f.server->stop();
  go = false;
  for (auto& t : clients)
    t.join();
  auto r = held.read_response();
  CHECK(status_of(r) == 503);
  CHECK(has_header(r, "Retry-After: "));
  CHECK(idle.closed_by_peer());
  CHECK_FALSE(idle.reset);
  CHECK(answered > 0);
  const int read_by_server =
    f.health_calls.load() - health_before
    + static_cast<int>(f.counter("agentgraph_http_requests_rejected_total{reason=\"stopping\"}"));
  CHECK_MESSAGE(answered == read_by_server, "cut without a request read: " << cut << " " << cut_seen);
  CHECK(f.server->connections() == 0);
}

TEST_CASE("http server: a stream finished by its producer ends cleanly and the connection serves on") {
  net::http_server srv{{}};
  srv.route("GET", "/three", [](const net::server_request&, net::responder r) {
    auto s = r.stream();
    s->send({{"a", "1"}, {"b", "2"}});
    s->send({{"", "three"}});
    s->finish();
  });
  srv.route("GET", "/health", [](const net::server_request&, net::responder r) {
    r.send(net::json_response(200, "{}"));
  });
  REQUIRE(!srv.start());
  raw_client c{srv.port()};
  REQUIRE(c.send("GET /three HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto body = c.read_until([](const std::string& s) { return s.find("0\r\n\r\n") != std::string::npos; });
  CHECK(has_header(body, "Content-Type: text/event-stream"));
  CHECK(body.find("event: a\ndata: 1\n\n") != std::string::npos);
  CHECK(body.find("data: three\n\n") != std::string::npos);
  REQUIRE(c.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(status_of(c.read_response()) == 200);
}

TEST_CASE("http text: URLs bracket IPv6 hosts, paths decode strictly") {
  CHECK(net::http_url("127.0.0.1", 8080) == "http://127.0.0.1:8080");
  CHECK(net::http_url("::1", 9) == "http://[::1]:9");
  std::string out;
  CHECK(net::percent_decode_path("/v1/tasks/a%20b", out));
  CHECK(out == "/v1/tasks/a b");
  CHECK_FALSE(net::percent_decode_path("/x%2", out));
  CHECK_FALSE(net::percent_decode_path("/x%zz", out));
  CHECK_FALSE(net::percent_decode_path("/x%00", out));
  CHECK(net::status_reason(431) == "Request Header Fields Too Large");
}
