// http_client against real cpp-httplib servers on 127.0.0.1: round trips,
// headers both ways, statuses as answers, connection reuse, the in-flight
// bound, streaming, cancel, shutdown and environment proxies. Failure kinds
// and limits are in http_client_failure_test.cpp. Every test checks that
// on_complete ran exactly once per accepted request, after the client is
// gone (so a late second call would be seen).
#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http_client_fixture.hpp"
#include "net/http_client.hpp"
#include "runtime/error.hpp"

namespace http_client_test {

using namespace http_client_fixture;
using agentgraph::errc;
using agentgraph::net::find_header;
using agentgraph::net::http_client;
using agentgraph::net::transport_error;

TEST_CASE("http_client: POST JSON round trip") {
  test_server server;
  probe p;
  {
    http_client client{test_limits()};
    auto id = client.submit(post_json(server.url("/echo"), R"({"question":42})"), p.handlers());
    REQUIRE(id);
    REQUIRE(p.wait());
    REQUIRE(p.ok());
    CHECK(p.kind() == transport_error::none);
    CHECK(p.response().status == 200);
    CHECK(p.response().body == R"({"question":42})");
    REQUIRE(find_header(p.response().headers, "Content-Type") != nullptr);
    CHECK(*find_header(p.response().headers, "content-type") == "application/json");
    CHECK(p.response().http_version == 11);  // plain http: no h2c upgrade
    auto c = client.counters();
    CHECK(c.requests == 1);
    CHECK(c.responses == 1);
    CHECK(c.bytes_out > 0);
    CHECK(c.bytes_in > p.response().body.size());
  }
  CHECK(p.completions() == 1);
}

TEST_CASE("http_client: request headers reach the server, response headers come back") {
  test_server server;
  probe p;
  {
    http_client client{test_limits()};
    auto req = post_json(server.url("/echo"), "{}");
    req.headers.emplace_back("X-Test", "hello");
    req.headers.emplace_back("Authorization", "Bearer sk-secret");
    REQUIRE(client.submit(std::move(req), p.handlers()));
    REQUIRE(p.wait());
    REQUIRE(p.ok());
    const auto& headers = p.response().headers;
    REQUIRE(find_header(headers, "X-ECHO") != nullptr);
    CHECK(*find_header(headers, "x-echo") == "hello");
    CHECK(*find_header(headers, "x-auth-seen") == "yes");
    // on_headers saw the same block once, before on_complete.
    CHECK(p.header_calls() == 1);
    CHECK(p.header_status() == 200);
    REQUIRE(find_header(p.headers(), "x-echo") != nullptr);
    CHECK(p.headers() == headers);
  }
  CHECK(p.completions() == 1);
}

TEST_CASE("http_client: a 500 is delivered as a response, not an error") {
  test_server server;
  probe p;
  {
    http_client client{test_limits()};
    REQUIRE(client.submit(get(server.url("/status500")), p.handlers()));
    REQUIRE(p.wait());
    REQUIRE(p.ok());
    CHECK(p.response().status == 500);
    CHECK(p.response().body == R"({"error":"boom"})");
    auto c = client.counters();
    CHECK(c.responses == 1);
    for (auto n : c.errors)
      CHECK(n == 0);
  }
  CHECK(p.completions() == 1);
}

TEST_CASE("http_client: 10 sequential requests reuse one connection") {
  test_server server;
  constexpr int requests = 10;
  std::vector<std::unique_ptr<probe>> probes;
  {
    http_client client{test_limits()};
    for (int i = 0; i < requests; ++i) {
      probes.push_back(std::make_unique<probe>());
      auto body = R"({"i":)" + std::to_string(i) + "}";
      REQUIRE(client.submit(post_json(server.url("/echo"), body), probes.back()->handlers()));
      REQUIRE(probes.back()->wait());
      REQUIRE(probes.back()->ok());
      CHECK(probes.back()->response().body == body);
      // Only the first request opened a connection.
      CHECK(probes.back()->response().connections_opened == (i == 0 ? 1 : 0));
    }
    CHECK(client.counters().connections_opened == 1);
    CHECK(server.connections() == 1);
  }
  for (auto& p : probes)
    CHECK(p->completions() == 1);
}

TEST_CASE("http_client: in_flight_max requests run concurrently, one more is overloaded") {
  test_server server;
  auto limits = test_limits();
  std::vector<std::unique_ptr<probe>> probes;
  probe after;
  {
    http_client client{limits};
    for (uint32_t i = 0; i < limits.in_flight_max; ++i) {
      probes.push_back(std::make_unique<probe>());
      REQUIRE(client.submit(get(server.url("/hold")), probes.back()->handlers()));
    }
    // All of them are at the server at the same time.
    REQUIRE(server.wait_held(limits.in_flight_max));
    probe rejected;
    auto extra = client.submit(get(server.url("/hold")), rejected.handlers());
    REQUIRE_FALSE(extra);
    CHECK(agentgraph::errc_of(extra.error()) == errc::overloaded);
    CHECK(agentgraph::error_context(extra.error()).find("in_flight_max") != std::string::npos);
    CHECK(client.counters().rejected_overloaded == 1);
    server.release();
    for (auto& p : probes) {
      REQUIRE(p->wait());
      REQUIRE(p->ok());
      CHECK(p->response().body == "done");
    }
    // The slots are free again.
    REQUIRE(client.submit(get(server.url("/hold")), after.handlers()));
    REQUIRE(after.wait());
    CHECK(after.ok());
    CHECK(rejected.completions() == 0);  // a refused submit never calls back
    CHECK(client.counters().connections_opened == limits.in_flight_max);
  }
  for (auto& p : probes)
    CHECK(p->completions() == 1);
  CHECK(after.completions() == 1);
}

TEST_CASE("http_client: streaming delivers chunks in order, then on_complete") {
  test_server server;
  probe p;
  {
    http_client client{test_limits()};
    auto req = get(server.url("/stream"));
    req.stream = true;
    REQUIRE(client.submit(std::move(req), p.handlers(true)));
    REQUIRE(p.wait());
    REQUIRE(p.ok());
    std::string expected;
    for (int i = 0; i < 10; ++i)
      expected += "part-" + std::to_string(i) + "\n";
    CHECK(p.data() == expected);
    CHECK(p.data_calls() >= 1);
    CHECK(p.headers_before_data());
    CHECK(p.header_calls() == 1);
    CHECK_FALSE(p.data_after_complete());
    CHECK(p.response().body.empty());  // streamed bodies are not buffered
    CHECK(p.response().status == 200);
  }
  CHECK(p.completions() == 1);
  CHECK_FALSE(p.data_after_complete());
}

TEST_CASE("http_client: cancel in flight completes once with cancelled") {
  test_server server;
  probe p;
  {
    http_client client{test_limits()};
    auto id = client.submit(get(server.url("/hold")), p.handlers());
    REQUIRE(id);
    REQUIRE(server.wait_held(1));
    client.cancel(*id);
    REQUIRE(p.wait());
    REQUIRE_FALSE(p.ok());
    CHECK(p.kind() == transport_error::cancelled);
    CHECK(p.code() == errc::cancelled);
    // A second cancel and an unknown id are ignored.
    client.cancel(*id);
    client.cancel(*id + 1000);
    CHECK(client.counters().errors[static_cast<size_t>(transport_error::cancelled)] == 1);
  }
  CHECK(p.completions() == 1);
}

TEST_CASE("http_client: cancel right after submit, before the I/O thread starts it") {
  test_server server;
  std::vector<std::unique_ptr<probe>> probes;
  {
    http_client client{test_limits()};
    for (int i = 0; i < 4; ++i) {
      probes.push_back(std::make_unique<probe>());
      auto id = client.submit(get(server.url("/hold")), probes.back()->handlers());
      REQUIRE(id);
      client.cancel(*id);
    }
    for (auto& p : probes) {
      REQUIRE(p->wait());
      CHECK(p->kind() == transport_error::cancelled);
    }
  }
  for (auto& p : probes)
    CHECK(p->completions() == 1);
}

TEST_CASE("http_client: destructor completes every request in flight with cancelled") {
  test_server server;
  std::vector<std::unique_ptr<probe>> probes;
  for (int i = 0; i < 3; ++i)
    probes.push_back(std::make_unique<probe>());
  {
    http_client client{test_limits()};
    for (auto& p : probes)
      REQUIRE(client.submit(get(server.url("/hold")), p->handlers()));
    REQUIRE(server.wait_held(probes.size()));
  }  // returns although the server still holds all three
  for (auto& p : probes) {
    CHECK(p->completions() == 1);
    REQUIRE_FALSE(p->ok());
    CHECK(p->kind() == transport_error::cancelled);
    CHECK(p->code() == errc::cancelled);
  }
}

TEST_CASE("http_client: on_complete may submit the next request") {
  test_server server;
  probe second;
  int first_calls = 0;
  {
    http_client client{test_limits()};
    agentgraph::net::http_handlers h;
    h.on_complete = [&](agentgraph::net::http_result r) {
      ++first_calls;  // I/O thread only
      CHECK(r.response);
      // The slot of this request is already free.
      CHECK(client.submit(get(server.url("/status500")), second.handlers()));
    };
    REQUIRE(client.submit(post_json(server.url("/echo"), "{}"), std::move(h)));
    REQUIRE(second.wait());
    CHECK(second.ok());
  }
  CHECK(first_calls == 1);
  CHECK(second.completions() == 1);
}

// Restores an environment variable at scope exit.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name))
      old_ = old;
    ::setenv(name, value, 1);
  }
  ~scoped_env() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST_CASE("http_client: http_proxy from the environment is used, loopback bypasses it") {
  test_server target;
  test_server proxy;
  probe direct;
  probe proxied;
  {
    // Set before the client exists; only its I/O thread reads them.
    scoped_env http_proxy{"http_proxy", proxy.url("").c_str()};
    scoped_env no_proxy{"no_proxy", "example.org"};
    {
      http_client client{test_limits()};
      REQUIRE(client.submit(post_json(target.url("/echo"), "{}"), direct.handlers()));
      REQUIRE(direct.wait());
      REQUIRE(direct.ok());
      CHECK(direct.response().status == 200);
      // .invalid never resolves: only the proxy can have answered.
      REQUIRE(client.submit(get("http://agentgraph.invalid/via-proxy"), proxied.handlers()));
      REQUIRE(proxied.wait());
      REQUIRE(proxied.ok());
      CHECK(proxied.response().body == "proxied");
    }
  }
  auto seen = proxy.targets();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == "http://agentgraph.invalid/via-proxy");
  CHECK(target.targets().size() == 1);
  CHECK(direct.completions() == 1);
  CHECK(proxied.completions() == 1);
}

