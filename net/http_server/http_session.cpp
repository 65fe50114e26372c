// One connection of http_server (see http_session.hpp for its states):
// reading a request, answering it, closing, stopping. Event streams are in
// http_session_stream.cpp.
#include "net/http_server/http_session.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

#include "runtime/assert.hpp"
#include "runtime/log.hpp"

namespace agentgraph::net::http_server_detail {

namespace {

// Read-buffer room beyond the header limit: the parser takes body bytes
// out of the buffer as they arrive, so this bounds one read, not a body.
constexpr size_t read_room = 64 * 1024;
// A request target longer than this gets 414 before any routing: the
// route patterns are std::regex, whose matcher recurses once per character.
constexpr size_t target_bytes_max = 2048;
// A chunk-size or trailer line longer than this is malformed.
constexpr size_t chunk_line_max = 4096;
// What an idle connection reads its next request's first bytes into; the
// buffer grows from there only as a request needs it.
constexpr size_t first_read = 512;
// A connection closed with unread input is read (and dropped) for at most
// this long and this many bytes, so the client sees our answer, not a reset.
constexpr auto linger_time = std::chrono::milliseconds{1'000};
constexpr size_t linger_bytes_max = 1 << 20;
// While stopping, how long a connection with no request in progress waits
// for one that may already be on the wire.
constexpr auto stop_idle_grace = std::chrono::milliseconds{250};

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

session::session(http_server::impl& srv, tcp::socket sock, uint64_t id)
  : srv_(srv),
    id_(id),
    strand_(sock.get_executor()),
    stream_(std::move(sock)),
    buffer_(srv.opts.header_bytes_max + read_room),
    answer_timer_(strand_),
    stream_timer_(strand_) {
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec)
    remote_ = ep.address().to_string();
  stream_.socket().set_option(tcp::no_delay(true), ec);
}

session::~session() {
  release_body();
  if (refusal_)
    srv_.refusing.fetch_sub(1);
  if (srv_.stats.connections != nullptr)
    srv_.stats.connections->dec();
  if (sse_)
    sse_->end();
  {
    std::lock_guard lock{srv_.sessions_mutex};
    srv_.sessions.erase(id_);
  }
  srv_.sessions_changed.notify_all();
}

void session::start() {
  // The socket was accepted on the acceptor's strand; from here on every
  // step runs on this session's own strand.
  asio::dispatch(strand_, [self = shared_from_this()] {
    if (self->srv_.stopping.load())
      self->stopping_ = true;
    self->wait_request();
  });
}

void session::refuse() {
  refusal_ = true;
  asio::dispatch(strand_, [self = shared_from_this()] {
    self->answer_and_close(503, "overloaded", "too many connections; retry later",
                           {{"Retry-After", std::to_string(self->srv_.opts.retry_after_s)}});
  });
}

void session::expire_after(std::chrono::milliseconds d) {
  if (!stopping_) {
    stream_.expires_after(d);
    return;
  }
  auto left = srv_.hard_deadline - std::chrono::steady_clock::now();
  stream_.expires_after(std::max<std::chrono::steady_clock::duration>(
    std::chrono::milliseconds{1}, std::min<std::chrono::steady_clock::duration>(d, left)));
}

// --- reading a request ----------------------------------------------------

void session::wait_request() {
  parser_.reset();
  if (buffer_.size() > 0) {  // pipelined bytes already here
    read_header();
    return;
  }
  phase_ = phase::idle;
  // An idle connection keeps no read buffer: thousands of them cost
  // sockets, not megabytes.
  buffer_.shrink_to_fit();
  // A fresh connection gets the header deadline for its first byte too; a
  // kept-alive one may idle for keep_alive_timeout. Once stopping, a
  // request already on the wire still gets its 503, but nobody waits long.
  auto wait = served_ == 0 ? srv_.opts.header_timeout : srv_.opts.keep_alive_timeout;
  if (stopping_)
    wait = std::min(wait, stop_idle_grace);
  expire_after(wait);
  stream_.async_read_some(buffer_.prepare(first_read),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            if (ec) {
                              if (ec == beast::error::timeout && self->served_ == 0)
                                self->srv_.stats.reject("header_timeout");
                              self->close();
                              return;
                            }
                            self->buffer_.commit(n);
                            self->read_header();
                          });
}

void session::read_header() {
  phase_ = phase::header;
  body_read_ = false;
  parser_.emplace();
  parser_->header_limit(srv_.opts.header_bytes_max);
  // The body limit is checked by hand once the headers are in, so that a
  // missing token answers 401 whatever the declared length. (Not
  // boost::none: Beast 1.74 compares the length against the optional, and
  // any length is "greater" than none.)
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  expire_after(srv_.opts.header_timeout);
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           [self = shared_from_this()](beast::error_code ec, size_t) {
                             if (ec)
                               self->on_read_error(ec, false);
                             else
                               self->on_header();
                           });
}

