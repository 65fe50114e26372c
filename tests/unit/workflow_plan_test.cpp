// The workflow plan (actors/workflow/workflow_plan.hpp) and what it lets a
// run skip: a graph shared by pointer is checked in full once and by its
// names after that, with the same words validate_graph uses; a graph given
// by value is checked every time; the cache stays bounded. Also the run
// paths the plan changed: a step that fails leaves the state as it was
// (undo log, no copy), a long cycle of inline steps runs flat, and a
// caller that asks for no events gets the same result as one that does.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <memory>
#include <string>
#include <vector>

#include <caf/scoped_actor.hpp>

#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/host/runtime_client.hpp"
#include "actors/workflow/state_reducer.hpp"
#include "actors/workflow/workflow_builder.hpp"
#include "actors/workflow/workflow_file.hpp"
#include "actors/workflow/workflow_plan.hpp"
#include "actors/workflow/workflow_run_state.hpp"  // workflow_inline_steps_max
#include "runtime/error.hpp"

namespace workflow_plan_test {

using namespace agentgraph;

std::shared_ptr<const workflow_graph> shared(const char* json) {
  auto g = parse_workflow(json, "plan.json");
  REQUIRE_MESSAGE(g, describe(g.error()));
  return std::make_shared<const workflow_graph>(std::move(*g));
}

// Declared out of name order on purpose (a file's nodes come sorted, the
// builder keeps its order): ranks follow names, not positions.
std::shared_ptr<const workflow_graph> review_graph() {
  auto g = workflow_builder{"review"}
             .function("write", "f")
             .function("check_b", "f")
             .function("check_a", "f")
             .function("publish", "f")
             .function("fix", "f")
             .edge("write", {"check_b", "check_a"})
             .join({"check_a", "check_b"}, "publish")
             .when("publish", {{"ok", "END"}}, "fix")
             .route("fix", "next", {{"again", "write"}, {"done", "END"}})
             .on_error("write", "fix")
             .interrupt_before("publish")
             .interrupt_after("check_a")
             .entry("write")
             .build();
  REQUIRE_MESSAGE(g, describe(g.error()));
  return std::make_shared<const workflow_graph>(std::move(*g));
}

graph_names functions_only(std::vector<std::string> known) {
  graph_names names;
  names.has_function = [known](const std::string& n) {
    return std::find(known.begin(), known.end(), n) != known.end();
  };
  return names;
}

TEST_CASE("workflow plan: ranks follow node names; edges and interrupt lists are rank sets") {
  auto g = review_graph();
  auto p = make_workflow_plan(*g);
  REQUIRE(p->size() == 5);
  const std::vector<std::string> by_rank = {"check_a", "check_b", "fix", "publish", "write"};
  for (node_rank r = 0; r < p->size(); ++r) {
    CHECK(p->node(*g, r).name == by_rank[r]);
    CHECK(p->rank_of(*g, by_rank[r]) == r);
  }
  CHECK_FALSE(p->rank_of(*g, "END").has_value());
  CHECK_FALSE(p->rank_of(*g, "nobody").has_value());
  CHECK(p->entry == 4);
  REQUIRE(p->edges.size() == 5);
  CHECK(p->edges[0].from == 4);
  CHECK(p->edges[0].targets.count() == 2);
  CHECK((p->edges[0].targets.test(0) && p->edges[0].targets.test(1)));
  CHECK(p->edges[1].sources.count() == 2);
  CHECK(p->edges[1].to == 3);
  CHECK(p->edges[2].branches == std::vector<node_rank>{no_node, 2});  // END, fix
  CHECK(p->edges[3].routes.at("again") == 4);
  CHECK(p->edges[3].routes.at("done") == no_node);
  CHECK(p->error_edge[4] == 4);
  CHECK(p->error_edge[0] == workflow_plan::no_edge);
  CHECK(p->interrupt_before.count() == 1);
  CHECK(p->interrupt_before.test(3));
  CHECK(p->interrupt_after.test(0));
}

TEST_CASE("workflow plan cache: a shared graph is planned once and its names checked every time") {
  auto g = review_graph();
  auto first = plan_workflow(g, functions_only({"f"}));
  REQUIRE_MESSAGE(first, describe(first.error()));
  auto second = plan_workflow(g, functions_only({"f"}));
  REQUIRE(second);
  CHECK(first->get() == second->get());  // the same plan: not made again
  // The functions around a cached graph can differ (another runtime): the
  // names are checked, in validate_graph's words.
  auto missing = plan_workflow(g, functions_only({}));
  REQUIRE_FALSE(missing);
  auto full = validate_graph(*g, functions_only({}));
  REQUIRE(full);
  CHECK(error_context(missing.error()) == error_context(full));
  CHECK(error_context(missing.error()).find("node 'write': no function named 'f'")
        != std::string::npos);
  // A copy of the graph is another graph: planned for itself.
  auto copy = std::make_shared<const workflow_graph>(*g);
  auto other = plan_workflow(copy, functions_only({"f"}));
  REQUIRE(other);
  CHECK(other->get() != first->get());
}

TEST_CASE("workflow plan cache: an invalid graph is refused with validate_graph's error, never cached") {
  // No edge out of b: a structural error, found after the names of a. Built
  // by hand: the file parser would refuse it before any plan.
  workflow_graph bad;
  bad.name = "bad";
  bad.entry = "a";
  for (const auto& [name, target] : {std::pair{"a", "ghost"}, std::pair{"b", "f"}}) {
    node_spec n;
    n.name = name;
    n.kind = node_kind::function;
    n.target = target;
    bad.nodes.push_back(n);
  }
  edge_spec e;
  e.from = {"a"};
  e.to = {workflow_end};
  bad.edges.push_back(e);
  auto g = std::make_shared<const workflow_graph>(bad);
  const auto before = workflow_plans_cached();
  for (int i = 0; i < 2; ++i) {
    auto p = plan_workflow(g, functions_only({"f"}));
    REQUIRE_FALSE(p);
    CHECK(error_context(p.error()) == error_context(validate_graph(*g, functions_only({"f"}))));
    CHECK(error_context(p.error()).find("no function named 'ghost'") != std::string::npos);
  }
  auto p = plan_workflow(g, functions_only({"f", "ghost"}));
  REQUIRE_FALSE(p);
  CHECK(error_context(p.error()).find("node 'b' has no outgoing edge") != std::string::npos);
  CHECK(workflow_plans_cached() == before);
}

TEST_CASE("workflow plan cache: bounded; graphs past the bound are checked on every run") {
  std::vector<std::shared_ptr<const workflow_graph>> alive;
  for (size_t i = 0; i < workflow_plans_cached_max + 20; ++i) {
    alive.push_back(shared(R"({"entry": "a", "nodes": {"a": {"function": "f"}},
      "edges": [{"from": "a", "to": "END"}]})"));
    auto p = plan_workflow(alive.back(), functions_only({"f"}));
    REQUIRE(p);
    CHECK(workflow_plans_cached() <= workflow_plans_cached_max);
  }
  CHECK(workflow_plans_cached() == workflow_plans_cached_max);
  // Past the bound a graph still runs: planned (and checked) each time.
  auto last = plan_workflow(alive.back(), functions_only({}));
  CHECK_FALSE(last);
  // Dead graphs make room again.
  alive.clear();
  auto g = shared(R"({"entry": "a", "nodes": {"a": {"function": "f"}},
    "edges": [{"from": "a", "to": "END"}]})");
  auto one = plan_workflow(g, functions_only({"f"}));
  auto two = plan_workflow(g, functions_only({"f"}));
  REQUIRE((one && two));
  CHECK(one->get() == two->get());
  CHECK(workflow_plans_cached() < workflow_plans_cached_max);
}

