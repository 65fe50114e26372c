// Issue 4: every actor kind records its own metrics into the Runtime's
// registry. Each test does known work and then asserts exact series values
// on the Prometheus page, the way an operator would read them.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/agent/agent_metrics.hpp"
#include "actors/host/node_config.hpp"
#include "actors/host/register_types.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/host/runtime_client.hpp"
#include "actors/tool/tool_factory.hpp"
#include "http_provider_fixture.hpp"
#include "runtime/error.hpp"
#include "runtime/supervisor.hpp"

namespace metrics_wiring_test {

using namespace agentgraph;
using namespace std::chrono_literals;
using json = nlohmann::json;

// The value of one series on a scrape page, e.g.
// `agentgraph_agent_tasks_total{agent="planner",outcome="ok"}`; nullopt when
// the page has no such line.
std::optional<double> sample(const std::string& page, const std::string& series) {
  const std::string key = series + " ";
  size_t at = page.rfind(key, 0) == 0 ? 0 : page.find("\n" + key);
  if (at == std::string::npos)
    return std::nullopt;
  if (at != 0)
    ++at;  // past the newline
  return std::strtod(page.c_str() + at + key.size(), nullptr);
}

// The series value, or -1 when it is missing (so a CHECK shows both).
double value(const std::string& page, const std::string& series) {
  return sample(page, series).value_or(-1);
}

// Waits (bounded) until `series` reaches `want` on reg's page: for figures
// recorded by an actor after the caller already got its answer.
double wait_for(const metrics::registry& reg, const std::string& series, double want) {
  double got = -1;
  for (int i = 0; i < 1000; ++i) {
    got = value(reg.scrape(), series);
    if (got == want)
      break;
    std::this_thread::sleep_for(5ms);
  }
  return got;
}

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path()
           / ("agentgraph-metrics-wiring-" + std::to_string(::getpid()) + "-"
              + std::to_string(++counter));
    std::filesystem::create_directories(path);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
};

// The main job's config, copied so its memory snapshot lands in `dir`.
std::unique_ptr<Runtime> main_job_runtime(const temp_dir& dir) {
  const std::filesystem::path examples = std::string{AGENTGRAPH_SOURCE_DIR} + "/configs/examples";
  for (const char* f : {"research.ini", "research.rules.json"})
    std::filesystem::copy_file(examples / f, dir.path / f);
  std::filesystem::copy(examples / "workspace", dir.path / "workspace",
                        std::filesystem::copy_options::recursive);
  auto cfg = load_node_config((dir.path / "research.ini").string(), {}, {});
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  auto rt = runtime_builder::from_config(*cfg);
  REQUIRE_MESSAGE(rt, describe(rt.error()));
  return std::move(*rt);
}

constexpr const char* main_task = "How many widgets fit in the crate? Use the spec file.";

// A child that crashes on request and, once told, stops answering pings.
using crash_atom = caf::atom_constant<caf::atom("mw_crash")>;
using hang_atom = caf::atom_constant<caf::atom("mw_hang")>;
using crashy_actor = caf::typed_actor<caf::replies_to<crash_atom>::with<int32_t>,
                                      caf::reacts_to<hang_atom>, heartbeat_signature>;

struct crashy_state {
  bool hung = false;
};

crashy_actor::behavior_type crashy(crashy_actor::stateful_pointer<crashy_state> self) {
  return {
    [](crash_atom) -> int32_t { throw std::runtime_error("crashes on purpose"); },
    [self](hang_atom) { self->state.hung = true; },
    [self](ping_atom) -> caf::result<pong_atom> {
      if (self->state.hung)  // never delivered: the ping times out
        return self->make_response_promise<pong_atom>();
      return pong_atom::value;
    },
  };
}

struct caf_fixture {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  std::optional<caf::scoped_actor> self;
  caf_fixture() {
    register_all_types(cfg);
    cfg.set("scheduler.max-threads", 2);
    sys.emplace(cfg);
    self.emplace(*sys);
  }
  ~caf_fixture() {
    self.reset();
    sys.reset();
  }
};

