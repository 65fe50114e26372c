// Workflow runs saved after every super-step, and resumed by thread id: on
// SQLite (a file per test) and on PostgreSQL (the test server; cases named
// "postgres ..."). The runs use registered functions so the expected states
// are exact.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <unistd.h>

#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/host/runtime_client.hpp"
#include "actors/workflow/workflow_builder.hpp"
#include "runtime/checkpoint/postgres_checkpoint_store.hpp"
#include "runtime/checkpoint/sqlite_checkpoint_store.hpp"
#include "runtime/error.hpp"

namespace workflow_checkpoint_test {

using namespace agentgraph;

using opener = std::function<caf::expected<std::unique_ptr<checkpoint_store>>()>;

opener sqlite_opener() {
  static std::atomic<int> n{0};
  auto path = std::filesystem::temp_directory_path()
              / ("wfcp-" + std::to_string(getpid()) + "-" + std::to_string(++n) + ".db");
  std::filesystem::remove(path);
  return [path] { return open_sqlite_checkpoint_store(path.string()); };
}

opener postgres_opener() {
  const char* url = std::getenv("AGENTGRAPH_TEST_POSTGRES_URL");
  REQUIRE_MESSAGE(url != nullptr, "AGENTGRAPH_TEST_POSTGRES_URL is not set: run tools/test.sh, "
                                  "or `tools/test-services.sh run ctest ...`, or `ctest -LE postgres`");
  std::string schema = "wf_" + std::to_string(getpid()) + "_"
                       + std::to_string(std::random_device{}() % 1'000'000);
  std::string u = url;
  return [u, schema] { return open_postgres_checkpoint_store(u, {}, schema); };
}

// A runtime with one scripted agent (unused here) and two functions.
std::unique_ptr<Runtime> make_runtime(const opener& open) {
  const std::string rules = AGENTGRAPH_SOURCE_DIR "/configs/examples/research.rules.json";
  auto cfg = parse_node_config("[provider.scripted]\nrules = " + rules + "\n[agent.a]\n",
                               "wf.ini", {}, {});
  REQUIRE(cfg);
  auto rt = runtime_builder::from_config(*cfg);
  REQUIRE(rt);
  auto store = open();
  REQUIRE_MESSAGE(store, describe(store.error()));
  REQUIRE_FALSE(runtime_builder{**rt}.use_checkpoints(std::move(*store)));
  REQUIRE_FALSE(runtime_builder{**rt}.register_workflow_function(
    "inc", [](const Value& s) -> caf::expected<Value> {
      const Value* v = s.find("n");
      return Value{Value::Object{{"n", Value{(v != nullptr && v->is_int() ? v->as_int() : 0) + 1}}}};
    }));
  REQUIRE_FALSE(runtime_builder{**rt}.register_workflow_function(
    "publish", [](const Value& s) -> caf::expected<Value> {
      return Value{Value::Object{{"published", Value{s.get_string("approval") == "yes"}}}};
    }));
  return std::move(*rt);
}

workflow_graph counting_graph() {
  return workflow_builder{"count"}
    .function("inc", "inc")
    .when("inc", {{"n >= 3", "END"}}, "inc")
    .entry("inc")
    .build()
    .value();
}

// `publish_node` names the node calling "publish" (another name: the file
// was edited since the thread was saved).
workflow_graph approval_graph(const std::string& publish_node = "publish") {
  return workflow_builder{"approve"}
    .function("draft", "inc")
    .function(publish_node, "publish")
    .edge("draft", {publish_node})
    .edge(publish_node, {"END"})
    .interrupt_before(publish_node)
    .entry("draft")
    .build()
    .value();
}

void ignore(const workflow_event&) {}

void every_step_is_saved(const opener& open) {
  auto rt = make_runtime(open);
  workflow_start s;
  s.thread_id = "t-count";
  auto r = runtime_client{*rt}.run_workflow(counting_graph(), s, ignore);
  REQUIRE(r);
  CHECK(r->status == workflow_status::completed);
  CHECK(r->state.to_json() == R"({"n":3})");
  // The thread's last checkpoint has nothing left to run: resuming it is a
  // conflict (the gateway's 409), not a silent restart from the entry.
  auto again = runtime_client{*rt}.resume_workflow(counting_graph(), "t-count", 0, Value::object(), ignore);
  REQUIRE_FALSE(again);
  CHECK(errc_of(again.error()) == errc::conflict);
  CHECK(error_context(again.error()).find("already ended") != std::string::npos);
  // Checkpoint 1 is the input; resuming from checkpoint 2 (after step 1)
  // re-runs steps 2 and 3 and ends in the same state.
  auto from_two = runtime_client{*rt}.resume_workflow(counting_graph(), "t-count", 2, Value::object(), ignore);
  REQUIRE_MESSAGE(from_two, describe(from_two.error()));
  CHECK(from_two->state.to_json() == R"({"n":3})");
  CHECK(from_two->steps == 3);
}

void interrupt_then_resume(const opener& open) {
  auto rt = make_runtime(open);
  workflow_start s;
  s.thread_id = "t-approve";
  auto paused = runtime_client{*rt}.run_workflow(approval_graph(), s, ignore);
  REQUIRE(paused);
  REQUIRE(paused->status == workflow_status::interrupted);
  CHECK(paused->next == std::vector<std::string>{"publish"});
  // Another runtime (as after a restart) continues the thread with the
  // human's answer merged into the state.
  rt.reset();
  auto rt2 = make_runtime(open);
  auto done = runtime_client{*rt2}.resume_workflow(approval_graph(), "t-approve", 0,
                                   Value::from_json(R"({"approval": "yes"})").value(), ignore);
  REQUIRE_MESSAGE(done, describe(done.error()));
  CHECK(done->status == workflow_status::completed);
  CHECK(done->state.to_json() == R"({"approval":"yes","n":1,"published":true})");
  // Wrong workflow, unknown thread.
  auto wrong = runtime_client{*rt2}.resume_workflow(counting_graph(), "t-approve", 0, Value::object(), ignore);
  REQUIRE_FALSE(wrong);
  CHECK(errc_of(wrong.error()) == errc::conflict);
  CHECK(error_context(wrong.error()).find("belongs to workflow 'approve'") != std::string::npos);
  auto unknown = runtime_client{*rt2}.resume_workflow(approval_graph(), "nobody", 0, Value::object(), ignore);
  REQUIRE_FALSE(unknown);
  CHECK(errc_of(unknown.error()) == errc::not_found);
}

TEST_CASE("workflow checkpoints: every super-step is saved and a thread resumes from any of them") {
  every_step_is_saved(sqlite_opener());
}

TEST_CASE("workflow checkpoints: an interrupted run resumes in a new runtime with human input") {
  interrupt_then_resume(sqlite_opener());
}

TEST_CASE("postgres workflow checkpoints: every super-step is saved and a thread resumes") {
  every_step_is_saved(postgres_opener());
}

TEST_CASE("postgres workflow checkpoints: an interrupted run resumes in a new runtime") {
  interrupt_then_resume(postgres_opener());
}

TEST_CASE("workflow checkpoints: resume without a store is refused clearly") {
  const std::string rules = AGENTGRAPH_SOURCE_DIR "/configs/examples/research.rules.json";
  auto cfg = parse_node_config("[provider.scripted]\nrules = " + rules + "\n[agent.a]\n", "wf.ini",
                               {}, {});
  REQUIRE(cfg);
  auto rt = runtime_builder::from_config(*cfg);
  REQUIRE(rt);
  auto r = runtime_client{**rt}.resume_workflow(counting_graph(), "t", 0, Value::object(), ignore);
  REQUIRE_FALSE(r);
  CHECK(error_context(r.error()).find("checkpoint_path or checkpoint_url") != std::string::npos);
  auto both = parse_node_config("[runtime]\ncheckpoint_path = a.db\ncheckpoint_url = "
                                "postgresql://x@127.0.0.1/db\n[provider.scripted]\nrules = "
                                  + rules + "\n[agent.a]\n",
                                "wf.ini", {}, {});
  REQUIRE_FALSE(both);
  CHECK(error_context(both.error()).find("not both") != std::string::npos);
}

}  // namespace workflow_checkpoint_test

