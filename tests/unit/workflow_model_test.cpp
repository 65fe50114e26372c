// The workflow model without running anything: conditions, reducers (and
// their independence from the order parallel branches finish in), graph
// validation messages, and the workflow file format.
#include <doctest/doctest.h>

#include <algorithm>

#include "actors/workflow/condition.hpp"
#include "actors/workflow/state_reducer.hpp"
#include "actors/workflow/workflow_builder.hpp"
#include "actors/workflow/workflow_file.hpp"
#include "runtime/error.hpp"

namespace workflow_model_test {

using namespace agentgraph;

Value json(const char* text) {
  auto v = Value::from_json(text);
  REQUIRE_MESSAGE(v, describe(v.error()));
  return *v;
}

bool holds(const char* cond, const char* state) {
  auto c = parse_condition(cond);
  REQUIRE_MESSAGE(c, describe(c.error()));
  return evaluate(*c, json(state));
}

std::string parse_error(const char* cond) {
  auto c = parse_condition(cond);
  REQUIRE_FALSE(c);
  return error_context(c.error());
}

// A valid graph: a -> [b, c] -> join -> d -> (score >= 1 ? END : a).
const char* const review_json = R"({
  "name": "review", "entry": "a", "max_steps": 12,
  "state": {"notes": "append", "meta": "merge"},
  "nodes": {
    "a": {"agent": "writer", "input": "Write about {{topic}}", "output": "draft", "timeout": "5s", "retries": 2},
    "b": {"tool": "calculator", "arguments": {"expression": "1+1"}, "output": "sum", "cache": "5m"},
    "c": {"function": "count"},
    "d": {"function": "score"}
  },
  "edges": [
    {"from": "a", "to": ["b", "c"]},
    {"join": ["b", "c"], "to": "d"},
    {"from": "d", "if": [{"when": "score >= 1", "to": "END"}, {"else": "a"}]},
    {"from": "a", "on_error": "END"}
  ],
  "interrupt_before": ["d"]
})";

std::string workflow_error(const std::string& text) {
  auto g = parse_workflow(text, "wf.json");
  REQUIRE_FALSE(g);
  return error_context(g.error());
}

