// The population actor's per-key variables (pop_set_vars), its task bounds
// (tasks_max, one key's tasks_in_flight_max) and its instances' lives (an
// instance that dies, a population that ends).
#include <doctest/doctest.h>

#include <thread>

#include "tests/unit/population_fixture.hpp"

using namespace agentgraph;
using namespace std::chrono_literals;
using population_test::fixture;

namespace population_vars_test {

// A model like transcript_model that keeps every call whose last user
// message starts with "wait" until it is sent "go" (after which it keeps
// none): a key with a task in flight for as long as a test needs.
using gated_model_actor = provider_actor::extend<caf::reacts_to<std::string>>;

struct gated_state {
  std::vector<std::pair<caf::typed_response_promise<chat_response>, chat_request>> held;
  // Not the first member: CAF would build the state from the self pointer
  // (toolchain.md), and a bool takes a pointer.
  bool open = false;
};

gated_model_actor::behavior_type gated_model(
  gated_model_actor::stateful_pointer<gated_state> self) {
  return {
    [self](chat_atom, const chat_request& req) -> caf::result<chat_response> {
      const auto& last = req.messages.back().content;
      if (self->state.open || last.rfind("wait", 0) != 0)
        return population_test::transcript_of(req);
      auto rp = self->make_response_promise<chat_response>();
      self->state.held.emplace_back(rp, req);
      return rp;
    },
    [](chat_stream_atom, const chat_request&, const stream_sink_actor&)
      -> caf::result<chat_response> { return make_error(errc::unsupported, "test model"); },
    [](embed_atom, const embed_request&) -> caf::result<embed_response> {
      return make_error(errc::unsupported, "test model");
    },
    [](cancel_atom, const std::string&) {},
    [](stats_atom) { return provider_stats{}; },
    [](ping_atom) { return pong_atom::value; },
    [self](const std::string&) {
      self->state.open = true;
      auto held = std::move(self->state.held);
      self->state.held.clear();
      for (auto& [rp, req] : held)
        rp.deliver(population_test::transcript_of(req));
    },
  };
}

using vars_t = std::map<std::string, std::string>;

}  // namespace population_vars_test

using population_vars_test::vars_t;

TEST_CASE_FIXTURE(fixture, "population: variables set on a passive key are saved and rendered") {
  auto store = sys->spawn(population_test::test_store);
  auto pop = spawn(store);
  CHECK(ask<bool>(pop, pop_set_vars_atom::value, std::string{"ann"}, vars_t{{"mood", "calm"}}));
  CHECK(*calls == 0);  // no task ran
  auto a = run(pop, "ann", "hi");
  REQUIRE(a);
  CHECK(a->output == "sys=You are ann of persona, calm.|users=hi");
  // Saved with the key: a passivation and a new activation keep them.
  CHECK(ask<bool>(pop, pop_passivate_atom::value, std::string{"ann"}));
  auto b = run(pop, "ann", "again");
  REQUIRE(b);
  CHECK(b->output == "sys=You are ann of persona, calm.|users=hi,again");
  // Another population over the same store (a restarted node) sees them.
  caf::anon_send_exit(pop, caf::exit_reason::kill);
  auto pop2 = spawn(store, 2);
  auto c = run(pop2, "ann", "third");
  REQUIRE(c);
  CHECK(c->output == "sys=You are ann of persona, calm.|users=hi,again,third");
}

TEST_CASE_FIXTURE(fixture, "population: variables set on an active key restart it with its history") {
  auto store = sys->spawn(population_test::test_store);
  auto pop = spawn(store);
  REQUIRE(run(pop, "bo", "one"));
  CHECK(ask<bool>(pop, pop_set_vars_atom::value, std::string{"bo"}, vars_t{{"mood", "bold"}}));
  auto r = run(pop, "bo", "two");
  REQUIRE(r);
  CHECK(r->output == "sys=You are bo of persona, bold.|users=one,two");
  CHECK(instances->of("bo").size() == 2);  // restarted once
  auto s = stats(pop);
  CHECK(s.active == 1);
  CHECK(s.waiting == 0);
  // New variables replace the old ones.
  CHECK(ask<bool>(pop, pop_set_vars_atom::value, std::string{"bo"}, vars_t{}));
  auto t = run(pop, "bo", "three");
  REQUIRE(t);
  CHECK(t->output == "sys=You are bo of persona, {{mood}}.|users=one,two,three");
}