void session::on_read_error(beast::error_code ec, bool in_body) {
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    srv_.stats.reject("header_too_large");
    answer_and_close(431, "header_too_large",
                     "the request headers are larger than the server accepts");
  } else if (ec == bhttp::error::body_limit) {
    srv_.stats.reject("body_too_large");
    answer_and_close(413, "body_too_large", "the request body is larger than the server accepts");
  } else if (ec == beast::error::timeout) {
    // The stream closed the socket when its timer fired: nobody is left to
    // answer.
    srv_.stats.reject(in_body ? "body_timeout" : "header_timeout");
    close();
  } else if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message
             || ec == asio::error::eof || ec == asio::error::connection_reset
             || ec == asio::error::operation_aborted) {
    close();  // the client went away
  } else {
    srv_.stats.reject("bad_request");
    answer_and_close(400, "invalid_argument",
                     std::string{in_body ? "malformed request body: " : "malformed request: "}
                       + ec.message());
  }
}

void session::on_header() {
  auto& req = parser_->get();
  version_ = req.version() == 10 ? 10 : 11;
  if (req.target().size() > target_bytes_max) {
    srv_.stats.reject("bad_request");
    answer_and_close(414, "invalid_argument", "the request target is longer than the server accepts");
    return;
  }
  // Only `chunked` as the last coding frames a body we can find the end of;
  // anything else would leave us and a proxy in front disagreeing about
  // where the next request starts.
  if (req.find(bhttp::field::transfer_encoding) != req.end()
      && (version_ == 10 || !parser_->chunked())) {
    srv_.stats.reject("bad_request");
    answer_and_close(501, "unsupported", "only Transfer-Encoding: chunked is supported");
    return;
  }
  std::string path;
  std::string query;
  if (!split_target(std::string_view{req.target().data(), req.target().size()}, path, query)) {
    srv_.stats.reject("bad_request");
    answer_and_close(400, "invalid_argument", "malformed request target");
    return;
  }
  if (stopping_ || srv_.stopping.load()) {
    stopping_ = true;  // its on_stop may still be on the way
    srv_.stats.reject("stopping");
    answer_and_close(503, "unavailable", "the server is stopping; retry elsewhere",
                     {{"Retry-After", std::to_string(srv_.opts.retry_after_s)}});
    return;
  }
  const std::string method{req.method_string()};
  std::smatch m;
  size_t route = srv_.routes.size();
  for (size_t i = 0; i < srv_.routes.size(); ++i) {
    const auto& r = srv_.routes[i];
    if (r.method == method && std::regex_match(path, m, r.pattern)) {
      route = i;
      break;
    }
  }
  if (route == srv_.routes.size()) {
    srv_.stats.reject("not_found");
    answer_and_close(404, "not_found", "no route for " + method + " " + path);
    return;
  }
  const auto& open = srv_.opts.open_paths;
  if (!srv_.opts.auth_token.empty() && std::find(open.begin(), open.end(), path) == open.end()) {
    auto it = req.find(bhttp::field::authorization);
    auto token = it == req.end() ? std::string_view{}
                                 : bearer_token(std::string_view{it->value().data(),
                                                                 it->value().size()});
    if (token.empty() || !constant_time_equal(token, srv_.opts.auth_token)) {
      // The token is never logged, only that a request was refused, and
      // at most once a second: a flood must not turn into a log flood on
      // the event loop (the metric counts every one).
      if (srv_.log_refusal_now())
        log(log_severity::warn, srv_.opts.log_component,
            "request refused: bad or missing bearer token",
            {{"method", method}, {"path", path}, {"remote", remote_}});
      srv_.stats.reject("unauthorized");
      answer_and_close(401, "unauthorized", "a valid bearer token is required",
                       {{"WWW-Authenticate", "Bearer realm=\"agentgraph\""}});
      return;
    }
  }
  if (auto len = parser_->content_length(); len && *len > srv_.opts.body_bytes_max) {
    srv_.stats.reject("body_too_large");
    answer_and_close(413, "body_too_large", "the request body is larger than the server accepts");
    return;
  }
  route_ = route;
  params_.clear();
  for (size_t i = 1; i < m.size(); ++i)
    params_.push_back(m[i].str());
  if (parser_->is_done()) {
    dispatch();
    return;
  }
  const uint64_t need = parser_->chunked() ? srv_.opts.body_bytes_max
                                            : parser_->content_length().value_or(0);
  if (!srv_.reserve_body(need)) {
    srv_.stats.reject("bodies_busy");
    answer_and_close(503, "overloaded", "too many request bodies in progress; retry later",
                     {{"Retry-After", "1"}});
    return;
  }
  AG_ASSERT(body_reserved_ == 0);  // one body at a time: dispatch released the last one
  body_reserved_ = need;
  parser_->body_limit(srv_.opts.body_bytes_max);
  auto expect = req.find(bhttp::field::expect);
  if (version_ == 10 || expect == req.end() || !beast::iequals(expect->value(), "100-continue")) {
    start_body();
    return;
  }
  // The client waits for this before it sends the body (curl does, for
  // large bodies): everything that could refuse the request has passed.
  phase_ = phase::body;
  expire_after(srv_.opts.send_timeout);
  static const std::string cont10 = "HTTP/1.0 100 Continue\r\n\r\n";
  static const std::string cont11 = "HTTP/1.1 100 Continue\r\n\r\n";
  asio::async_write(stream_, asio::buffer(version_ == 10 ? cont10 : cont11),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      if (ec) {
                        self->close();
                        return;
                      }
                      self->start_body();
                    });
}

