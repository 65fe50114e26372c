// http_server's lifecycle: binding, the accept loop and its connection
// bound, stop(); and the handles handlers answer through (responder,
// sse_stream). One connection's protocol is in http_session.cpp.
#include "net/http_server/http_server.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <future>

#include <boost/asio/post.hpp>

#include "net/http_server/http_session.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph::net {

namespace http_server_detail {

// Refused connections (beyond connections_max) linger this many at most;
// past it they are closed without an answer, so a flood cannot make the
// refusals themselves unbounded.
constexpr uint32_t refusing_max = 256;
// After an accept error such as EMFILE, wait before accepting again rather
// than spin on a queue we cannot take from.
constexpr auto accept_retry_pause = std::chrono::milliseconds{50};

void stream_state::end() {
  std::vector<std::function<void()>> fns;
  {
    std::lock_guard lock{mutex};
    ended = true;
    fns.swap(on_close);
  }
  for (auto& fn : fns)
    fn();
}

// Raises the soft open-file limit so `connections` sockets fit (plus room
// for the rest of the process). Returns the connections that fit.
uint32_t fit_open_file_limit(uint32_t connections, const std::string& component) {
  constexpr rlim_t reserve = 256;  // SQLite, curl, logs, CAF's pipes
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return connections;
  const rlim_t want = static_cast<rlim_t>(connections) + reserve;
  if (lim.rlim_cur < want) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max == RLIM_INFINITY ? want : std::min(want, lim.rlim_max);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
      lim = raised;
  }
  if (lim.rlim_cur >= want)
    return connections;
  auto fits = static_cast<uint32_t>(lim.rlim_cur > reserve ? lim.rlim_cur - reserve : 1);
  log(log_severity::warn, component,
      "open-file limit is below connections_max; serving fewer connections",
      {{"connections_max", std::to_string(connections)}, {"serving", std::to_string(fits)},
       {"nofile", std::to_string(lim.rlim_cur)}});
  return fits;
}

}  // namespace http_server_detail

using namespace http_server_detail;

std::string server_request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size()
        && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
             return a == std::tolower(static_cast<unsigned char>(b));
           }))
      return v;
  return {};
}

// --- responder and sse_stream -------------------------------------------------

responder::responder(std::shared_ptr<exchange> ex) : ex_(std::move(ex)) {}

void responder::send(server_response r) const {
  if (ex_->answered.exchange(true))
    return;
  ex_->gate->run_on(ex_->owner, [seq = ex_->seq, r = std::move(r)](session& s) mutable {
    s.answer(seq, std::move(r));
  });
}

std::shared_ptr<sse_stream> responder::stream(
  std::vector<std::pair<std::string, std::string>> headers) const {
  if (ex_->answered.exchange(true) || ex_->owner.expired())
    return nullptr;
  auto st = std::make_shared<stream_state>();
  st->gate = ex_->gate;
  st->owner = ex_->owner;
  st->limit = ex_->stream_limit;
  const bool posted = ex_->gate->run_on(
    ex_->owner, [seq = ex_->seq, st, headers = std::move(headers)](session& s) mutable {
      s.begin_stream(seq, std::move(st), std::move(headers));
    });
  if (!posted)
    st->end();  // the connection is gone: the stream is over before it began
  return std::make_shared<sse_stream>(std::move(st));
}

void responder::deadline(std::chrono::milliseconds after, server_response fallback) const {
  ex_->gate->run_on(ex_->owner, [seq = ex_->seq, after,
                                 fallback = std::move(fallback)](session& s) mutable {
    s.set_deadline(seq, after, std::move(fallback));
  });
}

bool responder::answered() const {
  return ex_->answered.load();
}

sse_stream::sse_stream(std::shared_ptr<stream_state> st) : st_(std::move(st)) {}

bool sse_stream::send(const std::vector<server_sse_event>& events) {
  bool overflow = false;
  {
    std::lock_guard lock{st_->mutex};
    if (st_->ended || st_->finish_requested)
      return false;
    for (const auto& e : events)
      st_->pending += format_sse_event(e);
    overflow = st_->pending.size() > st_->limit;
    if (overflow) {
      st_->ended = true;  // the client does not read: drop it, never grow
      st_->pending.clear();
    } else if (st_->flush_posted) {
      return true;
    }
    AG_ASSERT(st_->pending.size() <= st_->limit);  // stream_buffer_bytes holds after every send
    st_->flush_posted = true;
  }
  const bool posted = st_->gate->run_on(st_->owner, [overflow](session& s) {
    if (overflow)
      s.drop_stream("buffer_full");
    else
      s.flush_stream();
  });
  if (!posted) {
    // No connection left to write to. Not end(): its callbacks must not run
    // on a producer's thread, which may hold the lock of what it produces
    // from (a task's event buffer); the producer sees `false` and stops.
    std::lock_guard lock{st_->mutex};
    st_->ended = true;
  }
  return posted && !overflow;
}

