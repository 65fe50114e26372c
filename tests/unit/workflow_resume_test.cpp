// Resuming a workflow from a checkpoint that no longer fits its graph: the
// one check (check_start, through checkpoint_to_start) names each broken
// reference, and the run actor itself refuses such a start instead of
// dereferencing a missing node. Runtime-level cases (a real store, a
// renamed node) are in workflow_checkpoint_test.cpp.
#include <doctest/doctest.h>

#include <chrono>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/host/register_types.hpp"
#include "actors/workflow/workflow_builder.hpp"
#include "actors/workflow/workflow_run.hpp"
#include "runtime/error.hpp"

namespace workflow_resume_test {

using namespace agentgraph;

// Edges: #0 plain a -> [b, c], #1 join [b, c] -> d, #2 plain d -> END.
workflow_graph join_graph() {
  return workflow_builder{"fan"}
    .function("a", "f")
    .function("b", "f")
    .function("c", "f")
    .function("d", "f")
    .edge("a", {"b", "c"})
    .join({"b", "c"}, "d")
    .edge("d", {"END"})
    .entry("a")
    .build()
    .value();
}

checkpoint saved(const char* state_json, const char* pending_json, uint64_t step = 2) {
  checkpoint c;
  c.thread_id = "t-9";
  c.checkpoint_id = 4;
  c.step = step;
  c.state = Value::from_json(state_json).value();
  c.pending = Value::from_json(pending_json).value();
  return c;
}

// The error of resuming `c` on join_graph(), which must be a conflict.
std::string conflict_of(const checkpoint& c) {
  auto start = checkpoint_to_start(join_graph(), c, Value::object());
  REQUIRE_FALSE(start);
  CHECK(errc_of(start.error()) == errc::conflict);
  auto why = error_context(start.error());
  CHECK(why.find("thread 't-9' checkpoint 4 does not fit workflow 'fan'") != std::string::npos);
  return why;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("workflow resume: a checkpoint that fits becomes the run's start, input merged") {
  auto start = checkpoint_to_start(join_graph(),
                                   saved(R"({"n": 1, "keep": true})",
                                         R"({"next": ["c"], "joins": {"1": ["b"]}})"),
                                   Value::from_json(R"({"n": 2})").value());
  REQUIRE_MESSAGE(start, describe(start.error()));
  CHECK(start->state.to_json() == R"({"keep":true,"n":2})");
  CHECK(start->next == std::vector<std::string>{"c"});
  CHECK(start->joins.at(1) == std::set<std::string>{"b"});
  CHECK(start->step == 2);
  CHECK(start->resuming);
  CHECK(start->parent_checkpoint == 4);
  CHECK_FALSE(check_start(join_graph(), *start));
}

TEST_CASE("workflow resume: each broken reference of a checkpoint is a conflict naming it") {
  CHECK(contains(conflict_of(saved("{}", R"({"next": ["b", "gone"], "joins": {}})")),
                 "next node 'gone' is not a node of the graph"));
  CHECK(contains(conflict_of(saved("{}", R"({"next": ["END"], "joins": {}})")), "next node 'END'"));
  CHECK(contains(conflict_of(saved("{}", R"({"next": [""], "joins": {}})")), "next node ''"));
  CHECK(contains(conflict_of(saved("{}", R"({"next": ["d"], "joins": {"7": ["b"]}})")),
                 "pending join of edge #7: the graph has only 3 edges"));
  CHECK(contains(conflict_of(saved("{}", R"({"next": ["d"], "joins": {"0": ["a"]}})")),
                 "pending join of edge #0: that edge is now the plain edge a -> [b, c]"));
  CHECK(contains(conflict_of(saved("{}", R"({"next": ["c"], "joins": {"1": ["b", "old"]}})")),
                 "has seen 'old', which is not one of its sources"));
  CHECK(contains(conflict_of(saved(R"({"interrupt": [{"node": "asker", "request": "ok?"}]})",
                                   R"({"next": ["b"], "joins": {}})")),
                 "the pending interrupt request of node 'asker'"));
}

TEST_CASE("workflow resume: a state that is not an object is a conflict, never {}") {
  for (const char* state : {"[1, 2]", R"("text")", "null", "7"}) {
    INFO(state);
    CHECK(contains(conflict_of(saved(state, R"({"next": ["b"], "joins": {}})")),
                   "not an object"));
  }
}

TEST_CASE("workflow resume: a thread that already ended is a conflict, not a restart") {
  CHECK(contains(conflict_of(saved(R"({"n": 3})", R"({"next": [], "joins": {}})")),
                 "the thread has already ended"));
}

TEST_CASE("workflow resume: pending that is not a workflow's is a parse_error") {
  for (const char* pending : {"null", R"({"next": ["b"]})", R"({"next": [1], "joins": {}})",
                              R"({"next": ["b"], "joins": {"x": []}})",
                              R"({"next": ["b"], "joins": {"1": [2]}})"}) {
    INFO(pending);
    auto start = checkpoint_to_start(join_graph(), saved("{}", pending), Value::object());
    REQUIRE_FALSE(start);
    CHECK(errc_of(start.error()) == errc::parse_error);
  }
  auto huge = checkpoint_to_start(
    join_graph(), saved("{}", R"({"next": ["b"], "joins": {}})", uint64_t{1} << 40),
    Value::object());
  REQUIRE_FALSE(huge);
  CHECK(errc_of(huge.error()) == errc::parse_error);
}

TEST_CASE("workflow resume: a fresh start naming a missing node is invalid_argument") {
  workflow_start s;
  s.thread_id = "fresh";
  s.next = {"nowhere"};
  auto err = check_start(join_graph(), s);
  CHECK(errc_of(err) == errc::invalid_argument);
  CHECK(contains(error_context(err), "workflow 'fan' run 'fresh': next node 'nowhere'"));
  s.next.clear();
  CHECK_FALSE(check_start(join_graph(), s));  // empty: the entry
  s.state = Value{"not a map"};
  CHECK(errc_of(check_start(join_graph(), s)) == errc::invalid_argument);
}

TEST_CASE("workflow resume: fresh thread ids never repeat and name their graph") {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i)
    ids.insert(new_thread_id("fan"));
  CHECK(ids.size() == 100);
  const auto id = *ids.begin();
  CHECK(id.rfind("fan-", 0) == 0);
  CHECK(id.size() == std::string{"fan-20261206T120000Z-0123456789abcdef"}.size());
}

struct actor_fixture {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  std::optional<caf::scoped_actor> self;
  actor_fixture() {
    register_all_types(cfg);
    cfg.set("scheduler.max-threads", 2);
    sys.emplace(cfg);
    self.emplace(*sys);
  }
  ~actor_fixture() { self.reset(); }
};

workflow_deps function_deps() {
  auto fns = std::make_shared<function_registry>();
  REQUIRE_FALSE(fns->add("f", [](const Value&) -> caf::expected<Value> { return Value::object(); }));
  workflow_deps deps;
  deps.functions = fns;
  return deps;
}

workflow_start dangling_start() {
  workflow_start s;
  s.thread_id = "t-dangling";
  s.next = {"renamed"};
  s.step = 3;
  s.resuming = true;
  s.parent_checkpoint = 5;
  return s;
}

TEST_CASE("workflow resume: spawning a run from a start that does not fit is a conflict") {
  actor_fixture f;
  auto run = spawn_workflow_run(*f.sys, std::make_shared<const workflow_graph>(join_graph()),
                                function_deps(), dangling_start());
  REQUIRE_FALSE(run);
  CHECK(errc_of(run.error()) == errc::conflict);
  CHECK(contains(error_context(run.error()), "next node 'renamed'"));
}

TEST_CASE("workflow resume: the run actor itself answers a dangling start with the error") {
  // Spawned by hand, past spawn_workflow_run's check: the actor must still
  // refuse, not look the node up.
  actor_fixture f;
  auto run = f.sys->spawn(workflow_run, std::make_shared<const workflow_graph>(join_graph()),
                          function_deps(), dangling_start(), workflow_event_sink{});
  std::optional<caf::error> got;
  (*f.self)
    ->request(run, std::chrono::seconds{10}, run_workflow_atom::value)
    .receive([&](workflow_result&) { FAIL("a dangling start ran"); },
             [&](caf::error& err) { got = err; });
  REQUIRE(got);
  CHECK(errc_of(*got) == errc::conflict);
  CHECK(contains(error_context(*got), "next node 'renamed'"));
  caf::anon_send_exit(run, caf::exit_reason::user_shutdown);
}

}  // namespace workflow_resume_test