void session::start_body() {
  phase_ = phase::body;
  // One deadline for the whole body, however many reads it takes.
  expire_after(srv_.opts.body_timeout);
  if (!parser_->chunked()) {
    read_body();
    return;
  }
  chunked_.emplace(srv_.opts.body_bytes_max, chunk_line_max);
  chunked_body_.clear();
  read_chunked();
}

void session::read_chunked() {
  // What is buffered first (it arrived with the headers), then the socket.
  size_t used = 0;
  const auto data = buffer_.data();
  auto st = chunked_->feed(std::string_view{static_cast<const char*>(data.data()), data.size()},
                           used, chunked_body_);
  buffer_.consume(used);
  switch (st) {
    case chunked_decoder::status::done:
      parser_->get().body() = std::move(chunked_body_);
      chunked_.reset();
      dispatch();
      return;
    case chunked_decoder::status::too_large:
      on_read_error(bhttp::error::body_limit, true);
      return;
    case chunked_decoder::status::malformed:
      on_read_error(bhttp::error::bad_chunk, true);
      return;
    case chunked_decoder::status::need_more:
      break;
  }
  stream_.async_read_some(buffer_.prepare(read_room),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            if (ec) {
                              self->on_read_error(ec, true);
                              return;
                            }
                            self->buffer_.commit(n);
                            self->read_chunked();
                          });
}

void session::read_body() {
  bhttp::async_read(stream_, buffer_, *parser_,
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      if (ec)
                        self->on_read_error(ec, true);
                      else
                        self->dispatch();
                    });
}

// --- answering --------------------------------------------------------------

void session::release_body() {
  if (body_reserved_ > 0)
    srv_.release_body(std::exchange(body_reserved_, 0));
}

void session::dispatch() {
  phase_ = phase::handling;
  body_read_ = true;
  release_body();  // the handler owns the body from here
  ++served_;
  // keep_alive_requests_max answers close the connection (at least one is served).
  AG_ASSERT(served_ <= std::max<uint32_t>(srv_.opts.keep_alive_requests_max, 1));
  auto& req = parser_->get();
  keep_alive_ = req.keep_alive() && served_ < srv_.opts.keep_alive_requests_max;
  server_request r;
  r.method = std::string{req.method_string()};
  // The target decoded in on_header already; it cannot fail here.
  (void)split_target(std::string_view{req.target().data(), req.target().size()}, r.path, r.query);
  r.params = std::move(params_);
  r.body = std::move(req.body());
  r.remote_addr = remote_;
  for (const auto& f : req)
    r.headers.emplace_back(lower(std::string_view{f.name_string().data(), f.name_string().size()}),
                           std::string{f.value()});
  auto ex = std::make_shared<exchange>();
  ex->gate = srv_.gate;
  ex->owner = weak_from_this();
  ex->seq = ++seq_;
  ex->stream_limit = srv_.opts.stream_buffer_bytes;
  fallback_.reset();
  // The outer net for a handler that never answers; its wait is also what
  // keeps this session alive while no I/O is pending.
  set_deadline(seq_, srv_.opts.answer_timeout,
               json_error(504, "timeout", "the request got no answer in time"));
  responder answer{ex};
  try {
    srv_.routes[route_].handler(r, answer);
  } catch (const std::exception& e) {
    log(log_severity::error, srv_.opts.log_component, "handler threw",
        {{"path", r.path}, {"what", e.what()}});
    answer.send(json_error(500, "internal", "the handler failed"));
  }
  if (stopping_ && !answer.answered())
    set_deadline(seq_, srv_.opts.stop_grace,
                 json_error(503, "unavailable", "the server is stopping; retry elsewhere"));
}

