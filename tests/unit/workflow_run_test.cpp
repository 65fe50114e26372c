// Workflow runs on fake agents and tools and registered functions: each
// edge kind, parallel branches merged the same under every finish order,
// max_steps, node retries and timeouts, error edges, routes, interrupts and
// resume, and the order of the event stream.
#include <doctest/doctest.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/host/register_types.hpp"
#include "actors/workflow/workflow_file.hpp"
#include "actors/workflow/workflow_run.hpp"
#include "runtime/checkpoint/checkpoint_actor.hpp"
#include "runtime/error.hpp"

namespace workflow_run_test {

using namespace agentgraph;
using namespace std::chrono_literals;

// An agent that answers "<name>:<input>" after `delay`, fails its first
// `failures` tasks, never answers inputs containing "hang", dies holding
// the task on inputs containing "die" (CAF 0.17 then answers nobody: only a
// monitor tells the caller), and streams its answer as one chunk when
// asked to.
struct fake_agent_state {
  static inline const char* name = "workflow_run_test.fake_agent";
  uint32_t failures_left = 0;
  std::vector<caf::typed_response_promise<task_result>> parked;
};

agent_actor::behavior_type fake_agent(agent_actor::stateful_pointer<fake_agent_state> self,
                                      std::string name, std::chrono::milliseconds delay,
                                      uint32_t failures) {
  self->state.failures_left = failures;
  auto answer = [self, name, delay](task_request& t,
                                    stream_sink_actor sink) -> caf::result<task_result> {
    if (self->state.failures_left > 0) {
      --self->state.failures_left;
      return make_error(errc::provider_error, name + ": flaky");
    }
    auto rp = self->make_response_promise<task_result>();
    if (t.input.find("hang") != std::string::npos) {
      self->state.parked.push_back(rp);
      return rp;
    }
    if (t.input.find("die") != std::string::npos) {
      self->state.parked.push_back(rp);
      self->quit(caf::exit_reason::kill);
      return rp;
    }
    task_result r;
    r.task_id = t.task_id;
    r.agent = name;
    r.output = name + ":" + t.input;
    if (sink)
      self->send(sink, stream_chunk{t.task_id + "-1", r.output, {}});
    if (delay.count() == 0) {
      rp.deliver(r);
      return rp;
    }
    // Reply after the delay without sleeping: a one-shot helper delivers it.
    self->home_system().spawn([rp, r, delay](caf::event_based_actor* helper) mutable {
      helper->delayed_send(helper, delay, caf::atom("go"));
      return caf::behavior{[=](caf::atom_value) mutable {
        rp.deliver(r);
        helper->quit();
      }};
    });
    return rp;
  };
  return {
    [answer](execute_atom, task_request& t) mutable { return answer(t, {}); },
    [answer](execute_stream_atom, task_request& t, stream_sink_actor& sink) mutable {
      return answer(t, sink);
    },
    [](stats_atom) { return agent_stats{}; },
    [](ping_atom) { return pong_atom::value; },
  };
}

tool_actor::behavior_type echo_tool(tool_actor::pointer) {
  return {
    [](invoke_atom, tool_invocation& inv) {
      return tool_result{inv.call_id, Value{"echo " + inv.arguments.get_string("text")}, false};
    },
    [](describe_atom) { return tool_spec{}; },
    [](stats_atom) { return tool_stats{}; },
    [](ping_atom) { return pong_atom::value; },
  };
}

// A tool that dies holding every call, never answering it.
tool_actor::behavior_type dying_tool(tool_actor::pointer self) {
  return {
    [self](invoke_atom, tool_invocation&) -> caf::result<tool_result> {
      auto rp = self->make_response_promise<tool_result>();
      self->quit(caf::exit_reason::kill);
      return rp;
    },
    [](describe_atom) { return tool_spec{}; },
    [](stats_atom) { return tool_stats{}; },
    [](ping_atom) { return pong_atom::value; },
  };
}

// A checkpoint store that holds every put unanswered ("hang") or dies
// holding it ("die"); it answers nothing else either.
checkpoint_actor::behavior_type stuck_store(checkpoint_actor::pointer self, std::string mode) {
  auto none = [](auto&&...) -> caf::error { return make_error(errc::unavailable, "stuck store"); };
  return {
    [self, mode](checkpoint_put_atom, checkpoint&) -> caf::result<uint64_t> {
      auto rp = self->make_response_promise<uint64_t>();
      if (mode == "die")
        self->quit(caf::exit_reason::kill);
      return rp;
    },
    [none](checkpoint_latest_atom, std::string&) -> caf::result<checkpoint> { return none(); },
    [none](checkpoint_get_atom, std::string&, uint64_t) -> caf::result<checkpoint> {
      return none();
    },
    [none](checkpoint_list_atom, std::string&, uint32_t) -> caf::result<std::vector<checkpoint>> {
      return none();
    },
    [none](checkpoint_threads_atom, uint32_t) -> caf::result<std::vector<std::string>> {
      return none();
    },
    [none](checkpoint_delete_atom, std::string&) -> caf::result<uint64_t> { return none(); },
    [](ping_atom) { return pong_atom::value; },
  };
}

struct event_log {
  std::mutex mu;
  std::vector<workflow_event> events;
  std::vector<std::string> kinds() {
    std::lock_guard<std::mutex> lock{mu};
    std::vector<std::string> out;
    for (const auto& e : events)
      out.push_back(std::string{to_string(e.kind)} + (e.node.empty() ? "" : ":" + e.node));
    return out;
  }
};

workflow_event_sink::behavior_type logging_sink(workflow_event_sink::pointer,
                                                std::shared_ptr<event_log> log) {
  return {[log](workflow_event& e) {
    std::lock_guard<std::mutex> lock{log->mu};
    log->events.push_back(std::move(e));
  }};
}

struct fixture {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  std::optional<caf::scoped_actor> self;
  workflow_deps deps;
  std::shared_ptr<function_registry> functions = std::make_shared<function_registry>();
  std::vector<caf::actor> owned;

