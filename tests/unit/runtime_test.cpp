#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/host/runtime_client.hpp"
#include "actors/host/runtime_tables.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;
using namespace std::chrono_literals;

namespace runtime_test {

// Rules for a one-agent runtime: "slow" answers after 2 s, "calc" uses the
// calculator, anything else echoes the recalled memory block.
constexpr const char* rules_json = R"({
  "rules": [
    {"name": "slow", "when": {"user_contains": "slow"}, "delay_ms": 2000, "reply": "late"},
    {"name": "pause", "when": {"user_contains": "pause"}, "delay_ms": 300, "reply": "paused"},
    {"name": "calc", "when": {"last_role": "user", "user_contains": "compute"},
     "tool_calls": [{"name": "calculator", "arguments": {"expression": "6*7"}}]},
    {"name": "report", "when": {"after_tool": "calculator", "tool_result_field": "value"},
     "reply": "value {{tool_output.value}}"},
    {"name": "echo", "when": {"last_role": "user"}, "reply": "memory: [{{memory}}]"}
  ]
})";

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path()
           / ("agentgraph-runtime-test-" + std::to_string(::getpid()) + "-"
              + std::to_string(++counter));
    std::filesystem::create_directories(path);
    std::ofstream{path / "rules.json"} << rules_json;
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
};

std::string config_text(const std::string& agent_extra) {
  return "[provider.scripted]\nkind = scripted\nrules = rules.json\n"
         "[tool.calculator]\nkind = calculator\n"
         "[memory.notes]\nsnapshot_path = notes.sqlite\nsimilarity_threshold = 0.05\n"
         "[agent.solo]\nprovider = scripted\ntools = calculator\nmemory = notes\n"
         + agent_extra;
}

std::unique_ptr<Runtime> make_runtime(const temp_dir& dir, const std::string& agent_extra) {
  auto path = (dir.path / "node.ini").string();
  std::ofstream{path} << config_text(agent_extra);
  auto cfg = load_node_config(path, {}, {});
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  auto rt = runtime_builder::from_config(*cfg);
  REQUIRE_MESSAGE(rt, describe(rt.error()));
  return std::move(*rt);
}

task_request task(std::string input) {
  return task_request{"", std::move(input), Value{}};
}

}  // namespace runtime_test

TEST_CASE("runtime: runs an agent with its tool from a config file") {
  runtime_test::temp_dir dir;
  auto rt = runtime_test::make_runtime(dir, "");
  auto r = runtime_client{*rt}.run("solo", runtime_test::task("please compute"));
  REQUIRE_MESSAGE(r, describe(r.error()));
  CHECK(r->output == "value 42");
  REQUIRE(r->tool_calls.size() == 1);
  CHECK(r->tool_calls[0].ok);
  auto st = runtime_client{*rt}.stats("solo");
  REQUIRE(st);
  CHECK(st->tasks_completed == 1);
  CHECK(st->total_tokens == r->usage.total());
  auto missing = runtime_client{*rt}.run("nobody", runtime_test::task("x"));
  REQUIRE_FALSE(missing);
  CHECK(errc_of(missing.error()) == errc::not_found);
}

TEST_CASE("runtime: request_timeout turns a silent model into errc::timeout") {
  runtime_test::temp_dir dir;
  auto rt = runtime_test::make_runtime(dir, "request_timeout = 100ms\n");
  auto r = runtime_client{*rt}.run("solo", runtime_test::task("be slow"));
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::timeout);
  CHECK(describe(r.error()).find("provider 'scripted'") != std::string::npos);
}

TEST_CASE("runtime: tasks_in_flight_max rejects the extra task with overloaded") {
  runtime_test::temp_dir dir;
  auto rt = runtime_test::make_runtime(dir, "tasks_in_flight_max = 1\n");
  auto first = runtime_client{*rt}.submit("solo", runtime_test::task("pause please"));
  // Wait (bounded) until the agent holds the first task, parked for 300 ms
  // in the provider; then the second one must be refused at once.
  bool holding = false;
  for (int attempt = 0; attempt < 1000 && !holding; ++attempt) {
    auto st = runtime_client{*rt}.stats("solo");
    REQUIRE(st);
    holding = st->tasks_in_flight == 1;
  }
  REQUIRE(holding);
  auto second = runtime_client{*rt}.run("solo", runtime_test::task("pause again"));
  REQUIRE_FALSE(second);
  CHECK(errc_of(second.error()) == errc::overloaded);
  auto r = first.get();
  REQUIRE(r);
  CHECK(r->output == "paused");
}

