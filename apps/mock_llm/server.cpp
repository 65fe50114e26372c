#include "server.hpp"

#include <sys/socket.h>

#include <deque>
#include <functional>
#include <vector>

#include "server_impl.hpp"

namespace agentgraph::mock_llm {
namespace server_detail {

// Connections the kernel queues before accept. cpp-httplib 0.11 listens
// with a backlog of 5 (compiled into Debian's library): a burst of new
// connections beyond that loses SYNs, which clients retry after 1 s. Real
// services queue far more; start() raises it (the kernel caps it at
// net.core.somaxconn).
constexpr int listen_backlog = 1024;
// Requests served on one connection before it is closed; high so clients
// measure connection reuse, as against the real services.
constexpr size_t keep_alive_requests_max = 10'000;

// httplib's own ThreadPool queues accepted connections without limit. This
// one has `threads` workers and at most `pending_max` connections waiting;
// beyond that enqueue() blocks the accept loop, so further clients wait in
// the kernel's listen backlog instead of in our memory. (It cannot refuse:
// in httplib 0.11 a job not run would leak its socket.) Every enqueue is one
// accepted connection, which is how the stats count connections.
class bounded_pool : public httplib::TaskQueue {
 public:
  bounded_pool(size_t threads, size_t pending_max, std::function<void()> on_connection)
      : pending_max_(pending_max), on_connection_(std::move(on_connection)) {
    for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }

  ~bounded_pool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    on_connection_();
    std::unique_lock lock{mutex_};
    has_room_.wait(lock, [this] { return jobs_.size() < pending_max_ || shutdown_; });
    jobs_.push_back(std::move(fn));
    has_job_.notify_one();
  }

  // Runs what is queued (each job closes its socket), then joins.
  void shutdown() override {
    {
      std::lock_guard lock{mutex_};
      if (shutdown_ && workers_.empty()) return;
      shutdown_ = true;
    }
    has_job_.notify_all();
    has_room_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock{mutex_};
        has_job_.wait(lock, [this] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
        has_room_.notify_one();
      }
      job();
    }
  }

  const size_t pending_max_;
  const std::function<void()> on_connection_;
  std::mutex mutex_;
  std::condition_variable has_job_;
  std::condition_variable has_room_;
  std::deque<std::function<void()>> jobs_;  // guarded by mutex_; at most pending_max_
  bool shutdown_ = false;                   // guarded by mutex_
  std::vector<std::thread> workers_;        // touched by the owning thread only
};

// The wire that renders errors for a path, for failures httplib detects
// before any handler runs (body too large, no route).
const chat_wire& wire_for_path(const std::string& path) {
  if (path.rfind("/api/", 0) == 0) return openrouter_wire();
  if (path.rfind("/v1/messages", 0) == 0) return anthropic_wire();
  if (path.rfind("/v1beta/", 0) == 0) return gemini_wire();
  return openai_wire();
}

void add_openai_routes(server::impl& self, const std::string& prefix, const chat_wire& wire,
                       const std::string& route) {
  self.http.Post(prefix + "/chat/completions", [&self, &wire, route](const httplib::Request& req, httplib::Response& res) {
    self.handle_chat(wire, route + ".chat_completions", {}, req, res);
  });
  self.http.Post(prefix + "/embeddings", [&self, &wire, route](const httplib::Request& req, httplib::Response& res) {
    self.handle_embeddings(wire, embed_route::openai, route + ".embeddings", {}, req, res);
  });
}

void add_gemini_routes(server::impl& self) {
  self.http.Post(R"(/(v1beta|v1)/models/([^/:]+):(generateContent|streamGenerateContent|batchEmbedContents|embedContent))",
                 [&self](const httplib::Request& req, httplib::Response& res) {
                   const std::string method = req.matches[3];
                   url_info url{req.matches[2], method == "streamGenerateContent",
                                req.get_param_value("alt") == "sse"};
                   if (method == "batchEmbedContents")
                     return self.handle_embeddings(gemini_wire(), embed_route::gemini_batch,
                                                   "gemini.batch_embed_contents", url, req, res);
                   if (method == "embedContent")
                     return self.handle_embeddings(gemini_wire(), embed_route::gemini_single, "gemini.embed_content",
                                                   url, req, res);
                   self.handle_chat(gemini_wire(),
                                    url.stream ? "gemini.stream_generate_content" : "gemini.generate_content", url, req,
                                    res);
                 });
}

void add_admin_routes(server::impl& self) {
  self.http.Get("/_mock/stats", [&self](const httplib::Request&, httplib::Response& res) {
    res.set_content(self.counters.to_json().dump(2), "application/json");
  });
  self.http.Post("/_mock/reset", [&self](const httplib::Request&, httplib::Response& res) {
    self.counters.reset();
    self.faults.reset();
    res.set_content("{}", "application/json");
  });
}