  fixture() {
    register_all_types(cfg);
    cfg.set("scheduler.max-threads", 2);
    sys.emplace(cfg);
    self.emplace(*sys);
    deps.functions = functions;
    deps.reducers = std::make_shared<reducer_registry>();
  }
  ~fixture() {
    for (auto& a : owned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    self.reset();
  }
  void agent(const std::string& name, std::chrono::milliseconds delay = 0ms, uint32_t failures = 0) {
    auto a = sys->spawn(fake_agent, name, delay, failures);
    owned.push_back(caf::actor_cast<caf::actor>(a));
    deps.agents[name] = a;
  }
  void function(const std::string& name, node_function fn) {
    REQUIRE_FALSE(functions->add(name, std::move(fn)));
  }
  workflow_result run(const std::string& json, workflow_start start = {},
                      std::shared_ptr<event_log> log = nullptr) {
    auto g = parse_workflow(json, "test.json");
    REQUIRE_MESSAGE(g, describe(g.error()));
    if (start.thread_id.empty())
      start.thread_id = "t1";
    workflow_event_sink sink;
    if (log)
      sink = sys->spawn(logging_sink, log);
    auto run = spawn_workflow_run(*sys, std::make_shared<const workflow_graph>(std::move(*g)), deps,
                                  std::move(start), sink);
    REQUIRE_MESSAGE(run, describe(run.error()));
    workflow_result out;
    (*self)->request(*run, 20s, run_workflow_atom::value)
      .receive([&](workflow_result& r) { out = std::move(r); },
               [&](caf::error& e) { FAIL(describe(e)); });
    return out;
  }
};

Value obj(const char* json) {
  return Value::from_json(json).value();
}

node_function add_one(const char* key) {
  return [key](const Value& state) -> caf::expected<Value> {
    const Value* v = state.find(key);
    int64_t n = v != nullptr && v->is_int() ? v->as_int() : 0;
    return Value{Value::Object{{key, Value{n + 1}}}};
  };
}

TEST_CASE("workflow run: a conditional cycle runs until its condition holds") {
  fixture f;
  f.function("inc", add_one("n"));
  auto r = f.run(R"({"entry": "inc", "nodes": {"inc": {"function": "inc"}},
    "edges": [{"from": "inc", "if": [{"when": "n >= 3", "to": "END"}, {"else": "inc"}]}]})");
  CHECK(r.status == workflow_status::completed);
  CHECK(r.state.to_json() == R"({"n":3})");
  CHECK(r.steps == 3);
}

TEST_CASE("workflow run: max_steps stops an endless cycle with the state reached") {
  fixture f;
  f.function("inc", add_one("n"));
  auto r = f.run(R"({"entry": "inc", "max_steps": 5, "nodes": {"inc": {"function": "inc"}},
    "edges": [{"from": "inc", "if": [{"when": "n < 0", "to": "END"}, {"else": "inc"}]}]})");
  CHECK(r.status == workflow_status::failed);
  CHECK(r.error.find("max_steps (5)") != std::string::npos);
  CHECK(r.state.to_json() == R"({"n":5})");
}

