// Workflows through the gateway: a run that pauses before a node, resumed
// over HTTP with a human's input; a background run's events as SSE; and
// the error paths of the workflow routes.
#include <doctest/doctest.h>

#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <unistd.h>

#include "actors/host/node/gateway.hpp"
#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/workflow/workflow_builder.hpp"
#include "runtime/error.hpp"

namespace gateway_workflow_test {

using namespace agentgraph;

constexpr const char* rules_json = R"({
  "rules": [{"name": "echo", "when": {"last_role": "user"}, "reply": "ok: {{user}}"}],
  "default": "ok"
})";

constexpr const char* workflow_json = R"({
  "name": "review", "entry": "draft", "interrupt_before": ["publish"],
  "nodes": {"draft": {"agent": "solo", "input": "draft about {{topic}}", "output": "draft"},
            "publish": {"agent": "solo", "input": "publish if {{approval}}", "output": "result"}},
  "edges": [{"from": "draft", "to": "publish"}, {"from": "publish", "to": "END"}]
})";

// The same workflow after an edit: the node `publish` is now `release`.
std::string renamed_workflow_json() {
  std::string out = workflow_json;
  const std::string from = "\"publish\"", to = "\"release\"";
  for (auto at = out.find(from); at != std::string::npos; at = out.find(from, at + to.size()))
    out.replace(at, from.size(), to);
  return out;
}

struct fixture {
  std::filesystem::path dir;
  std::unique_ptr<Runtime> rt;
  std::unique_ptr<gateway> gw;

  fixture() {
    static int n = 0;
    dir = std::filesystem::temp_directory_path()
          / ("agentgraph-gw-wf-" + std::to_string(getpid()) + "-" + std::to_string(++n));
    std::filesystem::create_directories(dir);
    std::ofstream{dir / "rules.json"} << rules_json;
    std::ofstream{dir / "node.ini"} << "[runtime]\ncheckpoint_path = flows.db\n"
                                       "[provider.scripted]\nrules = rules.json\n"
                                       "[agent.solo]\nhistory_window = 0\n"
                                       "[workflow.review]\nfile = review.json\n";
    start(workflow_json);
  }
  // A node (runtime and gateway) serving `workflow`; the checkpoint file
  // stays, as across a restart after the workflow file was edited.
  // `extra` adds to the runtime before the gateway starts.
  void start(const std::string& workflow,
             const std::function<void(runtime_builder&)>& extra = {}) {
    gw.reset();
    rt.reset();
    std::ofstream{dir / "review.json"} << workflow;
    auto cfg = load_node_config((dir / "node.ini").string(), {}, {});
    REQUIRE_MESSAGE(cfg, describe(cfg.error()));
    auto r = runtime_builder::from_config(*cfg);
    REQUIRE_MESSAGE(r, describe(r.error()));
    rt = std::move(*r);
    if (extra) {
      runtime_builder build{*rt};
      extra(build);
    }
    gateway_config g;
    g.port = 0;
    auto started = gateway::start(*rt, g);
    REQUIRE(started);
    gw = std::move(*started);
    gw->set_ready(true);
  }
  ~fixture() {
    gw.reset();
    rt.reset();
    std::filesystem::remove_all(dir);
  }
  httplib::Client client() const {
    httplib::Client c{"127.0.0.1", gw->port()};
    c.set_read_timeout(30, 0);
    return c;
  }
};

Value json(const httplib::Result& r) {
  REQUIRE(r);
  auto v = Value::from_json(r->body);
  REQUIRE_MESSAGE(v, r->body);
  return *v;
}

TEST_CASE("gateway workflows: a run pauses before a node and a resume over HTTP finishes it") {
  fixture f;
  auto c = f.client();
  auto paused = c.Post("/v1/workflows/review/runs",
                       R"({"input": {"topic": "crates"}, "thread_id": "th-1"})", "application/json");
  REQUIRE(paused);
  CHECK(paused->status == 200);
  auto p = json(paused);
  CHECK(p.get_string("status") == "interrupted");
  CHECK(p.find("next")->to_json() == R"(["publish"])");
  CHECK(p.find("state")->get_string("draft") == "ok: draft about crates");
  auto done = c.Post("/v1/workflows/review/runs/th-1/resume", R"({"input": {"approval": "yes"}})",
                     "application/json");
  REQUIRE(done);
  CHECK(done->status == 200);
  auto d = json(done);
  CHECK(d.get_string("status") == "completed");
  CHECK(d.get_string("thread_id") == "th-1");
  CHECK(d.find("state")->get_string("result") == "ok: publish if yes");
  // The thread has ended: another resume is a conflict.
  auto again = c.Post("/v1/workflows/review/runs/th-1/resume", "{}", "application/json");
  REQUIRE(again);
  CHECK(again->status == 409);
}