caf::expected<tool_result> invoke(caf::scoped_actor& self, const tool_actor& tool,
                                  const std::string& expression) {
  caf::expected<tool_result> out = make_error(errc::internal, "no reply");
  Value args = Value::object();
  args["expression"] = expression;
  self->request(tool, 10s, invoke_atom::value, tool_invocation{"c", args})
    .receive([&](tool_result& r) { out = std::move(r); },
             [&](caf::error& e) { out = std::move(e); });
  return out;
}

// -------------------------------------------------------------- main job

TEST_CASE("metrics wiring: a node's load is the tasks its agents run now") {
  auto reg = std::make_shared<metrics::registry>();
  CHECK(agent_tasks_in_flight_total(*reg) == 0);  // no agent yet
  auto a = make_agent_metrics(reg, "a");
  auto b = make_agent_metrics(reg, "b");
  REQUIRE(a.tasks_in_flight != nullptr);
  REQUIRE(b.tasks_in_flight != nullptr);
  a.tasks_in_flight->inc();
  a.tasks_in_flight->inc();
  b.tasks_in_flight->inc();
  CHECK(agent_tasks_in_flight_total(*reg) == 3);
  a.tasks_in_flight->dec();
  CHECK(agent_tasks_in_flight_total(*reg) == 2);
}

TEST_CASE("metrics wiring: the main job's figures are exact on the scrape page") {
  temp_dir dir;
  auto rt = main_job_runtime(dir);
  auto r = runtime_client{*rt}.run("planner", {"t-1", main_task, {}});
  REQUIRE_MESSAGE(r, describe(r.error()));
  auto researcher = runtime_client{*rt}.stats("researcher");
  REQUIRE(researcher);
  auto notes = runtime_client{*rt}.stats_of_memory("notes");
  REQUIRE(notes);
  auto provider = runtime_client{*rt}.stats_of_provider("scripted");
  REQUIRE(provider);
  // The researcher's store is not awaited by its reply: wait for the shard.
  auto& reg = rt->metrics();
  CHECK(wait_for(reg, R"(agentgraph_memory_entries{shard="notes"})", 1) == 1);
  const auto page = reg.scrape();
  INFO(page);
  CHECK(value(page, R"(agentgraph_agent_tasks_total{agent="planner",outcome="ok"})") == 1);
  CHECK(value(page, R"(agentgraph_agent_tasks_total{agent="researcher",outcome="ok"})") == 1);
  CHECK_FALSE(sample(page, R"(agentgraph_agent_tasks_total{agent="planner",outcome="timeout"})"));
  CHECK(value(page, R"(agentgraph_agent_task_duration_seconds_count{agent="planner"})") == 1);
  CHECK(value(page, R"(agentgraph_agent_tasks_in_flight{agent="planner"})") == 0);
  CHECK(value(page, R"(agentgraph_agent_model_calls_total{agent="planner"})") == r->model_calls);
  CHECK(value(page, R"(agentgraph_agent_tokens_total{agent="planner",direction="prompt"})")
        == r->usage.prompt_tokens);
  CHECK(value(page, R"(agentgraph_agent_tokens_total{agent="planner",direction="completion"})")
        == r->usage.completion_tokens);
  CHECK(value(page, R"(agentgraph_agent_tokens_total{agent="researcher",direction="prompt"})")
        == researcher->prompt_tokens);
  // One delegation, one file read, one calculation (a cache miss).
  CHECK(value(page, R"(agentgraph_tool_calls_total{tool="ask_researcher",outcome="ok"})") == 1);
  CHECK(value(page, R"(agentgraph_tool_calls_total{tool="file_read",outcome="ok"})") == 1);
  CHECK(value(page, R"(agentgraph_tool_calls_total{tool="calculator",outcome="ok"})") == 1);
  CHECK(value(page, R"(agentgraph_tool_cache_misses_total{tool="calculator"})") == 1);
  CHECK(value(page, R"(agentgraph_tool_cache_hits_total{tool="calculator"})") == 0);
  CHECK(value(page, R"(agentgraph_tool_call_duration_seconds_count{tool="file_read"})") == 1);
  CHECK(value(page, R"(agentgraph_tool_calls_in_flight{tool="file_read"})") == 0);
  // Every model call of both agents went to the one scripted provider.
  const double model_calls = r->model_calls + value(page, R"(agentgraph_agent_model_calls_total{agent="researcher"})");
  CHECK(value(page, R"(agentgraph_provider_requests_total{provider="scripted",outcome="ok"})")
        == model_calls);
  CHECK(model_calls == static_cast<double>(provider->succeeded));
  CHECK(value(page, R"(agentgraph_provider_tokens_total{provider="scripted",direction="prompt"})")
        == provider->prompt_tokens);
  CHECK(value(page, R"(agentgraph_provider_request_duration_seconds_count{provider="scripted"})")
        == model_calls);
  // The scripted provider has no HTTP pipeline: no series it cannot fill.
  CHECK_FALSE(sample(page, R"(agentgraph_provider_attempts_total{provider="scripted"})"));
  CHECK(value(page, R"(agentgraph_memory_stores_total{shard="notes",outcome="ok"})") == 1);
  CHECK(value(page, R"(agentgraph_memory_recalls_total{shard="notes",outcome="ok"})") == 1);
  CHECK(value(page, R"(agentgraph_memory_bytes{shard="notes"})") == notes->bytes);
  CHECK(value(page, R"(agentgraph_supervisor_restarts_total{child="agent.planner"})") == 0);
  // Supervision groups relay nothing: no in-flight series for their children
  // (the tool's own in-flight gauge counts its calls).
  CHECK_FALSE(sample(page, R"(agentgraph_supervisor_requests_in_flight{child="tool.calculator"})"));
  CHECK(value(page, R"(agentgraph_metrics_series_refused_total{family="agentgraph_agent_tasks_total"})")
        == -1);
}