TEST_CASE("workflow run: fan-out branches merge the same whatever order they finish in") {
  const char* graph = R"({"entry": "start", "state": {"notes": "append"},
    "nodes": {"start": {"function": "start"},
              "a": {"agent": "alpha", "input": "{{topic}}", "output": "a_out"},
              "b": {"agent": "beta", "input": "{{topic}}", "output": "b_out"},
              "c": {"agent": "gamma", "input": "{{topic}}", "output": "c_out"},
              "collect": {"function": "collect"}},
    "edges": [{"from": "start", "to": ["a", "b", "c"]},
              {"join": ["a", "b", "c"], "to": "collect"},
              {"from": "collect", "to": "END"}]})";
  std::string first;
  // Each permutation of delays makes the branches finish in another order.
  std::vector<int> delays = {0, 40, 80};
  do {
    fixture f;
    f.agent("alpha", std::chrono::milliseconds{delays[0]});
    f.agent("beta", std::chrono::milliseconds{delays[1]});
    f.agent("gamma", std::chrono::milliseconds{delays[2]});
    f.function("start", [](const Value&) -> caf::expected<Value> {
      return Value{Value::Object{{"topic", Value{"x"}}, {"notes", Value{"start"}}}};
    });
    f.function("collect", [](const Value& s) -> caf::expected<Value> {
      return Value{Value::Object{{"notes", Value{s.get_string("a_out") + "|" + s.get_string("b_out")
                                                 + "|" + s.get_string("c_out")}}}};
    });
    auto r = f.run(graph);
    REQUIRE(r.status == workflow_status::completed);
    if (first.empty())
      first = r.state.to_json();
    CHECK(r.state.to_json() == first);
    CHECK(r.steps == 3);
  } while (std::next_permutation(delays.begin(), delays.end()));
  CHECK(first.find(R"("notes":["start","alpha:x|beta:x|gamma:x"])") != std::string::npos);
}

TEST_CASE("workflow run: a join waits for branches of different lengths") {
  fixture f;
  f.agent("w");
  f.function("mark", [](const Value&) -> caf::expected<Value> { return obj(R"({"marked": true})"); });
  auto r = f.run(R"({"entry": "s", "state": {"seen": "append"},
    "nodes": {"s": {"function": "mark"}, "short": {"agent": "w", "input": "s", "output": "one"},
              "long1": {"agent": "w", "input": "l1", "output": "two"},
              "long2": {"agent": "w", "input": "{{two}}", "output": "three"},
              "end": {"agent": "w", "input": "{{one}} {{three}}", "output": "final"}},
    "edges": [{"from": "s", "to": ["short", "long1"]}, {"from": "long1", "to": "long2"},
              {"join": ["short", "long2"], "to": "end"}, {"from": "end", "to": "END"}]})");
  REQUIRE(r.status == workflow_status::completed);
  CHECK(r.state.get_string("final") == "w:w:s w:w:l1");
}

TEST_CASE("workflow run: a node retries, and a node without an answer times out") {
  fixture f;
  f.agent("flaky", 0ms, 2);
  auto ok = f.run(R"({"entry": "a", "nodes": {"a": {"agent": "flaky", "input": "go", "output": "out", "retries": 2}},
    "edges": [{"from": "a", "to": "END"}]})");
  CHECK(ok.status == workflow_status::completed);
  CHECK(ok.state.get_string("out") == "flaky:go");
  fixture g;
  g.agent("slow");
  auto timed_out = g.run(R"({"entry": "a", "nodes": {"a": {"agent": "slow", "input": "hang", "output": "out", "timeout": "50ms"}},
    "edges": [{"from": "a", "to": "END"}]})");
  CHECK(timed_out.status == workflow_status::failed);
  CHECK(timed_out.error.find("node 'a' failed") != std::string::npos);
  CHECK(timed_out.error.find("timeout") != std::string::npos);
}