namespace workflow_checkpoint_test {

TEST_CASE("workflow checkpoints: a node asks a human, the run pauses, the answer resumes it") {
  auto rt = make_runtime(sqlite_opener());
  REQUIRE_FALSE(runtime_builder{*rt}.register_workflow_function(
    "ask", [](const Value& s) -> caf::expected<Value> {
      if (s.find("approval") == nullptr)
        return Value::from_json(R"({"__interrupt__": {"question": "Publish the draft?"}, "asked": true})")
          .value();
      return Value{Value::Object{{"approved", Value{s.get_string("approval") == "yes"}}}};
    }));
  auto graph = workflow_builder{"ask"}
                 .function("draft", "inc")
                 .function("ask", "ask")
                 .edge("draft", {"ask"})
                 .edge("ask", {"END"})
                 .entry("draft")
                 .build()
                 .value();
  workflow_start s;
  s.thread_id = "t-ask";
  std::vector<std::string> kinds;
  auto paused = runtime_client{*rt}.run_workflow(graph, s, [&](const workflow_event& e) {
    kinds.push_back(to_string(e.kind));
  });
  REQUIRE(paused);
  REQUIRE(paused->status == workflow_status::interrupted);
  CHECK(paused->next == std::vector<std::string>{"ask"});
  CHECK(paused->state.find("interrupt")->to_json()
        == R"([{"node":"ask","request":{"question":"Publish the draft?"}}])");
  CHECK(paused->state.find("asked") != nullptr);  // the rest of the update applies
  CHECK(kinds.back() == "interrupted");
  auto done = runtime_client{*rt}.resume_workflow(graph, "t-ask", 0,
                                  Value::from_json(R"({"approval": "yes"})").value(), ignore);
  REQUIRE_MESSAGE(done, describe(done.error()));
  CHECK(done->status == workflow_status::completed);
  CHECK(done->state.find("approved")->as_bool());
  CHECK(done->state.find("interrupt")->is_null());  // answered
}

}  // namespace workflow_checkpoint_test

