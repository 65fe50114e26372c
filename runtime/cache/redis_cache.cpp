#include "runtime/cache/redis_cache.hpp"

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <hiredis/hiredis.h>

#include "runtime/assert.hpp"
#include "runtime/config/config_text.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics/series_ref.hpp"

namespace agentgraph::cache {

namespace redis_cache_detail {

using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

// The longest a breaker stays open: cooldown doubles per failed probe up to this factor.
constexpr int breaker_cooldown_factor_max = 32;

struct request {
  bool is_get = true;
  std::string key;  // prefixed
  std::string value;
  milliseconds ttl{0};
  redis_cache::get_done on_get;
  redis_cache::put_done on_put;
};

struct counters {
  std::atomic<uint64_t> gets{0}, puts{0}, hits{0}, misses{0}, errors{0}, rejected_full{0},
    rejected_open{0}, puts_written{0}, connects{0}, connect_failures{0};
};

struct reply_deleter {
  void operator()(redisReply* r) const {
    if (r != nullptr)
      freeReplyObject(r);
  }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

struct context_deleter {
  void operator()(redisContext* c) const {
    if (c != nullptr)
      redisFree(c);
  }
};
using context_ptr = std::unique_ptr<redisContext, context_deleter>;

timeval to_timeval(milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

caf::error bad_url(std::string_view url, const std::string& why) {
  // A URL may carry a password (redis://:pw@host): shown_value hides it.
  return make_error(errc::invalid_argument, "redis_url '" + shown_value("redis_url", url) + "': " + why);
}

template <class T>
bool parse_number(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
}

// Whether a GET + PTTL pair of replies is a usable hit; fills `out`.
l3_reply read_get_replies(const redisReply& get, const redisReply& pttl, milliseconds ttl_max,
                          uint64_t value_bytes_max) {
  l3_reply out;
  if (get.type == REDIS_REPLY_NIL)
    return out;
  if (get.type != REDIS_REPLY_STRING || pttl.type != REDIS_REPLY_INTEGER) {
    out.outcome = l3_outcome::error;
    return out;
  }
  // PTTL: -2 the key vanished between the two commands, -1 no expiry (set
  // by someone else): our bound applies.
  if (pttl.integer == -2 || get.len > value_bytes_max)
    return out;
  out.ttl_left = pttl.integer < 0 ? ttl_max : std::min(milliseconds{pttl.integer}, ttl_max);
  if (out.ttl_left <= milliseconds::zero())
    return out;
  out.outcome = l3_outcome::hit;
  out.value.assign(get.str, get.len);
  return out;
}

}  // namespace redis_cache_detail

// Owned by the redis_cache; the members below the mutex are the I/O
// thread's own (ctx, breaker), the queue is shared with callers.
struct redis_cache::impl {
  using request = redis_cache_detail::request;
  using clock_type = redis_cache_detail::clock_type;
  using context_ptr = redis_cache_detail::context_ptr;
  using reply_ptr = redis_cache_detail::reply_ptr;

  redis_cache_config cfg;
  redis_endpoint endpoint;
  redis_cache_detail::counters count;
  metrics::gauge* circuit_gauge = nullptr;
  metrics::gauge* queue_gauge = nullptr;
  metrics::counter* connects_ok = nullptr;
  metrics::counter* connects_failed = nullptr;
  std::atomic<breaker_state> circuit{breaker_state::closed};

  mutable std::mutex mtx;
  std::condition_variable wake;
  std::deque<request> queue;  // GUARDED_BY(mtx), at most cfg.queue_max
  bool stopping = false;      // GUARDED_BY(mtx)

  context_ptr ctx;          // I/O thread only
  circuit_breaker breaker;  // I/O thread only
  std::thread thread;

  impl(redis_cache_config c, redis_endpoint e, breaker_config bc)
    : cfg(std::move(c)), endpoint(std::move(e)), breaker(bc) {}

