// The I/O loop of http_client. One thread owns the multi handle and every
// easy handle once submitted; other threads only append to two command
// lists under a mutex and poke the loop with curl_multi_wakeup. Every
// completion (success, failure, cancel, shutdown) goes through complete(),
// which takes the transfer out of the table first: that removal is what
// makes on_complete run exactly once.
//
// Stream-idle timeout: measured here, per transfer, from the last byte the
// header or write callback saw, and enforced by the loop's own wait.
// CURLOPT_LOW_SPEED_LIMIT/TIME was rejected: it counts whole seconds,
// averages speed over the window (a trickle of keep-alive bytes can hide a
// stall or a burst can end one early), and ends in the same
// CURLE_OPERATION_TIMEDOUT as the total timeout, so a retry policy could not
// tell the two apart. A progress callback was rejected too: during a stall
// curl only calls it about once a second, which would be our granularity.
//
// Easy handles are reused: a finished transfer's handle is reset on the I/O
// thread (curl_easy_reset keeps nothing of the request, but keeps the
// handle's allocations, e.g. its 16 KiB receive buffer) and parked in
// `idle_easy` for the next submit, at most in_flight_max of them. A fresh
// curl_easy_init and curl_easy_cleanup per request cost a large calloc,
// its initialisation and the buffer's malloc/free on every request.
//
// Share handle: DNS cache and TLS sessions. The connection cache is NOT put
// in the share (CURL_LOCK_DATA_CONNECT exists in 7.88): all our easy
// handles live in one multi handle, whose own connection cache already
// serves them all, and curl documents connection sharing across threads as
// unsafe. Only the I/O thread touches easy handles that point at the share,
// so it needs no lock callbacks.
#include "net/http_client.hpp"

#include <curl/curl.h>
#include <pthread.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/curl_global.hpp"
#include "net/http_client_transfer.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph::net {

namespace http_client_detail {

using http_client_transfer_detail::clock;
using http_client_transfer_detail::transfer;

// The loop's longest sleep when nothing is due: a safety net only, curl's
// own timers and the wakeup pipe end the wait when something happens.
constexpr int poll_wait_max_ms = 1000;

const char* noproxy_env() {
  const char* v = std::getenv("no_proxy");
  return v != nullptr ? v : std::getenv("NO_PROXY");
}

}  // namespace http_client_detail

struct http_client::impl {
  explicit impl(http_client_limits l);
  ~impl();

  const http_client_limits limits;
  // Read once: getenv at transfer time would race a setenv elsewhere.
  const std::string noproxy;
  CURLM* const multi;  // the I/O thread's, except curl_multi_wakeup (any thread)
  CURLSH* const share;  // I/O thread only (see the file comment)
  http_client_transfer_detail::atomic_counters counters;
  // Accepted and not yet completed; submit reserves a slot before anything
  // else, complete releases it just before on_complete.
  std::atomic<uint32_t> in_flight{0};
  std::atomic<request_id> next_id{1};

  std::mutex mtx;
  // Handed to the I/O thread; bounded by in_flight_max through in_flight.
  std::vector<std::unique_ptr<http_client_transfer_detail::transfer>> submitted;  // guarded by mtx
  // Reset easy handles ready for the next submit; at most in_flight_max.
  std::vector<CURL*> idle_easy;  // guarded by mtx
  // Emptied on every loop turn.
  std::vector<request_id> cancels;  // guarded by mtx
  bool stopping = false;            // guarded by mtx

  // I/O thread only: every transfer that was taken from `submitted` and not
  // yet completed.
  std::unordered_map<request_id, std::unique_ptr<http_client_transfer_detail::transfer>> active;
  // I/O thread only: apply_commands' scratch list, swapped with `submitted`
  // so both keep their capacity (no allocation per submit).
  std::vector<std::unique_ptr<http_client_transfer_detail::transfer>> fresh;

  std::thread io;  // started last, in http_client's constructor
};

