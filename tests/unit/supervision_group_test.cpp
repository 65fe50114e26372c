// Tests of the supervision that stays off the request path (issue 11):
// runtime/call_watch.hpp (deadlines and monitors instead of CAF request
// timeouts), runtime/supervision_group.hpp (one supervisor for many
// children, restarts published through supervised refs). A Runtime's
// components being found again after a restart: runtime_test.cpp.
//
// Timing: deadlines and intervals are short; every wait is bounded (5 s
// polling) and assertions are about outcomes and counts, never elapsed time.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/after.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/host/register_types.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/heartbeat.hpp"
#include "runtime/supervision_group.hpp"

namespace agentgraph::supervision_group_test {

using namespace std::chrono_literals;

using echo_atom = caf::atom_constant<caf::atom("t_echo")>;
using hold_atom = caf::atom_constant<caf::atom("t_hold")>;    // never answers
using late_atom = caf::atom_constant<caf::atom("t_late")>;    // answers after N ms
using crash_atom = caf::atom_constant<caf::atom("t_crash")>;  // throws
using block_atom = caf::atom_constant<caf::atom("t_block")>;  // blocks its thread N ms
using call_atom = caf::atom_constant<caf::atom("t_call")>;
using size_atom = caf::atom_constant<caf::atom("t_size")>;

using worker_actor = caf::typed_actor<
  caf::replies_to<echo_atom, std::string>::with<std::string>,
  caf::replies_to<hold_atom>::with<int32_t>,
  caf::replies_to<late_atom, int32_t>::with<int32_t>,
  caf::replies_to<crash_atom>::with<int32_t>,
  caf::replies_to<block_atom, int32_t>::with<int32_t>,
  heartbeat_signature>;

struct worker_state {
  std::vector<caf::typed_response_promise<int32_t>> held;  // bounded by the test's calls
};

worker_actor::behavior_type worker(worker_actor::stateful_pointer<worker_state> self) {
  return {
    [](echo_atom, std::string s) { return s; },
    [self](hold_atom) -> caf::result<int32_t> {
      auto rp = self->make_response_promise<int32_t>();
      self->state.held.push_back(rp);
      return rp;
    },
    [self](late_atom, int32_t ms) -> caf::result<int32_t> {
      auto rp = self->make_response_promise<int32_t>();
      auto late = self->system().spawn([rp, ms](caf::event_based_actor* helper) mutable {
        helper->delayed_send(helper, std::chrono::milliseconds(ms), ms);
        return caf::behavior{[helper, rp](int32_t v) mutable {
          rp.deliver(v);
          helper->quit();
        }};
      });
      (void)late;
      return rp;
    },
    [](crash_atom) -> int32_t { throw std::runtime_error("worker crashes on purpose"); },
    [](block_atom, int32_t ms) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));  // a stuck handler
      return ms;
    },
    [](ping_atom) { return pong_atom::value; },
  };
}

// A caller that asks a worker through a call_watch and reports the outcome
// as text: "ok:<value>" or "err:<CAF error>".
struct caller_state {
  call_watch watch{16};
};