TEST_CASE("workflow run: an error edge routes around a failed node with the error in state") {
  fixture f;
  f.agent("broken", 0ms, 5);
  f.function("sorry", [](const Value& s) -> caf::expected<Value> {
    const Value* e = s.find("error");
    return Value{Value::Object{{"handled", Value{e != nullptr ? e->get_string("node") : "?"}}}};
  });
  auto r = f.run(R"({"entry": "a", "nodes": {"a": {"agent": "broken", "input": "go", "output": "out"},
      "fix": {"function": "sorry"}},
    "edges": [{"from": "a", "to": "END"}, {"from": "a", "on_error": "fix"}, {"from": "fix", "to": "END"}]})");
  REQUIRE(r.status == workflow_status::completed);
  CHECK(r.state.get_string("handled") == "a");
  CHECK(r.state.find("error")->get_string("message").find("flaky") != std::string::npos);
}

TEST_CASE("workflow run: a route edge follows the agent's choice and names a bad one") {
  fixture f;
  f.function("choose", [](const Value& s) -> caf::expected<Value> {
    return Value{Value::Object{{"choice", Value{s.get_string("want") + "."}}}};
  });
  f.function("yes", [](const Value&) -> caf::expected<Value> { return obj(R"({"done": "published"})"); });
  f.function("no", [](const Value&) -> caf::expected<Value> { return obj(R"({"done": "revised"})"); });
  const char* graph = R"({"entry": "decide", "nodes": {"decide": {"function": "choose"},
      "publish": {"function": "yes"}, "revise": {"function": "no"}},
    "edges": [{"from": "decide", "route": "choice", "routes": {"approve": "publish", "revise": "revise"}},
              {"from": "publish", "to": "END"}, {"from": "revise", "to": "END"}]})";
  workflow_start s;
  s.state = obj(R"({"want": "approve"})");
  CHECK(f.run(graph, s).state.get_string("done") == "published");
  s.state = obj(R"({"want": "maybe"})");
  auto bad = f.run(graph, s);
  CHECK(bad.status == workflow_status::failed);
  CHECK(bad.error.find("chose route 'maybe'") != std::string::npos);
  CHECK(bad.error.find("approve, revise") != std::string::npos);
}

TEST_CASE("workflow run: interrupt before a node pauses, and resume finishes the run") {
  fixture f;
  f.function("inc", add_one("n"));
  f.function("publish", [](const Value& s) -> caf::expected<Value> {
    return Value{Value::Object{{"published", Value{s.get_string("approval") == "yes"}}}};
  });
  const char* graph = R"({"entry": "draft", "interrupt_before": ["publish"],
    "nodes": {"draft": {"function": "inc"}, "publish": {"function": "publish"}},
    "edges": [{"from": "draft", "to": "publish"}, {"from": "publish", "to": "END"}]})";
  auto paused = f.run(graph);
  REQUIRE(paused.status == workflow_status::interrupted);
  CHECK(paused.next == std::vector<std::string>{"publish"});
  CHECK(paused.state.to_json() == R"({"n":1})");
  // A human approves: the resume adds input to the state and continues.
  workflow_start resume;
  resume.state = paused.state;
  resume.state["approval"] = Value{"yes"};
  resume.step = paused.steps;
  resume.next = paused.next;
  resume.resuming = true;
  auto done = f.run(graph, resume);
  REQUIRE(done.status == workflow_status::completed);
  CHECK(done.state.to_json() == R"({"approval":"yes","n":1,"published":true})");
  CHECK(done.steps == 2);
}

TEST_CASE("workflow run: tool nodes render their arguments from the state") {
  fixture f;
  auto tool = f.sys->spawn(echo_tool);
  f.owned.push_back(caf::actor_cast<caf::actor>(tool));
  f.deps.tools["echo"] = tool;
  workflow_start s;
  s.state = obj(R"({"who": "world"})");
  auto r = f.run(R"({"entry": "t", "nodes": {"t": {"tool": "echo", "arguments": {"text": "hello {{who}}"}, "output": "said"}},
    "edges": [{"from": "t", "to": "END"}]})", s);
  REQUIRE(r.status == workflow_status::completed);
  CHECK(r.state.get_string("said") == "echo hello world");
}

TEST_CASE("workflow run: events arrive in order, with agent tokens") {
  fixture f;
  f.agent("w");
  f.function("inc", add_one("n"));
  auto log = std::make_shared<event_log>();
  auto r = f.run(R"({"entry": "a", "nodes": {"a": {"agent": "w", "input": "hi", "output": "out"},
      "b": {"function": "inc"}},
    "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "END"}]})", {}, log);
  REQUIRE(r.status == workflow_status::completed);
  // The sink is its own actor: wait (bounded) for the last event.
  for (int i = 0; i < 400 && (log->kinds().empty() || log->kinds().back() != "run_completed"); ++i)
    std::this_thread::sleep_for(5ms);
  CHECK(log->kinds()
        == std::vector<std::string>{"run_started", "node_started:a", "token:a", "node_completed:a",
                                    "state_updated", "node_started:b", "node_completed:b",
                                    "state_updated", "run_completed"});
}

