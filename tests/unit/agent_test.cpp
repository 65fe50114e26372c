#include <doctest/doctest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/agent/agent.hpp"
#include "actors/agent/agent_prompt.hpp"
#include "actors/host/register_types.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;
using namespace std::chrono_literals;

namespace agent_test {

// Test double of a model: asks for the `echo` tool until it has seen
// `rounds` tool results, then answers with the last tool output and whatever
// memory block the system prompt carried.
provider_actor::behavior_type tool_loop_model(provider_actor::pointer, int rounds) {
  return {
    [rounds](chat_atom, const chat_request& req) -> caf::result<chat_response> {
      int seen = 0;
      std::string last;
      for (const auto& m : req.messages)
        if (m.role == chat_role::tool) {
          ++seen;
          last = m.content;
        }
      chat_response resp;
      resp.message.role = chat_role::assistant;
      resp.usage = {10, 2};
      if (seen < rounds) {
        resp.message.tool_calls.push_back(
          {"c" + std::to_string(seen), "echo", Value::from_json(R"({"x":1})").value()});
        resp.finish = finish_reason::tool_calls;
      } else {
        resp.message.content = "done:" + last;
        if (!req.messages.empty() && req.messages.front().role == chat_role::system)
          resp.message.content += "|" + req.messages.front().content;
      }
      return resp;
    },
    [](chat_stream_atom, const chat_request&, const stream_sink_actor&)
      -> caf::result<chat_response> { return make_error(errc::unsupported, "test model"); },
    [](embed_atom, const embed_request&) -> caf::result<embed_response> {
      return make_error(errc::unsupported, "test model");
    },
    [](cancel_atom, const std::string&) {},
    [](stats_atom) { return provider_stats{}; },
    [](ping_atom) { return pong_atom::value; },
  };
}

// Test double of a model that asks for `calls` tool calls in one reply.
provider_actor::behavior_type burst_model(provider_actor::pointer, size_t calls) {
  return {
    [calls](chat_atom, const chat_request&) -> caf::result<chat_response> {
      chat_response resp;
      for (size_t i = 0; i < calls; ++i)
        resp.message.tool_calls.push_back({"c" + std::to_string(i), "echo", Value::object()});
      resp.finish = finish_reason::tool_calls;
      return resp;
    },
    [](chat_stream_atom, const chat_request&, const stream_sink_actor&)
      -> caf::result<chat_response> { return make_error(errc::unsupported, "test model"); },
    [](embed_atom, const embed_request&) -> caf::result<embed_response> {
      return make_error(errc::unsupported, "test model");
    },
    [](cancel_atom, const std::string&) {},
    [](stats_atom) { return provider_stats{}; },
    [](ping_atom) { return pong_atom::value; },
  };
}

// Test double of a model that reports the settings it was called with.
provider_actor::behavior_type settings_model(provider_actor::pointer) {
  return {
    [](chat_atom, const chat_request& req) -> caf::result<chat_response> {
      chat_response resp;
      resp.message.content = req.model + "|" + std::to_string(req.temperature) + "|"
                             + std::to_string(req.max_tokens) + "|"
                             + std::to_string(req.tools.size());
      return resp;
    },
    [](chat_stream_atom, const chat_request&, const stream_sink_actor&)
      -> caf::result<chat_response> { return make_error(errc::unsupported, "test model"); },
    [](embed_atom, const embed_request&) -> caf::result<embed_response> {
      return make_error(errc::unsupported, "test model");
    },
    [](cancel_atom, const std::string&) {},
    [](stats_atom) { return provider_stats{}; },
    [](ping_atom) { return pong_atom::value; },
  };
}

tool_actor::behavior_type echo_tool(tool_actor::pointer, bool fail) {
  return {
    [fail](invoke_atom, const tool_invocation& inv) -> caf::result<tool_result> {
      if (fail)
        return make_error(errc::tool_error, "echo broke");
      return tool_result{inv.call_id, inv.arguments, false};
    },
    [](describe_atom) { return tool_spec{"echo", "echoes", {}, true}; },
    [](stats_atom) { return tool_stats{}; },
    [](ping_atom) { return pong_atom::value; },
  };
}

std::vector<memory_hit> fixed_hits() {
  memory_hit hit;
  hit.entry.text = "the crate is 120x80x60";
  hit.score = 0.9;
  return {hit};
}

memory_actor::behavior_type fixed_memory(memory_actor::pointer, std::shared_ptr<int> stores) {
  return {
    [stores](store_atom, const memory_entry&) -> uint64_t { return ++*stores; },
    [](recall_atom, const std::string&, uint32_t) { return fixed_hits(); },
    [](recall_scoped_atom, const std::string&, uint32_t, const std::vector<std::string>&) {
      return fixed_hits();
    },
    [](stats_atom) { return memory_stats{}; },
    [](snapshot_atom) -> uint64_t { return 0; },
    [](cleanup_atom) {},
    [](memory_flush_atom) {},
    [](ping_atom) { return pong_atom::value; },
  };
}

// A shard that holds every store's reply until it gets cleanup_atom, and
// tells `observer` ("store held") when it has one.
using held_stores = std::vector<caf::typed_response_promise<uint64_t>>;

memory_actor::behavior_type held_memory(memory_actor::pointer self, caf::actor observer,
                                        std::shared_ptr<held_stores> held) {
  return {
    [=](store_atom, const memory_entry&) -> caf::result<uint64_t> {
      held->push_back(self->make_response_promise<uint64_t>());
      caf::anon_send(observer, std::string{"store held"});
      return held->back();
    },
    [](recall_atom, const std::string&, uint32_t) { return std::vector<memory_hit>{}; },
    [](recall_scoped_atom, const std::string&, uint32_t, const std::vector<std::string>&) {
      return std::vector<memory_hit>{};
    },
    [](stats_atom) { return memory_stats{}; },
    [](snapshot_atom) -> uint64_t { return 0; },
    [held](cleanup_atom) {
      for (auto& rp : *held)
        rp.deliver(uint64_t{1});
      held->clear();
    },
    [](memory_flush_atom) {},
    [](ping_atom) { return pong_atom::value; },
  };
}

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> self;
  fixture() {
    register_all_types(cfg);
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    self = std::make_unique<caf::scoped_actor>(*sys);
  }
  ~fixture() { self.reset(); }