http_client::impl::impl(http_client_limits l)
  : limits(l),
    noproxy(http_client_transfer_detail::noproxy_list(http_client_detail::noproxy_env())),
    multi(curl_multi_init()),
    share(curl_share_init()) {
  // Only memory exhaustion makes these fail.
  AG_ASSERT(multi != nullptr && share != nullptr);
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  // Never more connections than requests in flight; idle ones beyond that
  // are closed rather than cached.
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(limits.in_flight_max));
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(limits.in_flight_max));
}

http_client::impl::~impl() {
  // Every transfer is gone by now (the I/O thread completed them); the
  // parked handles still point at the share, so they go first.
  for (CURL* easy : idle_easy)
    curl_easy_cleanup(easy);
  curl_multi_cleanup(multi);
  curl_share_cleanup(share);
}

namespace http_client_detail {

using impl = http_client::impl;

bool try_reserve(impl& s) {
  uint32_t n = s.in_flight.load(std::memory_order_relaxed);
  do {
    if (n >= s.limits.in_flight_max)
      return false;
  } while (!s.in_flight.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  return true;
}

void account(impl& s, transfer& t, http_result& r) {
  long connects = 0;
  curl_easy_getinfo(t.easy, CURLINFO_NUM_CONNECTS, &connects);
  long request_bytes = 0;
  curl_easy_getinfo(t.easy, CURLINFO_REQUEST_SIZE, &request_bytes);
  curl_off_t upload_bytes = 0;
  curl_easy_getinfo(t.easy, CURLINFO_SIZE_UPLOAD_T, &upload_bytes);
  s.counters.connections_opened.fetch_add(static_cast<uint64_t>(connects),
                                         std::memory_order_relaxed);
  s.counters.bytes_out.fetch_add(static_cast<uint64_t>(request_bytes + upload_bytes),
                                 std::memory_order_relaxed);
  if (!r.response) {
    s.counters.count_error(r.transport);
    return;
  }
  s.counters.responses.fetch_add(1, std::memory_order_relaxed);
  r.response->connections_opened = connects;
}

// An easy handle from the pool, or a new one; null only when memory is out.
CURL* take_easy(impl& s) {
  {
    std::lock_guard<std::mutex> lock{s.mtx};
    if (!s.idle_easy.empty()) {
      CURL* easy = s.idle_easy.back();
      s.idle_easy.pop_back();
      return easy;
    }
  }
  return curl_easy_init();
}

// Resets `t`'s handle (out of the multi by now) and parks it for reuse.
void park_easy(impl& s, transfer& t) {
  if (t.easy == nullptr)
    return;
  curl_easy_reset(t.easy);  // drops every option: nothing of this request survives
  CURL* easy = std::exchange(t.easy, nullptr);
  {
    std::lock_guard<std::mutex> lock{s.mtx};
    if (s.idle_easy.size() < s.limits.in_flight_max) {
      s.idle_easy.push_back(easy);
      return;
    }
  }
  curl_easy_cleanup(easy);
}

// The one exit of every accepted request. `t` is already out of `active`
// (or never got in), so nothing can complete it a second time.
void complete(impl& s, std::unique_ptr<transfer> t, http_result r) noexcept {
  if (t->added)
    curl_multi_remove_handle(s.multi, t->easy);  // mid-transfer: closes that connection
  account(s, *t, r);
  park_easy(s, *t);
  auto on_complete = std::move(t->handlers.on_complete);
  t.reset();  // frees the header list and body before the callback runs
  s.in_flight.fetch_sub(1, std::memory_order_relaxed);
  // noexcept: a throwing on_complete is a bug and terminates, rather than
  // unwinding through the loop and stranding every other request.
  on_complete(std::move(r));
}

std::unique_ptr<transfer> take_active(impl& s, request_id id) {
  auto i = s.active.find(id);
  if (i == s.active.end())
    return nullptr;
  auto t = std::move(i->second);
  s.active.erase(i);
  return t;
}

void start(impl& s, std::unique_ptr<transfer> t) {
  curl_easy_setopt(t->easy, CURLOPT_SHARE, s.share);
  t->last_byte = clock::now();
  if (curl_multi_add_handle(s.multi, t->easy) != CURLM_OK) {
    complete(s, std::move(t),
             http_client_transfer_detail::failure(transport_error::other,
                                                  "curl_multi_add_handle failed"));
    return;
  }
  t->added = true;
  auto id = t->id;
  s.active.emplace(id, std::move(t));
}

void cancel_one(impl& s, request_id id) {
  if (auto t = take_active(s, id))
    complete(s, std::move(t),
             http_client_transfer_detail::failure(transport_error::cancelled, "request cancelled"));
}

// Takes the commands posted since the last turn and applies them: new
// transfers first, so a cancel posted right after its submit finds its
// target. Returns false once the client is stopping.
bool apply_commands(impl& s) {
  std::vector<request_id> cancels;
  bool stopping = false;
  AG_ASSERT(s.fresh.empty());
  {
    std::lock_guard<std::mutex> lock{s.mtx};
    s.fresh.swap(s.submitted);
    if (!s.cancels.empty())
      cancels.swap(s.cancels);
    stopping = s.stopping;
  }
  for (auto& t : s.fresh)
    start(s, std::move(t));
  s.fresh.clear();
  for (auto id : cancels)
    cancel_one(s, id);
  return !stopping;
}

http_result outcome(transfer& t, CURLcode rc) {
  namespace d = http_client_transfer_detail;
  if (rc != CURLE_OK) {
    auto kind = d::classify(rc, t.aborted, t.request_sent);
    return d::failure(kind, d::failure_detail(t, kind, rc));
  }
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &t.response.status);
  long version = 0;
  curl_easy_getinfo(t.easy, CURLINFO_HTTP_VERSION, &version);
  t.response.http_version = d::http_version_of(version);
  return http_result{std::move(t.response), transport_error::none};
}

void reap_finished(impl& s) {
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(s.multi, &queued)) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    // Copy out: msg dies with curl_multi_remove_handle inside complete().
    CURLcode rc = msg->data.result;
    transfer* raw = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &raw);
    AG_ASSERT(raw != nullptr);
    auto t = take_active(s, raw->id);
    AG_ASSERT(t != nullptr);
    auto r = outcome(*t, rc);
    complete(s, std::move(t), std::move(r));
  }
}

