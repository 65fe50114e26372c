// The population tests' fixture: a model that echoes what it was given, a
// store test double that can hold, fence and fail its calls, and a
// population spawned over them (population_test.cpp, population_vars_test.cpp).
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/agent/agent.hpp"
#include "actors/host/register_types.hpp"
#include "actors/population/population.hpp"
#include "runtime/error.hpp"
#include "runtime/population/population_store.hpp"

namespace population_test {

using namespace agentgraph;
using namespace std::chrono_literals;

// A model that shows what it was given: the system prompt and every user
// message of the conversation (history included), and counts its calls.
// What the test models answer: the system prompt and every user message
// of the conversation (history included).
inline chat_response transcript_of(const chat_request& req) {
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
}

// The tests' model: it answers transcript_of at once, or, between "hold"
// and "release" (strings sent to it), keeps the calls until "release", so a
// test can act while a task runs on an instance. `held` counts the calls
// it kept.
using transcript_model_actor = provider_actor::extend<caf::reacts_to<std::string>>;

struct transcript_model_state {
  // Not a bool first: CAF builds a state from the self pointer when it
  // can, and a pointer makes a bool true.
  std::vector<std::pair<caf::typed_response_promise<chat_response>, chat_request>> held;
  bool hold = false;
};

inline transcript_model_actor::behavior_type transcript_model(
  transcript_model_actor::stateful_pointer<transcript_model_state> self,
  std::shared_ptr<std::atomic<int>> calls,
  std::shared_ptr<std::atomic<int>> held) {
  return {
    [self, calls, held](chat_atom, const chat_request& req) -> caf::result<chat_response> {
      ++*calls;
      if (!self->state.hold)
        return transcript_of(req);
      auto rp = self->make_response_promise<chat_response>();
      self->state.held.emplace_back(rp, req);
      ++*held;
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
    [self](const std::string& cmd) {
      self->state.hold = cmd == "hold";
      if (self->state.hold)
        return;
      auto kept = std::move(self->state.held);
      self->state.held.clear();
      for (auto& [rp, req] : kept)
        rp.deliver(transcript_of(req));
    },
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

inline test_store_actor::behavior_type test_store(test_store_actor::stateful_pointer<test_store_state> self) {
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

// Every instance a population started, in order, by key (the population's
// thread adds, the test reads). Weak: the log must not keep an instance
// alive (a population ends an instance nobody else holds by dropping it).
struct instance_log {
  std::mutex mtx;
  std::vector<std::pair<std::string, caf::actor_addr>> started;
  void add(const std::string& key, const keyed_agent_actor& h) {
    std::lock_guard<std::mutex> guard{mtx};
    started.emplace_back(key, h.address());
  }
  // The instances started for `key`, oldest first.
  std::vector<caf::actor_addr> of(const std::string& key) {
    std::lock_guard<std::mutex> guard{mtx};
    std::vector<caf::actor_addr> out;
    for (auto& [k, a] : started)
      if (k == key)
        out.push_back(a);
    return out;
  }
};

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> self;
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  provider_actor model;
  population_config pc;
  std::shared_ptr<instance_log> instances = std::make_shared<instance_log>();

  fixture() {
    register_all_types(cfg);
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    self = std::make_unique<caf::scoped_actor>(*sys);
    model = sys->spawn(transcript_model, calls, std::make_shared<std::atomic<int>>(0));
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
    auto started = instances;
    setup.spawn_instance = [s, shared_deps, type, tmpl, started](const std::string& key,
                                                                 const population_key_state& state) {
      auto c = std::make_shared<agent_config>(tmpl);
      c->name = type + "/" + key;
      c->system_prompt = render_population_prompt(tmpl.system_prompt, type, key, state.vars);
      auto h = spawn_keyed_agent(*s, std::move(c), shared_deps,
                                 std::make_shared<const agent_snapshot>(state.agent));
      started->add(key, h);
      return h;
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