// Easy handles are reset and reused (http_client.cpp): nothing of one
// request may leak into the next one that gets the same handle.
TEST_CASE("http_client: a reused easy handle keeps nothing of the request before") {
  test_server server;
  std::vector<std::unique_ptr<probe>> probes;
  probe refused;  // its handlers are never called
  {
    http_client client{test_limits()};
    auto next = [&](http_request req, bool with_data = false) -> probe& {
      probes.push_back(std::make_unique<probe>());
      auto& p = *probes.back();
      REQUIRE(client.submit(std::move(req), p.handlers(with_data)));
      REQUIRE(p.wait());
      REQUIRE(p.ok());
      return p;
    };
    // HEAD sets CURLOPT_NOBODY: the GET after it must get its body.
    auto head = get(server.url("/status500"));
    head.method = "HEAD";
    CHECK(next(std::move(head)).response().body.empty());
    CHECK(next(get(server.url("/status500"))).response().body == R"({"error":"boom"})");
    // A header of one request is not sent with the next.
    auto with_header = post_json(server.url("/echo"), "{}");
    with_header.headers.emplace_back("X-Test", "first");
    CHECK(*find_header(next(std::move(with_header)).response().headers, "x-echo") == "first");
    auto& plain = next(post_json(server.url("/echo"), R"({"n":2})"));
    CHECK(*find_header(plain.response().headers, "x-echo") == "");
    CHECK(plain.response().body == R"({"n":2})");
    // A stream's body goes to on_data; the whole request after it buffers again.
    auto stream = get(server.url("/stream"));
    stream.stream = true;
    auto& streamed = next(std::move(stream), true);
    CHECK(streamed.response().body.empty());
    CHECK(streamed.data().find("part-9") != std::string::npos);
    CHECK(next(get(server.url("/status500"))).response().body == R"({"error":"boom"})");
    // The URL check still refuses what it refused before, after valid ones.
    auto bad = client.submit(get("ftp://127.0.0.1/x"), refused.handlers());
    REQUIRE_FALSE(bad);
    CHECK(agentgraph::errc_of(bad.error()) == errc::invalid_argument);
    // Reuse of handles did not cost the kept-alive connection.
    CHECK(client.counters().connections_opened == 1);
    CHECK(server.connections() == 1);
  }
  for (auto& p : probes)
    CHECK(p->completions() == 1);
  CHECK(refused.completions() == 0);
}

}  // namespace http_client_test
