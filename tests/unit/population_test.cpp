// The population actor (actors/population/): activation, passivation,
// bounds and races, against a store test double that can hold, fence and
// fail its calls, and against the real SQLite store for restarts.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/agent/agent.hpp"
#include "actors/host/register_types.hpp"
#include "actors/population/population.hpp"
#include "runtime/error.hpp"
#include "runtime/population/population_store.hpp"
#include "tests/unit/population_fixture.hpp"

using namespace agentgraph;
using namespace std::chrono_literals;

using population_test::fixture;

TEST_CASE_FIXTURE(fixture, "population: a key's history and stats survive passivation exactly") {
  auto store = sys->spawn(population_test::test_store);
  auto pop = spawn(store);
  auto a = run(pop, "alice", "one");
  REQUIRE(a);
  CHECK(a->agent == "persona/alice");
  CHECK(a->output == "sys=You are alice of persona, {{mood}}.|users=one");
  REQUIRE(run(pop, "alice", "two"));
  auto before = ask<agent_stats>(pop, pop_key_stats_atom::value, std::string{"alice"});
  CHECK(before.tasks_completed == 2);
  CHECK(before.prompt_tokens == 20);
  CHECK(ask<bool>(pop, pop_passivate_atom::value, std::string{"alice"}));
  auto s = stats(pop);
  CHECK(s.active == 0);
  CHECK(s.passivations == 1);
  CHECK(s.saved_keys == 1);
  CHECK(s.passivated == 1);
  CHECK(s.state_bytes == 0);  // nothing of alice is held here
  // A passive key's stats do not activate it.
  CHECK(ask<agent_stats>(pop, pop_key_stats_atom::value, std::string{"alice"}).tasks_completed
        == 0);
  CHECK(stats(pop).active == 0);
  auto c = run(pop, "alice", "three");
  REQUIRE(c);
  CHECK(c->output == "sys=You are alice of persona, {{mood}}.|users=one,two,three");
  auto after = ask<agent_stats>(pop, pop_key_stats_atom::value, std::string{"alice"});
  CHECK(after.tasks_completed == 3);
  CHECK(after.prompt_tokens == 30);
  CHECK(after.completion_tokens == 6);
  CHECK(after.history_turns == 3);
  CHECK(stats(pop).activations == 2);
  CHECK(stats(pop).passivated == 0);
  CHECK(stats(pop).state_bytes > 0);
  // Another key has its own history.
  auto b = run(pop, "bob", "hi");
  REQUIRE(b);
  CHECK(b->output == "sys=You are bob of persona, {{mood}}.|users=hi");
}

TEST_CASE_FIXTURE(fixture, "population: a task racing a passivation is delivered once") {
  pc.durability = population_durability::passivation;  // passivation goes through a save
  auto store = sys->spawn(population_test::test_store);
  auto pop = spawn(store);
  REQUIRE(run(pop, "k", "first"));
  const int calls_before = *calls;
  // Hold the store so the passivation's save waits; the task arrives in
  // the middle of it.
  caf::anon_send(store, std::string{"hold"});
  (*self)->send(pop, pop_passivate_atom::value, std::string{"k"});
  auto rp = (*self)->request(pop, 10s, pop_execute_atom::value, std::string{"k"},
                             task_request{"race-1", "second", {}});
  // The task waits (the key is saving); nothing answered it yet.
  for (int i = 0; i < 200 && stats(pop).waiting == 0; ++i)
    std::this_thread::sleep_for(5ms);
  CHECK(stats(pop).waiting == 1);
  CHECK(*calls == calls_before);
  caf::anon_send(store, std::string{"release"});
  int answers = 0;
  rp.receive(
    [&](task_result& r) {
      ++answers;
      CHECK(r.output == "sys=You are k of persona, {{mood}}.|users=first,second");
    },
    [&](caf::error& e) { FAIL(describe(e)); });
  CHECK(answers == 1);
  CHECK(*calls == calls_before + 1);
  auto s = stats(pop);
  CHECK(s.active == 1);
  CHECK(s.waiting == 0);
  CHECK(s.passivations == 1);
}

TEST_CASE_FIXTURE(fixture, "population: the active bound holds under a flood of distinct keys") {
  pc.active_max = 8;
  auto store = sys->spawn(population_test::test_store);
  auto pop = spawn(store);
  constexpr int keys = 200;
  int ok = 0, overloaded = 0;
  for (int wave = 0; wave < 4; ++wave) {
    std::vector<handle_t> handles;
    for (int i = 0; i < keys / 4; ++i) {
      auto key = "k" + std::to_string(wave * (keys / 4) + i);
      handles.push_back((*self)->request(pop, 10s, pop_execute_atom::value, key,
                                         task_request{"", "hello", {}}));
    }
    for (auto& h : handles)
      h.receive([&](task_result&) { ++ok; },
                [&](caf::error& e) {
                  CHECK_MESSAGE(errc_of(e) == errc::overloaded, describe(e));
                  ++overloaded;
                });
    auto s = stats(pop);
    INFO("active " << s.active << " activating " << s.activating << " passivating "
                   << s.passivating << " waiting " << s.waiting << " in flight "
                   << s.tasks_in_flight << " activations " << s.activations << " evictions "
                   << s.evictions);
    CHECK(s.active <= 8);
    CHECK(s.active + s.activating <= 8);
    CHECK(s.tasks_in_flight == 0);
  }
  CHECK(ok + overloaded == keys);
  CHECK(ok >= 8);
  auto s = stats(pop);
  CHECK(s.active <= 8);
  CHECK(s.activations == static_cast<uint64_t>(ok));
  CHECK(s.evictions + 8 >= static_cast<uint64_t>(ok));
  // Every answered key's state was saved (durability task).
  CHECK(s.saved_keys == static_cast<uint64_t>(ok));
}