  agent_actor make_agent(int rounds, bool tool_fails, uint32_t max_iterations,
                         memory_actor memory = {}) {
    agent_config ac;
    ac.name = "tester";
    ac.max_tool_iterations = max_iterations;
    ac.tools = {"echo"};
    ac.request_timeout = 5s;
    agent_dependencies deps;
    deps.provider = sys->spawn(tool_loop_model, rounds);
    deps.tools["echo"] = sys->spawn(echo_tool, tool_fails);
    deps.tool_definitions.push_back({"echo", "echoes", Value::object()});
    if (memory) {
      ac.memory = "mem";
      deps.memory = memory;
    }
    REQUIRE_FALSE(validate_agent(ac, deps));
    return spawn_agent(*sys, ac, deps);
  }

  caf::expected<task_result> run(const agent_actor& a, std::string input) {
    caf::expected<task_result> out = make_error(errc::internal, "no reply");
    (*self)->request(a, 10s, execute_atom::value, task_request{"", std::move(input), {}})
      .receive([&](task_result& r) { out = std::move(r); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }
};

}  // namespace agent_test

TEST_CASE_FIXTURE(agent_test::fixture, "agent: tool loop runs tools and feeds results back") {
  auto agent = make_agent(2, false, 6);
  auto r = run(agent, "go");
  REQUIRE(r);
  CHECK(r->output == R"(done:{"x":1})");
  CHECK(r->tool_calls.size() == 2);
  CHECK(r->tool_calls[0].tool == "echo");
  CHECK(r->tool_calls[0].ok);
  CHECK(r->model_calls == 3);
  CHECK(r->usage.prompt_tokens == 30);
  CHECK(r->usage.completion_tokens == 6);
  agent_stats st;
  (*self)->request(agent, 1s, stats_atom::value).receive([&](agent_stats& s) { st = s; },
                                                         [&](caf::error&) { FAIL("stats"); });
  CHECK(st.tasks_completed == 1);
  CHECK(st.total_tokens == 36);
  CHECK(st.errors == 0);
  CHECK(st.status == agent_status::idle);
  CHECK(st.memory_bytes > 0);  // the history now holds one turn
  caf::anon_send_exit(agent, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(agent_test::fixture, "agent: stops at max_tool_iterations with limit_exceeded") {
  auto agent = make_agent(100, false, 3);
  auto r = run(agent, "loop forever");
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::limit_exceeded);
  agent_stats st;
  (*self)->request(agent, 1s, stats_atom::value).receive([&](agent_stats& s) { st = s; },
                                                         [&](caf::error&) { FAIL("stats"); });
  CHECK(st.errors == 1);
  CHECK(st.status == agent_status::failed);
  caf::anon_send_exit(agent, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(agent_test::fixture, "agent: a failing tool becomes an error message to the model") {
  auto agent = make_agent(1, true, 6);
  auto r = run(agent, "go");
  REQUIRE(r);
  CHECK(r->output.find("tool_error: echo broke") != std::string::npos);
  REQUIRE(r->tool_calls.size() == 1);
  CHECK_FALSE(r->tool_calls[0].ok);
  caf::anon_send_exit(agent, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(agent_test::fixture, "agent: recalls memory into the prompt and stores the interaction") {
  auto stores = std::make_shared<int>(0);
  auto mem = sys->spawn(agent_test::fixed_memory, stores);
  auto agent = make_agent(0, false, 6, mem);
  auto r = run(agent, "how big is the crate?");
  REQUIRE(r);
  CHECK(r->output.find("Relevant memory:\n- the crate is 120x80x60") != std::string::npos);
  // The store is fire-and-forget; a second task proves ordering: by the time
  // it is answered, the first store has been handled.
  REQUIRE(run(agent, "again"));
  (*self)->request(mem, 1s, stats_atom::value).receive([](memory_stats&) {}, [](caf::error&) {});
  CHECK(*stores == 2);
  caf::anon_send_exit(agent, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(mem, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(agent_test::fixture, "agent: rejects empty input") {
  auto agent = make_agent(0, false, 6);
  auto r = run(agent, "");
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::invalid_argument);
  caf::anon_send_exit(agent, caf::exit_reason::user_shutdown);
}

TEST_CASE("agent: validate_agent names what is missing") {
  agent_config ac;
  ac.name = "a";
  ac.tools = {"calculator"};
  agent_dependencies deps;
  auto err = validate_agent(ac, deps);
  REQUIRE(err);
  CHECK(describe(err).find("provider") != std::string::npos);
}

TEST_CASE("agent: role presets and explicit temperature") {
  agent_config ac;
  ac.role = agent_role::coding;
  CHECK(ac.effective_temperature() == doctest::Approx(0.1));
  ac.role = agent_role::creative;
  CHECK(ac.effective_temperature() == doctest::Approx(0.8));
  ac.role = agent_role::analysis;
  CHECK(ac.effective_temperature() == doctest::Approx(0.3));
  ac.role = agent_role::general;
  CHECK(ac.effective_temperature() == doctest::Approx(0.5));
  ac.temperature = 1.2;
  CHECK(ac.effective_temperature() == doctest::Approx(1.2));
}

TEST_CASE("agent: history keeps the last history_window turns") {
  conversation_history h{2};
  h.add({"a", "1"});
  h.add({"b", "2"});
  h.add({"c", "3"});
  REQUIRE(h.size() == 2);
  CHECK(h.at(0).user == "b");
  CHECK(h.at(1).user == "c");
  // The ring wraps more than once and keeps the order.
  for (int i = 0; i < 5; ++i)
    h.add({"u" + std::to_string(i), "r" + std::to_string(i)});
  REQUIRE(h.size() == 2);
  CHECK(h.at(0).user == "u3");
  CHECK(h.at(1).assistant == "r4");
  h.add({"b", "2"});
  h.add({"c", "3"});
  agent_config ac;
  ac.system_prompt = "sys";
  auto msgs = build_initial_messages(ac, h, {}, task_request{"t", "now", Value{}});
  REQUIRE(msgs.size() == 6);
  CHECK(msgs[0].content == "sys");
  CHECK(msgs[1].content == "b");
  CHECK(msgs[5].content == "now");
  conversation_history none{0};
  none.add({"x", "y"});
  CHECK(none.size() == 0);
  CHECK(none.heap_bytes() == 0);
  // Nothing is allocated before the first turn.
  conversation_history fresh{8};
  CHECK(fresh.heap_bytes() == 0);
}

TEST_CASE_FIXTURE(agent_test::fixture, "agent: model, temperature, max_tokens and tools reach the provider") {
  agent_config ac;
  ac.name = "settings";
  ac.model = "m-large";
  ac.role = agent_role::creative;
  ac.max_tokens = 77;
  agent_dependencies deps;
  deps.provider = sys->spawn(agent_test::settings_model);
  REQUIRE_FALSE(validate_agent(ac, deps));
  auto agent = spawn_agent(*sys, ac, deps);
  auto r = run(agent, "hi");
  REQUIRE(r);
  CHECK(r->output == "m-large|0.800000|77|0");
  caf::anon_send_exit(agent, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(deps.provider.get(), caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(agent_test::fixture, "agent: a reply with too many tool calls fails the task") {
  agent_config ac;
  ac.name = "burst";
  ac.tools = {"echo"};
  agent_dependencies deps;
  deps.provider = sys->spawn(agent_test::burst_model, tool_calls_per_round_max + 1);
  deps.tools["echo"] = sys->spawn(agent_test::echo_tool, false);
  deps.tool_definitions.push_back({"echo", "echoes", Value::object()});
  REQUIRE_FALSE(validate_agent(ac, deps));
  auto agent = spawn_agent(*sys, ac, deps);
  auto r = run(agent, "go");
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::limit_exceeded);
  CHECK(describe(r.error()).find("tool_calls_per_round_max") != std::string::npos);
  caf::anon_send_exit(agent, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(deps.provider.get(), caf::exit_reason::user_shutdown);
  caf::anon_send_exit(deps.tools["echo"].get(), caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(agent_test::fixture, "agent: answers a task after its memory store is answered") {
  auto held = std::make_shared<agent_test::held_stores>();
  auto memory = sys->spawn(agent_test::held_memory, caf::actor_cast<caf::actor>(*self), held);
  auto agent = make_agent(0, false, 3, memory);
  auto answer = (*self)->request(agent, 10s, execute_atom::value, task_request{"", "go", {}});
  (*self)->receive([](std::string& note) { CHECK(note == "store held"); });
  // The store is not answered yet (a shard in commit durability is still
  // committing it): the task is still in flight, and unanswered.
  agent_stats st;
  (*self)->request(agent, 5s, stats_atom::value).receive([&](agent_stats& s) { st = s; },
                                                         [&](caf::error&) { FAIL("stats"); });
  CHECK(st.tasks_in_flight == 1);
  caf::anon_send(memory, cleanup_atom::value);  // the commit lands
  bool answered = false;
  answer.receive([&](task_result&) { answered = true; }, [&](caf::error&) {});
  CHECK(answered);
  (*self)->request(agent, 5s, stats_atom::value).receive([&](agent_stats& s) { st = s; },
                                                         [&](caf::error&) { FAIL("stats"); });
  CHECK(st.tasks_in_flight == 0);
  CHECK(st.tasks_completed == 1);
  caf::anon_send_exit(agent, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(memory, caf::exit_reason::user_shutdown);
}
