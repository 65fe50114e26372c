// http_server over cpp-httplib 0.11: lifecycle, the bounded worker pool,
// auth, request/response translation and SSE streaming.
#include "net/http_server/http_server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <httplib.h>

#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph::net {

namespace http_server_detail {

// How long one SSE step may block waiting for events, and how long a stream
// may stay silent before a comment frame is written. The comment is what
// notices a client that went away (the write fails), so it bounds how long
// a dead subscriber holds a worker.
constexpr std::chrono::milliseconds sse_poll_wait{250};
constexpr std::chrono::milliseconds sse_keep_alive_interval{1000};

// httplib's own ThreadPool queues accepted connections without a limit.
// This one runs `threads` workers over a queue of at most `queued_max`
// connections; a full queue makes enqueue() wait, which holds the accept
// loop, so further clients queue in the kernel backlog and not in memory.
// (httplib 0.11 gives a task queue no way to refuse: a dropped job would
// leak its socket.)
class worker_pool final : public httplib::TaskQueue {
 public:
  worker_pool(size_t threads, size_t queued_max) : queued_max_(queued_max) {
    threads_.reserve(threads);
    for (size_t i = 0; i < threads; ++i)
      threads_.emplace_back([this] { run(); });
  }
  ~worker_pool() override { shutdown(); }

  void enqueue(std::function<void()> job) override {
    std::unique_lock lock{mutex_};
    room_.wait(lock, [this] { return queue_.size() < queued_max_ || closing_; });
    queue_.push_back(std::move(job));
    work_.notify_one();
  }

  // Drains the queue (each job owns and closes its socket), then joins.
  void shutdown() override {
    {
      std::lock_guard lock{mutex_};
      closing_ = true;
    }
    work_.notify_all();
    room_.notify_all();
    for (auto& t : threads_)
      if (t.joinable())
        t.join();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock{mutex_};
        work_.wait(lock, [this] { return closing_ || !queue_.empty(); });
        if (queue_.empty())
          return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      room_.notify_one();
      job();
    }
  }

  const size_t queued_max_;
  std::mutex mutex_;
  std::condition_variable work_;   // a job arrived or closing
  std::condition_variable room_;   // the queue shrank or closing
  std::deque<std::function<void()>> queue_;  // guarded by mutex_; <= queued_max_
  bool closing_ = false;                     // guarded by mutex_
  std::vector<std::thread> threads_;         // built in the constructor, joined once
};

}  // namespace http_server_detail

struct http_server::impl {
  explicit impl(http_server_options o) : opts(std::move(o)) {}

  const http_server_options opts;
  httplib::Server http;  // provides its own synchronization
  std::thread listener;
  std::atomic<uint16_t> port{0};
  int listen_fd = -1;  // set by bind (socket options callback), before the listener runs
  std::atomic<bool> stopping{false};
  bool started = false;  // touched by the owning thread only

  bool authorized(const httplib::Request& req) const {
    if (opts.auth_token.empty())
      return true;
    if (std::find(opts.open_paths.begin(), opts.open_paths.end(), req.path)
        != opts.open_paths.end())
      return true;
    // get_header_value returns a copy: keep it alive while the view is used.
    const std::string header = req.get_header_value("Authorization");
    auto token = bearer_token(header);
    return !token.empty() && constant_time_equal(token, opts.auth_token);
  }