void sse_stream::finish() {
  {
    std::lock_guard lock{st_->mutex};
    if (st_->ended || st_->finish_requested)
      return;
    st_->finish_requested = true;
  }
  if (!st_->gate->run_on(st_->owner, [](session& s) { s.flush_stream(); })) {
    std::lock_guard lock{st_->mutex};
    st_->ended = true;  // as in send(): no callbacks on the producer's thread
  }
}

bool sse_stream::open() const {
  std::lock_guard lock{st_->mutex};
  return !st_->ended;
}

void sse_stream::on_close(std::function<void()> fn) {
  {
    std::lock_guard lock{st_->mutex};
    if (!st_->ended) {
      st_->on_close.push_back(std::move(fn));
      return;
    }
  }
  fn();
}

// --- the server -------------------------------------------------------------------

http_server::impl::impl(http_server_options o) : opts(std::move(o)) {
  if (opts.metrics == nullptr)
    return;
  auto& reg = *opts.metrics;
  if (auto g = reg.add_gauge("agentgraph_http_connections", "Open connections of the HTTP server."))
    stats.connections = &(*g)->with(std::vector<std::string>{});
  if (auto c = reg.add_counter("agentgraph_http_connections_refused_total",
                               "Connections answered 503 and closed because connections_max "
                               "were open."))
    stats.refused = &(*c)->with(std::vector<std::string>{});
  if (auto c = reg.add_counter("agentgraph_http_requests_rejected_total",
                               "Requests the HTTP server refused before any handler ran, by "
                               "reason.",
                               {"reason"}))
    stats.rejected = *c;
  if (auto c = reg.add_counter("agentgraph_http_streams_dropped_total",
                               "Event streams ended because the client stopped taking them, by "
                               "reason.",
                               {"reason"}))
    stats.streams_dropped = *c;
}

bool http_server::impl::reserve_body(uint64_t bytes) {
  uint64_t now = bodies_reserved.load();
  do {
    if (bytes > opts.bodies_bytes_max || now > opts.bodies_bytes_max - bytes)
      return false;
  } while (!bodies_reserved.compare_exchange_weak(now, now + bytes));
  AG_ASSERT(now + bytes <= opts.bodies_bytes_max);  // what was reserved fits the bound
  return true;
}

void http_server::impl::release_body(uint64_t bytes) {
  AG_ASSERT(bodies_reserved.load() >= bytes);
  bodies_reserved.fetch_sub(bytes);
}

bool http_server::impl::log_refusal_now() {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count();
  int64_t last = last_refusal_log_ms.load();
  return now - last >= 1000 && last_refusal_log_ms.compare_exchange_strong(last, now);
}

void http_server::impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket sock) {
    if (!ec) {
      // Taken from the queue: it is ours to answer even if stop() closed
      // the acceptor meanwhile.
      on_accepted(std::move(sock));
      if (acceptor.is_open())
        accept();
      return;
    }
    if (ec == asio::error::operation_aborted || !acceptor.is_open())
      return;
    {
      log(log_severity::warn, opts.log_component, "accept failed; pausing",
          {{"error", ec.message()}});
      accept_pause.expires_after(accept_retry_pause);
      accept_pause.async_wait([this](beast::error_code e) {
        if (!e && acceptor.is_open())
          accept();
      });
    }
  });
}

void http_server::impl::on_accepted(tcp::socket sock) {
  std::shared_ptr<session> s;
  bool refuse = false;
  {
    std::lock_guard lock{sessions_mutex};
    refuse = sessions.size() >= opts.connections_max;
    if (refuse && refusing.load() >= refusing_max) {
      beast::error_code ec;
      sock.close(ec);  // a flood: not even a refusal
      if (stats.refused != nullptr)
        stats.refused->inc();
      return;
    }
    const uint64_t id = ++next_session_id;
    s = std::make_shared<session>(*this, std::move(sock), id);
    sessions.emplace(id, s);
  }
  if (stats.connections != nullptr)
    stats.connections->inc();
  if (refuse) {
    refusing.fetch_add(1);
    if (stats.refused != nullptr)
      stats.refused->inc();
    s->refuse();
    return;
  }
  s->start();
}