// review_json with `from` replaced by `to` once.
std::string edit(std::string from, const std::string& to) {
  std::string s = review_json;
  auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

TEST_CASE("workflow: conditions compare, test presence and containment") {
  CHECK(holds("score >= 0.8", R"({"score": 0.9})"));
  CHECK_FALSE(holds("score >= 0.8", R"({"score": 0.5})"));
  CHECK(holds("score > 1", R"({"score": 2})"));       // int against int
  CHECK(holds("score == 2.0", R"({"score": 2})"));    // int against double
  CHECK(holds("review.verdict == \"approve\"", R"({"review": {"verdict": "approve"}})"));
  CHECK(holds("review.verdict != \"approve\"", R"({"review": {}})"));
  CHECK(holds("tags contains \"urgent\"", R"({"tags": ["x", "urgent"]})"));
  CHECK(holds("text contains \"lo w\"", R"({"text": "hello world"})"));
  CHECK(holds("exists draft", R"({"draft": ""})"));
  CHECK(holds("not exists error", R"({"error": null})"));
  CHECK(holds("approved", R"({"approved": true})"));
  CHECK_FALSE(holds("approved", R"({"approved": 0})"));
  CHECK_FALSE(holds("missing.deep > 1", R"({"missing": 3})"));
  CHECK(holds("flag == null", R"({})"));
}

TEST_CASE("workflow: bad conditions are errors that say where") {
  CHECK(parse_error("score >=").find("expected a value") != std::string::npos);
  CHECK(parse_error("score ~ 1").find("expected ==") != std::string::npos);
  CHECK(parse_error("score < \"high\"").find("compare with a number") != std::string::npos);
  CHECK(parse_error("a..b").find("empty key") != std::string::npos);
  CHECK(parse_error("x == \"open").find("unterminated") != std::string::npos);
  CHECK(parse_error("x == 1 extra").find("column") != std::string::npos);
  CHECK(parse_error("not x").find("`exists`") != std::string::npos);
}

TEST_CASE("workflow: reducers overwrite, append, merge and call functions") {
  workflow_graph g;
  g.state = {{"notes", reducer_kind::append, ""},
             {"meta", reducer_kind::merge, ""},
             {"best", reducer_kind::function, "max"}};
  reducer_registry reducers;
  REQUIRE_FALSE(reducers.add("max", [](const Value& cur, const Value& up) -> caf::expected<Value> {
    if (!cur.is_number())
      return up;
    return cur.as_double() >= up.as_double() ? cur : up;
  }));
  CHECK(reducers.add("max", [](const Value&, const Value& u) -> caf::expected<Value> { return u; }));
  Value state = Value::object();
  REQUIRE_FALSE(apply_update(state, "n1", json(R"({"notes": "a", "meta": {"x": 1}, "best": 3, "k": 1})"),
                             g, reducers));
  REQUIRE_FALSE(apply_update(state, "n2", json(R"({"notes": ["b", "c"], "meta": {"y": 2}, "best": 2, "k": 2})"),
                             g, reducers));
  CHECK(state.to_json() == R"({"best":3,"k":2,"meta":{"x":1,"y":2},"notes":["a","b","c"]})");
  // A failing key leaves the whole state untouched.
  auto before = state.to_json();
  CHECK(apply_update(state, "n3", json(R"({"k": 9, "meta": 5})"), g, reducers));
  CHECK(state.to_json() == before);
  CHECK(apply_update(state, "n4", json("[1]"), g, reducers));
}

TEST_CASE("workflow: a step's updates merge the same way under every finish order") {
  workflow_graph g;
  g.state = {{"notes", reducer_kind::append, ""}, {"meta", reducer_kind::merge, ""}};
  reducer_registry reducers;
  std::vector<std::pair<std::string, Value>> updates = {
    {"critic_b", json(R"({"notes": "b", "meta": {"who": "b"}, "last": "b"})")},
    {"critic_a", json(R"({"notes": "a", "meta": {"who": "a", "a": 1}, "last": "a"})")},
    {"critic_c", json(R"({"notes": ["c1", "c2"], "meta": {"c": 3}})")}};
  std::sort(updates.begin(), updates.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  std::string expected;
  size_t orders = 0;
  do {  // all 6 finish orders
    Value state = json(R"({"notes": ["start"]})");
    REQUIRE_FALSE(apply_step(state, updates, g, reducers));
    if (expected.empty())
      expected = state.to_json();
    CHECK(state.to_json() == expected);
    ++orders;
  } while (std::next_permutation(updates.begin(), updates.end(),
                                 [](const auto& x, const auto& y) { return x.first < y.first; }));
  CHECK(orders == 6);
  // Applied in node-name order: a, b, c.
  CHECK(expected
        == R"({"last":"b","meta":{"a":1,"c":3,"who":"b"},"notes":["start","a","b","c1","c2"]})");
}

TEST_CASE("workflow: a valid file parses into the graph it describes") {
  auto g = parse_workflow(review_json, "wf.json");
  REQUIRE_MESSAGE(g, describe(g.error()));
  CHECK(g->name == "review");
  CHECK(g->entry == "a");
  CHECK(g->max_steps == 12);
  REQUIRE(g->nodes.size() == 4);
  const auto* a = g->find_node("a");
  REQUIRE(a != nullptr);
  CHECK(a->kind == node_kind::agent);
  CHECK(a->target == "writer");
  CHECK(a->timeout == std::chrono::seconds{5});
  CHECK(a->retries_max == 2);
  CHECK(g->find_node("b")->arguments.to_json() == R"({"expression":"1+1"})");
  CHECK(g->find_node("b")->cache_ttl == std::chrono::minutes{5});
  CHECK(g->find_node("a")->cache_ttl.count() == 0);
  REQUIRE(g->edges.size() == 4);
  CHECK(g->edges[0].to == std::vector<std::string>{"b", "c"});
  CHECK(g->edges[1].kind == edge_kind::join);
  CHECK(g->edges[2].kind == edge_kind::conditional);
  CHECK(g->edges[2].branches[0].when->text == "score >= 1");
  CHECK(g->edges[3].kind == edge_kind::error);
  CHECK(g->find_key("notes")->reducer == reducer_kind::append);
  CHECK(g->interrupt_before == std::vector<std::string>{"d"});
}

TEST_CASE("workflow: invalid graphs are rejected naming the node or edge") {
  CHECK(workflow_error(edit(R"("entry": "a")", R"("entry": "zz")")).find("the entry 'zz' is not a node")
        != std::string::npos);
  CHECK(workflow_error(edit(R"({"from": "a", "to": ["b", "c"]})", R"({"from": "a", "to": ["b", "x"]})"))
          .find("unknown target node 'x'")
        != std::string::npos);
  CHECK(workflow_error(edit(R"({"else": "a"})", R"({"when": "score < 1", "to": "a"})"))
          .find("the last branch must be `else`")
        != std::string::npos);
  // d's only way out removed: END can no longer be reached, and d has no exit.
  CHECK(workflow_error(edit(R"(,
    {"from": "d", "if": [{"when": "score >= 1", "to": "END"}, {"else": "a"}]})", ""))
          .find("node 'd' has no outgoing edge")
        != std::string::npos);
  CHECK(workflow_error(edit(R"("d": {"function": "score"})",
                            R"("d": {"function": "score"}, "lonely": {"function": "f"})"))
          .find("no outgoing edge")
        != std::string::npos);
  CHECK(workflow_error(edit(R"("interrupt_before": ["d"])", R"("interrupt_before": ["q"])"))
          .find("interrupt names unknown node 'q'")
        != std::string::npos);
  CHECK(workflow_error(edit(R"("when": "score >= 1")", R"("when": "score >=")"))
          .find("edges[2].if[0].when")
        != std::string::npos);
  CHECK(workflow_error(edit(R"("retries": 2)", R"("retries": 2, "color": "red")"))
          .find("nodes.a: unknown key 'color'")
        != std::string::npos);
  CHECK(workflow_error(edit(R"("output": "sum")", R"("output": "")")).find("needs an output")
        != std::string::npos);
  CHECK(workflow_error("{").find("not valid JSON") != std::string::npos);
}

TEST_CASE("workflow: unreachable nodes and an unreachable END are named") {
  const char* unreachable = R"({"entry": "a",
    "nodes": {"a": {"function": "f"}, "b": {"function": "g"}},
    "edges": [{"from": "a", "to": "END"}, {"from": "b", "to": "END"}]})";
  CHECK(workflow_error(unreachable).find("node 'b' is unreachable from the entry 'a'")
        != std::string::npos);
  const char* no_end = R"({"entry": "a",
    "nodes": {"a": {"function": "f"}, "b": {"function": "g"}},
    "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}]})";
  CHECK(workflow_error(no_end).find("END is unreachable") != std::string::npos);
}

TEST_CASE("workflow: validation checks targets against what exists when it can tell") {
  graph_names names;
  names.has_agent = [](const std::string& n) { return n == "writer"; };
  names.has_function = [](const std::string& n) { return n == "count"; };
  auto g = parse_workflow(review_json, "wf.json", names);
  REQUIRE_FALSE(g);
  CHECK(error_context(g.error()).find("node 'd': no function named 'score'") != std::string::npos);
}

}  // namespace workflow_model_test