namespace workflow_checkpoint_test {

TEST_CASE("workflow node cache: a deterministic node computes once across runs") {
  auto rt = make_runtime(sqlite_opener());
  auto computed = std::make_shared<std::atomic<int>>(0);
  REQUIRE_FALSE(runtime_builder{*rt}.register_workflow_function(
    "expensive", [computed](const Value& s) -> caf::expected<Value> {
      ++*computed;
      return Value{Value::Object{{"square", Value{s.find("x")->as_int() * s.find("x")->as_int()}}}};
    }));
  auto graph = workflow_builder{"squares"}
                 .function("sq", "expensive")
                 .cache(std::chrono::minutes{10})
                 .edge("sq", {"END"})
                 .entry("sq")
                 .build()
                 .value();
  auto run = [&](const std::string& thread, int x) {
    workflow_start s;
    s.thread_id = thread;
    s.state = Value{Value::Object{{"x", Value{x}}}};
    auto r = runtime_client{*rt}.run_workflow(graph, s, ignore);
    REQUIRE(r);
    REQUIRE(r->status == workflow_status::completed);
    return r->state.find("square")->as_int();
  };
  CHECK(run("a", 7) == 49);
  CHECK(run("b", 7) == 49);  // another run (another actor, empty L1): the process L2 answers
  CHECK(computed->load() == 1);
  CHECK(run("c", 8) == 64);  // other inputs, other key
  CHECK(computed->load() == 2);
  CHECK(rt->metrics().scrape().find(
          R"(agentgraph_cache_requests_total{user="node",level="l2",outcome="hit"} 1)")
        != std::string::npos);
}

}  // namespace workflow_checkpoint_test

namespace workflow_checkpoint_test {

// approval_graph() after an edit: `publish` renamed to `release`, or gone.
workflow_graph edited_approval_graph(bool removed) {
  if (!removed)
    return approval_graph("release");
  return workflow_builder{"approve"}.function("draft", "inc").edge("draft", {"END"}).entry("draft")
    .build()
    .value();
}

// Runs approval_graph() on a new thread until it pauses before `publish`.
void pause_before_publish(Runtime& rt, const std::string& thread) {
  workflow_start s;
  s.thread_id = thread;
  auto paused = runtime_client{rt}.run_workflow(approval_graph(), s, ignore);
  REQUIRE(paused);
  REQUIRE(paused->status == workflow_status::interrupted);
}

caf::expected<workflow_result> approve(Runtime& rt, const workflow_graph& g,
                                       const std::string& thread) {
  return runtime_client{rt}.resume_workflow(g, thread, 0, Value::from_json(R"({"approval": "yes"})").value(),
                            ignore);
}

TEST_CASE("workflow checkpoints: a resume after the graph lost or renamed a node is a conflict") {
  auto rt = make_runtime(sqlite_opener());
  pause_before_publish(*rt, "t-edited");
  for (bool removed : {false, true}) {
    INFO("removed: " << removed);
    auto r = approve(*rt, edited_approval_graph(removed), "t-edited");
    REQUIRE_FALSE(r);
    CHECK(errc_of(r.error()) == errc::conflict);
    CHECK(error_context(r.error()).find("next node 'publish' is not a node of the graph")
          != std::string::npos);
  }
  // Nothing ran and nothing was saved: the thread still resumes on the
  // graph it was saved with, and then it has ended.
  auto done = approve(*rt, approval_graph(), "t-edited");
  REQUIRE_MESSAGE(done, describe(done.error()));
  CHECK(done->status == workflow_status::completed);
  CHECK(done->state.to_json() == R"({"approval":"yes","n":1,"published":true})");
  auto ended = runtime_client{*rt}.resume_start(approval_graph(), "t-edited", 0, Value::object());
  REQUIRE_FALSE(ended);
  CHECK(errc_of(ended.error()) == errc::conflict);
}

TEST_CASE("workflow checkpoints: a second run never takes over an existing thread") {
  auto rt = make_runtime(sqlite_opener());
  pause_before_publish(*rt, "t-taken");
  // A new run under the same id fails at its first save, before any node.
  workflow_start s;
  s.thread_id = "t-taken";
  auto second = runtime_client{*rt}.run_workflow(counting_graph(), s, ignore);
  REQUIRE(second);
  CHECK(second->status == workflow_status::failed);
  CHECK(second->steps == 0);
  CHECK(second->error.find("already has checkpoints") != std::string::npos);
  // The first run's thread is untouched.
  auto done = approve(*rt, approval_graph(), "t-taken");
  REQUIRE_MESSAGE(done, describe(done.error()));
  CHECK(done->state.to_json() == R"({"approval":"yes","n":1,"published":true})");
}

}  // namespace workflow_checkpoint_test
