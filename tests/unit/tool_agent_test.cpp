// The agent tool against a small agent (tool_test_agent.hpp): a real typed
// actor implementing agent_actor (a test double of the agent, not product code).
#include <doctest/doctest.h>

#include <chrono>
#include <vector>

#include <caf/sec.hpp>
#include <caf/send.hpp>

#include "actors/tool/agent_tool.hpp"
#include "actors/tool/tool_factory.hpp"
#include "tool_test_agent.hpp"
#include "tool_test_fixture.hpp"

namespace tool_agent_test {

using namespace std::chrono_literals;
using agentgraph::agent_actor;

using tool_test::helper_agent;

agentgraph::tool_config agent_config() {
  agentgraph::tool_config cfg;
  cfg.name = "ask_helper";
  cfg.kind = "agent";
  cfg.agent = "helper";
  cfg.timeout = 200ms;
  return cfg;
}

agentgraph::Value task_args(const char* task) {
  agentgraph::Value v = agentgraph::Value::object();
  v["task"] = task;
  return v;
}

using agentgraph::errc;

TEST_CASE("tool: agent tool hands the task to the agent and returns its answer") {
  tool_test::fixture fx;
  auto agent = fx.keep(fx.sys.spawn(helper_agent));
  auto tool = agentgraph::spawn_agent_tool(fx.sys, agent_config(), agent);
  REQUIRE(tool);
  fx.keep(*tool);
  auto r = fx.invoke(*tool, "call-7", task_args("summarise"));
  REQUIRE(r);
  CHECK(r->call_id == "call-7");
  CHECK(r->output.to_json() == R"({"agent":"helper","answer":"task call-7: summarise"})");
  auto no_id = fx.invoke(*tool, "", task_args("again"));
  REQUIRE(no_id);
  CHECK(no_id->output.find("answer")->as_string().find("task ask_helper-") == 0);
  auto spec = fx.describe(*tool);
  CHECK(spec.name == "ask_helper");
  REQUIRE(spec.params.size() == 1);
  CHECK(spec.params[0].name == "task");
  CHECK(fx.pongs(*tool));
}

TEST_CASE("tool: agent tool passes agent failures back as typed errors") {
  tool_test::fixture fx;
  auto agent = fx.keep(fx.sys.spawn(helper_agent));
  auto tool = agentgraph::spawn_agent_tool(fx.sys, agent_config(), agent);
  REQUIRE(tool);
  fx.keep(*tool);
  auto failed = fx.invoke(*tool, "c1", task_args("fail"));
  REQUIRE_FALSE(failed);
  CHECK(tool_test::code_of(failed.error()) == errc::tool_error);
  CHECK(agentgraph::error_context(failed.error())
        == "agent 'helper' failed: provider_error: model unreachable");
  auto hung = fx.invoke(*tool, "c2", task_args("hang"));
  REQUIRE_FALSE(hung);
  CHECK(tool_test::code_of(hung.error()) == errc::timeout);
  auto bad = fx.invoke(*tool, "c3", tool_test::args_of(R"({"task":1})"));
  REQUIRE_FALSE(bad);
  CHECK(tool_test::code_of(bad.error()) == errc::invalid_argument);
  auto st = fx.stats(*tool);
  CHECK(st.calls == 3);
  CHECK(st.errors == 3);
}

TEST_CASE("tool: agent tool reports a dead agent as an error, not a hang") {
  tool_test::fixture fx;
  auto agent = fx.keep(fx.sys.spawn(helper_agent));
  auto tool = agentgraph::spawn_agent_tool(fx.sys, agent_config(), agent);
  REQUIRE(tool);
  fx.keep(*tool);
  caf::anon_send_exit(agent, caf::exit_reason::kill);
  auto r = fx.invoke(*tool, "c1", task_args("anything"));
  REQUIRE_FALSE(r);
  auto code = tool_test::code_of(r.error());
  CHECK((code == errc::tool_error || code == errc::timeout));
}

TEST_CASE("tool: agent tool pure helpers") {
  auto req = agentgraph::make_agent_task("", task_args("x"), "fallback-1");
  CHECK(req.task_id == "fallback-1");
  CHECK(req.input == "x");
  CHECK(agentgraph::make_agent_task("id", task_args("x"), "f").task_id == "id");
  agentgraph::task_result res;
  res.output = "42";
  CHECK(agentgraph::agent_answer("helper", res).to_json() == R"({"agent":"helper","answer":"42"})");
  auto t = agentgraph::agent_failure("h", caf::make_error(caf::sec::request_timeout));
  CHECK(agentgraph::errc_of(t) == errc::timeout);
}

}  // namespace tool_agent_test