TEST_CASE_FIXTURE(fixture, "population: a busy key takes new variables once its tasks end") {
  model = caf::actor_cast<provider_actor>(sys->spawn(population_vars_test::gated_model));
  auto gate = caf::actor_cast<caf::actor>(model);
  auto store = sys->spawn(population_test::test_store);
  auto pop = spawn(store);
  auto busy = (*self)->request(pop, 10s, pop_execute_atom::value, std::string{"cy"},
                               task_request{"", "wait-1", {}});
  for (int i = 0; i < 400 && stats(pop).tasks_in_flight == 0; ++i)
    std::this_thread::sleep_for(5ms);
  REQUIRE(stats(pop).tasks_in_flight == 1);
  auto set = (*self)->request(pop, 10s, pop_set_vars_atom::value, std::string{"cy"},
                              vars_t{{"mood", "new"}});
  // A task sent after the variables waits for the restart and sees them.
  auto after = (*self)->request(pop, 10s, pop_execute_atom::value, std::string{"cy"},
                                task_request{"", "after", {}});
  for (int i = 0; i < 400 && stats(pop).waiting < 2; ++i)
    std::this_thread::sleep_for(5ms);
  CHECK(stats(pop).waiting == 2);  // the variables and the task
  caf::anon_send(gate, std::string{"go"});
  busy.receive(
    [&](task_result& r) { CHECK(r.output == "sys=You are cy of persona, {{mood}}.|users=wait-1"); },
    [&](caf::error& e) { FAIL(describe(e)); });
  set.receive([&](bool ok) { CHECK(ok); }, [&](caf::error& e) { FAIL(describe(e)); });
  after.receive(
    [&](task_result& r) { CHECK(r.output == "sys=You are cy of persona, new.|users=wait-1,after"); },
    [&](caf::error& e) { FAIL(describe(e)); });
}

TEST_CASE_FIXTURE(fixture, "population: bad variables are refused and change nothing") {
  auto store = sys->spawn(population_test::test_store);
  auto pop = spawn(store);
  auto refused = [&](std::string key, vars_t vars) {
    bool ok = false;
    (*self)->request(pop, 10s, pop_set_vars_atom::value, std::move(key), std::move(vars))
      .receive([&](bool) { FAIL("bad variables were accepted"); },
               [&](caf::error& e) { ok = errc_of(e) == errc::invalid_argument; });
    return ok;
  };
  CHECK(refused("dee", vars_t{{"key", "other"}}));
  CHECK(refused("dee", vars_t{{"bad name", "x"}}));
  CHECK(refused("dee", vars_t{{"", "x"}}));
  CHECK(refused("dee", vars_t{{"mood", std::string(population_var_value_max + 1, 'x')}}));
  vars_t many;
  for (size_t i = 0; i <= population_vars_max; ++i)
    many["v" + std::to_string(i)] = "x";
  CHECK(refused("dee", many));
  CHECK(refused("no/slash", vars_t{{"mood", "x"}}));
  auto s = stats(pop);
  CHECK(s.activations == 0);
  CHECK(s.active == 0);
}

TEST_CASE_FIXTURE(fixture, "population: tasks_max and one key's tasks_in_flight_max refuse") {
  model = caf::actor_cast<provider_actor>(sys->spawn(population_vars_test::gated_model));
  auto gate = caf::actor_cast<caf::actor>(model);
  pc.tasks_max = 3;
  pc.agent.tasks_in_flight_max = 2;
  auto store = sys->spawn(population_test::test_store);
  auto pop = spawn(store);
  std::vector<fixture::handle_t> held;
  for (int i = 0; i < 2; ++i)
    held.push_back((*self)->request(pop, 10s, pop_execute_atom::value, std::string{"ed"},
                                    task_request{"", "wait", {}}));
  for (int i = 0; i < 400 && stats(pop).tasks_in_flight < 2; ++i)
    std::this_thread::sleep_for(5ms);
  REQUIRE(stats(pop).tasks_in_flight == 2);
  auto third = run(pop, "ed", "x");  // the key runs its 2 already
  REQUIRE_FALSE(third);
  CHECK(errc_of(third.error()) == errc::overloaded);
  CHECK(describe(third.error()).find("tasks_in_flight_max") != std::string::npos);
  held.push_back((*self)->request(pop, 10s, pop_execute_atom::value, std::string{"fi"},
                                  task_request{"", "wait", {}}));
  for (int i = 0; i < 400 && stats(pop).tasks_in_flight < 3; ++i)
    std::this_thread::sleep_for(5ms);
  auto fourth = run(pop, "gu", "x");  // 3 tasks open over all keys
  REQUIRE_FALSE(fourth);
  CHECK(errc_of(fourth.error()) == errc::overloaded);
  CHECK(describe(fourth.error()).find("tasks_max") != std::string::npos);
  caf::anon_send(gate, std::string{"go"});
  for (auto& h : held)
    h.receive([&](task_result&) {}, [&](caf::error& e) { FAIL(describe(e)); });
  REQUIRE(run(pop, "gu", "x"));  // room again
}

