// Agents over HTTP providers, built from config text by the Runtime as a
// user would: the full tool loop over each provider kind, streamed tasks,
// and fallback chains (on errors, on an open breaker, never after part of an
// answer was streamed).
#include "http_provider_fixture.hpp"

#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/host/runtime_client.hpp"

namespace http_provider_agent_test {

using namespace http_provider_fixture;

// The openai route fails with 503 whenever the prompt says "flaky", and
// drops its stream after three events when the prompt says "drop" (the drip
// lets those events reach the client before the connection is cut).
const char* const scenario = R"({
  "name": "agents", "seed": 5, "api_key": "k", "chunk_chars": 4,
  "limits": {"threads": 8},
  "rules": [
    {"name": "flaky-openai", "match": {"contains": "flaky", "api": "openai"},
     "faults": {"inject": [{"fault": "status", "status": 503, "rate": 1.0}]}},
    {"name": "drop-openai", "match": {"contains": "drop", "api": "openai"},
     "reply": {"text": "This answer will be cut off somewhere in the middle of it."},
     "faults": {"inject": [{"fault": "drop", "rate": 1.0, "after_events": 3}], "drip_ms": 20}},
    {"name": "calc-call", "match": {"contains": "compute", "tools": true, "tool_result": false},
     "reply": {"text": "", "tool_calls": [{"name": "calculator", "arguments": {"expression": "6*7"}}]}},
    {"name": "calc-answer", "match": {"tool_result": true, "tool_result_contains": "42"},
     "reply": {"text": "The answer is 42."}},
    {"name": "hello", "match": {"contains": "hello"}, "reply": {"text": "Hello, agent."}}
  ]})";

// A provider section pointing `kind` at the mock.
std::string provider_section(const fixture& f, const std::string& name, const std::string& kind,
                             const std::string& extra = {}) {
  auto c = f.config(kind, name);
  return "[provider." + name + "]\nkind = " + kind + "\nbase_url = " + c.base_url
         + "\napi_key = k\nmodel = test-model\nretry_delay = 5ms\nretry_delay_max = 20ms\n"
         + extra;
}

std::unique_ptr<Runtime> build(const std::string& text) {
  auto cfg = parse_node_config(text, "/tmp/agents.ini", {}, {});
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  auto rt = runtime_builder::from_config(*cfg);
  REQUIRE_MESSAGE(rt, describe(rt.error()));
  return std::move(*rt);
}

task_request task(std::string id, std::string input) {
  return task_request{std::move(id), std::move(input), {}};
}


TEST_CASE("http provider: an agent runs its full tool loop over every provider kind") {
  fixture f{scenario};
  for (const std::string kind : {"openai", "anthropic", "gemini", "openrouter",
                                 "openai_compatible"}) {
    INFO(kind);
    auto rt = build(provider_section(f, "llm", kind)
                    + "[tool.calculator]\nkind = calculator\n"
                      "[agent.solver]\nprovider = llm\nmodel = test-model\ntools = calculator\n");
    auto r = runtime_client{*rt}.run("solver", task("t-" + kind, "Please compute six times seven."));
    REQUIRE_MESSAGE(r, describe(r.error()));
    CHECK(r->output == "The answer is 42.");
    CHECK(r->model_calls == 2);
    REQUIRE(r->tool_calls.size() == 1);
    CHECK(r->tool_calls[0].tool == "calculator");
    CHECK(r->tool_calls[0].ok);
    auto ps = runtime_client{*rt}.stats_of_provider("llm");
    REQUIRE(ps);
    CHECK(ps->succeeded == 2);
    CHECK(ps->prompt_tokens > 0);
    CHECK(r->usage.prompt_tokens == ps->prompt_tokens);
    CHECK(!rt->shutdown());
  }
}

TEST_CASE("http provider: a streamed task delivers each model call's tokens as they arrive") {
  fixture f{scenario};
  auto rt = build(provider_section(f, "llm", "anthropic")
                  + "[tool.calculator]\nkind = calculator\n"
                    "[agent.solver]\nprovider = llm\ntools = calculator\n");
  std::vector<stream_chunk> chunks;
  auto r = runtime_client{*rt}.run_streaming("solver", task("s-1", "Please compute six times seven."),
                             [&](const stream_chunk& c) { chunks.push_back(c); });
  REQUIRE_MESSAGE(r, describe(r.error()));
  CHECK(r->output == "The answer is 42.");
  // First call: the tool call; second call: the answer, in pieces.
  std::string second;
  size_t calls = 0;
  for (const auto& c : chunks) {
    if (c.request_id == "s-1-1")
      calls += c.tool_calls.size();
    if (c.request_id == "s-1-2")
      second += c.delta_text;
  }
  CHECK(calls == 1);
  CHECK(second == "The answer is 42.");
  CHECK(chunks.size() > 3);
}