// ------------------------------------------------------------ failures

TEST_CASE("metrics wiring: a failed task counts under its error code, its call as cancelled") {
  temp_dir dir;
  std::ofstream{dir.path / "rules.json"}
    << R"({"rules": [{"name": "slow", "when": {"user_contains": "slow"}, "delay_ms": 2000,
                      "reply": "late"},
                     {"name": "echo", "when": {"last_role": "user"}, "reply": "hi"}]})";
  std::ofstream{dir.path / "node.ini"}
    << "[provider.scripted]\nkind = scripted\nrules = rules.json\n"
       "[agent.solo]\nprovider = scripted\nrequest_timeout = 100ms\n";
  auto cfg = load_node_config((dir.path / "node.ini").string(), {}, {});
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  auto rt = runtime_builder::from_config(*cfg);
  REQUIRE_MESSAGE(rt, describe(rt.error()));
  auto failed = runtime_client{**rt}.run("solo", {"", "be slow", {}});
  REQUIRE_FALSE(failed);
  CHECK(errc_of(failed.error()) == errc::timeout);
  auto empty = runtime_client{**rt}.run("solo", {"", "", {}});
  REQUIRE_FALSE(empty);
  REQUIRE(runtime_client{**rt}.run("solo", {"", "hello", {}}));
  auto& reg = (*rt)->metrics();
  // The agent tells the provider to drop the call it stopped waiting for.
  CHECK(wait_for(reg, R"(agentgraph_provider_requests_total{provider="scripted",outcome="cancelled"})", 1)
        == 1);
  const auto page = reg.scrape();
  INFO(page);
  CHECK(value(page, R"(agentgraph_agent_tasks_total{agent="solo",outcome="timeout"})") == 1);
  CHECK(value(page, R"(agentgraph_agent_tasks_total{agent="solo",outcome="invalid_argument"})") == 1);
  CHECK(value(page, R"(agentgraph_agent_tasks_total{agent="solo",outcome="ok"})") == 1);
  CHECK(value(page, R"(agentgraph_agent_task_duration_seconds_count{agent="solo"})") == 2);
  CHECK(value(page, R"(agentgraph_provider_requests_total{provider="scripted",outcome="ok"})") == 1);
}