TEST_CASE_FIXTURE(fixture, "population: a dead instance fails its task and its key starts again") {
  model = caf::actor_cast<provider_actor>(sys->spawn(population_vars_test::gated_model));
  auto store = sys->spawn(population_test::test_store);
  auto pop = spawn(store);
  REQUIRE(run(pop, "fay", "one"));  // saved (durability task)
  auto stuck = (*self)->request(pop, 10s, pop_execute_atom::value, std::string{"fay"},
                                task_request{"", "wait", {}});
  for (int i = 0; i < 400 && stats(pop).tasks_in_flight == 0; ++i)
    std::this_thread::sleep_for(5ms);
  auto first = instances->of("fay");
  REQUIRE(first.size() == 1);
  caf::anon_send_exit(first[0], caf::exit_reason::kill);
  stuck.receive([&](task_result&) { FAIL("a dead instance answered"); },
                [&](caf::error& e) { CHECK(errc_of(e) == errc::unavailable); });
  auto again = run(pop, "fay", "two");
  REQUIRE(again);
  CHECK(again->output == "sys=You are fay of persona, {{mood}}.|users=one,two");
  CHECK(instances->of("fay").size() == 2);
  // The model still holds the dead instance's call (and through it, itself).
  caf::anon_send_exit(model, caf::exit_reason::kill);
}

TEST_CASE_FIXTURE(fixture, "population: a passivated key's instance ends") {
  auto store = sys->spawn(population_test::test_store);
  for (auto d : {population_durability::task, population_durability::passivation}) {
    pc.durability = d;
    auto p = spawn(store, d == population_durability::task ? 1 : 2);
    const std::string key = d == population_durability::task ? "h1" : "h2";
    REQUIRE(run(p, key, "hi"));
    auto started = instances->of(key);
    REQUIRE(started.size() == 1);
    CHECK(ask<bool>(p, pop_passivate_atom::value, key));
    bool gone = false;
    for (int i = 0; i < 400 && !gone; ++i) {
      gone = !caf::actor_cast<caf::actor>(started[0]);
      if (!gone)
        std::this_thread::sleep_for(5ms);
    }
    CHECK(gone);
  }
}

TEST_CASE_FIXTURE(fixture, "population: its instances end with it") {
  auto store = sys->spawn(population_test::test_store);
  auto pop = spawn(store);
  for (const char* k : {"g1", "g2", "g3"})
    REQUIRE(run(pop, k, "hi"));
  std::vector<caf::actor> live;
  for (const char* k : {"g1", "g2", "g3"})
    for (auto& a : instances->of(k))
      if (auto h = caf::actor_cast<caf::actor>(a))
        live.push_back(h);
  REQUIRE(live.size() == 3);
  for (auto& h : live)
    (*self)->monitor(h);
  (*self)->send_exit(pop, caf::exit_reason::kill);
  size_t downs = 0;
  (*self)->receive_for(downs, live.size())([&](caf::down_msg&) {},
                                           caf::after(10s) >> [] { FAIL("an instance lives on"); });
  CHECK(downs == live.size());
}

TEST_CASE_FIXTURE(fixture, "population: tasks that waited past tasks_in_flight_max are refused at start") {
  model = caf::actor_cast<provider_actor>(sys->spawn(population_vars_test::gated_model));
  auto gate = caf::actor_cast<caf::actor>(model);
  pc.agent.tasks_in_flight_max = 1;
  pc.waiting_max = 4;
  auto store = sys->spawn(population_test::test_store);
  auto pop = spawn(store);
  caf::anon_send(store, std::string{"hold"});  // the claim waits: so do the tasks
  std::vector<fixture::handle_t> handles;
  for (int i = 0; i < 3; ++i)
    handles.push_back((*self)->request(pop, 10s, pop_execute_atom::value, std::string{"hal"},
                                       task_request{"", "wait", {}}));
  for (int i = 0; i < 400 && stats(pop).waiting < 3; ++i)
    std::this_thread::sleep_for(5ms);
  REQUIRE(stats(pop).waiting == 3);
  caf::anon_send(store, std::string{"release"});
  for (int i = 0; i < 400 && stats(pop).tasks_in_flight == 0; ++i)
    std::this_thread::sleep_for(5ms);
  CHECK(stats(pop).tasks_in_flight == 1);  // never more than the instance runs
  caf::anon_send(gate, std::string{"go"});
  int ok = 0, refused = 0;
  for (auto& h : handles)
    h.receive([&](task_result&) { ++ok; },
              [&](caf::error& e) {
                CHECK(errc_of(e) == errc::overloaded);
                CHECK(describe(e).find("tasks_in_flight_max") != std::string::npos);
                ++refused;
              });
  CHECK(ok == 1);
  CHECK(refused == 2);
}