void expire_idle_streams(impl& s, clock::time_point now) {
  std::vector<request_id> expired;
  for (const auto& [id, t] : s.active)
    if (t->idle_timeout.count() > 0 && now - t->last_byte >= t->idle_timeout)
      expired.push_back(id);
  for (auto id : expired) {
    auto t = take_active(s, id);
    auto detail = "no byte received for " + std::to_string(t->idle_timeout.count())
                  + " ms (stream_idle_timeout)";
    complete(s, std::move(t),
             http_client_transfer_detail::failure(transport_error::stream_idle_timeout, detail));
  }
}

// How long the loop may sleep: until the earliest stream-idle deadline, at
// most poll_wait_max_ms. curl_multi_poll shortens it further to curl's own
// next timeout.
int wait_ms(const impl& s, clock::time_point now) {
  auto wait = std::chrono::milliseconds{poll_wait_max_ms};
  for (const auto& [id, t] : s.active) {
    if (t->idle_timeout.count() == 0)
      continue;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(t->last_byte + t->idle_timeout - now);
    wait = std::min(wait, std::max(left, std::chrono::milliseconds{0}));
  }
  return static_cast<int>(wait.count());
}

void cancel_everything(impl& s) {
  std::vector<std::unique_ptr<transfer>> fresh;
  {
    std::lock_guard<std::mutex> lock{s.mtx};
    fresh.swap(s.submitted);
  }
  for (auto& t : fresh)
    complete(s, std::move(t),
             http_client_transfer_detail::failure(transport_error::cancelled,
                                                  "client shut down"));
  while (!s.active.empty()) {
    auto id = s.active.begin()->first;
    complete(s, take_active(s, id),
             http_client_transfer_detail::failure(transport_error::cancelled,
                                                  "client shut down"));
  }
}