caf::behavior caller(caf::stateful_actor<caller_state>* self) {
  route_to_watch(self, &caller_state::watch);
  return {
    [self](call_atom, worker_actor w, caf::atom_value op, int32_t arg,
           int64_t budget_ms) -> caf::result<std::string> {
      auto rp = self->make_response_promise<std::string>();
      auto ok = [rp](auto v) mutable {
        if constexpr (std::is_same_v<decltype(v), std::string>)
          rp.deliver("ok:" + v);
        else
          rp.deliver("ok:" + std::to_string(v));
      };
      auto err = [rp](caf::error& e) mutable { rp.deliver("err:" + caf::to_string(e)); };
      const auto deadline = call_watch::clock::now() + std::chrono::milliseconds(budget_ms);
      auto& watch = self->state.watch;
      if (op == echo_atom::value)
        watched_request(self, watch, w, deadline, [ok](std::string& s) mutable { ok(s); }, err,
                        echo_atom::value, "hi");
      else if (op == hold_atom::value)
        watched_request(self, watch, w, deadline, [ok](int32_t v) mutable { ok(v); }, err,
                        hold_atom::value);
      else
        watched_request(self, watch, w, deadline, [ok](int32_t v) mutable { ok(v); }, err,
                        late_atom::value, arg);
      return rp;
    },
    [self](size_atom) -> caf::result<int32_t, int32_t> {
      return {static_cast<int32_t>(self->state.watch.size()),
              static_cast<int32_t>(self->state.watch.monitored())};
    },
  };
}

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  fixture() {
    register_all_types(cfg);
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
  std::string ask(const caf::actor& c, const worker_actor& w, caf::atom_value op,
                  int32_t arg = 0, int64_t budget_ms = 60'000) {
    caf::scoped_actor self{*sys};
    std::string out = "no answer";
    self->request(c, 10s, call_atom::value, w, op, arg, budget_ms)
      .receive([&](std::string& s) { out = s; }, [&](caf::error& e) { out = caf::to_string(e); });
    return out;
  }
  std::pair<int32_t, int32_t> watch_size(const caf::actor& c) {
    caf::scoped_actor self{*sys};
    std::pair<int32_t, int32_t> out{-1, -1};
    self->request(c, 10s, size_atom::value)
      .receive([&](int32_t calls, int32_t mons) { out = {calls, mons}; }, [](caf::error&) {});
    return out;
  }
  template <class Pred>
  bool eventually(Pred pred) {
    for (int i = 0; i < 500; ++i) {
      if (pred())
        return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
};

TEST_CASE("call_watch: a reply is delivered and the call is forgotten") {
  fixture f;
  auto w = f.sys->spawn(worker);
  auto c = f.sys->spawn(caller);
  CHECK(f.ask(c, w, echo_atom::value) == "ok:hi");
  CHECK(f.watch_size(c) == std::make_pair(0, 0));  // no entry, no monitor left behind
  caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
}

TEST_CASE("call_watch: a call past its deadline fails as request_timeout; a late reply is dropped") {
  fixture f;
  auto w = f.sys->spawn(worker);
  auto c = f.sys->spawn(caller);
  CHECK(f.ask(c, w, hold_atom::value, 0, 30) == "err:" + caf::to_string(caf::make_error(caf::sec::request_timeout)));
  CHECK(f.ask(c, w, late_atom::value, 300, 20).rfind("err:", 0) == 0);
  // The late reply arrives after its call failed: it finds no handler and
  // the caller goes on answering.
  std::this_thread::sleep_for(400ms);
  CHECK(f.ask(c, w, echo_atom::value) == "ok:hi");
  CHECK(f.watch_size(c) == std::make_pair(0, 0));
  caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
}

TEST_CASE("call_watch: a callee that dies fails its calls at once, not at the deadline") {
  fixture f;
  auto w = f.sys->spawn(worker);
  auto c = f.sys->spawn(caller);
  caf::scoped_actor self{*f.sys};
  std::string out = "no answer";
  // The deadline is an hour: only the monitor can end this call in time.
  auto pending =
    self->request(c, 10s, call_atom::value, w, hold_atom::value, int32_t{0}, int64_t{3'600'000});
  REQUIRE(f.eventually([&] { return f.watch_size(c).first == 1; }));
  caf::anon_send_exit(w, caf::exit_reason::kill);
  pending.receive([&](std::string& s) { out = s; }, [&](caf::error& e) { out = caf::to_string(e); });
  CHECK(out == "err:" + caf::to_string(caf::make_error(caf::sec::request_receiver_down)));
  CHECK(f.watch_size(c) == std::make_pair(0, 0));
  caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
}

TEST_CASE("call_watch: an invalid callee fails at once") {
  fixture f;
  auto c = f.sys->spawn(caller);
  CHECK(f.ask(c, worker_actor{}, echo_atom::value)
        == "err:" + caf::to_string(caf::make_error(caf::sec::request_receiver_down)));
  caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
}

TEST_CASE("call_watch: a caller that exits with a call pending is freed, not kept until the deadline") {
  fixture f;
  auto w = f.sys->spawn(worker);
  caf::actor_addr addr;
  {
    auto c = f.sys->spawn(caller);
    addr = c.address();
    caf::scoped_actor self{*f.sys};
    // An hour's deadline: the watch's timer is armed for it.
    self->send(c, call_atom::value, w, hold_atom::value, int32_t{0}, int64_t{3'600'000});
    REQUIRE(f.eventually([&] { return f.watch_size(c).first == 1; }));
    caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  }
  // The worker holds the call's response promise, which references the
  // caller: it goes too. Then nothing may keep the exited caller alive (a
  // delayed message to itself would hold it for the hour).
  caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  CHECK(f.eventually([&] { return !caf::actor_cast<caf::actor>(addr); }));
}

TEST_CASE("call_watch: deadlines armed out of order each fail on time") {
  fixture f;
  auto w = f.sys->spawn(worker);
  auto c = f.sys->spawn(caller);
  caf::scoped_actor self{*f.sys};
  // A long deadline first, then a short one: the short one re-arms the
  // timer earlier; the long one still fails at its own deadline.
  auto slow = self->request(c, 10s, call_atom::value, w, hold_atom::value, int32_t{0}, int64_t{400});
  auto fast = self->request(c, 10s, call_atom::value, w, hold_atom::value, int32_t{0}, int64_t{20});
  const auto timeout = "err:" + caf::to_string(caf::make_error(caf::sec::request_timeout));
  std::string first = "no answer", second = "no answer";
  fast.receive([&](std::string& s) { first = s; }, [&](caf::error& e) { first = caf::to_string(e); });
  slow.receive([&](std::string& s) { second = s; }, [&](caf::error& e) { second = caf::to_string(e); });
  CHECK(first == timeout);
  CHECK(second == timeout);
  CHECK(f.watch_size(c) == std::make_pair(0, 0));
  caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
}

// A group child built from a counter, so each incarnation is a new actor.
caf::expected<supervised_ref_ptr<worker_actor>> add_worker(fixture& f,
                                                           const supervision_group_actor& g,
                                                           const std::string& name) {
  return supervise_in<worker_actor>(*f.sys, g, name, [](caf::actor_system& s) {
    return caf::expected<worker_actor>{s.spawn(worker)};
  });
}

supervision_config quick_budget(uint32_t restarts_max) {
  supervision_config sc;
  sc.restarts_max = restarts_max;
  sc.restart_window = 60s;
  return sc;
}

TEST_CASE("supervision group: a crashed child is restarted and its ref names the new incarnation") {
  fixture f;
  auto g = spawn_supervision_group(*f.sys, "test", quick_budget(3), nullptr);
  auto ref = add_worker(f, g, "worker.a");
  REQUIRE(ref);
  auto first = (*ref)->get();
  REQUIRE(first);
  CHECK((*ref)->incarnation() == 1);
  caf::anon_send(first, crash_atom::value);  // throws: a crash, not a deliberate exit
  REQUIRE(f.eventually([&] { return (*ref)->incarnation() == 2; }));
  auto second = (*ref)->get();
  REQUIRE(second);
  CHECK(second != first);
  auto c = f.sys->spawn(caller);
  CHECK(f.ask(c, second, echo_atom::value) == "ok:hi");  // callers resolve again and go on
  auto stats = group_child_stats(*f.sys, g, "worker.a", 5s);
  REQUIRE(stats);
  CHECK(stats->restarts == 1);
  CHECK(stats->incarnation == 2);
  CHECK(stats->child_alive);
  CHECK(stats->requests_forwarded == 0);  // a group relays nothing
  auto none = group_child_stats(*f.sys, g, "worker.nobody", 5s);
  REQUIRE_FALSE(none);
  CHECK(errc_of(none.error()) == errc::not_found);
  caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  stop_and_wait(*f.sys, std::vector{g}, 10s);
}

TEST_CASE("supervision group: a child past its budget is given up; its siblings are not") {
  fixture f;
  auto g = spawn_supervision_group(*f.sys, "test", quick_budget(1), nullptr);
  auto a = add_worker(f, g, "worker.a");
  auto b = add_worker(f, g, "worker.b");
  REQUIRE(a);
  REQUIRE(b);
  caf::anon_send_exit((*a)->get(), caf::exit_reason::kill);
  REQUIRE(f.eventually([&] { return (*a)->incarnation() == 2; }));
  caf::anon_send_exit((*a)->get(), caf::exit_reason::kill);
  REQUIRE(f.eventually([&] { return !(*a)->get(); }));
  CHECK((*a)->why_down().find("giving up after 1 restarts") != std::string::npos);
  auto c = f.sys->spawn(caller);
  CHECK(f.ask(c, (*b)->get(), echo_atom::value) == "ok:hi");
  caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  stop_and_wait(*f.sys, std::vector{g}, 10s);
}

TEST_CASE("supervision group: a child that exits deliberately is not restarted") {
  fixture f;
  auto g = spawn_supervision_group(*f.sys, "test", quick_budget(3), nullptr);
  auto a = add_worker(f, g, "worker.a");
  REQUIRE(a);
  caf::anon_send_exit((*a)->get(), caf::exit_reason::user_shutdown);
  REQUIRE(f.eventually([&] { return !(*a)->get(); }));
  CHECK((*a)->why_down() == "worker.a stopped");
  CHECK((*a)->incarnation() == 1);
  stop_and_wait(*f.sys, std::vector{g}, 10s);
}

TEST_CASE("supervision group: a second child under a taken name is refused") {
  fixture f;
  auto g = spawn_supervision_group(*f.sys, "test", quick_budget(3), nullptr);
  auto a = add_worker(f, g, "worker.a");
  auto dup = add_worker(f, g, "worker.a");
  REQUIRE(a);
  REQUIRE(dup);
  REQUIRE(f.eventually([&] { return !(*dup)->get(); }));
  CHECK((*dup)->why_down().find("duplicate name") != std::string::npos);
  CHECK((*a)->get());
  stop_and_wait(*f.sys, std::vector{g}, 10s);
}

TEST_CASE("supervision group: down implies every child is down") {
  fixture f;
  auto g = spawn_supervision_group(*f.sys, "test", quick_budget(3), nullptr);
  std::vector<worker_actor> children;
  for (int i = 0; i < 20; ++i) {
    auto r = add_worker(f, g, "worker." + std::to_string(i));
    REQUIRE(r);
    children.push_back((*r)->get());
  }
  // The group has taken all twenty: ask for the last one's figures.
  REQUIRE(group_child_stats(*f.sys, g, "worker.19", 5s));
  stop_and_wait(*f.sys, std::vector{g}, 10s);
  caf::scoped_actor self{*f.sys};
  for (const auto& w : children) {
    bool bounced = false;
    // A terminated actor bounces the request at once.
    self->request(w, 5s, echo_atom::value, "x")
      .receive([](std::string&) {},
               [&](caf::error& e) { bounced = e == caf::sec::request_receiver_down; });
    CHECK(bounced);
  }
}

TEST_CASE("supervision group: with heartbeats on, a child stuck in a handler is replaced") {
  fixture f;
  auto sc = quick_budget(3);
  sc.heartbeat_interval = 30ms;
  sc.heartbeat_misses_max = 2;
  auto g = spawn_supervision_group(*f.sys, "test", sc, nullptr);
  auto a = supervise_in<worker_actor>(*f.sys, g, "worker.a", [](caf::actor_system& s) {
    // Detached: the stuck handler blocks its own thread, not a scheduler's.
    return caf::expected<worker_actor>{s.spawn<caf::detached>(worker)};
  });
  REQUIRE(a);
  auto stuck = (*a)->get();
  caf::anon_send(stuck, block_atom::value, int32_t{1500});
  REQUIRE(f.eventually([&] { return (*a)->incarnation() == 2; }));
  CHECK((*a)->get() != stuck);
  auto stats = group_child_stats(*f.sys, g, "worker.a", 5s);
  REQUIRE(stats);
  CHECK(stats->heartbeats_missed >= 2);
  CHECK(stats->restarts == 1);
  stop_and_wait(*f.sys, std::vector{g}, 10s);
}

}  // namespace agentgraph::supervision_group_test