TEST_CASE_FIXTURE(fixture, "population: waiting_max and activating_max refuse, never drop") {
  pc.waiting_max = 2;
  pc.activating_max = 3;
  auto store = sys->spawn(population_test::test_store);
  auto pop = spawn(store);
  caf::anon_send(store, std::string{"hold"});
  std::vector<handle_t> handles;
  for (int i = 0; i < 3; ++i)  // the third waits too long: waiting_max 2
    handles.push_back((*self)->request(pop, 10s, pop_execute_atom::value, std::string{"w"},
                                       task_request{"", "x" + std::to_string(i), {}}));
  for (const char* k : {"a", "b"})  // claiming: w, a, b = 3
    handles.push_back((*self)->request(pop, 10s, pop_execute_atom::value, std::string{k},
                                       task_request{"", "hi", {}}));
  auto extra = (*self)->request(pop, 10s, pop_execute_atom::value, std::string{"c"},
                                task_request{"", "hi", {}});
  extra.receive([&](task_result&) { FAIL("activating_max did not hold"); },
                [&](caf::error& e) { CHECK(errc_of(e) == errc::overloaded); });
  caf::anon_send(store, std::string{"release"});
  int ok = 0, refused = 0;
  for (auto& h : handles)
    h.receive([&](task_result&) { ++ok; },
              [&](caf::error& e) {
                CHECK(errc_of(e) == errc::overloaded);
                ++refused;
              });
  CHECK(ok == 4);
  CHECK(refused == 1);
}

TEST_CASE_FIXTURE(fixture, "population: store failures and bad states fail tasks clearly") {
  auto store = sys->spawn(population_test::test_store);
  auto pop = spawn(store);
  caf::anon_send(store, std::string{"corrupt:broken"});
  auto bad = run(pop, "broken", "hi");
  REQUIRE_FALSE(bad);
  CHECK(errc_of(bad.error()) == errc::parse_error);
  CHECK(stats(pop).state_errors == 1);
  CHECK(stats(pop).active == 0);
  // The damaged state is left as it was: nothing overwrote it.
  auto again = run(pop, "broken", "hi");
  REQUIRE_FALSE(again);
  CHECK(errc_of(again.error()) == errc::parse_error);
  auto key = run(pop, "bad key", "hi");
  REQUIRE_FALSE(key);
  CHECK(errc_of(key.error()) == errc::invalid_argument);
  caf::anon_send(store, std::string{"fail"});
  auto down = run(pop, "fresh", "hi");
  REQUIRE_FALSE(down);
  CHECK(errc_of(down.error()) == errc::io_error);
  CHECK(stats(pop).store_errors >= 1);
}

TEST_CASE_FIXTURE(fixture, "population: a fenced save drops the key's instance") {
  pc.durability = population_durability::passivation;
  auto store = sys->spawn(population_test::test_store);
  auto pop = spawn(store);
  REQUIRE(run(pop, "moved", "hi"));
  caf::anon_send(store, std::string{"fence:moved"});
  CHECK(ask<bool>(pop, pop_passivate_atom::value, std::string{"moved"}));
  for (int i = 0; i < 200 && stats(pop).fenced == 0; ++i)
    std::this_thread::sleep_for(5ms);
  auto s = stats(pop);
  CHECK(s.fenced == 1);
  CHECK(s.active == 0);
  CHECK(s.passivating == 0);
}

TEST_CASE_FIXTURE(fixture, "population: idle keys are passivated after idle_timeout") {
  pc.idle_timeout = 40ms;
  auto store = sys->spawn(population_test::test_store);
  auto pop = spawn(store);
  REQUIRE(run(pop, "sleepy", "hi"));
  CHECK(stats(pop).active == 1);
  for (int i = 0; i < 400 && stats(pop).active != 0; ++i)
    std::this_thread::sleep_for(5ms);
  auto s = stats(pop);
  CHECK(s.active == 0);
  CHECK(s.passivations == 1);
  auto r = run(pop, "sleepy", "again");
  REQUIRE(r);
  CHECK(r->output.find("users=hi,again") != std::string::npos);
}

