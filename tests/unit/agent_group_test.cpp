// Agent groups: round robin and least loaded dispatch, an overloaded member
// passing the task on, errors reaching the caller, the group's stats, and a
// group built from config and addressed like an agent.
#include <doctest/doctest.h>

#include <optional>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/agent/agent_group.hpp"
#include "actors/host/node_config.hpp"
#include "actors/host/register_types.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/host/runtime_client.hpp"
#include "runtime/error.hpp"

namespace agent_group_test {

using namespace agentgraph;
using namespace std::chrono_literals;

// Answers "<name>" at once, or holds the task when its input is "hold",
// or fails with the errc its input names ("overloaded", "provider_error").
struct member_state {
  static inline const char* name = "agent_group_test.member";
  std::vector<caf::typed_response_promise<task_result>> held;
};

agent_actor::behavior_type member(agent_actor::stateful_pointer<member_state> self,
                                  std::string name, bool always_overloaded) {
  auto run = [self, name, always_overloaded](task_request& t) -> caf::result<task_result> {
    if (always_overloaded || t.input == "overloaded")
      return make_error(errc::overloaded, name + " is full");
    if (t.input == "provider_error")
      return make_error(errc::provider_error, name + " failed");
    if (t.input == "hold") {
      self->state.held.push_back(self->make_response_promise<task_result>());
      return self->state.held.back();
    }
    task_result r;
    r.task_id = t.task_id;
    r.agent = name;
    r.output = name;
    return r;
  };
  return {
    [run](execute_atom, task_request& t) mutable { return run(t); },
    [run](execute_stream_atom, task_request& t, stream_sink_actor&) mutable { return run(t); },
    [](stats_atom) { return agent_stats{}; },
    [](ping_atom) { return pong_atom::value; },
  };
}

struct fixture {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  std::optional<caf::scoped_actor> self;
  std::vector<caf::actor> owned;

  fixture() {
    register_all_types(cfg);
    sys.emplace(cfg);
    self.emplace(*sys);
  }
  ~fixture() {
    for (auto& a : owned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    self.reset();
  }
  agent_actor group(group_strategy strategy, std::vector<std::pair<std::string, bool>> members) {
    std::vector<agentgraph::group_member> ms;
    for (auto& [name, full] : members) {
      auto m = sys->spawn(member, name, full);
      owned.push_back(caf::actor_cast<caf::actor>(m));
      ms.push_back({name, m, 0, 0});
    }
    group_config gc;
    gc.name = "team";
    gc.strategy = strategy;
    gc.task_timeout = 5s;
    auto g = spawn_agent_group(*sys, gc, ms);
    REQUIRE(g);
    owned.push_back(caf::actor_cast<caf::actor>(*g));
    return *g;
  }
  caf::expected<task_result> ask(const agent_actor& g, const std::string& input) {
    caf::expected<task_result> out = make_error(errc::internal, "none");
    (*self)->request(g, 10s, execute_atom::value, task_request{"t", input, {}})
      .receive([&](task_result& r) { out = std::move(r); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }
};

TEST_CASE("agent group: round robin takes members in turn") {
  fixture f;
  auto g = f.group(group_strategy::round_robin, {{"a", false}, {"b", false}, {"c", false}});
  std::vector<std::string> got;
  for (int i = 0; i < 6; ++i)
    got.push_back(f.ask(g, "go")->output);
  CHECK(got == std::vector<std::string>{"a", "b", "c", "a", "b", "c"});
}

TEST_CASE("agent group: least loaded avoids members with tasks in flight") {
  fixture f;
  auto g = f.group(group_strategy::least_loaded, {{"a", false}, {"b", false}});
  // "hold" parks a task on a (the first least-loaded member) ...
  (*f.self)->send(g, execute_atom::value, task_request{"h", "hold", {}});
  // ... so the next tasks go to b while a is busy.
  CHECK(f.ask(g, "go")->output == "b");
  CHECK(f.ask(g, "go")->output == "b");
  agent_stats s;
  (*f.self)->request(g, 5s, stats_atom::value).receive([&](agent_stats& x) { s = x; },
                                                       [](caf::error&) {});
  CHECK(s.tasks_in_flight == 1);
  CHECK(s.tasks_completed == 2);
  CHECK(s.role == "group:least_loaded");
}

TEST_CASE("agent group: an overloaded member passes the task on, other errors do not") {
  fixture f;
  auto g = f.group(group_strategy::round_robin, {{"full", true}, {"b", false}});
  CHECK(f.ask(g, "go")->output == "b");
  auto err = f.ask(g, "provider_error");
  REQUIRE_FALSE(err);
  CHECK(errc_of(err.error()) == errc::provider_error);
  auto all_full = f.group(group_strategy::least_loaded, {{"x", true}, {"y", true}});
  auto none = f.ask(all_full, "go");
  REQUIRE_FALSE(none);
  CHECK(errc_of(none.error()) == errc::overloaded);
  CHECK(error_context(none.error()).find("every member") != std::string::npos);
}

TEST_CASE("agent group: built from config, addressed like an agent, checked at load") {
  const std::string rules = AGENTGRAPH_SOURCE_DIR "/configs/examples/research.rules.json";
  const std::string base = "[provider.scripted]\nrules = " + rules
                           + "\n[agent.r1]\n[agent.r2]\n";
  auto cfg = parse_node_config(base + "[group.pool]\nagents = r1, r2\nstrategy = round_robin\n",
                               "g.ini", {}, {});
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  auto rt = runtime_builder::from_config(*cfg);
  REQUIRE_MESSAGE(rt, describe(rt.error()));
  auto a = runtime_client{**rt}.run("pool", task_request{"p1", "what is the weather?", {}});
  auto b = runtime_client{**rt}.run("pool", task_request{"p2", "what is the weather?", {}});
  REQUIRE((a && b));
  CHECK(a->agent != b->agent);  // one each
  auto names = (*rt)->agent_names();
  CHECK(std::find(names.begin(), names.end(), "pool") != names.end());
  auto bad = [&](const std::string& text) {
    auto c = parse_node_config(base + text, "g.ini", {}, {});
    REQUIRE_FALSE(c);
    return error_context(c.error());
  };
  CHECK(bad("[group.pool]\nagents = r1, ghost\n").find("no section [agent.ghost]") != std::string::npos);
  CHECK(bad("[group.r1]\nagents = r2\n").find("an agent is already named 'r1'") != std::string::npos);
  CHECK(bad("[group.pool]\nagents = r1, r1\n").find("listed twice") != std::string::npos);
  CHECK(bad("[group.pool]\n").find("agents") != std::string::npos);
}

}  // namespace agent_group_test