// ------------------------------------------------------------ tool cache

TEST_CASE("metrics wiring: a cached tool counts hits, misses and errors once per call") {
  caf_fixture fx;
  auto reg = std::make_shared<metrics::registry>();
  tool_config cfg;
  cfg.name = cfg.kind = "calculator";
  cfg.cache = true;
  auto tool = spawn_tool(*fx.sys, cfg, reg);
  REQUIRE_MESSAGE(tool, describe(tool.error()));
  auto& self = *fx.self;
  REQUIRE(invoke(self, *tool, "6*7"));
  auto again = invoke(self, *tool, "6*7");
  REQUIRE(again);
  CHECK(again->from_cache);
  REQUIRE(invoke(self, *tool, "2+2"));
  CHECK_FALSE(invoke(self, *tool, "2+"));  // errors are never cached
  const auto page = reg->scrape();
  INFO(page);
  CHECK(value(page, R"(agentgraph_tool_cache_hits_total{tool="calculator"})") == 1);
  CHECK(value(page, R"(agentgraph_tool_cache_misses_total{tool="calculator"})") == 3);
  CHECK(value(page, R"(agentgraph_tool_calls_total{tool="calculator",outcome="ok"})") == 3);
  CHECK(value(page, R"(agentgraph_tool_calls_total{tool="calculator",outcome="invalid_argument"})")
        == 1);
  CHECK(value(page, R"(agentgraph_tool_call_duration_seconds_count{tool="calculator"})") == 4);
  CHECK(value(page, R"(agentgraph_tool_calls_in_flight{tool="calculator"})") == 0);
  self->send_exit(*tool, caf::exit_reason::user_shutdown);
}

TEST_CASE("metrics wiring: without a registry a tool records nothing and still works") {
  caf_fixture fx;
  tool_config cfg;
  cfg.name = cfg.kind = "calculator";
  auto tool = spawn_tool(*fx.sys, cfg);
  REQUIRE(tool);
  auto r = invoke(*fx.self, *tool, "1+1");
  REQUIRE(r);
  (*fx.self)->send_exit(*tool, caf::exit_reason::user_shutdown);
}

// ------------------------------------------------------------ supervisor

TEST_CASE("metrics wiring: supervisor restarts and missed heartbeats are counted per child") {
  caf_fixture fx;
  auto reg = std::make_shared<metrics::registry>();
  supervision_config sc;
  sc.restarts_max = 5;
  sc.restart_window = 10s;
  sc.heartbeat_interval = 30ms;
  sc.heartbeat_misses_max = 2;
  sc.request_timeout = 5s;
  auto sup = spawn_supervised<crashy_actor>(
    *fx.sys, "worker", sc,
    [](caf::actor_system& sys) { return crashy_actor{sys.spawn(crashy)}; }, reg);
  auto& self = *fx.self;
  bool crashed = false;
  self->request(sup, 5s, crash_atom::value)
    .receive([](int32_t) {}, [&](caf::error& e) { crashed = errc_of(e) == errc::unavailable; });
  CHECK(crashed);
  // The caller hears of the crash before the restart is counted.
  CHECK(wait_for(*reg, R"(agentgraph_supervisor_restarts_total{child="worker"})", 1) == 1);
  // The second incarnation hangs: two missed pings, then a restart.
  self->send(sup, hang_atom::value);
  CHECK(wait_for(*reg, R"(agentgraph_supervisor_restarts_total{child="worker"})", 2) == 2);
  const auto page = reg->scrape();
  INFO(page);
  CHECK(value(page, R"(agentgraph_supervisor_heartbeats_missed_total{child="worker"})") == 2);
  CHECK(value(page, R"(agentgraph_supervisor_escalations_total{child="worker"})") == 0);
  CHECK(value(page, R"(agentgraph_supervisor_requests_in_flight{child="worker"})") == 0);
  self->send_exit(sup, caf::exit_reason::user_shutdown);
}

// ------------------------------------------------------------ HTTP provider