TEST_CASE_FIXTURE(fixture, "population: a restarted node reactivates its keys from SQLite") {
  auto dir = std::filesystem::temp_directory_path()
             / ("ag_population_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto path = "sqlite:" + (dir / "populations.sqlite").string();
  for (auto durability : {population_durability::task, population_durability::passivation}) {
    CAPTURE(to_string(durability));
    pc.durability = durability;
    const std::string key = std::string{"k-"} + to_string(durability);
    {
      auto store = open_population_store(path);
      REQUIRE(store);
      auto pop = spawn(spawn_population_store_actor(*sys, std::move(*store)), 1);
      REQUIRE(run(pop, key, "before"));
      // durability task: nothing more is needed. passivation: only what
      // the shutdown passivates survives.
      if (durability == population_durability::passivation)
        CHECK(ask<uint64_t>(pop, pop_passivate_all_atom::value) == 1);
      (*self)->send_exit(pop, caf::exit_reason::kill);
    }
    auto store = open_population_store(path);
    REQUIRE(store);
    {
      auto n = (*store)->count("persona");
      CHECK((n && *n >= 1));
    }
    auto pop = spawn(spawn_population_store_actor(*sys, std::move(*store)), 2);
    auto r = run(pop, key, "after");
    REQUIRE(r);
    CHECK(r->output.find("users=before,after") != std::string::npos);
    (*self)->send_exit(pop, caf::exit_reason::kill);
  }
  // durability passivation without a passivation loses what the key did.
  {
    pc.durability = population_durability::passivation;
    auto store = open_population_store(path);
    REQUIRE(store);
    auto pop = spawn(spawn_population_store_actor(*sys, std::move(*store)), 3);
    REQUIRE(run(pop, "unsaved", "lost"));
    (*self)->send_exit(pop, caf::exit_reason::kill);
    auto store2 = open_population_store(path);
    REQUIRE(store2);
    auto pop2 = spawn(spawn_population_store_actor(*sys, std::move(*store2)), 4);
    auto r = run(pop2, "unsaved", "fresh");
    REQUIRE(r);
    CHECK(r->output.find("users=fresh") != std::string::npos);
    CHECK(r->output.find("lost") == std::string::npos);
    (*self)->send_exit(pop2, caf::exit_reason::kill);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("population: keys, addresses and prompts") {
  CHECK(population_key_problem("alice").empty());
  CHECK(population_key_problem("user:42@eu-1.a_b").empty());
  CHECK_FALSE(population_key_problem("").empty());
  CHECK_FALSE(population_key_problem(std::string(129, 'a')).empty());
  CHECK_FALSE(population_key_problem("a/b").empty());
  CHECK_FALSE(population_key_problem("a b").empty());
  CHECK_FALSE(population_key_problem("caf\xc3\xa9").empty());
  auto a = parse_population_address("persona/alice");
  REQUIRE(a);
  CHECK(a->type == "persona");
  CHECK(a->key == "alice");
  CHECK_FALSE(parse_population_address("planner"));
  CHECK(render_population_prompt("{{key}}/{{population}}: {{mood}} {{x}} {{", "p", "k",
                                 {{"mood", "calm"}})
        == "k/p: calm {{x}} {{");
  CHECK(render_population_prompt("", "p", "k", {}).empty());
}

TEST_CASE("population: a key's state encodes and decodes exactly") {
  population_key_state s;
  s.agent.history = {"u1", "a1", "u2", "a2"};
  s.agent.tasks_completed = 2;
  s.agent.errors = 1;
  s.agent.prompt_tokens = 123;
  s.agent.completion_tokens = 45;
  s.agent.response_time_total_us = 6789;
  s.vars = {{"mood", "calm"}};
  auto back = decode_population_state(encode_population_state(s));
  REQUIRE(back);
  CHECK(back->agent.history == s.agent.history);
  CHECK(back->agent.tasks_completed == 2);
  CHECK(back->agent.errors == 1);
  CHECK(back->agent.prompt_tokens == 123);
  CHECK(back->agent.completion_tokens == 45);
  CHECK(back->agent.response_time_total_us == 6789);
  CHECK(back->vars == s.vars);
  CHECK_FALSE(decode_population_state({}));
  CHECK_FALSE(decode_population_state({0x01, 0x02}));
}

TEST_CASE_FIXTURE(fixture, "population: pop_activate warms a key without a task") {
  auto store = sys->spawn(population_test::test_store);
  auto pop = spawn(store);
  CHECK(ask<bool>(pop, pop_activate_atom::value, std::string{"warm"}));
  CHECK(*calls == 0);
  auto s = stats(pop);
  CHECK(s.active == 1);
  CHECK(s.activations == 1);
  CHECK(ask<bool>(pop, pop_activate_atom::value, std::string{"warm"}));
  REQUIRE(run(pop, "warm", "hi"));
  CHECK(stats(pop).activations == 1);
  (*self)->request(pop, 10s, pop_activate_atom::value, std::string{"no/slash"})
    .receive([&](bool) { FAIL("a bad key activated"); },
             [&](caf::error& e) { CHECK(errc_of(e) == errc::invalid_argument); });
}
