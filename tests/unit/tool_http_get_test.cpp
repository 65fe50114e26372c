// http_get against a real cpp-httplib server on 127.0.0.1: a good body, a
// refused host, bodies over the limit (announced and chunked), a slow
// endpoint that must time out, and a refused connection.
#include <doctest/doctest.h>

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "actors/tool/http_get_tool.hpp"
#include "actors/tool/tool_factory.hpp"
#include "tool_test_fixture.hpp"

namespace tool_http_get_test {

using namespace std::chrono_literals;

constexpr uint64_t body_bytes_max = 1000;

// The loopback server, run on its own thread for the test's lifetime.
class test_server {
 public:
  test_server() {
    srv_.Get("/ok", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("hello", "text/plain");
    });
    srv_.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content("nope", "text/plain");
    });
    srv_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(body_bytes_max + 1, 'x'), "text/plain");
    });
    srv_.Get("/big_chunked", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain", [](size_t offset, httplib::DataSink& sink) {
        if (offset >= 4 * body_bytes_max) {
          sink.done();
          return true;
        }
        std::string chunk(500, 'y');
        return sink.write(chunk.data(), chunk.size());
      });
    });
    // Holds the request until the test releases it (bounded at 10 s), so a
    // client timeout is certain without the test measuring time.
    srv_.Get("/slow", [this](const httplib::Request&, httplib::Response& res) {
      std::unique_lock<std::mutex> lock{mtx_};
      cv_.wait_for(lock, 10s, [this] { return released_; });
      res.set_content("late", "text/plain");
    });
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread{[this] { srv_.listen_after_bind(); }};
    // httplib 0.11's stop() does nothing before the accept loop runs, and
    // the destructor's join() would then wait forever: wait for the loop.
    for (int i = 0; i < 10'000 && !srv_.is_running(); ++i)
      std::this_thread::sleep_for(1ms);
    REQUIRE(srv_.is_running());
  }

  ~test_server() {
    {
      std::lock_guard<std::mutex> lock{mtx_};
      released_ = true;
    }
    cv_.notify_all();
    srv_.stop();
    thread_.join();
  }

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server srv_;
  int port_ = -1;
  std::thread thread_;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool released_ = false;
};

// A bound TCP socket that never listens: connecting to it is refused.
struct refused_port {
  int fd = -1;
  int port = 0;
  refused_port() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~refused_port() { ::close(fd); }
};

agentgraph::tool_config http_config() {
  agentgraph::tool_config cfg;
  cfg.name = "web";
  cfg.kind = "http_get";
  cfg.allowed_hosts = {"127.0.0.1", "Example.ORG"};
  cfg.connect_timeout = 2s;
  cfg.timeout = 300ms;
  cfg.body_bytes_max = body_bytes_max;
  return cfg;
}

agentgraph::Value url_args(const std::string& url) {
  agentgraph::Value v = agentgraph::Value::object();
  v["url"] = url;
  return v;
}

using agentgraph::errc;

TEST_CASE("tool: http_get check_url allows only listed hosts over http and https") {
  std::vector<std::string> allowed{"127.0.0.1", "Example.ORG", "::1"};
  auto ok = agentgraph::check_url("HTTP://EXAMPLE.org:8080/a?b=c", allowed);
  REQUIRE(ok);
  CHECK(ok->host == "example.org");
  CHECK(agentgraph::check_url("https://[::1]/x", allowed));
  struct bad_case {
    std::string url;
    errc code;
  };
  const std::vector<bad_case> cases{
    {"http://example.com/", errc::sandbox_violation},
    {"http://127.0.0.1@example.com/", errc::sandbox_violation},
    {"http://user:secret@127.0.0.1/", errc::sandbox_violation},  // allowed host, credentials
    {"http://user@127.0.0.1/", errc::sandbox_violation},
    {"http://127.0.0.1.example.com/", errc::sandbox_violation},
    {"file:///etc/passwd", errc::sandbox_violation},
    {"ftp://127.0.0.1/x", errc::sandbox_violation},
    {"gopher://127.0.0.1/", errc::sandbox_violation},
    {"not a url", errc::invalid_argument},
    {"", errc::invalid_argument},
    {std::string("http://127.0.0.1/\0.example.com", 30), errc::invalid_argument},
    {"http://127.0.0.1/\r\nHost: evil", errc::invalid_argument},
    {"http://127.0.0.1/" + std::string(agentgraph::http_get_url_chars_max, 'a'),
     errc::invalid_argument},
  };
  for (const auto& c : cases) {
    CAPTURE(c.url);
    auto r = agentgraph::check_url(c.url, allowed);
    REQUIRE_FALSE(r);
    CHECK(agentgraph::errc_of(r.error()) == c.code);
  }
}

