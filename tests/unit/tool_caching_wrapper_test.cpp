// The caching wrapper around a real calculator actor, with an injected clock
// so TTL expiry needs no sleeping.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "actors/tool/caching_tool.hpp"
#include "actors/tool/calculator_tool.hpp"
#include "actors/tool/file_read_tool.hpp"
#include "actors/tool/tool_factory.hpp"
#include "tool_test_fixture.hpp"

namespace tool_caching_test {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// Read on the wrapper's thread, moved by the test: atomic for that reason.
struct shared_clock {
  std::shared_ptr<std::atomic<int64_t>> ms = std::make_shared<std::atomic<int64_t>>(0);
  [[nodiscard]] std::function<clock_type::time_point()> fn() const {
    return [ms = ms] { return clock_type::time_point{} + std::chrono::milliseconds{ms->load()}; };
  }
  void advance(std::chrono::milliseconds d) const { *ms += d.count(); }
};

struct cached_calculator {
  agentgraph::tool_actor tool;
  shared_clock clock;
};

cached_calculator make_cached(tool_test::fixture& fx, uint32_t entries_max) {
  cached_calculator out;
  agentgraph::caching_tool_config cc;
  cc.ttl = 1000ms;
  cc.entries_max = entries_max;
  cc.inner_timeout = 10s;
  cc.clock = out.clock.fn();
  auto inner = fx.keep(agentgraph::spawn_calculator_tool(fx.sys, "calc"));
  auto wrapped = agentgraph::spawn_caching_tool(fx.sys, inner, agentgraph::calculator_spec("calc"),
                                                std::move(cc));
  REQUIRE(wrapped);
  fx.keep(*wrapped);
  out.tool = *wrapped;
  return out;
}

agentgraph::Value expr(const char* text) {
  agentgraph::Value v = agentgraph::Value::object();
  v["expression"] = text;
  return v;
}

using agentgraph::errc;

TEST_CASE("tool: cache key is canonical in the argument order") {
  auto a = tool_test::args_of(R"({"x":1,"y":[1,2]})");
  auto b = tool_test::args_of(R"({"y":[1,2],"x":1})");
  CHECK(agentgraph::tool_cache_key("t", a) == agentgraph::tool_cache_key("t", b));
  CHECK(agentgraph::tool_cache_key("t", a) != agentgraph::tool_cache_key("u", a));
}

TEST_CASE("tool: caching tool answers repeats from the cache and counts hits and misses") {
  tool_test::fixture fx;
  auto c = make_cached(fx, 8);
  auto first = fx.invoke(c.tool, "c1", expr("6*7"));
  REQUIRE(first);
  CHECK_FALSE(first->from_cache);
  auto second = fx.invoke(c.tool, "c2", expr("6*7"));
  REQUIRE(second);
  CHECK(second->from_cache);
  CHECK(second->call_id == "c2");
  CHECK(second->output == first->output);
  auto st = fx.stats(c.tool);
  CHECK(st.calls == 2);
  CHECK(st.cache_hits == 1);
  CHECK(st.cache_misses == 1);
  CHECK(st.cache_entries == 1);
  CHECK(fx.describe(c.tool).name == "calc");
  CHECK(fx.pongs(c.tool));
}

TEST_CASE("tool: caching tool entries expire after the TTL of the injected clock") {
  tool_test::fixture fx;
  auto c = make_cached(fx, 8);
  REQUIRE(fx.invoke(c.tool, "c1", expr("1+1")));
  c.clock.advance(999ms);
  auto hit = fx.invoke(c.tool, "c2", expr("1+1"));
  REQUIRE(hit);
  CHECK(hit->from_cache);
  c.clock.advance(1ms);
  auto expired = fx.invoke(c.tool, "c3", expr("1+1"));
  REQUIRE(expired);
  CHECK_FALSE(expired->from_cache);
  auto st = fx.stats(c.tool);
  CHECK(st.cache_hits == 1);
  CHECK(st.cache_misses == 2);
  CHECK(st.cache_entries == 1);
}

TEST_CASE("tool: caching tool never caches errors") {
  tool_test::fixture fx;
  auto c = make_cached(fx, 8);
  for (const char* id : {"c1", "c2"}) {
    auto r = fx.invoke(c.tool, id, expr("1/0"));
    REQUIRE_FALSE(r);
    CHECK(tool_test::code_of(r.error()) == errc::invalid_argument);
  }
  auto st = fx.stats(c.tool);
  CHECK(st.errors == 2);
  CHECK(st.cache_hits == 0);
  CHECK(st.cache_misses == 2);
  CHECK(st.cache_entries == 0);
}

TEST_CASE("tool: caching tool evicts the least recently used result") {
  tool_test::fixture fx;
  auto c = make_cached(fx, 2);
  REQUIRE(fx.invoke(c.tool, "1", expr("1")));
  REQUIRE(fx.invoke(c.tool, "2", expr("2")));
  CHECK(fx.invoke(c.tool, "3", expr("1"))->from_cache);        // "1" is now most recent
  CHECK_FALSE(fx.invoke(c.tool, "4", expr("3"))->from_cache);  // evicts "2"
  CHECK(fx.invoke(c.tool, "5", expr("1"))->from_cache);
  CHECK_FALSE(fx.invoke(c.tool, "6", expr("2"))->from_cache);
  CHECK(fx.stats(c.tool).cache_entries == 2);
}

TEST_CASE("tool: caching tool refuses non-deterministic tools") {
  tool_test::fixture fx;
  auto inner = fx.keep(agentgraph::spawn_calculator_tool(fx.sys, "files"));
  auto r = agentgraph::spawn_caching_tool(fx.sys, inner, agentgraph::file_read_spec("files"), {});
  REQUIRE_FALSE(r);
  CHECK(tool_test::code_of(r.error()) == errc::invalid_argument);
  CHECK(agentgraph::error_context(r.error()).find("'files'") != std::string::npos);
}

TEST_CASE("tool: spawn_tool wraps a calculator in the cache when cache is set") {
  tool_test::fixture fx;
  agentgraph::tool_config cfg;
  cfg.name = "calc";
  cfg.kind = "calculator";
  cfg.cache = true;
  auto tool = agentgraph::spawn_tool(fx.sys, cfg);
  REQUIRE(tool);
  fx.keep(*tool);
  REQUIRE(fx.invoke(*tool, "a", expr("2^10")));
  auto again = fx.invoke(*tool, "b", expr("2^10"));
  REQUIRE(again);
  CHECK(again->from_cache);
  CHECK(again->output.find("value")->as_double() == 1024.0);
  CHECK(fx.stats(*tool).cache_hits == 1);
}

}  // namespace tool_caching_test
