// The in-memory levels of the multi-level cache (L1 per actor, L2 shared per
// process) and their composition without Redis: bounds, TTL on a virtual
// clock, fall-through and fill-upward, put-through, exact metric counts.
#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "cache_test_support.hpp"
#include "runtime/cache/multi_level_cache.hpp"
#include "runtime/error.hpp"

namespace cache_levels_test {

using namespace agentgraph;
using namespace agentgraph::cache;
using namespace std::chrono_literals;
using cache_test_support::virtual_clock;

std::shared_ptr<shared_cache> make_l2(uint32_t entries, uint64_t bytes, const virtual_clock& clk,
                                      uint32_t shards = 1) {
  shared_cache_config cfg;
  cfg.entries_max = entries;
  cfg.bytes_max = bytes;
  cfg.ttl_max = 10s;
  cfg.shards_max = shards;
  cfg.clock = clk.fn();
  auto l2 = shared_cache::make(cfg);
  REQUIRE(l2);
  return *l2;
}

multi_level_cache make_cache(const virtual_clock& clk, cache_tiers tiers, uint32_t l1 = 8) {
  multi_level_cache_config cfg;
  cfg.l1_entries_max = l1;
  cfg.ttl = 1000ms;
  cfg.clock = clk.fn();
  cfg.tiers = std::move(tiers);
  auto c = multi_level_cache::make(std::move(cfg));
  REQUIRE(c);
  return std::move(*c);
}

TEST_CASE("cache: keys are namespaced by user") {
  CHECK(namespaced_key(cache_user::tool, "k") == "tool:k");
  CHECK(namespaced_key(cache_user::llm, "k") == "llm:k");
  CHECK(namespaced_key(cache_user::node, "k") == "node:k");
}

TEST_CASE("cache: L1 is bounded in entries and entries expire on the virtual clock") {
  virtual_clock clk;
  local_cache l1{2, 1000ms, clk.fn()};
  CHECK(l1.put("a", "1", 1000ms));
  CHECK(l1.put("b", "2", 200ms));  // a shorter TTL of its own
  CHECK(l1.put("c", "3", 1000ms));  // evicts a, the least recently used
  CHECK_FALSE(l1.get("a"));
  clk.advance(200ms);
  CHECK_FALSE(l1.get("b"));
  CHECK(l1.get("c") == "3");
  CHECK(l1.put("d", "4", 5000ms));  // capped at the level's 1000 ms
  clk.advance(999ms);
  CHECK(l1.get("d") == "4");
  clk.advance(1ms);
  CHECK_FALSE(l1.get("d"));
  CHECK_FALSE(l1.put("e", "5", 0ms));
}

TEST_CASE("cache: L2 is bounded in bytes and refuses a value that can never fit") {
  virtual_clock clk;
  auto l2 = make_l2(100, 20, clk);  // one shard: 20 bytes of keys + values
  CHECK(l2->put("k1", std::string(8, 'x'), 1s));  // 10 bytes
  CHECK(l2->put("k2", std::string(8, 'y'), 1s));  // 20 bytes: full
  CHECK(l2->put("k3", std::string(8, 'z'), 1s));  // evicts k1
  CHECK_FALSE(l2->get("k1"));
  CHECK(l2->get("k2"));
  CHECK(l2->get("k3"));
  CHECK_FALSE(l2->put("huge", std::string(30, 'h'), 1s));
  auto s = l2->stats();
  CHECK(s.entries == 2);
  CHECK(s.bytes == 20);
  CHECK(s.evictions == 1);
}

TEST_CASE("cache: L2 shards split the entry bound and expire entries") {
  virtual_clock clk;
  auto l2 = make_l2(64, 1 << 20, clk, 16);
  CHECK(l2->shard_count() == 16);
  for (int i = 0; i < 1000; ++i)
    l2->put("key" + std::to_string(i), "v", 500ms);
  CHECK(l2->stats().entries <= 64);
  CHECK(l2->put("late", "v", 500ms));
  clk.advance(500ms);
  CHECK_FALSE(l2->get("late"));
  auto tiny = make_l2(3, 1 << 20, clk, 16);  // fewer entries than shards
  CHECK(tiny->shard_count() == 3);
  CHECK_FALSE(shared_cache::make({0, 1, 1s, 1, clk.fn()}));
}

TEST_CASE("cache: L2 serves several threads at once") {
  virtual_clock clk;
  auto l2 = make_l2(4096, 1 << 20, clk, 16);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([l2, t] {
      for (int i = 0; i < 500; ++i) {
        auto key = std::to_string(t) + ":" + std::to_string(i);
        l2->put(key, key, 1s);
        CHECK(l2->get(key) == key);
      }
    });
  for (auto& th : threads)
    th.join();
  CHECK(l2->stats().entries == 2000);
}

TEST_CASE("cache: a lookup falls through L1 to L2 and fills L1, with exact counts") {
  virtual_clock clk;
  auto reg = std::make_shared<metrics::registry>();
  cache_tiers tiers{make_l2(100, 1 << 20, clk), nullptr, reg};
  auto writer = make_cache(clk, tiers);
  auto reader = make_cache(clk, tiers);  // another actor: its own L1, the same L2
  writer.put("k", "v");                  // put-through: L1 and L2
  CHECK(cache_test_support::counter(*reg, "agentgraph_cache_puts_total",
                                    {"user", "level", "outcome"}, {"tool", "l2", "ok"}) == 1);
  auto first = reader.lookup("k", {});
  CHECK(first.state == found::hit);
  CHECK(first.level == level_id::l2);
  CHECK(first.value == "v");
  auto second = reader.lookup("k", {});
  CHECK(second.level == level_id::l1);
  CHECK(reader.lookup("absent", {}).state == found::miss);
  using cache_test_support::requests;
  CHECK(requests(*reg, "l1", "miss") == 2);
  CHECK(requests(*reg, "l1", "hit") == 1);
  CHECK(requests(*reg, "l2", "hit") == 1);
  CHECK(requests(*reg, "l2", "miss") == 1);
  CHECK(cache_test_support::fills(*reg, "l1") == 1);
  CHECK(cache_test_support::fills(*reg, "l2") == 0);
}

TEST_CASE("cache: users do not see each other's entries") {
  virtual_clock clk;
  cache_tiers tiers{make_l2(100, 1 << 20, clk), nullptr, nullptr};
  auto tool = make_cache(clk, tiers);
  multi_level_cache_config cfg;
  cfg.user = cache_user::llm;
  cfg.clock = clk.fn();
  cfg.tiers = tiers;
  auto llm = multi_level_cache::make(cfg);
  REQUIRE(llm);
  tool.put("same", "from tool");
  CHECK(llm->lookup("same", {}).state == found::miss);
  CHECK(tiers.l2->get("tool:same") == "from tool");
}

TEST_CASE("cache: the L1 entry expires with the user's TTL") {
  virtual_clock clk;
  auto c = make_cache(clk, {});
  c.put("k", "v");
  clk.advance(999ms);
  CHECK(c.lookup("k", {}).state == found::hit);
  clk.advance(1ms);
  CHECK(c.lookup("k", {}).state == found::miss);
  multi_level_cache_config bad;
  bad.l1_entries_max = 0;
  CHECK_FALSE(multi_level_cache::make(bad));
}

TEST_CASE("cache: redis URLs are parsed or refused with the reason") {
  auto ep = parse_redis_url("redis://127.0.0.1:6390/3");
  REQUIRE(ep);
  CHECK(ep->host == "127.0.0.1");
  CHECK(ep->port == 6390);
  CHECK(ep->db == 3);
  auto plain = parse_redis_url("redis://cache.local");
  REQUIRE(plain);
  CHECK(plain->port == 6379);
  for (const char* bad : {"http://x:1", "redis://", "redis://h:0", "redis://h:99999",
                          "redis://u:p@h:1", "redis://h:1/x"}) {
    INFO(bad);
    auto r = parse_redis_url(bad);
    REQUIRE_FALSE(r);
    CHECK(error_context(r.error()).find("redis_url") != std::string::npos);
  }
}

TEST_CASE("cache: make_cache_tiers builds what the [cache] section declares") {
  cache_settings s;
  auto l2_only = make_cache_tiers(s, nullptr);
  REQUIRE(l2_only);
  CHECK(l2_only->l2 != nullptr);
  CHECK(l2_only->l3 == nullptr);
  s.l2_entries_max = 0;
  s.redis_url = "redis://127.0.0.1:1";  // nothing listens: fine, it connects lazily
  auto l3_only = make_cache_tiers(s, nullptr);
  REQUIRE(l3_only);
  CHECK(l3_only->l2 == nullptr);
  CHECK(l3_only->l3 != nullptr);
  s.redis_url = "nonsense";
  CHECK_FALSE(make_cache_tiers(s, nullptr));
}

}  // namespace cache_levels_test
