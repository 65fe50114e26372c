// Shared by the http_client tests: a cpp-httplib server on 127.0.0.1 (own
// thread, random port) with the routes the tests need, and a probe that
// records what a request's callbacks saw. Waits are bounded by `wait_max`
// and never assert on wall time.
#pragma once

#include <doctest/doctest.h>

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.hpp"
#include "runtime/error.hpp"

namespace http_client_fixture {

using namespace std::chrono_literals;
using agentgraph::net::http_handlers;
using agentgraph::net::http_headers;
using agentgraph::net::http_request;
using agentgraph::net::http_result;

// Generous: only a broken client ever waits this long.
constexpr auto wait_max = 10s;
constexpr uint64_t response_bytes_max = 1000;

class test_server {
 public:
  test_server() {
    // httplib closes a connection after 5 requests by default, which would
    // hide (or fake) connection reuse.
    srv_.set_keep_alive_max_count(1000);
    srv_.set_tcp_nodelay(true);
    add_routes();
    port_ = srv_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread{[this] { srv_.listen_after_bind(); }};
    // stop() before the accept loop runs would not end it: wait for it.
    for (int i = 0; i < 10'000 && !srv_.is_running(); ++i)
      std::this_thread::sleep_for(1ms);
    REQUIRE(srv_.is_running());
  }

  ~test_server() {
    release();
    srv_.stop();
    thread_.join();
  }

  [[nodiscard]] std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // Connections seen: each has its own client port.
  [[nodiscard]] size_t connections() {
    std::lock_guard<std::mutex> lock{mtx_};
    return ports_.size();
  }

  [[nodiscard]] std::vector<std::string> targets() {
    std::lock_guard<std::mutex> lock{mtx_};
    return targets_;
  }

  // Waits until `n` handlers are parked in hold().
  [[nodiscard]] bool wait_held(size_t n) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, wait_max, [&] { return held_ >= n; });
  }

  // Lets every parked handler finish.
  void release() {
    {
      std::lock_guard<std::mutex> lock{mtx_};
      released_ = true;
    }
    cv_.notify_all();
  }

 private:
  void record(const httplib::Request& req) {
    std::lock_guard<std::mutex> lock{mtx_};
    ports_.insert(req.remote_port);
    targets_.push_back(req.target);
  }

  // Parks the handler until release() (bounded by wait_max), so a client
  // timeout or cancel is certain without measuring time.
  void hold() {
    std::unique_lock<std::mutex> lock{mtx_};
    ++held_;
    cv_.notify_all();
    cv_.wait_for(lock, wait_max, [this] { return released_; });
  }

  void add_routes() {
    srv_.Post("/echo", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      res.set_header("X-Echo", req.get_header_value("X-Test"));
      res.set_header("X-Auth-Seen", req.has_header("Authorization") ? "yes" : "no");
      res.set_content(req.body, "application/json");
    });
    srv_.Get("/status500", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      res.status = 500;
      res.set_content(R"({"error":"boom"})", "application/json");
    });
    srv_.Get("/hold", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      hold();
      res.set_content("done", "text/plain");
    });
    srv_.Get("/stream", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      res.set_chunked_content_provider("text/event-stream", [](size_t, httplib::DataSink& sink) {
        for (int i = 0; i < 10; ++i) {
          auto part = "part-" + std::to_string(i) + "\n";
          if (!sink.write(part.data(), part.size()))
            return false;
        }
        sink.done();
        return true;
      });
    });
    // One chunk, then silence until release().
    srv_.Get("/stall", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      res.set_chunked_content_provider("text/event-stream", [this](size_t offset,
                                                                   httplib::DataSink& sink) {
        if (offset == 0) {
          std::string first = "first\n";
          return sink.write(first.data(), first.size());
        }
        hold();
        sink.done();
        return true;
      });
    });
    srv_.Get("/big", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      res.set_content(std::string(2 * response_bytes_max, 'x'), "text/plain");
    });
    srv_.Get("/big_chunked", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      res.set_chunked_content_provider("text/plain", [](size_t offset, httplib::DataSink& sink) {
        if (offset >= 4 * response_bytes_max) {
          sink.done();
          return true;
        }
        std::string chunk(500, 'y');
        return sink.write(chunk.data(), chunk.size());
      });
    });
    srv_.Get("/big_headers", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      for (int i = 0; i < 50; ++i)
        res.set_header("X-Filler-" + std::to_string(i), std::string(40, 'h'));
      res.set_content("ok", "text/plain");
    });
    // Anything else (a proxied absolute-URI request lands here).
    srv_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      res.set_content("proxied", "text/plain");
    });
  }

  httplib::Server srv_;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool released_ = false;           // guarded by mtx_
  size_t held_ = 0;                 // guarded by mtx_
  std::set<int> ports_;             // guarded by mtx_
  std::vector<std::string> targets_;  // guarded by mtx_
  int port_ = -1;
  std::thread thread_;
};

