// The tool cache as the L1 of the multi-level cache: two tool actors share
// an L2 (a hit from the other actor's put), and a Redis that accepts but
// never answers slows lookups down without ever blocking a CAF scheduler
// thread (another actor keeps answering pings meanwhile).
#include <doctest/doctest.h>

#include <algorithm>
#include <future>

#include <caf/event_based_actor.hpp>

#include "actors/tool/caching_tool.hpp"
#include "actors/tool/calculator_tool.hpp"
#include "cache_test_support.hpp"
#include "tool_test_fixture.hpp"

namespace cache_tool_test {

using namespace agentgraph;
using namespace std::chrono_literals;

tool_actor cached_calculator(tool_test::fixture& fx, cache::cache_tiers tiers,
                             std::shared_ptr<metrics::registry> reg = nullptr) {
  caching_tool_config cc;
  cc.ttl = 60s;
  cc.inner_timeout = 10s;
  cc.tiers = std::move(tiers);
  cc.metrics = make_tool_metrics(std::move(reg), "calc", true);
  auto inner = fx.keep(spawn_calculator_tool(fx.sys, "calc"));
  auto wrapped = spawn_caching_tool(fx.sys, inner, calculator_spec("calc"), std::move(cc));
  REQUIRE(wrapped);
  return fx.keep(*wrapped);
}

// Concurrent calls in the blocked-Redis test.
constexpr int calls = 6;

Value expr(const char* text) {
  Value v = Value::object();
  v["expression"] = text;
  return v;
}

TEST_CASE("cache: two tool actors share the L2, so one's result is the other's hit") {
  tool_test::fixture fx;
  auto reg = std::make_shared<metrics::registry>();
  auto l2 = cache::shared_cache::make({});
  REQUIRE(l2);
  cache::cache_tiers tiers{*l2, nullptr, reg};
  auto first = cached_calculator(fx, tiers, reg);
  auto second = cached_calculator(fx, tiers, reg);
  auto computed = fx.invoke(first, "a", expr("6*7"));
  REQUIRE(computed);
  CHECK_FALSE(computed->from_cache);
  auto shared = fx.invoke(second, "b", expr("6*7"));
  REQUIRE(shared);
  CHECK(shared->from_cache);
  CHECK(shared->call_id == "b");
  CHECK(shared->output == computed->output);
  CHECK(fx.stats(second).cache_hits == 1);
  CHECK(fx.stats(second).cache_misses == 0);
  CHECK(fx.stats(second).cache_entries == 1);  // filled into its L1
  CHECK(cache_test_support::requests(*reg, "l2", "hit") == 1);
  CHECK(cache_test_support::fills(*reg, "l1") == 1);
}

TEST_CASE("cache: a tool over a real redis shares results through L3") {
  tool_test::fixture fx;
  cache::redis_cache_config rc;
  rc.url = cache_test_support::shared_redis_url();
  rc.key_prefix = cache_test_support::unique_prefix("tool");
  auto l3 = cache::redis_cache::make(rc);
  REQUIRE(l3);
  auto writer = cached_calculator(fx, {nullptr, *l3, nullptr});
  REQUIRE(fx.invoke(writer, "a", expr("2^20")));
  for (int i = 0; i < 100 && (*l3)->stats().puts_written == 0; ++i)
    std::this_thread::sleep_for(10ms);
  auto reader = cached_calculator(fx, {nullptr, *l3, nullptr});
  auto hit = fx.invoke(reader, "b", expr("2^20"));
  REQUIRE(hit);
  CHECK(hit->from_cache);
  CHECK(hit->output.find("value")->as_double() == 1048576.0);
}

TEST_CASE("cache: a redis that never answers never blocks a CAF scheduler thread") {
  cache_test_support::silent_listener silent;
  tool_test::fixture fx;
  cache::redis_cache_config rc;
  rc.url = silent.url();
  rc.timeout = 300ms;
  rc.breaker_failures = 1000;  // keep every call going to the silent server
  auto l3 = cache::redis_cache::make(rc);
  REQUIRE(l3);
  auto tool = cached_calculator(fx, {nullptr, *l3, nullptr});
  // 6 calls at once: each waits for its L3 lookup (300 ms, one after the
  // other on the I/O thread), then runs the calculator.
  auto answered = std::make_shared<std::promise<int>>();
  auto all = answered->get_future();
  fx.keep(fx.sys.spawn([tool, answered](caf::event_based_actor* self) {
    auto ok = std::make_shared<int>(0);
    auto left = std::make_shared<int>(calls);
    for (int i = 0; i < calls; ++i)
      self->request(tool, 20s, invoke_atom::value,
                    tool_invocation{"c" + std::to_string(i), expr(std::to_string(i).c_str())})
        .then(
          [=](tool_result&) {
            ++*ok;
            if (--*left == 0)
              answered->set_value(*ok);
          },
          [=](caf::error&) {
            if (--*left == 0)
              answered->set_value(*ok);
          });
  }));
  // Meanwhile another actor answers pings: a blocked worker (2 of them)
  // would hold a ping for up to 300 ms.
  auto echo = fx.keep(fx.sys.spawn([]() -> caf::behavior {
    return {[](ping_atom) { return pong_atom::value; }};
  }));
  // A ping answered while the tool calls still wait on Redis proves no
  // scheduler thread is held by them (if every worker were blocked, no
  // ping could be answered before the calls end).
  int answered_while_pending = 0;
  for (int pings = 0; all.wait_for(0s) != std::future_status::ready && pings < 5000; ++pings) {
    bool pong = false;
    (*fx.self)->request(echo, 5s, ping_atom::value)
      .receive([&](pong_atom) { pong = true; }, [](caf::error&) {});
    if (pong && all.wait_for(0s) != std::future_status::ready)
      ++answered_while_pending;
    std::this_thread::sleep_for(5ms);
  }
  REQUIRE(all.wait_for(20s) == std::future_status::ready);
  CHECK(all.get() == calls);  // every call answered, computed: Redis failing is not an error
  CHECK(answered_while_pending >= 1);
  CHECK((*l3)->stats().errors >= 5);
}

}  // namespace cache_tool_test