  bool enqueue(request r);
  void run();
  void serve(request& r);
  bool connect();
  [[nodiscard]] bool get(request& r);
  [[nodiscard]] bool put(request& r);
  void answer(request& r, l3_reply rep);
  void answer_put(request& r, bool written);
  void publish_circuit();
};

bool redis_cache::impl::enqueue(request r) {
  {
    std::lock_guard<std::mutex> guard{mtx};
    if (stopping || queue.size() >= cfg.queue_max) {
      ++count.rejected_full;
      return false;
    }
    ++(r.is_get ? count.gets : count.puts);
    queue.push_back(std::move(r));
    metrics::set(queue_gauge, static_cast<double>(queue.size()));
  }
  wake.notify_one();
  return true;
}

void redis_cache::impl::run() {
  for (;;) {
    request r;
    {
      std::unique_lock<std::mutex> lock{mtx};
      wake.wait(lock, [this] { return stopping || !queue.empty(); });
      if (queue.empty())
        return;  // stopping, nothing left
      r = std::move(queue.front());
      queue.pop_front();
      metrics::set(queue_gauge, static_cast<double>(queue.size()));
      if (stopping) {
        lock.unlock();
        answer(r, {l3_outcome::rejected, {}, {}});
        continue;
      }
    }
    serve(r);
  }
}

// One request: breaker, (re)connect, command, breaker outcome.
void redis_cache::impl::serve(request& r) {
  auto admission = breaker.allow(clock_type::now());
  publish_circuit();
  if (!admission.allowed) {
    ++count.rejected_open;
    answer(r, {l3_outcome::rejected, {}, {}});
    return;
  }
  bool ok = (ctx || connect()) && (r.is_get ? get(r) : put(r));
  if (ok) {
    breaker.on_success(clock_type::now());
  } else {
    ++count.errors;
    ctx.reset();  // a failed connection is not reused: the next call reconnects
    breaker.on_failure(clock_type::now());
    if (r.on_get || r.on_put)
      answer(r, {l3_outcome::error, {}, {}});
  }
  publish_circuit();
}

bool redis_cache::impl::connect() {
  ++count.connects;
  const auto tv = redis_cache_detail::to_timeval(cfg.timeout);
  context_ptr c{redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, tv)};
  bool ok = c && c->err == 0 && redisSetTimeout(c.get(), tv) == REDIS_OK;
  if (ok && endpoint.db != 0) {
    reply_ptr sel{static_cast<redisReply*>(redisCommand(c.get(), "SELECT %u", endpoint.db))};
    ok = sel && sel->type == REDIS_REPLY_STATUS;
  }
  if (!ok) {
    ++count.connect_failures;
    metrics::inc(connects_failed);
    log(log_severity::debug, "cache/redis", "connect failed",
        {{"host", endpoint.host}, {"error", c ? c->errstr : "out of memory"}});
    return false;
  }
  metrics::inc(connects_ok);
  ctx = std::move(c);
  return true;
}

// GET and PTTL pipelined: one round trip. false: the connection failed.
bool redis_cache::impl::get(request& r) {
  redisAppendCommand(ctx.get(), "GET %b", r.key.data(), r.key.size());
  redisAppendCommand(ctx.get(), "PTTL %b", r.key.data(), r.key.size());
  void* raw_get = nullptr;
  void* raw_ttl = nullptr;
  if (redisGetReply(ctx.get(), &raw_get) != REDIS_OK)
    return false;
  reply_ptr get_reply{static_cast<redisReply*>(raw_get)};
  if (redisGetReply(ctx.get(), &raw_ttl) != REDIS_OK)
    return false;
  reply_ptr ttl_reply{static_cast<redisReply*>(raw_ttl)};
  auto rep = redis_cache_detail::read_get_replies(*get_reply, *ttl_reply, cfg.ttl_max, cfg.value_bytes_max);
  if (rep.outcome == l3_outcome::error)
    return false;  // an error reply (LOADING, WRONGTYPE...): counts against the breaker
  ++(rep.outcome == l3_outcome::hit ? count.hits : count.misses);
  answer(r, std::move(rep));
  return true;
}

bool redis_cache::impl::put(request& r) {
  reply_ptr rep{static_cast<redisReply*>(
    redisCommand(ctx.get(), "SET %b %b PX %lld", r.key.data(), r.key.size(), r.value.data(),
                 r.value.size(), static_cast<long long>(r.ttl.count())))};
  if (!rep || rep->type != REDIS_REPLY_STATUS)
    return false;
  ++count.puts_written;
  answer_put(r, true);
  return true;
}

// Callbacks belong to the caller; one that throws is a bug there, and must
// not take the I/O thread (and every later request) down with it.
void redis_cache::impl::answer(request& r, l3_reply rep) {
  if (!r.is_get) {
    answer_put(r, false);
    return;
  }
  auto done = std::move(r.on_get);
  r.on_get = nullptr;
  try {
    if (done)
      done(std::move(rep));
  } catch (...) {
    log(log_severity::error, "cache/redis", "a get callback threw; ignored");
  }
}

void redis_cache::impl::answer_put(request& r, bool written) {
  auto done = std::move(r.on_put);
  r.on_put = nullptr;
  try {
    if (done)
      done(written);
  } catch (...) {
    log(log_severity::error, "cache/redis", "a put callback threw; ignored");
  }
}

void redis_cache::impl::publish_circuit() {
  circuit.store(breaker.state(), std::memory_order_relaxed);
  metrics::set(circuit_gauge, static_cast<double>(breaker.state() == breaker_state::closed
                                                    ? 0
                                                    : breaker.state() == breaker_state::half_open
                                                        ? 1
                                                        : 2));
}

const char* to_string(l3_outcome o) {
  switch (o) {
    case l3_outcome::hit:
      return "hit";
    case l3_outcome::miss:
      return "miss";
    case l3_outcome::error:
      return "error";
    case l3_outcome::rejected:
      return "rejected";
  }
  return "?";
}

caf::expected<redis_endpoint> parse_redis_url(std::string_view url) {
  constexpr std::string_view scheme = "redis://";
  if (url.substr(0, scheme.size()) != scheme)
    return redis_cache_detail::bad_url(url, "must start with redis://");
  auto rest = url.substr(scheme.size());
  if (rest.find('@') != std::string_view::npos)
    return redis_cache_detail::bad_url(url, "credentials are not supported");
  redis_endpoint ep;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    auto db = rest.substr(slash + 1);
    if (!db.empty() && !redis_cache_detail::parse_number(db, ep.db))
      return redis_cache_detail::bad_url(url, "the database must be a number");
    rest = rest.substr(0, slash);
  }
  if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    if (!redis_cache_detail::parse_number(rest.substr(colon + 1), ep.port) || ep.port == 0)
      return redis_cache_detail::bad_url(url, "the port must be 1..65535");
    rest = rest.substr(0, colon);
  }
  if (rest.empty())
    return redis_cache_detail::bad_url(url, "no host");
  ep.host = std::string{rest};
  return ep;
}