  void write(server_response&& r, httplib::Response& res) {
    res.status = r.status;
    for (auto& [k, v] : r.headers)
      res.set_header(k, v);
    if (!r.stream) {
      res.set_content(r.body, r.content_type);
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    struct stream_state {
      sse_producer producer;
      std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
    };
    auto st = std::make_shared<stream_state>();
    st->producer = std::move(r.stream);
    res.set_chunked_content_provider(
      "text/event-stream", [this, st](size_t, httplib::DataSink& sink) {
        if (stopping.load())
          return false;
        sse_step step = st->producer(http_server_detail::sse_poll_wait);
        std::string out;
        for (const auto& e : step.events)
          out += format_sse_event(e);
        auto now = std::chrono::steady_clock::now();
        if (out.empty() && now - st->last_write >= http_server_detail::sse_keep_alive_interval)
          out = ": keep-alive\n\n";
        if (!out.empty()) {
          if (!sink.write(out.data(), out.size()))
            return false;  // the client went away
          st->last_write = now;
        }
        if (step.finished)
          sink.done();
        return true;
      });
  }

  void serve(const http_handler& handler, const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req)) {
      // The token is never logged, only that a request was refused.
      log(log_severity::warn, opts.log_component, "request refused: bad or missing bearer token",
          {{"method", req.method}, {"path", req.path}, {"remote", req.remote_addr}});
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer realm=\"agentgraph\"");
      res.set_content(json_error_body("unauthorized", "a valid bearer token is required"),
                      "application/json");
      return;
    }
    server_request r;
    r.method = req.method;
    r.path = req.path;
    for (size_t i = 1; i < req.matches.size(); ++i)
      r.params.push_back(req.matches[i].str());
    r.body = req.body;
    r.remote_addr = req.remote_addr;
    r.header = [&req](std::string_view name) {
      return req.get_header_value(std::string{name}.c_str());
    };
    server_response out;
    try {
      out = handler(r);
    } catch (const std::exception& e) {
      log(log_severity::error, opts.log_component, "handler threw",
          {{"path", req.path}, {"what", e.what()}});
      out = json_error(500, "internal", "the handler failed");
    }
    write(std::move(out), res);
  }

  void configure() {
    const auto threads = std::max<size_t>(1, opts.threads);
    const auto queued = std::max<size_t>(1, opts.pending_connections_max);
    http.new_task_queue = [threads, queued] {
      return new http_server_detail::worker_pool(threads, queued);
    };
    http.set_payload_max_length(static_cast<size_t>(opts.body_bytes_max));
    http.set_keep_alive_timeout(static_cast<time_t>(opts.keep_alive_idle.count()));
    http.set_keep_alive_max_count(std::max<size_t>(1, opts.keep_alive_requests_max));
    // Without it every answer on a kept-alive connection waits for the
    // client's delayed ACK (~40 ms): httplib writes headers and body
    // separately and Nagle holds the second write.
    http.set_tcp_nodelay(true);
    // Replaces httplib's SO_REUSEPORT (which would let a second server share
    // the port) with SO_REUSEADDR, and keeps the socket to raise its backlog.
    http.set_socket_options([this](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
      listen_fd = sock;
    });
    // httplib compresses whenever Accept-Encoding allows, and a compressed
    // event stream is buffered until the compressor flushes, so SSE would
    // stop being live. Bodies here are small; drop the header before routing
    // (the request is httplib's own non-const local).
    http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
      const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
      return httplib::Server::HandlerResponse::Unhandled;
    });
    const httplib::Server::HandlerWithResponse on_error = [](const httplib::Request& req,
                                                             httplib::Response& res) {
      if (!res.body.empty())
        return httplib::Server::HandlerResponse::Unhandled;
      std::string message = res.status == 404 ? "no route for " + req.method + " " + req.path
                            : res.status == 413
                              ? "the request body is larger than the server accepts"
                              : "request rejected with HTTP status " + std::to_string(res.status);
      res.set_content(json_error_body(status_code_word(res.status), message), "application/json");
      return httplib::Server::HandlerResponse::Handled;
    };
    http.set_error_handler(on_error);
  }
};

http_server::http_server(http_server_options opts)
  : impl_(std::make_unique<impl>(std::move(opts))) {
  impl_->configure();
}

http_server::~http_server() {
  stop();
}

void http_server::route(std::string method, std::string pattern, http_handler handler) {
  auto fn = [this, h = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    impl_->serve(h, req, res);
  };
  auto& http = impl_->http;
  if (method == "GET")
    http.Get(pattern, fn);
  else if (method == "POST")
    http.Post(pattern, fn);
  else if (method == "PUT")
    http.Put(pattern, fn);
  else if (method == "DELETE")
    http.Delete(pattern, fn);
  else
    log(log_severity::error, impl_->opts.log_component, "unsupported route method",
        {{"method", method}, {"pattern", pattern}});
}

caf::error http_server::start() {
  auto& p = *impl_;
  if (p.started)
    return make_error(errc::invalid_argument, "http server started twice");
  if (p.opts.threads == 0)
    return make_error(errc::invalid_argument, "http server needs at least one thread");
  int port = p.opts.port == 0 ? p.http.bind_to_any_port(p.opts.host)
                              : (p.http.bind_to_port(p.opts.host, p.opts.port) ? p.opts.port : -1);
  if (port <= 0)
    return make_error(errc::io_error,
                      "cannot listen on " + p.opts.host + ":" + std::to_string(p.opts.port));
  p.started = true;
  p.port = static_cast<uint16_t>(port);
  // listen() again on a listening socket only changes its backlog.
  if (p.listen_fd >= 0)
    ::listen(p.listen_fd, p.opts.listen_backlog);
  p.listener = std::thread([&p] { p.http.listen_after_bind(); });
  // httplib's stop() does nothing until the listen loop runs; wait for it
  // (bounded) so a stop() right after start() cannot leave the loop running.
  for (int i = 0; i < 5000 && !p.http.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  log(log_severity::debug, p.opts.log_component, "listening",
      {{"host", p.opts.host}, {"port", std::to_string(port)}});
  return {};
}

uint16_t http_server::port() const {
  return impl_->port.load();
}

void http_server::stop() {
  auto& p = *impl_;
  if (p.stopping.exchange(true))
    return;
  p.http.stop();
  if (p.listener.joinable())
    p.listener.join();
}

}  // namespace agentgraph::net