TEST_CASE("tool: http_get fetches from an allowed loopback server") {
  test_server server;
  tool_test::fixture fx;
  auto tool = agentgraph::spawn_tool(fx.sys, http_config());
  REQUIRE(tool);
  fx.keep(*tool);
  auto ok = fx.invoke(*tool, "c1", url_args(server.url("/ok")));
  REQUIRE(ok);
  CHECK(ok->output.find("status")->as_int() == 200);
  CHECK(ok->output.find("body")->as_string() == "hello");
  CHECK(ok->output.find("content_type")->as_string() == "text/plain");
  auto missing = fx.invoke(*tool, "c2", url_args(server.url("/missing")));
  REQUIRE(missing);  // an HTTP error status is a response the model should see
  CHECK(missing->output.find("status")->as_int() == 404);
  CHECK(fx.pongs(*tool));
}

TEST_CASE("tool: http_get refuses hosts that are not allowed before connecting") {
  test_server server;
  tool_test::fixture fx;
  auto cfg = http_config();
  cfg.allowed_hosts = {"example.org"};
  auto tool = agentgraph::spawn_tool(fx.sys, cfg);
  REQUIRE(tool);
  fx.keep(*tool);
  auto r = fx.invoke(*tool, "c1", url_args(server.url("/ok")));
  REQUIRE_FALSE(r);
  CHECK(tool_test::code_of(r.error()) == errc::sandbox_violation);
  CHECK(agentgraph::error_context(r.error()) == "host '127.0.0.1' is not in allowed_hosts");
}

TEST_CASE("tool: http_get stops bodies over body_bytes_max with a tool_error naming the limit") {
  test_server server;
  tool_test::fixture fx;
  auto tool = agentgraph::spawn_tool(fx.sys, http_config());
  REQUIRE(tool);
  fx.keep(*tool);
  for (const char* path : {"/big", "/big_chunked"}) {
    CAPTURE(path);
    auto r = fx.invoke(*tool, "c1", url_args(server.url(path)));
    REQUIRE_FALSE(r);
    CHECK(tool_test::code_of(r.error()) == errc::tool_error);
    CHECK(agentgraph::error_context(r.error()).find("body_bytes_max (1000 bytes)")
          != std::string::npos);
  }
  CHECK(fx.stats(*tool).errors == 2);
}

TEST_CASE("tool: http_get maps a slow server to timeout") {
  test_server server;
  tool_test::fixture fx;
  auto tool = agentgraph::spawn_tool(fx.sys, http_config());
  REQUIRE(tool);
  fx.keep(*tool);
  auto r = fx.invoke(*tool, "c1", url_args(server.url("/slow")));
  REQUIRE_FALSE(r);
  CHECK(tool_test::code_of(r.error()) == errc::timeout);
}

TEST_CASE("tool: http_get maps a refused connection to tool_error") {
  refused_port closed;
  tool_test::fixture fx;
  auto tool = agentgraph::spawn_tool(fx.sys, http_config());
  REQUIRE(tool);
  fx.keep(*tool);
  auto url = "http://127.0.0.1:" + std::to_string(closed.port) + "/ok";
  auto r = fx.invoke(*tool, "c1", url_args(url));
  REQUIRE_FALSE(r);
  CHECK(tool_test::code_of(r.error()) == errc::tool_error);
  CHECK(agentgraph::error_context(r.error()).find("failed") != std::string::npos);
}

}  // namespace tool_http_get_test