// The runner watches its run (runtime/call_watch.hpp): a run that dies
// (here a node function throws, which ends the run's actor) ends the task
// at once. The runner's own deadline is an hour; without the watch's
// monitor this request would outwait the client's 30 s read timeout.
TEST_CASE("gateway workflows: a run that dies ends its task at once, not at the runner's deadline") {
  fixture f;
  f.start(workflow_json, [](runtime_builder& build) {
    REQUIRE_FALSE(build.register_workflow_function("boom", [](const Value&) -> caf::expected<Value> {
      throw std::runtime_error("a bug in a node function");
    }));
    auto g = workflow_builder{"crash"}.function("a", "boom").edge("a", {"END"}).entry("a").build();
    REQUIRE_MESSAGE(g, describe(g.error()));
    REQUIRE_FALSE(build.add_workflow("crash", std::move(*g)));
  });
  auto c = f.client();
  auto r = c.Post("/v1/workflows/crash/runs", R"({"input": {}})", "application/json");
  REQUIRE(r);
  CHECK(r->status == 503);
  auto body = json(r);
  CHECK(body.get_string("status") == "failed");
  CHECK_MESSAGE(r->body.find("workflow run is down") != std::string::npos, r->body);
}

TEST_CASE("gateway workflows: a background run streams its events as SSE") {
  fixture f;
  auto c = f.client();
  auto accepted = c.Post("/v1/workflows/review/runs",
                         R"({"input": {"topic": "x"}, "mode": "background"})", "application/json");
  REQUIRE(accepted);
  CHECK(accepted->status == 202);
  auto id = json(accepted).get_string("task_id");
  REQUIRE(!id.empty());
  std::string body;
  auto r = c.Get(("/v1/tasks/" + id + "/events").c_str(),
                 [&](const char* data, size_t n) {
                   body.append(data, n);
                   return true;
                 });
  REQUIRE(r);
  auto at = [&](const std::string& s) { return body.find(s); };
  CHECK(at("event: run_started") != std::string::npos);
  CHECK(at("event: node_started") < at("event: token"));
  CHECK(at("event: token") < at("event: node_completed"));
  CHECK(at("event: node_completed") < at("event: state_updated"));
  CHECK(at("event: state_updated") < at("event: interrupted"));
  CHECK(at("event: completed") != std::string::npos);  // the entry's final event
}

TEST_CASE("gateway workflows: unknown workflows and threads and bad bodies are named") {
  fixture f;
  auto c = f.client();
  auto unknown = c.Post("/v1/workflows/nope/runs", "{}", "application/json");
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
  CHECK(unknown->body.find("no workflow named 'nope'") != std::string::npos);
  auto bad = c.Post("/v1/workflows/review/runs", R"({"input": [1]})", "application/json");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(bad->body.find("input") != std::string::npos);
  auto field = c.Post("/v1/workflows/review/runs", R"({"colour": 1})", "application/json");
  REQUIRE(field);
  CHECK(field->status == 400);
  CHECK(field->body.find("colour") != std::string::npos);
  auto ghost = c.Post("/v1/workflows/review/runs/ghost/resume", "{}", "application/json");
  REQUIRE(ghost);
  CHECK(ghost->status == 404);
}

TEST_CASE("gateway workflows: a resume after the workflow lost its node is a 409 naming it") {
  fixture f;
  auto paused = f.client().Post("/v1/workflows/review/runs",
                                R"({"input": {"topic": "x"}, "thread_id": "th-edit"})",
                                "application/json");
  REQUIRE(paused);
  REQUIRE(paused->status == 200);
  CHECK(json(paused).get_string("status") == "interrupted");  // before `publish`
  f.start(renamed_workflow_json());
  auto c = f.client();
  auto resumed = c.Post("/v1/workflows/review/runs/th-edit/resume",
                        R"({"input": {"approval": "yes"}})", "application/json");
  REQUIRE(resumed);
  CHECK(resumed->status == 409);
  auto err = json(resumed);
  CHECK(err.find("error")->get_string("code") == "conflict");
  CHECK(err.find("error")->get_string("message").find("next node 'publish'") != std::string::npos);
  // The node lives on and serves the next request.
  auto health = c.Get("/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  // A new run cannot take the thread's id: it fails before any node runs.
  auto taken = c.Post("/v1/workflows/review/runs",
                      R"({"input": {"topic": "y"}, "thread_id": "th-edit"})", "application/json");
  REQUIRE(taken);
  CHECK(taken->status == 502);
  CHECK(json(taken).get_string("error").find("already has checkpoints") != std::string::npos);
}

}  // namespace gateway_workflow_test