void run(impl& s) {
  // Named for ps/top/gdb: one such thread per client.
  pthread_setname_np(pthread_self(), "ag-http-io");
  while (apply_commands(s)) {
    int running = 0;
    auto mc = curl_multi_perform(s.multi, &running);
    AG_ASSERT(mc == CURLM_OK || mc == CURLM_OUT_OF_MEMORY);
    reap_finished(s);
    auto now = clock::now();
    expire_idle_streams(s, now);
    curl_multi_poll(s.multi, nullptr, 0, wait_ms(s, now), nullptr);
  }
  cancel_everything(s);
}

}  // namespace http_client_detail

http_client::http_client(http_client_limits limits) {
  AG_ASSERT(limits.in_flight_max > 0);
  AG_ASSERT(limits.connect_timeout.count() > 0 && limits.total_timeout.count() > 0);
  AG_ASSERT(limits.stream_idle_timeout.count() > 0);
  AG_ASSERT(limits.response_bytes_max > 0 && limits.header_bytes_max > 0);
  ensure_curl_initialized();
  impl_ = std::make_unique<impl>(limits);
  impl_->io = std::thread{[s = impl_.get()] { http_client_detail::run(*s); }};
}

http_client::~http_client() {
  // Joining ourselves would hang forever.
  AG_ASSERT(std::this_thread::get_id() != impl_->io.get_id());
  {
    std::lock_guard<std::mutex> lock{impl_->mtx};
    impl_->stopping = true;
  }
  curl_multi_wakeup(impl_->multi);
  impl_->io.join();
}

caf::expected<request_id> http_client::submit(http_request req, http_handlers h) {
  namespace d = http_client_transfer_detail;
  AG_ASSERT(h.on_complete);
  AG_ASSERT(!req.stream || h.on_data);
  auto& s = *impl_;
  if (auto err = d::validate(req)) {
    s.counters.count_error(transport_error::invalid_request);
    return err;
  }
  if (!http_client_detail::try_reserve(s)) {
    s.counters.rejected_overloaded.fetch_add(1, std::memory_order_relaxed);
    return make_error(errc::overloaded, "in_flight_max (" + std::to_string(s.limits.in_flight_max)
                                          + ") requests already in flight");
  }
  auto id = s.next_id.fetch_add(1, std::memory_order_relaxed);
  auto t = std::make_unique<d::transfer>(id, std::move(req), std::move(h), s.limits, s.counters);
  t->easy = http_client_detail::take_easy(s);
  auto err = d::prepare(*t, s.limits, s.noproxy);
  if (!err) {
    std::lock_guard<std::mutex> lock{s.mtx};
    if (s.stopping)
      err = make_error(errc::unavailable, "http_client is shutting down");
    else
      s.submitted.push_back(std::move(t));
    if (!err)
      s.counters.requests.fetch_add(1, std::memory_order_relaxed);
  }
  if (err) {
    s.in_flight.fetch_sub(1, std::memory_order_relaxed);
    return err;
  }
  curl_multi_wakeup(s.multi);
  return id;
}

void http_client::cancel(request_id id) {
  auto& s = *impl_;
  {
    std::lock_guard<std::mutex> lock{s.mtx};
    if (s.stopping)
      return;  // the shutdown cancels everything anyway
    s.cancels.push_back(id);
  }
  curl_multi_wakeup(s.multi);
}

http_client_counters http_client::counters() const {
  return impl_->counters.snapshot();
}

const http_client_limits& http_client::limits() const {
  return impl_->limits;
}

}  // namespace agentgraph::net