namespace workflow_model_test {

TEST_CASE("workflow: the C++ builder makes the same graph as the file") {
  auto built = workflow_builder{"review"}
                 .agent("a", "writer", "Write about {{topic}}", "draft")
                 .timeout(std::chrono::seconds{5})
                 .retries(2)
                 .tool("b", "calculator", Value::from_json(R"({"expression": "1+1"})").value(), "sum")
                 .cache(std::chrono::minutes{5})
                 .function("c", "count")
                 .function("d", "score")
                 .reducer("notes", reducer_kind::append)
                 .reducer("meta", reducer_kind::merge)
                 .edge("a", {"b", "c"})
                 .join({"b", "c"}, "d")
                 .when("d", {{"score >= 1", "END"}}, "a")
                 .on_error("a", "END")
                 .interrupt_before("d")
                 .entry("a")
                 .max_steps(12)
                 .build();
  REQUIRE_MESSAGE(built, describe(built.error()));
  auto parsed = parse_workflow(review_json, "wf.json");
  REQUIRE(parsed);
  CHECK(built->nodes.size() == parsed->nodes.size());
  CHECK(built->edges.size() == parsed->edges.size());
  for (size_t i = 0; i < built->edges.size(); ++i)
    CHECK(built->edges[i].describe() == parsed->edges[i].describe());
  CHECK(built->find_node("a")->retries_max == 2);
  auto bad = workflow_builder{"x"}.function("f", "g").when("f", {{"n >", "END"}}, "END").entry("f").build();
  REQUIRE_FALSE(bad);
  CHECK(error_context(bad.error()).find("edge from f") != std::string::npos);
}

}  // namespace workflow_model_test