// Node and checkpoint calls are watched (runtime/call_watch.hpp): the
// callee's death fails the call at once. Each deadline below is an hour,
// so without the watch's monitor these runs would outwait the fixture's
// 20 s receive and fail the test.
TEST_CASE("workflow run: a node whose agent dies mid-call fails at once, not at its timeout") {
  for (const bool events : {false, true}) {  // a plain task, or a streamed one
    CAPTURE(events);
    fixture f;
    f.agent("mortal");
    auto r = f.run(R"({"entry": "a", "nodes": {"a": {"agent": "mortal", "input": "die", "output": "out", "timeout": "3600s"}},
      "edges": [{"from": "a", "to": "END"}]})", {}, events ? std::make_shared<event_log>() : nullptr);
    CHECK(r.status == workflow_status::failed);
    CHECK(r.error.find("node 'a' failed: unavailable: node 'a' is down") != std::string::npos);
  }
}

TEST_CASE("workflow run: a node whose tool dies mid-call fails at once and follows its error edge") {
  fixture f;
  auto tool = f.sys->spawn(dying_tool);
  f.owned.push_back(caf::actor_cast<caf::actor>(tool));
  f.deps.tools["mortal"] = tool;
  f.function("recover", [](const Value&) -> caf::expected<Value> { return obj(R"({"ok": true})"); });
  auto r = f.run(R"({"entry": "t", "nodes": {"t": {"tool": "mortal", "arguments": {}, "output": "o", "timeout": "3600s"},
      "fix": {"function": "recover"}},
    "edges": [{"from": "t", "on_error": "fix"}, {"from": "t", "to": "END"}, {"from": "fix", "to": "END"}]})");
  REQUIRE_MESSAGE(r.status == workflow_status::completed, r.error);
  CHECK(r.state.find("ok") != nullptr);
  const Value* error = r.state.find("error");
  REQUIRE(error != nullptr);
  CHECK(error->get_string("message").find("node 't' is down") != std::string::npos);
}

TEST_CASE("workflow run: a checkpoint put past checkpoint_timeout fails the run as a timeout") {
  fixture f;
  f.function("inc", add_one("n"));
  auto store = f.sys->spawn(stuck_store, std::string{"hang"});
  f.owned.push_back(caf::actor_cast<caf::actor>(store));
  workflow_start s;
  s.checkpoints = store;
  s.checkpoint_timeout = 50ms;
  auto r = f.run(R"({"entry": "a", "nodes": {"a": {"function": "inc"}}, "edges": [{"from": "a", "to": "END"}]})", s);
  CHECK(r.status == workflow_status::failed);
  CHECK(r.error.find("checkpoint write failed") != std::string::npos);
  CHECK(r.error.find("timeout") != std::string::npos);
  CHECK(r.steps == 0);  // the input's save failed: no step ran
}

TEST_CASE("workflow run: a checkpoint store that dies holding a put fails the run at once") {
  fixture f;
  f.function("inc", add_one("n"));
  auto store = f.sys->spawn(stuck_store, std::string{"die"});
  workflow_start s;
  s.checkpoints = store;
  s.checkpoint_timeout = std::chrono::hours{1};
  auto r = f.run(R"({"entry": "a", "nodes": {"a": {"function": "inc"}}, "edges": [{"from": "a", "to": "END"}]})", s);
  CHECK(r.status == workflow_status::failed);
  CHECK(r.error.find("checkpoint write failed") != std::string::npos);
  CHECK(r.error.find("request_receiver_down") != std::string::npos);
}

TEST_CASE("workflow run: spawning checks that every target exists") {
  fixture f;
  auto g = parse_workflow(R"({"entry": "a", "nodes": {"a": {"agent": "ghost", "input": "x", "output": "o"}},
    "edges": [{"from": "a", "to": "END"}]})", "t.json");
  REQUIRE(g);
  auto run = spawn_workflow_run(*f.sys, std::make_shared<const workflow_graph>(*g), f.deps,
                                workflow_start{"t", Value::object(), 0, {}, {}, false});
  REQUIRE_FALSE(run);
  CHECK(error_context(run.error()).find("no agent named 'ghost'") != std::string::npos);
}

}  // namespace workflow_run_test