TEST_CASE("workflow state: a step that fails leaves every key as it was, new and overwritten") {
  workflow_graph g;
  g.state = {{"notes", reducer_kind::append, ""}, {"meta", reducer_kind::merge, ""}};
  reducer_registry reducers;
  Value state = Value::from_json(R"({"k": 1, "notes": ["x"], "meta": 5})").value();
  const auto before = state.to_json();
  std::vector<std::pair<std::string, Value>> updates = {
    {"a", Value::from_json(R"({"k": 2, "fresh": true, "notes": "y"})").value()},
    {"b", Value::from_json(R"({"k": 3, "notes": ["z"]})").value()},
    {"c", Value::from_json(R"({"meta": {"x": 1}})").value()}};  // merge into 5: fails
  auto err = apply_step(state, updates, g, reducers);
  REQUIRE(err);
  CHECK(error_context(err).find("node 'c', state key 'meta': merge needs objects")
        != std::string::npos);
  CHECK(state.to_json() == before);
  // Without c the same step applies, in node order.
  updates.pop_back();
  REQUIRE_FALSE(apply_step(state, updates, g, reducers));
  CHECK(state.to_json() == R"({"fresh":true,"k":3,"meta":5,"notes":["x","y","z"]})");
}

// A runtime with functions and no agents; `inc` counts n up by one.
std::unique_ptr<Runtime> function_runtime() {
  auto rt = std::make_unique<Runtime>();
  runtime_builder build{*rt};
  REQUIRE_FALSE(build.register_workflow_function("inc", [](const Value& s) -> caf::expected<Value> {
    const Value* v = s.find("n");
    return Value{Value::Object{{"n", Value{(v != nullptr && v->is_int() ? v->as_int() : 0) + 1}}}};
  }));
  return rt;
}