void add_fallbacks(server::impl& self) {
  const httplib::Server::HandlerWithResponse handler = [&self](const httplib::Request& req,
                                                               httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // our own error body
    const chat_wire& wire = wire_for_path(req.path);
    const wire_error e{res.status,
                       res.status == 404 ? "Unknown request URL: " + req.method + " " + req.path
                                         : "Request rejected with HTTP status " + std::to_string(res.status),
                       "", ""};
    self.counters.add("statuses", std::to_string(res.status));
    res.set_content(wire.render_error(e), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  };
  self.http.set_error_handler(handler);
}

void configure(server::impl& self) {
  const scenario& s = *self.scn;
  self.http.new_task_queue = [&self, threads = s.threads, pending = s.pending_connections_max] {
    return new bounded_pool(threads, pending, [&self] { self.counters.add_connection(); });
  };
  self.http.set_payload_max_length(s.body_bytes_max);
  // Seconds an idle keep-alive connection is held (scenario.hpp). Short by
  // default, because stop() waits for idle connections to time out (httplib
  // 0.11 checks the listening socket only between requests).
  self.http.set_keep_alive_timeout(static_cast<time_t>(s.keep_alive_idle_s));
  // As real services do. Without it a kept-alive connection stalls each
  // answer for the client's delayed ACK (about 40 ms on Linux): httplib
  // writes headers and body separately and Nagle holds the second write.
  self.http.set_tcp_nodelay(true);
  // Replaces httplib's default socket options (SO_REUSEPORT where defined,
  // which would let a second server share the port): SO_REUSEADDR only, and
  // remember the socket so start() can raise its backlog.
  self.http.set_socket_options([&self](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    self.listen_fd = sock;
  });
  self.http.set_keep_alive_max_count(keep_alive_requests_max);
  if (!s.compress_responses) {
    // httplib 0.11 has no switch for compression: it compresses whenever the
    // request's Accept-Encoding allows. The request object is httplib's own
    // non-const local, so dropping the header before routing is sound.
    self.http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
      const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
      return httplib::Server::HandlerResponse::Unhandled;
    });
  }
  add_openai_routes(self, "/v1", openai_wire(), "openai");
  add_openai_routes(self, "/api/v1", openrouter_wire(), "openrouter");
  self.http.Post("/v1/messages", [&self](const httplib::Request& req, httplib::Response& res) {
    self.handle_chat(anthropic_wire(), "anthropic.messages", {}, req, res);
  });
  add_gemini_routes(self);
  add_admin_routes(self);
  add_fallbacks(self);
}

}  // namespace server_detail

std::unique_ptr<server> server::start(server_options opts, std::string* error) {
  if (!opts.scn) {
    if (error) *error = "no scenario";
    return nullptr;
  }
  const uint64_t seed = opts.seed.value_or(opts.scn->seed);
  auto p = std::make_unique<impl>(std::move(opts.scn), seed);
  server_detail::configure(*p);
  const int port = opts.port == 0 ? p->http.bind_to_any_port("127.0.0.1")
                                  : (p->http.bind_to_port("127.0.0.1", opts.port) ? opts.port : -1);
  if (port <= 0) {
    if (error) *error = "cannot bind 127.0.0.1:" + std::to_string(opts.port);
    return nullptr;
  }
  p->port = static_cast<uint16_t>(port);
  // listen() again on a listening socket only changes its backlog.
  if (p->listen_fd >= 0) ::listen(p->listen_fd, server_detail::listen_backlog);
  impl* raw = p.get();
  p->listener = std::thread([raw] { raw->http.listen_after_bind(); });
  // httplib's stop() is a no-op until the listen loop runs; wait for it so a
  // stop() right after start() cannot leave the loop running forever.
  for (int i = 0; i < 5000 && !p->http.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return std::make_unique<server>(std::move(p));
}

server::server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

server::~server() { stop(); }

uint16_t server::port() const { return impl_->port; }

std::string server::base_url() const { return "http://127.0.0.1:" + std::to_string(impl_->port); }

nlohmann::json server::stats_json() const { return impl_->counters.to_json(); }

bool server::wait_stat(std::string_view group, std::string_view key, uint64_t n,
                       std::chrono::milliseconds timeout_max) const {
  return impl_->counters.wait_count(group, key, n, timeout_max);
}

void server::stop() {
  {
    std::lock_guard lock{impl_->stop_mutex};
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  impl_->http.stop();
  if (impl_->listener.joinable()) impl_->listener.join();
}

}  // namespace agentgraph::mock_llm