TEST_CASE("runtime: the same task id sent again while it runs joins the run, one answer for both") {
  runtime_test::temp_dir dir;
  auto rt = runtime_test::make_runtime(dir, "tasks_in_flight_max = 1\n");
  auto first = runtime_client{*rt}.submit("solo", task_request{"same-id", "pause please", Value{}});
  bool holding = false;
  for (int attempt = 0; attempt < 1000 && !holding; ++attempt) {
    auto st = runtime_client{*rt}.stats("solo");
    REQUIRE(st);
    holding = st->tasks_in_flight == 1;
  }
  REQUIRE(holding);
  // Not refused as a second task (tasks_in_flight_max is 1), not run twice.
  auto second = runtime_client{*rt}.run("solo", task_request{"same-id", "pause again", Value{}});
  REQUIRE_MESSAGE(second, describe(second.error()));
  auto r = first.get();
  REQUIRE(r);
  CHECK(r->output == "paused");
  CHECK(second->output == r->output);
  CHECK(second->task_id == "same-id");
  auto st = runtime_client{*rt}.stats("solo");
  REQUIRE(st);
  CHECK(st->tasks_completed == 1);
}

TEST_CASE("runtime: memory_recall_k controls whether memory reaches the prompt") {
  runtime_test::temp_dir dir;
  {
    auto rt = runtime_test::make_runtime(dir, "memory_recall_k = 3\n");
    REQUIRE(runtime_client{*rt}.run("solo", runtime_test::task("remember the blue crate")));
    auto second = runtime_client{*rt}.run("solo", runtime_test::task("what about the blue crate"));
    REQUIRE(second);
    CHECK(second->output.find("Task: remember the blue crate") != std::string::npos);
  }
  runtime_test::temp_dir dir2;
  auto rt = runtime_test::make_runtime(dir2, "memory_recall_k = 0\n");
  REQUIRE(runtime_client{*rt}.run("solo", runtime_test::task("remember the blue crate")));
  auto second = runtime_client{*rt}.run("solo", runtime_test::task("what about the blue crate"));
  REQUIRE(second);
  CHECK(second->output == "memory: []");
}

TEST_CASE("runtime: shutdown snapshots memory and a new runtime reloads every entry") {
  runtime_test::temp_dir dir;
  uint64_t entries = 0;
  {
    auto rt = runtime_test::make_runtime(dir, "");
    for (int i = 0; i < 5; ++i)
      REQUIRE(runtime_client{*rt}.run("solo", runtime_test::task("note number " + std::to_string(i))));
    auto st = runtime_client{*rt}.stats_of_memory("notes");
    REQUIRE(st);
    entries = st->entries;
    CHECK(entries == 5);
    CHECK_FALSE(rt->shutdown());
  }
  CHECK(std::filesystem::file_size(dir.path / "notes.sqlite") > 0);
  auto rt = runtime_test::make_runtime(dir, "");
  auto st = runtime_client{*rt}.stats_of_memory("notes");
  REQUIRE(st);
  CHECK(st->entries == entries);
  auto r = runtime_client{*rt}.run("solo", runtime_test::task("note number 3"));
  REQUIRE(r);
  CHECK(r->output.find("Task: note number 3") != std::string::npos);
}

TEST_CASE("runtime: add_* report what is missing or duplicated") {
  Runtime rt;
  agent_config a;
  a.name = "lonely";
  a.provider = "ghost";
  auto r = runtime_builder{rt}.add_agent(a);
  REQUIRE_FALSE(r);
  CHECK(describe(r.error()).find("ghost") != std::string::npos);
  tool_config calc;
  calc.name = "calculator";
  calc.kind = "calculator";
  REQUIRE(runtime_builder{rt}.add_tool(calc));
  auto dup = runtime_builder{rt}.add_tool(calc);
  REQUIRE_FALSE(dup);
  CHECK(describe(dup.error()).find("duplicate") != std::string::npos);
  tool_config ask;
  ask.name = "ask";
  ask.kind = "agent";
  ask.agent = "lonely";
  CHECK_FALSE(runtime_builder{rt}.add_tool(ask));
  auto pub = rt.publish_tool("calculator", 0);
  REQUIRE_FALSE(pub);
  CHECK(describe(pub.error()).find("middleman") != std::string::npos);
}

TEST_CASE("runtime: from_config refuses a node_config whose build order is missing or wrong") {
  runtime_test::temp_dir dir;
  auto path = (dir.path / "node.ini").string();
  std::ofstream{path} << "[provider.scripted]\nkind = scripted\nrules = rules.json\n"
                          "[tool.calculator]\nkind = calculator\n"
                          "[agent.solo]\nprovider = scripted\ntools = calculator\n";
  auto cfg = load_node_config(path, {}, {});
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  REQUIRE(cfg->build_order.size() == 1);  // the agent; the calculator is not an agent tool
  auto by_hand = *cfg;
  by_hand.build_order.clear();
  auto missing = runtime_builder::from_config(by_hand);
  REQUIRE_FALSE(missing);
  CHECK(errc_of(missing.error()) == errc::invalid_argument);
  CHECK(error_context(missing.error()).find("build_order") != std::string::npos);
  auto wrong = *cfg;
  wrong.build_order[0].index = 7;
  auto out_of_range = runtime_builder::from_config(wrong);
  REQUIRE_FALSE(out_of_range);
  CHECK(errc_of(out_of_range.error()) == errc::invalid_argument);
  // The loaded order builds.
  CHECK(runtime_builder::from_config(*cfg));
}