std::shared_ptr<const workflow_graph> counting_graph(int64_t until, uint32_t max_steps) {
  auto g = workflow_builder{"count"}
             .function("inc", "inc")
             .when("inc", {{"n >= " + std::to_string(until), "END"}}, "inc")
             .max_steps(max_steps)
             .entry("inc")
             .build();
  REQUIRE(g);
  return std::make_shared<const workflow_graph>(std::move(*g));
}

TEST_CASE("workflow run: a long cycle of inline steps completes, every step counted") {
  auto rt = function_runtime();
  // Several times workflow_inline_steps_max: the run yields between batches.
  const int64_t steps = 5 * workflow_inline_steps_max + 3;
  auto g = counting_graph(steps, static_cast<uint32_t>(steps));
  workflow_start s;
  s.thread_id = "t-long";
  auto r = runtime_client{*rt}.run_workflow(g, s, nullptr);
  REQUIRE_MESSAGE(r, describe(r.error()));
  CHECK(r->status == workflow_status::completed);
  CHECK(r->steps == steps);
  CHECK(r->state.to_json() == R"({"n":)" + std::to_string(steps) + "}");
  // One step short of max_steps: the same cycle fails with the state reached.
  auto capped = runtime_client{*rt}.run_workflow(counting_graph(steps, steps - 1), s, nullptr);
  REQUIRE(capped);
  CHECK(capped->status == workflow_status::failed);
  CHECK(capped->state.to_json() == R"({"n":)" + std::to_string(steps - 1) + "}");
}

TEST_CASE("workflow run: asking for no events gives the result of asking for all of them") {
  auto rt = function_runtime();
  auto g = counting_graph(3, 10);
  workflow_start s;
  s.thread_id = "t-events";
  std::vector<std::string> kinds;
  auto with = runtime_client{*rt}.run_workflow(
    g, s, [&](const workflow_event& e) { kinds.emplace_back(to_string(e.kind)); });
  auto without = runtime_client{*rt}.run_workflow(g, s, nullptr);
  REQUIRE((with && without));
  CHECK(with->state == without->state);
  CHECK(with->steps == without->steps);
  CHECK(with->status == without->status);
  CHECK(kinds.size() == 1 + 3 * 3 + 1);  // run_started, 3 x (started, completed, state), completed
  CHECK(kinds.front() == "run_started");
  CHECK(kinds.back() == "run_completed");
}