TEST_CASE("http provider: the fallback chain moves on when the primary fails after its retries") {
  fixture f{scenario};
  auto rt = build(provider_section(f, "primary", "openai", "retries_max = 1\n")
                  + provider_section(f, "backup", "anthropic")
                  + "[agent.a]\nprovider = primary\nfallback = backup\n");
  auto r = runtime_client{*rt}.run("a", task("f-1", "hello, this is flaky"));
  REQUIRE_MESSAGE(r, describe(r.error()));
  CHECK(r->output == "Hello, agent.");
  auto primary = runtime_client{*rt}.stats_of_provider("primary");
  auto backup = runtime_client{*rt}.stats_of_provider("backup");
  REQUIRE((primary && backup));
  CHECK(primary->attempts == 2);  // first try and one retry
  CHECK(primary->failed == 1);
  CHECK(backup->succeeded == 1);
  // A request the primary can answer stays there.
  auto ok = runtime_client{*rt}.run("a", task("f-2", "hello"));
  REQUIRE(ok);
  CHECK(runtime_client{*rt}.stats_of_provider("primary")->succeeded == 1);
  CHECK(runtime_client{*rt}.stats_of_provider("backup")->succeeded == 1);
}

TEST_CASE("http provider: an open breaker sends the chain to the fallback without a request") {
  fixture f{scenario};
  auto rt = build(provider_section(f, "primary", "openai",
                                   "retries_max = 0\nbreaker_failures = 1\nbreaker_cooldown = 1h\n"
                                   "breaker_cooldown_max = 1h\n")
                  + provider_section(f, "backup", "gemini")
                  + "[agent.a]\nprovider = primary\nfallback = backup\n");
  REQUIRE(runtime_client{*rt}.run("a", task("b-1", "hello, flaky one")));  // opens the breaker, backup answers
  const auto before = f.mock_requests();
  auto r = runtime_client{*rt}.run("a", task("b-2", "hello"));  // the primary would answer, but is open
  REQUIRE_MESSAGE(r, describe(r.error()));
  CHECK(r->output == "Hello, agent.");
  CHECK(f.mock_requests() - before == 1);  // only the backup's request reached the server
  auto primary = runtime_client{*rt}.stats_of_provider("primary");
  REQUIRE(primary);
  CHECK(primary->breaker_state == "open");
  CHECK(primary->breaker_rejected == 1);
}

TEST_CASE("http provider: no fallback once part of a streamed answer reached the caller") {
  fixture f{scenario};
  auto rt = build(provider_section(f, "primary", "openai")
                  + provider_section(f, "backup", "anthropic")
                  + "[agent.a]\nprovider = primary\nfallback = backup\n");
  std::string seen;
  auto r = runtime_client{*rt}.run_streaming("a", task("d-1", "hello, please drop"),
                             [&](const stream_chunk& c) { seen += c.delta_text; });
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::provider_error);
  CHECK(!seen.empty());  // the beginning arrived, and was not followed by a second beginning
  CHECK(seen.find("This") == 0);
  CHECK(describe(r.error()).find("streamed") != std::string::npos);
  CHECK(runtime_client{*rt}.stats_of_provider("backup")->calls == 0);
}

TEST_CASE("http provider: config check rejects bad fallback chains and provider key pairs") {
  auto err = [](const std::string& text) {
    auto cfg = parse_node_config(text, "n.ini", {}, {});
    REQUIRE_FALSE(cfg);
    return error_context(cfg.error());
  };
  CHECK(err("[provider.p]\n[agent.a]\nprovider = p\nfallback = q\n").find("no section [provider.q]")
        != std::string::npos);
  CHECK(err("[provider.p]\n[agent.a]\nprovider = p\nfallback = p\n").find("twice")
        != std::string::npos);
  CHECK(err("[provider.p]\nkind = openai_compatible\n[agent.a]\nprovider = p\n")
          .find("base_url")
        != std::string::npos);
  CHECK(err("[provider.p]\nkind = openai\nbreaker_window = 5\nbreaker_window_min = 6\n"
            "[agent.a]\nprovider = p\n")
          .find("breaker_window_min")
        != std::string::npos);
  CHECK(err("[provider.p]\nkind = openai\nretry_delay = 10s\nretry_delay_max = 1s\n"
            "[agent.a]\nprovider = p\n")
          .find("retry_delay")
        != std::string::npos);
  // HTTP keys do not apply to the scripted kind.
  CHECK(err("[provider.p]\nrules = r.json\nretries_max = 3\n[agent.a]\nprovider = p\n")
          .find("retries_max")
        != std::string::npos);
}

TEST_CASE("http provider: an agent whose deadline passes cancels its provider call") {
  fixture f{R"({"name": "slow", "seed": 1, "api_key": "k",
    "rules": [{"name": "slow", "match": {"contains": "slow"}, "reply": {"text": "late"},
               "faults": {"latency_ms": 3000}}]})"};
  auto rt = build(provider_section(f, "llm", "openai")
                  + "[agent.a]\nprovider = llm\nrequest_timeout = 100ms\n");
  auto r = runtime_client{*rt}.run("a", task("slow-1", "a slow question"));
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::timeout);
  // The cancel reaches the provider right after the agent's timeout; poll
  // its stats (bounded) until the call is gone.
  provider_stats s;
  for (int i = 0; i < 400; ++i) {
    s = *runtime_client{*rt}.stats_of_provider("llm");
    if (s.cancelled == 1)
      break;
    std::this_thread::sleep_for(5ms);
  }
  CHECK(s.cancelled == 1);
  CHECK(s.in_flight == 0);
}

}  // namespace http_provider_agent_test
