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

using namespace agentgraph;
using namespace std::chrono_literals;

namespace population_test {

// A model that shows what it was given: the system prompt and every user
// message of the conversation (history included), and counts its calls.
provider_actor::behavior_type transcript_model(provider_actor::pointer,
                                               std::shared_ptr<std::atomic<int>> calls) {
  return {
    [calls](chat_atom, const chat_request& req) -> caf::result<chat_response> {
      ++*calls;
      chat_response resp;
      resp.message.role = chat_role::assistant;
      std::string users;
      for (const auto& m : req.messages) {
        if (m.role == chat_role::system)
          resp.message.content += "sys=" + m.content + "|";
        if (m.role == chat_role::user)
          users += (users.empty() ? "" : ",") + m.content;
      }
      resp.message.content += "users=" + users;
      resp.usage = {10, 2};
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

// The store test double: keys in a map, and control by strings: "hold"
// keeps every call until "release"; "fence:K" makes saves of K fenced;
// "fail" fails every call with io_error; "corrupt:K" stores garbage for K.
using test_store_actor = population_store_actor::extend<caf::reacts_to<std::string>>;

struct test_store_state {
  std::map<std::string, std::vector<uint8_t>> rows;
  std::set<std::string> fenced;
  bool hold = false;
  bool fail = false;
  std::vector<std::function<void()>> held;
  uint64_t saves = 0;  // rows written
};

test_store_actor::behavior_type test_store(test_store_actor::stateful_pointer<test_store_state> self) {
  using claims_t = std::vector<population_claim>;
  using keys_t = std::vector<std::string>;
  return {
    [self](pstore_claim_atom, const std::string&, const keys_t& keys, const std::string&,
           uint64_t) -> caf::result<claims_t> {
      auto rp = self->make_response_promise<claims_t>();
      auto run = [self, rp, keys]() mutable {
        if (self->state.fail) {
          rp.deliver(make_error(errc::io_error, "test store: failing"));
          return;
        }
        claims_t out;
        for (const auto& k : keys) {
          population_claim c;
          if (auto it = self->state.rows.find(k); it != self->state.rows.end()) {
            c.existed = true;
            c.state = it->second;
          }
          out.push_back(std::move(c));
        }
        rp.deliver(std::move(out));
      };
      if (self->state.hold)
        self->state.held.push_back(run);
      else
        run();
      return rp;
    },
    [self](pstore_save_atom, const std::string&, const std::string&, uint64_t,
           const std::vector<population_save>& batch) -> caf::result<keys_t> {
      auto rp = self->make_response_promise<keys_t>();
      auto run = [self, rp, batch]() mutable {
        if (self->state.fail) {
          rp.deliver(make_error(errc::io_error, "test store: failing"));
          return;
        }
        keys_t fenced;
        for (const auto& s : batch) {
          if (self->state.fenced.count(s.key)) {
            fenced.push_back(s.key);
            continue;
          }
          self->state.rows[s.key] = s.state;
          ++self->state.saves;
        }
        rp.deliver(std::move(fenced));
      };
      if (self->state.hold)
        self->state.held.push_back(run);
      else
        run();
      return rp;
    },
    [self](pstore_keys_atom, const std::string&, const std::string&, uint32_t) {
      keys_t out;
      for (const auto& [k, v] : self->state.rows)
        out.push_back(k);
      return out;
    },
    [self](pstore_count_atom, const std::string&) {
      return static_cast<uint64_t>(self->state.rows.size());
    },
    [self](pstore_erase_atom, const std::string&, const std::string& key) {
      return self->state.rows.erase(key) > 0;
    },
    [self](const std::string& cmd) {
      auto& st = self->state;
      if (cmd == "hold") {
        st.hold = true;
      } else if (cmd == "release") {
        st.hold = false;
        auto held = std::move(st.held);
        st.held.clear();
        for (auto& f : held)
          f();
      } else if (cmd == "fail") {
        st.fail = true;
      } else if (cmd.rfind("fence:", 0) == 0) {
        st.fenced.insert(cmd.substr(6));
      } else if (cmd.rfind("corrupt:", 0) == 0) {
        st.rows[cmd.substr(8)] = {0xc1, 0x00, 0x01};
      }
    },
    [](ping_atom) { return pong_atom::value; },
  };
}

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> self;
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  provider_actor model;
  population_config pc;

  fixture() {
    register_all_types(cfg);
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    self = std::make_unique<caf::scoped_actor>(*sys);
    model = sys->spawn(transcript_model, calls);
    pc.name = "persona";
    pc.agent.system_prompt = "You are {{key}} of {{population}}, {{mood}}.";
    pc.agent.request_timeout = 5s;
    pc.agent.history_window = 8;
    pc.active_max = 16;
    pc.idle_timeout = 1h;
  }
  // A population re-arms its idle sweep for ever: it ends when stopped, as
  // its supervisor does in a Runtime.
  std::vector<population_actor> spawned;
  ~fixture() {
    for (auto& p : spawned)
      caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
    self.reset();
  }

  population_actor spawn(population_store_actor store, uint64_t epoch = 1) {
    population_setup setup;
    setup.cfg = std::make_shared<const population_config>(pc);
    auto deps = std::make_shared<agent_dependencies>();
    deps->provider = model;
    std::shared_ptr<const agent_dependencies> shared_deps = deps;
    auto* s = sys.get();
    auto type = pc.name;
    auto prompt = pc.agent.system_prompt;
    auto tmpl = pc.agent;
    setup.spawn_instance = [s, shared_deps, type, tmpl](const std::string& key,
                                                        const population_key_state& state) {
      auto c = std::make_shared<agent_config>(tmpl);
      c->name = type + "/" + key;
      c->system_prompt = render_population_prompt(tmpl.system_prompt, type, key, state.vars);
      return spawn_keyed_agent(*s, std::move(c), shared_deps,
                               std::make_shared<const agent_snapshot>(state.agent));
    };
    setup.store = std::move(store);
    setup.owner = "local";
    setup.owner_epoch = epoch;
    setup.task_deadline = 10s;
    setup.store_timeout = 5s;
    spawned.push_back(spawn_population(*sys, std::move(setup)));
    return spawned.back();
  }

  caf::expected<task_result> run(const population_actor& pop, const std::string& key,
                                 std::string input) {
    caf::expected<task_result> out = make_error(errc::internal, "no reply");
    (*self)
      ->request(pop, 10s, pop_execute_atom::value, key, task_request{"", std::move(input), {}})
      .receive([&](task_result& r) { out = std::move(r); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  template <class T, class Handle, class... Ts>
  T ask(const Handle& h, Ts&&... xs) {
    T out{};
    (*self)->request(h, 10s, std::forward<Ts>(xs)...)
      .receive([&](T& x) { out = std::move(x); },
               [&](caf::error& e) { FAIL("request failed: " << describe(e)); });
    return out;
  }

  using handle_t = decltype(std::declval<caf::scoped_actor&>()->request(
    std::declval<population_actor>(), caf::infinite, pop_execute_atom::value, std::string{},
    task_request{}));

  population_stats stats(const population_actor& pop) {
    return ask<population_stats>(pop, stats_atom::value);
  }
};

}  // namespace population_test

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