TEST_CASE("workflow run: a shared graph checks its targets against each runtime, by name") {
  auto g = counting_graph(2, 10);
  workflow_start s;
  s.thread_id = "t-shared";
  auto rt = function_runtime();
  auto ok = runtime_client{*rt}.run_workflow(g, s, nullptr);
  REQUIRE_MESSAGE(ok, describe(ok.error()));
  CHECK(ok->state.to_json() == R"({"n":2})");
  // The same graph object on a runtime without `inc`: refused, named.
  Runtime bare;
  auto refused = runtime_client{bare}.run_workflow(g, s, nullptr);
  REQUIRE_FALSE(refused);
  CHECK(errc_of(refused.error()) == errc::invalid_argument);
  CHECK(error_context(refused.error()) == "workflow 'count': node 'inc': no function named 'inc'");
}

// A caller that asks for no events waits on the run's on_done, which the
// run's end calls however it ends: a run whose actor dies (a node function
// throws) is an error at once, not after the caller's hour.
TEST_CASE("workflow run: a blocked caller hears at once of a run that died") {
  auto rt = function_runtime();
  runtime_builder build{*rt};
  REQUIRE_FALSE(build.register_workflow_function("boom", [](const Value&) -> caf::expected<Value> {
    throw std::runtime_error("a bug in a node function");
  }));
  auto g = workflow_builder{"crash"}.function("a", "boom").edge("a", {"END"}).entry("a").build();
  REQUIRE(g);
  workflow_start s;
  s.thread_id = "t-crash";
  auto quiet = runtime_client{*rt}.run_workflow(*g, s, nullptr, std::chrono::hours{1});
  REQUIRE_FALSE(quiet);
  CHECK(errc_of(quiet.error()) == errc::unavailable);
  CHECK(error_context(quiet.error()) == "workflow 'crash' run is down");
  // Taking events (the caller is a scoped actor then): the same, at once.
  std::vector<std::string> kinds;
  auto heard = runtime_client{*rt}.run_workflow(
    *g, s, [&](const workflow_event& e) { kinds.emplace_back(to_string(e.kind)); },
    std::chrono::hours{1});
  REQUIRE_FALSE(heard);
  CHECK(error_context(heard.error()) == "workflow 'crash' run is down");
  CHECK(kinds == std::vector<std::string>{"run_started", "node_started"});
  // The runtime goes on running workflows.
  auto ok = runtime_client{*rt}.run_workflow(counting_graph(2, 10), s, nullptr);
  REQUIRE_MESSAGE(ok, describe(ok.error()));
  CHECK(ok->state.to_json() == R"({"n":2})");
}

TEST_CASE("workflow run: spawned by hand past the name check, a missing function fails its node") {
  // spawn_workflow_run would refuse the graph; a run spawned by hand must
  // still answer, naming the function, and never call through nothing.
  Runtime rt;
  workflow_start s;
  s.thread_id = "t-by-hand";
  auto run = rt.system().spawn(workflow_run, counting_graph(2, 10), workflow_deps{}, s,
                               workflow_event_sink{});
  caf::scoped_actor self{rt.system()};
  std::optional<workflow_result> got;
  self->request(run, std::chrono::seconds{10}, run_workflow_atom::value)
    .receive([&](workflow_result& r) { got = std::move(r); },
             [&](caf::error& err) { FAIL(describe(err)); });
  REQUIRE(got);
  CHECK(got->status == workflow_status::failed);
  CHECK(got->error.find("node 'inc' failed: ") != std::string::npos);
  CHECK(got->error.find("no function named 'inc'") != std::string::npos);
}

}  // namespace workflow_plan_test
