// L3 of the multi-level cache: Redis, shared by every node of a cluster,
// through hiredis. GET (pipelined with PTTL, so a value filled into the
// upper levels keeps the lifetime it had left) and SET ... PX.
//
// Redis calls block, and a blocked CAF scheduler thread stalls unrelated
// actors (ARCHITECTURE.md §3.4), so no Redis call ever runs on the caller's
// thread. The object owns ONE dedicated I/O thread and a bounded request
// queue: get() and put() enqueue and return at once; the I/O thread runs the
// calls one at a time, each bounded by `timeout` (connect and command), and
// answers through the callback, on the I/O thread. Use from an actor like
// net::http_client (its header shows the pattern): the callback only
// anon_sends the reply to the actor, never blocks and never touches actor
// state; cache_message.hpp has the atom and the message type.
//
// Redis down means a slower run, not a failed one:
// * queue full (queue_max waiting): get() / put() return false at once;
//   the caller treats that as a miss (a dropped put);
// * a failed connect or command is an `error` reply (a miss for the
//   caller) and drops the connection;
// * a circuit breaker (runtime/resilience/circuit_breaker.hpp) counts the
//   failures: after breaker_failures in a row it opens, and for its cooldown
//   (doubling per failed probe, capped at 32x) every request is answered
//   `rejected` without touching the network; then one probe reconnects.
//   A dead Redis therefore costs one fast miss per lookup, not a connect
//   storm.
//
// Contract: every request get()/put() accepted (returned true) gets exactly
// one callback, also when the object is destroyed with requests queued
// (they are answered `rejected`). The destructor waits for the call in
// progress (at most `timeout`). Thread-safe: any thread may call get/put/
// stats.
//
// Not supported (yet): AUTH, TLS, Redis Cluster slots, Sentinel. The URL
// is redis://HOST:PORT[/DB].
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "runtime/metrics/registry.hpp"
#include "runtime/resilience/circuit_breaker.hpp"

namespace agentgraph::cache {

struct redis_endpoint {
  std::string host;
  uint16_t port = 6379;
  uint32_t db = 0;
};

// Errors: invalid_argument naming what is wrong (scheme, credentials, port,
// database number).
[[nodiscard]] caf::expected<redis_endpoint> parse_redis_url(std::string_view url);

struct redis_cache_config {
  std::string url;  // redis://HOST:PORT[/DB]
  // Connect timeout, and the timeout of each command (read and write).
  std::chrono::milliseconds timeout{100};
  std::string key_prefix = "agentgraph:";
  std::chrono::milliseconds ttl_max{3'600'000};
  // Larger values are not written (put answers false) and not read (a
  // larger value found in Redis is a miss).
  uint64_t value_bytes_max = 1 << 20;
  uint32_t queue_max = 1024;
  uint32_t breaker_failures = 2;
  std::chrono::milliseconds breaker_cooldown{1'000};
  // agentgraph_cache_redis_* series; null: records nothing.
  std::shared_ptr<metrics::registry> metrics;
};

enum class l3_outcome : uint8_t {
  hit,       // value holds the bytes, ttl_left their remaining lifetime
  miss,      // Redis answered: no such key
  error,     // the connect or the command failed or timed out
  rejected,  // not attempted: the breaker is open, or the cache is shutting down
};

[[nodiscard]] const char* to_string(l3_outcome o);

struct l3_reply {
  l3_outcome outcome = l3_outcome::miss;
  std::string value;
  std::chrono::milliseconds ttl_left{0};
};

// Monotonic counters since construction.
struct redis_cache_stats {
  uint64_t gets = 0;           // get() accepted
  uint64_t puts = 0;           // put() accepted
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t errors = 0;         // failed connects and commands
  uint64_t rejected_full = 0;  // get()/put() refused: queue full
  uint64_t rejected_open = 0;  // answered `rejected` by the open breaker
  uint64_t puts_written = 0;
  uint64_t connects = 0;       // connection attempts (successful or not)
  uint64_t connect_failures = 0;
  uint64_t queued = 0;         // waiting now
};

class redis_cache {
 public:
  using get_done = std::function<void(l3_reply)>;
  using put_done = std::function<void(bool written)>;

  // Parses and checks the config and starts the I/O thread; connects
  // lazily, on the first request, so a node starts while Redis is down.
  // Errors: invalid_argument (bad URL, zero timeout, queue_max, ttl_max,
  // value_bytes_max or breaker_failures).
  [[nodiscard]] static caf::expected<std::shared_ptr<redis_cache>> make(redis_cache_config cfg);

  ~redis_cache();
  redis_cache(const redis_cache&) = delete;
  redis_cache& operator=(const redis_cache&) = delete;

  // Looks `key` up (key_prefix is prepended). false: refused at once
  // (queue full, shutting down), `done` is not called: a miss.
  [[nodiscard]] bool get(std::string key, get_done done);

  // SET key value PX min(ttl, ttl_max). false: refused at once (queue
  // full, value too large, ttl not positive), `done` is not called.
  bool put(std::string key, std::string value, std::chrono::milliseconds ttl,
           put_done done = {});

  [[nodiscard]] redis_cache_stats stats() const;
  // The breaker's state as of the I/O thread's last decision.
  [[nodiscard]] breaker_state circuit() const;

  struct impl;
  explicit redis_cache(std::unique_ptr<impl> p);  // use make()

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace agentgraph::cache