std::string scenario() {
  auto rule = [](const std::string& word, json inject) {
    return json{{"name", word},
                {"match", {{"contains", word}}},
                {"reply", {{"text", "answer for " + word}}},
                {"usage", {{"prompt_tokens", 11}, {"completion_tokens", 7}}},
                {"faults", {{"inject", json::array({std::move(inject)})}}}};
  };
  return json{{"name", "metrics"},
              {"seed", 5},
              {"api_key", "k"},
              {"rules", json::array({rule("flaky", {{"fault", "status"}, {"status", 503}, {"first", 2}}),
                                     rule("broken", {{"fault", "status"}, {"status", 500}, {"rate", 1.0}})})}}
    .dump();
}

TEST_CASE("metrics wiring: the HTTP provider counts attempts, retries, outcomes and its breaker") {
  http_provider_fixture::fixture f{scenario()};
  auto reg = std::make_shared<metrics::registry>();
  auto c = f.config("openai", "mock");
  c.retries_max = 2;
  c.breaker_failures = 3;  // the third failure in a row opens it
  c.breaker_cooldown = 60s;
  c.breaker_cooldown_max = 60s;
  http_provider_deps deps;
  deps.http = f.http;
  deps.jitter_seed = 42;
  deps.metrics = reg;
  auto p = spawn_provider(*f.sys, c, deps);
  REQUIRE_MESSAGE(p, describe(p.error()));
  f.spawned.push_back(*p);
  auto ok = f.chat(*p, http_provider_fixture::fixture::ask("m-1", "please flaky"));
  REQUIRE_MESSAGE(ok, describe(ok.error()));
  // The I/O thread may hand the caller its answer (direct reply) before the
  // provider records the call and frees its slot.
  CHECK(wait_for(*reg, R"(agentgraph_provider_requests_total{provider="mock",outcome="ok"})", 1) == 1);
  CHECK(wait_for(*reg, R"(agentgraph_provider_queue_in_flight{provider="mock"})", 0) == 0);
  auto page = reg->scrape();
  CHECK(value(page, R"(agentgraph_provider_requests_total{provider="mock",outcome="ok"})") == 1);
  CHECK(value(page, R"(agentgraph_provider_attempts_total{provider="mock"})") == 3);
  CHECK(value(page, R"(agentgraph_provider_retries_total{provider="mock"})") == 2);
  CHECK(value(page, R"(agentgraph_provider_tokens_total{provider="mock",direction="prompt"})") == 11);
  CHECK(value(page, R"(agentgraph_provider_tokens_total{provider="mock",direction="completion"})")
        == 7);
  CHECK(value(page, R"(agentgraph_provider_circuit_state{provider="mock"})") == 0);
  CHECK(value(page, R"(agentgraph_provider_queue_in_flight{provider="mock"})") == 0);
  CHECK(value(page, R"(agentgraph_provider_queue_waiting{provider="mock"})") == 0);
  // Each broken call fails three attempts; the breaker counts them and opens.
  auto broken = f.chat(*p, http_provider_fixture::fixture::ask("m-2", "please broken"));
  REQUIRE_FALSE(broken);
  auto refused = f.chat(*p, http_provider_fixture::fixture::ask("m-3", "please broken"));
  REQUIRE_FALSE(refused);
  CHECK(errc_of(refused.error()) == errc::unavailable);
  page = reg->scrape();
  INFO(page);
  CHECK(value(page, R"(agentgraph_provider_circuit_state{provider="mock"})") == 2);
  CHECK(value(page, R"(agentgraph_provider_requests_total{provider="mock",outcome="provider_error"})")
        == 1);
  CHECK(value(page, R"(agentgraph_provider_requests_total{provider="mock",outcome="unavailable"})")
        == 1);
  CHECK(value(page, R"(agentgraph_provider_request_duration_seconds_count{provider="mock"})") == 3);
  CHECK(value(page, R"(agentgraph_provider_attempts_total{provider="mock"})")
        == static_cast<double>(f.stats(*p).attempts));
}

}  // namespace metrics_wiring_test
