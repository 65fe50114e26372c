// The [cache] section through the Runtime: two runtimes (as two nodes)
// sharing tool results through the real Redis of the test run (L3), and a
// runtime whose Redis is down still answering every call.
#include <thread>
#include <doctest/doctest.h>

#include <cstdlib>
#include <random>

#include <caf/scoped_actor.hpp>

#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/host/runtime_client.hpp"
#include "runtime/error.hpp"

namespace cache_runtime_test {

using namespace agentgraph;

std::string config(const std::string& redis_url, const std::string& prefix) {
  const std::string rules = AGENTGRAPH_SOURCE_DIR "/configs/examples/research.rules.json";
  return "[cache]\nredis_url = " + redis_url + "\nredis_key_prefix = " + prefix
         + "\nredis_timeout = 200ms\n[provider.scripted]\nrules = " + rules
         + "\n[tool.calc]\nkind = calculator\ncache = true\n[agent.a]\ntools = calc\n";
}

caf::expected<tool_result> invoke(Runtime& rt, const std::string& expression) {
  auto tool = rt.tool("calc");
  REQUIRE(tool);
  caf::scoped_actor self{rt.system()};
  caf::expected<tool_result> out = make_error(errc::internal, "none");
  self->request(*tool, std::chrono::seconds{10}, invoke_atom::value,
                tool_invocation{"c1", Value{Value::Object{{"expression", Value{expression}}}}})
    .receive([&](tool_result& r) { out = std::move(r); },
             [&](caf::error& e) { out = std::move(e); });
  return out;
}

TEST_CASE("cache through the runtime: two runtimes share tool results through Redis") {
  const char* url = std::getenv("AGENTGRAPH_TEST_REDIS_URL");
  REQUIRE_MESSAGE(url != nullptr, "AGENTGRAPH_TEST_REDIS_URL is not set: run tools/test.sh or "
                                  "`tools/test-services.sh run ctest ...`");
  auto prefix = "rt" + std::to_string(std::random_device{}() % 1'000'000) + ":";
  auto cfg = parse_node_config(config(url, prefix), "c.ini", {}, {});
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  auto a = runtime_builder::from_config(*cfg);
  auto b = runtime_builder::from_config(*cfg);
  REQUIRE((a && b));
  auto first = invoke(**a, "6*7");
  REQUIRE_MESSAGE(first, describe(first.error()));
  CHECK_FALSE(first->from_cache);
  // The write to Redis is behind the answer (its I/O thread): wait, bounded,
  // until Redis confirmed it, or b may ask before the value is there.
  const std::string l3_written =
    R"(agentgraph_cache_puts_total{user="tool",level="l3",outcome="ok"} 1)";
  for (int i = 0; i < 500 && (*a)->metrics().scrape().find(l3_written) == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  REQUIRE((*a)->metrics().scrape().find(l3_written) != std::string::npos);
  // The other runtime has empty L1 and L2: only Redis can answer from cache.
  auto second = invoke(**b, "6*7");
  REQUIRE(second);
  CHECK(second->from_cache);
  CHECK(second->output == first->output);
  CHECK((*b)->metrics().scrape().find(
          R"(agentgraph_cache_requests_total{user="tool",level="l3",outcome="hit"} 1)")
        != std::string::npos);
}

TEST_CASE("cache through the runtime: Redis down means misses, never a failed call") {
  // Port 9 (discard) on loopback: nothing answers Redis there.
  auto cfg = parse_node_config(config("redis://127.0.0.1:9", "down:"), "c.ini", {}, {});
  REQUIRE(cfg);
  auto rt = runtime_builder::from_config(*cfg);
  REQUIRE(rt);
  for (const char* e : {"1+1", "2+2", "1+1"}) {
    auto r = invoke(**rt, e);
    REQUIRE_MESSAGE(r, describe(r.error()));
  }
  // The repeated call is served by this runtime's own levels.
  auto again = invoke(**rt, "2+2");
  REQUIRE(again);
  CHECK(again->from_cache);
}

}  // namespace cache_runtime_test

namespace cache_runtime_test {

TEST_CASE("cache through the runtime: an agent with llm_cache answers a repeated request from it") {
  const std::string rules = AGENTGRAPH_SOURCE_DIR "/configs/examples/research.rules.json";
  auto text = [&](bool on) {
    return "[provider.scripted]\nrules = " + rules + "\n[agent.a]\nhistory_window = 0\nllm_cache = "
           + std::string{on ? "true" : "false"} + "\n";
  };
  auto cfg = parse_node_config(text(true), "c.ini", {}, {});
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  auto rt = runtime_builder::from_config(*cfg);
  REQUIRE(rt);
  auto first = runtime_client{**rt}.run("a", task_request{"t1", "what is the weather?", {}});
  REQUIRE_MESSAGE(first, describe(first.error()));
  auto calls_after_first = runtime_client{**rt}.stats_of_provider("scripted")->calls;
  CHECK(calls_after_first == first->model_calls);
  auto second = runtime_client{**rt}.run("a", task_request{"t2", "what is the weather?", {}});
  REQUIRE(second);
  CHECK(second->output == first->output);
  // Every model call of the second task was answered by the cache: the
  // provider saw nothing new, and a hit costs no tokens.
  CHECK(runtime_client{**rt}.stats_of_provider("scripted")->calls == calls_after_first);
  CHECK(second->usage.prompt_tokens == 0);
  CHECK(second->usage.completion_tokens == 0);
  CHECK((*rt)->metrics().scrape().find(
          R"(agentgraph_cache_requests_total{user="llm",level="l1",outcome="hit"} )")
        != std::string::npos);
  // Off (the default): the provider answers every time.
  auto off = runtime_builder::from_config(*parse_node_config(text(false), "c.ini", {}, {}));
  REQUIRE(off);
  REQUIRE(runtime_client{**off}.run("a", task_request{"t1", "what is the weather?", {}}));
  REQUIRE(runtime_client{**off}.run("a", task_request{"t2", "what is the weather?", {}}));
  CHECK(runtime_client{**off}.stats_of_provider("scripted")->calls == 2 * calls_after_first);
}

}  // namespace cache_runtime_test