caf::expected<std::shared_ptr<redis_cache>> redis_cache::make(redis_cache_config cfg) {
  auto ep = parse_redis_url(cfg.url);
  if (!ep)
    return std::move(ep.error());
  if (cfg.timeout <= std::chrono::milliseconds::zero() || cfg.ttl_max <= std::chrono::milliseconds::zero()
      || cfg.queue_max == 0 || cfg.value_bytes_max == 0 || cfg.breaker_failures == 0
      || cfg.breaker_cooldown <= std::chrono::milliseconds::zero())
    return make_error(errc::invalid_argument,
                      "L3 cache: timeout, ttl_max, queue_max, value_bytes_max, breaker_failures "
                      "and breaker_cooldown must be positive");
  breaker_config bc;
  bc.failures_consecutive_max = cfg.breaker_failures;
  bc.window_outcomes = 0;  // consecutive failures only: Redis is up or it is not
  bc.window_outcomes_min = 0;
  bc.cooldown = cfg.breaker_cooldown;
  bc.cooldown_max = cfg.breaker_cooldown * redis_cache_detail::breaker_cooldown_factor_max;
  bc.probes_max = 1;
  auto* reg = cfg.metrics.get();
  auto p = std::make_unique<impl>(std::move(cfg), std::move(*ep), bc);
  p->circuit_gauge = metrics::gauge_of(
    reg, "agentgraph_cache_redis_circuit_state",
    "Breaker in front of the L3 Redis cache: 0 closed, 1 half_open, 2 open.", {}, {});
  p->queue_gauge = metrics::gauge_of(reg, "agentgraph_cache_redis_queue_waiting",
                                     "Redis cache requests waiting for its I/O thread "
                                     "(bounded by redis_queue_max).",
                                     {}, {});
  const char* connects_help = "Connection attempts to the L3 Redis cache, by outcome.";
  p->connects_ok = metrics::counter_of(reg, "agentgraph_cache_redis_connects_total",
                                       connects_help, {"outcome"}, {"ok"});
  p->connects_failed = metrics::counter_of(reg, "agentgraph_cache_redis_connects_total",
                                           connects_help, {"outcome"}, {"failed"});
  p->publish_circuit();
  auto* raw = p.get();
  raw->thread = std::thread{[raw] { raw->run(); }};
  return std::make_shared<redis_cache>(std::move(p));
}

redis_cache::redis_cache(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

redis_cache::~redis_cache() {
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    impl_->stopping = true;
  }
  impl_->wake.notify_one();
  // The last owner may be a callback running on the I/O thread itself:
  // joining would wait for ourselves. Then the thread finishes on its own
  // and frees the impl it owns from here on.
  if (impl_->thread.get_id() == std::this_thread::get_id()) {
    impl_->thread.detach();
    auto* orphan = impl_.release();
    (void) orphan;  // leaked on purpose: the detached thread still uses it
    return;
  }
  impl_->thread.join();
}

bool redis_cache::get(std::string key, get_done done) {
  AG_ASSERT(done);
  redis_cache_detail::request r;
  r.key = impl_->cfg.key_prefix + key;
  r.on_get = std::move(done);
  return impl_->enqueue(std::move(r));
}

bool redis_cache::put(std::string key, std::string value, std::chrono::milliseconds ttl,
                      put_done done) {
  if (ttl <= std::chrono::milliseconds::zero() || value.size() > impl_->cfg.value_bytes_max)
    return false;
  redis_cache_detail::request r;
  r.is_get = false;
  r.key = impl_->cfg.key_prefix + key;
  r.value = std::move(value);
  r.ttl = std::min(ttl, impl_->cfg.ttl_max);
  r.on_put = std::move(done);
  return impl_->enqueue(std::move(r));
}

redis_cache_stats redis_cache::stats() const {
  const auto& c = impl_->count;
  redis_cache_stats s;
  s.gets = c.gets;
  s.puts = c.puts;
  s.hits = c.hits;
  s.misses = c.misses;
  s.errors = c.errors;
  s.rejected_full = c.rejected_full;
  s.rejected_open = c.rejected_open;
  s.puts_written = c.puts_written;
  s.connects = c.connects;
  s.connect_failures = c.connect_failures;
  std::lock_guard<std::mutex> guard{impl_->mtx};
  s.queued = impl_->queue.size();
  return s;
}

breaker_state redis_cache::circuit() const {
  return impl_->circuit.load(std::memory_order_relaxed);
}

}  // namespace agentgraph::cache
