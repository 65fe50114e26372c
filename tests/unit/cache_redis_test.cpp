// The L3 level against real redis-servers: the run's shared one
// (AGENTGRAPH_TEST_REDIS_URL, started by tools/test.sh) for round trips
// and fill-upward, and private ones the test kills for the outage.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "cache_test_support.hpp"
#include "runtime/cache/multi_level_cache.hpp"

namespace cache_redis_test {

using namespace agentgraph;
using namespace agentgraph::cache;
using namespace std::chrono_literals;
using cache_test_support::lookup_sync;
using cache_test_support::redis_put_sync;
using cache_test_support::requests;

std::shared_ptr<redis_cache> make_l3(const std::string& url, const std::string& test,
                                     std::shared_ptr<metrics::registry> reg = nullptr) {
  redis_cache_config cfg;
  cfg.url = url;
  cfg.timeout = 200ms;
  cfg.key_prefix = cache_test_support::unique_prefix(test);
  cfg.breaker_failures = 2;
  cfg.breaker_cooldown = 200ms;
  cfg.metrics = std::move(reg);
  auto l3 = redis_cache::make(cfg);
  REQUIRE(l3);
  return *l3;
}

multi_level_cache make_cache(cache_tiers tiers) {
  multi_level_cache_config cfg;
  cfg.ttl = 60s;
  cfg.tiers = std::move(tiers);
  auto c = multi_level_cache::make(std::move(cfg));
  REQUIRE(c);
  return std::move(*c);
}

std::shared_ptr<shared_cache> fresh_l2() {
  auto l2 = shared_cache::make({});
  REQUIRE(l2);
  return *l2;
}

TEST_CASE("cache: redis round trip of a value with its remaining TTL") {
  auto l3 = make_l3(cache_test_support::shared_redis_url(), "roundtrip");
  REQUIRE(redis_put_sync(*l3, "k", std::string("bin\0ary", 7), 30s));
  auto done = std::make_shared<std::promise<l3_reply>>();
  auto reply = done->get_future();
  REQUIRE(l3->get("k", [done](l3_reply r) { done->set_value(std::move(r)); }));
  REQUIRE(reply.wait_for(10s) == std::future_status::ready);
  auto r = reply.get();
  CHECK(r.outcome == l3_outcome::hit);
  CHECK(r.value == std::string("bin\0ary", 7));
  CHECK(r.ttl_left > 25s);
  CHECK(r.ttl_left <= 30s);
  auto missing = std::make_shared<std::promise<l3_reply>>();
  auto miss = missing->get_future();
  REQUIRE(l3->get("absent", [missing](l3_reply rep) { missing->set_value(std::move(rep)); }));
  CHECK(miss.get().outcome == l3_outcome::miss);
  auto s = l3->stats();
  CHECK(s.hits == 1);
  CHECK(s.misses == 1);
  CHECK(s.puts_written == 1);
  CHECK(s.connects == 1);  // one connection, reused
  CHECK(l3->circuit() == breaker_state::closed);
}

TEST_CASE("cache: a hit in redis fills L2 and L1, with exact counts") {
  auto reg = std::make_shared<metrics::registry>();
  auto l3 = make_l3(cache_test_support::shared_redis_url(), "fill", reg);
  // Node A writes through all levels.
  auto a = make_cache({fresh_l2(), l3, reg});
  a.put("k", "v");
  // Node B: the same Redis, its own L2 and L1. Wait until A's write landed.
  cache_tiers b_tiers{fresh_l2(), l3, reg};
  for (int i = 0; i < 100 && l3->stats().puts_written == 0; ++i)
    std::this_thread::sleep_for(10ms);
  auto b = make_cache(b_tiers);
  CHECK(lookup_sync(b, "k") == "v");
  CHECK(b_tiers.l2->get("tool:k") == "v");  // filled
  auto again = b.lookup("k", {});
  CHECK(again.state == found::hit);
  CHECK(again.level == level_id::l1);  // filled
  CHECK(requests(*reg, "l3", "hit") == 1);
  CHECK(requests(*reg, "l2", "miss") == 1);
  CHECK(requests(*reg, "l1", "miss") == 1);
  CHECK(requests(*reg, "l1", "hit") == 1);
  CHECK(cache_test_support::fills(*reg, "l2") == 1);
  CHECK(cache_test_support::fills(*reg, "l1") == 1);
  CHECK(cache_test_support::counter(*reg, "agentgraph_cache_puts_total",
                                    {"user", "level", "outcome"}, {"tool", "l3", "ok"}) == 1);
}

TEST_CASE("cache: redis outage makes lookups fast misses, the breaker stops reconnects, hits resume") {
  cache_test_support::private_redis server;
  auto reg = std::make_shared<metrics::registry>();
  auto l3 = make_l3(server.url(), "outage", reg);
  auto c = make_cache({nullptr, l3, reg});
  REQUIRE(redis_put_sync(*l3, "tool:k", "v", 60s));
  auto before = make_cache({nullptr, l3, reg});
  CHECK(lookup_sync(before, "k") == "v");

  server.stop();  // kill -9 mid-run
  const auto connects_before = l3->stats().connects;
  for (int i = 0; i < 50; ++i) {
    auto fresh = make_cache({nullptr, l3, reg});  // an empty L1: every lookup reaches L3
    CHECK_FALSE(lookup_sync(fresh, "k"));         // a miss, never an error to the caller
  }
  // Fast misses: after the first failures the breaker answers without
  // touching the network (no reconnect storm, no timeouts waited out).
  auto s = l3->stats();
  CHECK(s.connects - connects_before <= 2);  // no reconnect storm
  CHECK(s.rejected_open >= 45);
  CHECK(l3->circuit() == breaker_state::open);
  CHECK(requests(*reg, "l3", "rejected") >= 45);
  CHECK(requests(*reg, "l3", "error") >= 1);
  CHECK(c.lookup("k", {}).state == found::miss);  // no L3 callback given: a plain miss

  server.start();  // back, empty (no persistence)
  bool resumed = false;
  for (int i = 0; i < 100 && !resumed; ++i) {  // the cooldown is 200 ms (doubling): ~5 s max
    std::this_thread::sleep_for(50ms);
    redis_put_sync(*l3, "tool:k", "v2", 60s);
    auto fresh = make_cache({nullptr, l3, reg});
    resumed = lookup_sync(fresh, "k") == std::optional<std::string>{"v2"};
  }
  CHECK(resumed);
  CHECK(l3->circuit() == breaker_state::closed);
}

TEST_CASE("cache: a full redis queue is a miss at once and a dropped put") {
  // A listener that accepts and never answers holds the I/O thread for the
  // whole timeout, so the queue fills.
  cache_test_support::silent_listener silent;
  redis_cache_config cfg;
  cfg.url = silent.url();
  cfg.timeout = 300ms;
  cfg.queue_max = 2;
  auto reg = std::make_shared<metrics::registry>();
  auto l3 = redis_cache::make(cfg);
  REQUIRE(l3);
  auto c = make_cache({nullptr, *l3, reg});
  int pending = 0;
  int missed = 0;
  for (int i = 0; i < 10; ++i) {
    auto r = c.lookup("k" + std::to_string(i), [](l3_reply) {});
    (r.state == found::pending ? pending : missed) += 1;
  }
  CHECK(pending <= 3);  // the queue (2) plus the one in progress
  CHECK(missed >= 7);
  CHECK(requests(*reg, "l3", "rejected") == static_cast<uint64_t>(missed));
  CHECK((*l3)->stats().rejected_full >= 7);
  l3->reset();  // answers the queued ones `rejected`, waits for the call in progress
}

}  // namespace cache_redis_test