TEST_CASE("runtime: component tables keep the order added, refuse a taken name, find by hash") {
  runtime_detail::named_table<int> table;
  for (int i = 0; i < 1000; ++i)
    REQUIRE(table.add("agent-" + std::to_string(i), i));
  CHECK_FALSE(table.add("agent-7", 70));  // taken: the table is unchanged
  CHECK(table.size() == 1000);
  REQUIRE(table.find("agent-7") != nullptr);
  CHECK(*table.find("agent-7") == 7);
  CHECK(*table.find("agent-999") == 999);
  CHECK(table.find("agent-1000") == nullptr);
  auto names = runtime_detail::names_of(table);
  REQUIRE(names.size() == 1000);
  CHECK(names.front() == "agent-0");
  CHECK(names.back() == "agent-999");
  // Lookups go through supervised refs: a name nobody has is not_found, a
  // component that is down (given up, stopped) is unavailable with why.
  runtime_detail::named_table<supervised_ref_ptr<agent_actor>> refs;
  auto down = std::make_shared<supervised_ref<agent_actor>>("agent.gone");
  down->set_down("agent.gone gave up");
  REQUIRE(refs.add("gone", down));
  auto missing = runtime_detail::lookup(refs, "agent", "nobody");
  REQUIRE_FALSE(missing);
  CHECK(errc_of(missing.error()) == errc::not_found);
  auto gone = runtime_detail::lookup(refs, "agent", "gone");
  REQUIRE_FALSE(gone);
  CHECK(errc_of(gone.error()) == errc::unavailable);
  CHECK(error_context(gone.error()).find("gave up") != std::string::npos);
}

namespace runtime_test {

template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 500; ++i) {  // bounded: 5 s
    if (pred())
      return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

}  // namespace runtime_test

TEST_CASE("runtime: agents, tools and providers are found again after a restart") {
  runtime_test::temp_dir dir;
  auto rt = runtime_test::make_runtime(dir, "");
  runtime_client client{*rt};
  REQUIRE(client.run("solo", runtime_test::task("please compute")));
  // Supervisors are not proxies: the handle a lookup gives is the agent's
  // own. Killed, it is restarted and the next lookup reaches the new one.
  auto first = rt->agent("solo");
  REQUIRE(first);
  caf::anon_send_exit(*first, caf::exit_reason::kill);
  REQUIRE(runtime_test::eventually([&] {
    auto now = rt->agent("solo");
    return now && *now != *first;
  }));
  // Provider and tool: the agent resolves its dependencies per call, so it
  // reaches their new incarnations without being rebuilt.
  auto prov = rt->provider("scripted");
  auto tool = rt->tool("calculator");
  REQUIRE(prov);
  REQUIRE(tool);
  caf::anon_send_exit(*prov, caf::exit_reason::kill);
  caf::anon_send_exit(*tool, caf::exit_reason::kill);
  REQUIRE(runtime_test::eventually([&] {
    auto p = rt->provider("scripted");
    auto t = rt->tool("calculator");
    return p && *p != *prov && t && *t != *tool;
  }));
  auto again = client.run("solo", runtime_test::task("please compute"));
  REQUIRE_MESSAGE(again, describe(again.error()));
  CHECK(again->output == "value 42");
}

TEST_CASE("runtime: a task whose provider dies mid-call fails at once, not at its deadline") {
  runtime_test::temp_dir dir;
  // The agent's per-call deadline is an hour: only the monitor can end
  // the call within the test's wait.
  auto rt = runtime_test::make_runtime(dir, "request_timeout = 1h\n");
  runtime_client client{*rt};
  auto pending = client.submit("solo", runtime_test::task("slow please"));  // 2 s in the provider
  auto prov = rt->provider("scripted");
  REQUIRE(prov);
  // Let the call reach the provider, then kill it.
  std::this_thread::sleep_for(200ms);
  caf::anon_send_exit(*prov, caf::exit_reason::kill);
  REQUIRE(pending.wait_for(30s) == std::future_status::ready);
  auto r = pending.get();
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::unavailable);
  CHECK(error_context(r.error()).find("provider 'scripted' is down") != std::string::npos);
}