void session::set_deadline(uint64_t seq, std::chrono::milliseconds after,
                           server_response fallback) {
  if (seq != seq_ || phase_ != phase::handling)
    return;
  if (fallback_ && answer_timer_.expiry() <= std::chrono::steady_clock::now() + after)
    return;  // an earlier deadline is already armed
  fallback_ = std::move(fallback);
  answer_timer_.expires_after(after);
  answer_timer_.async_wait([self = shared_from_this(), seq](beast::error_code ec) {
    if (ec || seq != self->seq_ || self->phase_ != phase::handling || !self->fallback_)
      return;
    auto r = std::move(*self->fallback_);
    self->fallback_.reset();
    self->answer(seq, std::move(r));
  });
}

void session::answer(uint64_t seq, server_response r) {
  if (seq != seq_ || phase_ != phase::handling)
    return;  // answered already (deadline, stop) or the connection moved on
  answer_timer_.cancel();
  fallback_.reset();
  if (r.status == 503 && stopping_
      && std::none_of(r.headers.begin(), r.headers.end(),
                      [](const auto& h) { return beast::iequals(h.first, "Retry-After"); }))
    r.headers.emplace_back("Retry-After", std::to_string(srv_.opts.retry_after_s));
  const bool keep = keep_alive_ && !stopping_;
  write_answer(serialize(r, keep), keep);
}

std::string session::serialize(const server_response& r, bool keep_alive) const {
  std::string out;
  out.reserve(256 + r.body.size());
  out += version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(r.status);
  out += ' ';
  out += status_reason(r.status);
  out += "\r\nContent-Type: ";
  out += r.content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(r.body.size());
  out += keep_alive ? "\r\nConnection: keep-alive\r\n" : "\r\nConnection: close\r\n";
  for (const auto& [k, v] : r.headers) {
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  out += "\r\n";
  out += r.body;
  return out;
}

void session::write_answer(std::string bytes, bool keep_alive) {
  phase_ = phase::writing;
  auto buf = std::make_shared<std::string>(std::move(bytes));
  expire_after(srv_.opts.send_timeout);
  asio::async_write(stream_, asio::buffer(*buf),
                    [self = shared_from_this(), buf, keep_alive](beast::error_code ec, size_t) {
                      if (ec) {
                        self->close();
                        return;
                      }
                      self->after_write(keep_alive);
                    });
}

void session::after_write(bool keep_alive) {
  const bool body_unread = !body_read_;
  if (keep_alive && !stopping_ && !body_unread) {
    wait_request();
    return;
  }
  lingering_close();
}

void session::answer_and_close(int status, std::string_view code, std::string_view message,
                               std::vector<std::pair<std::string, std::string>> extra) {
  release_body();
  ++seq_;  // no responder may answer after this
  server_response r = json_error(status, code, message);
  r.headers = std::move(extra);
  write_answer(serialize(r, false), false);
}

void session::lingering_close() {
  phase_ = phase::closing;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) {
    close();
    return;
  }
  linger_left_ = linger_bytes_max;
  expire_after(linger_time);
  linger_read();
}

void session::linger_read() {
  stream_.async_read_some(asio::buffer(linger_buf_),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            if (ec || n >= self->linger_left_) {
                              self->close();
                              return;
                            }
                            self->linger_left_ -= n;
                            self->linger_read();
                          });
}

void session::close() {
  phase_ = phase::closing;
  release_body();
  answer_timer_.cancel();
  stream_timer_.cancel();
  beast::error_code ec;
  stream_.socket().close(ec);
  if (sse_) {
    auto st = std::move(sse_);
    st->end();
  }
}

// --- stopping -------------------------------------------------------------------

void session::on_stop() {
  stopping_ = true;
  switch (phase_) {
    case phase::idle:
      // No request has started; one may be on the wire right now, so give
      // it a moment to arrive (and be answered 503) before closing.
      answer_timer_.expires_after(std::min(srv_.opts.stop_grace, stop_idle_grace));
      answer_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec && self->phase_ == phase::idle)
          self->close();
      });
      return;
    case phase::header:
    case phase::body:
    case phase::writing:
    case phase::closing:
      // Finish what is under way: a request read from now on is answered
      // 503; stop() cuts whatever is still going at its hard deadline.
      return;
    case phase::handling:
      set_deadline(seq_, srv_.opts.stop_grace,
                   json_error(503, "unavailable", "the server is stopping; retry elsewhere"));
      return;
    case phase::streaming:
      if (sse_) {
        std::lock_guard lock{sse_->mutex};
        sse_->finish_requested = true;
        sse_->ended = true;  // no more sends; what is queued is written
      }
      flush_stream();
      return;
  }
}

// --- metrics ----------------------------------------------------------------------

void server_metrics::reject(const char* reason) const {
  if (rejected != nullptr)
    rejected->with({reason}).inc();
}

void server_metrics::drop_stream(const char* reason) const {
  if (streams_dropped != nullptr)
    streams_dropped->with({reason}).inc();
}

}  // namespace agentgraph::net::http_server_detail
