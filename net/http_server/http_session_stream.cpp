// One connection of http_server, its event-stream half: the response head,
// chunks written as producers queue them (one write at a time, the next
// batch taken when it completes), keep-alive comments, and the clean or
// dropped end of a stream.
#include <cstdio>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "net/http_server/http_session.hpp"
#include "runtime/log.hpp"

namespace agentgraph::net::http_server_detail {

namespace session_stream_detail {

// One HTTP/1.1 chunk: hex size, CRLF, the data, CRLF.
std::string chunk(std::string_view data) {
  char size[20];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out;
  out.reserve(static_cast<size_t>(n) + data.size() + 2);
  out.append(size, static_cast<size_t>(n));
  out.append(data);
  out.append("\r\n");
  return out;
}

}  // namespace session_stream_detail

void session::begin_stream(uint64_t seq, std::shared_ptr<stream_state> st,
                           std::vector<std::pair<std::string, std::string>> headers) {
  if (seq != seq_ || phase_ != phase::handling) {
    st->end();
    return;
  }
  answer_timer_.cancel();
  fallback_.reset();
  phase_ = phase::streaming;
  sse_ = std::move(st);
  // HTTP/1.0 has no chunked encoding: the stream then ends with the connection.
  sse_chunked_ = version_ == 11;
  if (!sse_chunked_)
    keep_alive_ = false;
  std::string head = version_ == 10 ? "HTTP/1.0 200 OK\r\n" : "HTTP/1.1 200 OK\r\n";
  head += "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\n";
  head += sse_chunked_ ? "Transfer-Encoding: chunked\r\n" : "";
  head += keep_alive_ && !stopping_ ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  for (const auto& [k, v] : headers)
    head += k + ": " + v + "\r\n";
  head += "\r\n";
  sse_writing_ = std::move(head);
  write_stream();
  arm_stream_timer();
  if (stopping_)
    asio::post(strand_, [self = shared_from_this()] { self->on_stop(); });
}

void session::write_stream() {
  sse_wrote_since_tick_ = true;
  expire_after(srv_.opts.send_timeout);
  asio::async_write(stream_, asio::buffer(sse_writing_),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      self->sse_writing_.clear();
                      if (ec) {
                        self->drop_stream(ec == beast::error::timeout ? "send_timeout"
                                                                      : "client_gone");
                        return;
                      }
                      if (!self->sse_done_) {
                        self->flush_stream();
                        return;
                      }
                      // The stream ended cleanly: the connection may serve more.
                      self->stream_timer_.cancel();
                      auto st = std::move(self->sse_);
                      st->end();
                      self->sse_done_ = false;
                      self->after_write(self->keep_alive_ && self->sse_chunked_);
                    });
}

void session::arm_stream_timer() {
  stream_timer_.expires_after(srv_.opts.stream_keep_alive);
  stream_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->phase_ != phase::streaming || !self->sse_)
      return;
    if (!self->sse_wrote_since_tick_) {
      std::lock_guard lock{self->sse_->mutex};
      if (!self->sse_->ended && self->sse_->pending.empty())
        self->sse_->pending = ": keep-alive\n\n";
    }
    self->sse_wrote_since_tick_ = false;
    self->arm_stream_timer();
    self->flush_stream();
  });
}

void session::flush_stream() {
  if (phase_ != phase::streaming || !sse_ || !sse_writing_.empty())
    return;  // not streaming, or a write is in progress (it flushes again when done)
  std::string data;
  bool finish = false;
  {
    std::lock_guard lock{sse_->mutex};
    sse_->flush_posted = false;
    data.swap(sse_->pending);
    finish = sse_->finish_requested && !sse_done_;
  }
  if (data.empty() && !finish)
    return;
  if (sse_chunked_) {
    sse_writing_ = data.empty() ? std::string{} : session_stream_detail::chunk(data);
    if (finish)
      sse_writing_ += "0\r\n\r\n";
  } else {
    sse_writing_ = std::move(data);
  }
  if (finish)
    sse_done_ = true;
  if (sse_writing_.empty()) {  // HTTP/1.0 finish with nothing left to write
    auto st = std::move(sse_);
    st->end();
    lingering_close();
    return;
  }
  write_stream();
}

void session::drop_stream(const char* reason) {
  if (phase_ != phase::streaming || !sse_)
    return;
  srv_.stats.drop_stream(reason);
  log(log_severity::debug, srv_.opts.log_component, "event stream dropped",
      {{"reason", reason}, {"remote", remote_}});
  close();
}

}  // namespace agentgraph::net::http_server_detail
