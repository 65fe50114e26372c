// call_watch pins (runtime/call_watch.hpp): a pinned callee stays
// monitored between calls, its death fails its calls and then reaches the
// caller's own down handling, and unpin ends the one monitor once the
// callee's last call is done (CAF's demonitor would end every monitor).
#include <doctest/doctest.h>

#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "runtime/call_watch.hpp"

using namespace agentgraph;
using namespace std::chrono_literals;

namespace call_watch_pin_test {

using pin_atom = caf::atom_constant<caf::atom("t_pin")>;
using unpin_atom = caf::atom_constant<caf::atom("t_unpin")>;
using call_atom = caf::atom_constant<caf::atom("t_call")>;
using report_atom = caf::atom_constant<caf::atom("t_report")>;

// The callee: answers (int) with the int + 1, or keeps the call when held.
caf::behavior callee(caf::stateful_actor<std::vector<caf::response_promise>>* self) {
  return {
    [self](int x) -> caf::result<int> {
      if (x < 0) {
        self->state.push_back(self->make_response_promise());
        return caf::delegated<int>{};
      }
      return x + 1;
    },
  };
}

struct caller_state {
  // Not the first member: CAF builds a state from the self pointer when it
  // can (toolchain.md), and call_watch's size_t constructor would take it.
  int other_downs = 0;
  call_watch watch{8};
  caf::actor target;
  std::vector<std::string> outcomes;  // per call: "ok N" or the error
};

caf::behavior caller(caf::stateful_actor<caller_state>* self, caf::actor target) {
  self->state.target = target;
  route_to_watch(self, &caller_state::watch,
                 [self](caf::down_msg&) { ++self->state.other_downs; });
  return {
    [self](pin_atom) {
      self->state.watch.pin(self, self->state.target);
      return true;
    },
    [self](unpin_atom) {
      self->state.watch.unpin(self, self->state.target.address());
      return true;
    },
    [self](call_atom, int x) {
      watched_request(
        self, self->state.watch, self->state.target, self->clock().now() + 10s,
        [self](int y) { self->state.outcomes.push_back("ok " + std::to_string(y)); },
        [self](caf::error& err) { self->state.outcomes.push_back(to_string(err)); }, x);
      return true;
    },
    [self](report_atom) {
      auto& st = self->state;
      return caf::make_message(st.other_downs, static_cast<int>(st.watch.monitored()),
                               static_cast<int>(st.watch.size()), st.outcomes);
    },
  };
}

struct report {
  int other_downs = 0;
  int monitored = 0;
  int calls = 0;
  std::vector<std::string> outcomes;
};

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> self;
  caf::actor target;
  caf::actor who;

  fixture() {
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    self = std::make_unique<caf::scoped_actor>(*sys);
    target = sys->spawn(callee);
    who = sys->spawn(caller, target);
  }
  ~fixture() {
    caf::anon_send_exit(who, caf::exit_reason::kill);
    caf::anon_send_exit(target, caf::exit_reason::kill);
    self.reset();
  }
  template <class... Ts>
  void tell(Ts&&... xs) {
    (*self)->request(who, 10s, std::forward<Ts>(xs)...)
      .receive([](bool) {}, [](caf::error& e) { FAIL(to_string(e)); });
  }
  report ask_report() {
    report r;
    (*self)->request(who, 10s, report_atom::value)
      .receive(
        [&](int downs, int monitored, int calls, std::vector<std::string>& outcomes) {
          r = report{downs, monitored, calls, std::move(outcomes)};
        },
        [](caf::error& e) { FAIL(to_string(e)); });
    return r;
  }
  // Polls the caller until `done` holds of its report (bounded).
  template <class Pred>
  report wait_for(Pred done) {
    report r = ask_report();
    for (int i = 0; i < 400 && !done(r); ++i) {
      std::this_thread::sleep_for(5ms);
      r = ask_report();
    }
    return r;
  }
};

}  // namespace call_watch_pin_test

using call_watch_pin_test::call_atom;
using call_watch_pin_test::pin_atom;
using call_watch_pin_test::unpin_atom;
using pin_fixture = call_watch_pin_test::fixture;

TEST_CASE_FIXTURE(pin_fixture, "call_watch: a pinned callee stays monitored after its calls") {
  tell(pin_atom::value);
  tell(call_atom::value, 1);
  auto r = wait_for([](auto& r) { return r.outcomes.size() == 1; });
  CHECK(r.outcomes == std::vector<std::string>{"ok 2"});
  CHECK(r.calls == 0);
  CHECK(r.monitored == 1);  // the call's release kept the pin's monitor
  caf::anon_send_exit(target, caf::exit_reason::kill);
  r = wait_for([](auto& r) { return r.other_downs == 1; });
  CHECK(r.other_downs == 1);  // the caller's own down handling heard it
  CHECK(r.monitored == 0);
}

TEST_CASE_FIXTURE(pin_fixture, "call_watch: a pinned callee's death fails its calls, then reaches the caller") {
  tell(pin_atom::value);
  tell(call_atom::value, -1);  // held by the callee
  tell(call_atom::value, -2);
  auto r = wait_for([](auto& r) { return r.calls == 2; });
  REQUIRE(r.calls == 2);
  caf::anon_send_exit(target, caf::exit_reason::kill);
  r = wait_for([](auto& r) { return r.outcomes.size() == 2 && r.other_downs == 1; });
  CHECK(r.outcomes.size() == 2);
  for (const auto& o : r.outcomes)
    CHECK(o.find("request_receiver_down") != std::string::npos);
  CHECK(r.other_downs == 1);
  CHECK(r.calls == 0);
}

TEST_CASE_FIXTURE(pin_fixture, "call_watch: unpin ends the monitor once the last call is done") {
  tell(pin_atom::value);
  tell(call_atom::value, -1);  // held
  tell(unpin_atom::value);
  auto r = ask_report();
  CHECK(r.monitored == 1);  // the held call still needs it
  caf::anon_send_exit(target, caf::exit_reason::kill);
  r = wait_for([](auto& r) { return r.outcomes.size() == 1; });
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].find("request_receiver_down") != std::string::npos);
  CHECK(r.other_downs == 0);  // unpinned: the down was only the call's business
  CHECK(r.monitored == 0);
}

TEST_CASE_FIXTURE(pin_fixture, "call_watch: an unpinned callee is not monitored between calls") {
  tell(pin_atom::value);
  tell(unpin_atom::value);
  CHECK(ask_report().monitored == 0);
  tell(call_atom::value, 5);
  auto r = wait_for([](auto& r) { return r.outcomes.size() == 1; });
  CHECK(r.outcomes == std::vector<std::string>{"ok 6"});
  CHECK(r.monitored == 0);
  caf::anon_send_exit(target, caf::exit_reason::kill);
  std::this_thread::sleep_for(50ms);  // a down message would have come by now
  CHECK(ask_report().other_downs == 0);
}
