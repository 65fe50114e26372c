// ttl_lru_cache on its own: expiry is driven by an injected clock, so no
// test sleeps.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "runtime/ttl_lru_cache.hpp"

namespace tool_cache_test {

using namespace std::chrono_literals;
using agentgraph::ttl_lru_cache;
using clock_type = std::chrono::steady_clock;

// A clock the test moves by hand.
struct manual_clock {
  clock_type::time_point now{};
  auto fn() {
    return [this] { return now; };
  }
};


TEST_CASE("tool: ttl_lru_cache expires entries when the injected clock passes the TTL") {
  manual_clock clock;
  ttl_lru_cache<std::string, int> cache{8, 100ms, clock.fn()};
  cache.put("a", 1);
  clock.now += 99ms;
  CHECK(cache.get("a") == 1);
  clock.now += 1ms;  // exactly at expiry: gone
  CHECK_FALSE(cache.get("a").has_value());
  CHECK(cache.size() == 0);
  CHECK(cache.counters().hits == 1);
  CHECK(cache.counters().misses == 1);
  CHECK(cache.counters().expirations == 1);
}

TEST_CASE("tool: ttl_lru_cache put on an existing key replaces it and restarts its TTL") {
  manual_clock clock;
  ttl_lru_cache<std::string, int> cache{8, 100ms, clock.fn()};
  cache.put("a", 1);
  clock.now += 80ms;
  cache.put("a", 2);
  clock.now += 80ms;
  CHECK(cache.get("a") == 2);
  CHECK(cache.size() == 1);
}

TEST_CASE("tool: ttl_lru_cache evicts the least recently used entry at entries_max") {
  manual_clock clock;
  ttl_lru_cache<std::string, int> cache{3, 1h, clock.fn()};
  cache.put("a", 1);
  cache.put("b", 2);
  cache.put("c", 3);
  CHECK(cache.get("a") == 1);  // order now (MRU first): a c b
  cache.put("d", 4);           // evicts b
  CHECK_FALSE(cache.get("b").has_value());
  CHECK(cache.get("c") == 3);  // order: c d a
  cache.put("e", 5);           // evicts the LRU: a
  CHECK_FALSE(cache.get("a").has_value());
  CHECK(cache.get("c") == 3);
  CHECK(cache.get("d") == 4);
  CHECK(cache.get("e") == 5);
  CHECK(cache.size() == 3);
  CHECK(cache.counters().evictions == 2);
}

TEST_CASE("tool: ttl_lru_cache drops expired entries before evicting live ones") {
  manual_clock clock;
  ttl_lru_cache<std::string, int> cache{2, 100ms, clock.fn()};
  cache.put("old", 1);
  clock.now += 50ms;
  cache.put("live", 2);
  CHECK(cache.get("old") == 1);  // "old" is now most recently used
  clock.now += 60ms;             // "old" expired, "live" not
  cache.put("new", 3);
  CHECK(cache.get("live") == 2);
  CHECK(cache.get("new") == 3);
  CHECK(cache.counters().evictions == 0);
  CHECK(cache.counters().expirations == 1);
}

TEST_CASE("tool: ttl_lru_cache purge_expired and erase") {
  manual_clock clock;
  ttl_lru_cache<int, std::string> cache{4, 10ms, clock.fn()};
  cache.put(1, "x");
  cache.put(2, "y");
  clock.now += 5ms;
  cache.put(3, "z");
  clock.now += 5ms;
  CHECK(cache.purge_expired() == 2);
  CHECK(cache.size() == 1);
  CHECK(cache.erase(3));
  CHECK_FALSE(cache.erase(3));
  CHECK(cache.size() == 0);
}

}  // namespace tool_cache_test