// What one request's callbacks reported. Declare it before the client, so
// it outlives every callback.
class probe {
  template <class F>
  auto locked(F f) {
    std::lock_guard<std::mutex> lock{mtx_};
    return f();
  }

 public:
  [[nodiscard]] http_handlers handlers(bool with_data = false) {
    http_handlers h;
    h.on_headers = [this](long status, const http_headers& headers) {
      std::lock_guard<std::mutex> lock{mtx_};
      ++header_calls_;
      status_ = status;
      headers_ = headers;
      headers_before_data_ = data_calls_ == 0;
    };
    if (with_data)
      h.on_data = [this](std::string_view chunk) {
        std::lock_guard<std::mutex> lock{mtx_};
        ++data_calls_;
        data_ += chunk;
        data_after_complete_ = data_after_complete_ || completions_ > 0;
      };
    h.on_complete = [this](http_result r) {
      std::lock_guard<std::mutex> lock{mtx_};
      ++completions_;
      result_.emplace(std::move(r));
      cv_.notify_all();
    };
    return h;
  }

  // True once on_complete ran (bounded wait).
  [[nodiscard]] bool wait() {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, wait_max, [this] { return completions_ > 0; });
  }

  // The reads below are for after wait() returned true.
  [[nodiscard]] int completions() { return locked([&] { return completions_; }); }
  [[nodiscard]] const http_result& result() { return *result_; }
  [[nodiscard]] bool ok() { return result_ && static_cast<bool>(result_->response); }
  [[nodiscard]] const agentgraph::net::http_response& response() { return *result_->response; }
  [[nodiscard]] agentgraph::net::transport_error kind() { return result_->transport; }
  [[nodiscard]] std::optional<agentgraph::errc> code() {
    return agentgraph::errc_of(result_->response.error());
  }
  [[nodiscard]] std::string context() {
    return agentgraph::error_context(result_->response.error());
  }
  [[nodiscard]] int header_calls() { return locked([&] { return header_calls_; }); }
  [[nodiscard]] long header_status() { return locked([&] { return status_; }); }
  [[nodiscard]] http_headers headers() { return locked([&] { return headers_; }); }
  [[nodiscard]] bool headers_before_data() { return locked([&] { return headers_before_data_; }); }
  [[nodiscard]] std::string data() { return locked([&] { return data_; }); }
  [[nodiscard]] int data_calls() { return locked([&] { return data_calls_; }); }
  [[nodiscard]] bool data_after_complete() { return locked([&] { return data_after_complete_; }); }

 private:
  std::mutex mtx_;
  std::condition_variable cv_;
  int completions_ = 0;
  std::optional<http_result> result_;
  int header_calls_ = 0;
  long status_ = 0;
  http_headers headers_;
  bool headers_before_data_ = false;
  std::string data_;
  int data_calls_ = 0;
  bool data_after_complete_ = false;
};

inline agentgraph::net::http_client_limits test_limits() {
  agentgraph::net::http_client_limits limits;
  limits.in_flight_max = 4;
  limits.connect_timeout = 2s;
  limits.total_timeout = wait_max;
  limits.stream_idle_timeout = wait_max;
  limits.response_bytes_max = response_bytes_max;
  limits.header_bytes_max = 16 * 1024;
  return limits;
}

inline http_request get(std::string url) {
  http_request req;
  req.url = std::move(url);
  return req;
}

inline http_request post_json(std::string url, std::string body) {
  http_request req;
  req.method = "POST";
  req.url = std::move(url);
  req.headers = {{"Content-Type", "application/json"}};
  req.body = std::move(body);
  return req;
}

}  // namespace http_client_fixture