void http_server::impl::drain_and_close_acceptor() {
  beast::error_code ec;
  if (!acceptor.is_open())
    return;
  acceptor.cancel(ec);
  acceptor.non_blocking(true, ec);
  // Bounded by the backlog; each taken connection is answered 503 if it
  // sends a request within the stop grace.
  for (int i = 0; i < opts.listen_backlog + 1; ++i) {
    tcp::socket sock{asio::make_strand(io)};
    acceptor.accept(sock, ec);
    if (ec)
      break;
    on_accepted(std::move(sock));
  }
  accept_pause.cancel();
  acceptor.close(ec);
}

void http_server::impl::stop() {
  // Every caller returns only once the server has stopped.
  std::lock_guard stop_lock{stop_mutex};
  if (stopped)
    return;
  stopped = true;
  if (!started)
    return;
  hard_deadline = std::chrono::steady_clock::now() + 2 * opts.stop_grace;
  stopping = true;
  {
    auto closed = std::make_shared<std::promise<void>>();
    auto done = closed->get_future();
    asio::post(accept_strand, [this, closed] {
      drain_and_close_acceptor();
      closed->set_value();
    });
    done.wait_until(hard_deadline);
  }
  {
    std::vector<std::shared_ptr<session>> live;
    {
      std::lock_guard lock{sessions_mutex};
      for (auto& [id, w] : sessions)
        if (auto s = w.lock())
          live.push_back(std::move(s));
    }
    for (auto& s : live)
      asio::post(s->strand(), [s] { s->on_stop(); });
  }
  {
    std::unique_lock lock{sessions_mutex};
    sessions_changed.wait_until(lock, hard_deadline, [this] { return sessions.empty(); });
  }
  // Past the deadline: close what is left (a client still sending, one not
  // taking its answer) and let the aborted handlers run out.
  std::vector<std::shared_ptr<session>> left;
  {
    std::lock_guard lock{sessions_mutex};
    for (auto& [id, w] : sessions)
      if (auto s = w.lock())
        left.push_back(std::move(s));
  }
  if (!left.empty()) {
    log(log_severity::warn, opts.log_component, "connections cut at the stop deadline",
        {{"count", std::to_string(left.size())}});
    for (auto& s : left)
      asio::post(s->strand(), [s] { s->close(); });
    left.clear();
    std::unique_lock lock{sessions_mutex};
    sessions_changed.wait_for(lock, opts.stop_grace, [this] { return sessions.empty(); });
  }
  work.reset();
  io.stop();
  for (auto& t : threads)
    if (t.joinable())
      t.join();
  std::unique_lock lock{gate->mutex};
  gate->open = false;
}

http_server::http_server(http_server_options opts) : impl_(std::make_shared<impl>(std::move(opts))) {}

http_server::~http_server() {
  stop();
}

void http_server::route(std::string method, std::string pattern, http_handler handler) {
  impl_->routes.push_back(
    {std::move(method), std::regex{pattern, std::regex::ECMAScript}, std::move(handler)});
}

caf::error http_server::start() {
  auto& p = *impl_;
  if (p.started || p.stopped)
    return make_error(errc::invalid_argument, "http server started twice");
  if (p.opts.threads == 0 || p.opts.connections_max == 0)
    return make_error(errc::invalid_argument,
                      "http server needs at least one thread and one connection");
  beast::error_code ec;
  auto addr = asio::ip::make_address(p.opts.host, ec);
  if (ec)
    return make_error(errc::invalid_argument,
                      "http server: '" + p.opts.host + "' is not an IP address");
  const std::string where = http_url(p.opts.host, p.opts.port);
  tcp::endpoint ep{addr, p.opts.port};
  p.acceptor.open(ep.protocol(), ec);
  if (!ec)
    p.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    p.acceptor.bind(ep, ec);
  if (!ec)
    p.acceptor.listen(p.opts.listen_backlog, ec);
  if (ec)
    return make_error(errc::io_error, "cannot listen on " + where + ": " + ec.message());
  p.port = p.acceptor.local_endpoint(ec).port();
  p.opts.connections_max = fit_open_file_limit(p.opts.connections_max, p.opts.log_component);
  p.started = true;
  p.work.emplace(p.io.get_executor());
  asio::post(p.accept_strand, [&p] { p.accept(); });
  for (uint32_t i = 0; i < p.opts.threads; ++i)
    p.threads.emplace_back([&p] { p.io.run(); });
  log(log_severity::debug, p.opts.log_component, "listening",
      {{"host", p.opts.host}, {"port", std::to_string(p.port.load())}});
  return {};
}

uint16_t http_server::port() const {
  return impl_->port.load();
}

size_t http_server::connections() const {
  std::lock_guard lock{impl_->sessions_mutex};
  return impl_->sessions.size();
}

void http_server::stop() {
  impl_->stop();
}

}  // namespace agentgraph::net
