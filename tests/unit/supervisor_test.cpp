// Tests of runtime/supervisor.hpp: forwarding through the stable handle,
// restart on crash, escalation, heartbeat kill of hung children, request
// timeouts, reacts_to forwarding, shutdown; plus instantiation for the four
// project interfaces (agent, tool, memory, provider).
//
// Timing: intervals are short (20-50 ms) and every wait is generous (5 s
// bounds on polling); assertions are about behaviour and counts, never about
// elapsed wall time.
// Over 600 lines on purpose: the test child, its spawn log and the fixture
// serve every case; split files would each repeat them.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/after.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>

#include "actors/agent/agent_interface.hpp"
#include "actors/memory/memory_interface.hpp"
#include "actors/provider/provider_interface.hpp"
#include "actors/host/register_types.hpp"
#include "actors/tool/tool_interface.hpp"
#include "runtime/error.hpp"
#include "runtime/supervisor.hpp"

namespace agentgraph::supervisor_test_detail {

using namespace std::chrono_literals;

using echo_atom = caf::atom_constant<caf::atom("t_echo")>;
using pair_atom = caf::atom_constant<caf::atom("t_pair")>;
using crash_atom = caf::atom_constant<caf::atom("t_crash")>;
using fail_atom = caf::atom_constant<caf::atom("t_fail")>;
using slow_atom = caf::atom_constant<caf::atom("t_slow")>;
using block_atom = caf::atom_constant<caf::atom("t_block")>;
using hang_atom = caf::atom_constant<caf::atom("t_hang")>;
using note_atom = caf::atom_constant<caf::atom("t_note")>;
using count_atom = caf::atom_constant<caf::atom("t_count")>;
using quit_atom = caf::atom_constant<caf::atom("t_quit")>;
using done_atom = caf::atom_constant<caf::atom("t_done")>;

// The test child's interface, as a supervised actor's would be.
using test_actor = caf::typed_actor<
  caf::replies_to<echo_atom, std::string>::with<std::string>,
  caf::replies_to<pair_atom, int32_t>::with<int32_t, std::string>,  // two outputs
  caf::replies_to<crash_atom>::with<int32_t>,           // throws
  caf::replies_to<fail_atom>::with<int32_t>,            // replies tool_error
  caf::replies_to<slow_atom, int32_t>::with<int32_t>,   // replies after N ms (promise)
  caf::replies_to<block_atom, int32_t>::with<int32_t>,  // blocks its thread N ms
  caf::reacts_to<hang_atom>,                            // stops answering pings
  caf::reacts_to<note_atom, int32_t>,                   // adds to a sum
  caf::replies_to<count_atom>::with<int32_t, int32_t>,  // (sum, incarnation)
  caf::reacts_to<quit_atom>,                            // exits normally
  heartbeat_signature>;

// The child also sends itself a private timer message for slow replies.
using test_child_actor = test_actor::extend<caf::reacts_to<done_atom, uint64_t>>;

struct test_child_state {
  std::string name = "test_child";
  int32_t incarnation = 0;
  int32_t notes_sum = 0;
  bool hung = false;  // when set, pings are never answered
  uint64_t slow_next_id = 1;
  // Slow replies waiting for their timer; bounded by the requests a test sends.
  std::unordered_map<uint64_t, std::pair<caf::typed_response_promise<int32_t>, int32_t>> slow;
};

// What the factory and its children did, read by the test thread.
struct spawn_log {
  std::atomic<int32_t> spawned{0};
  std::mutex mtx;
  std::condition_variable changed;  // notified when slow_delivered grows
  caf::actor_addr last;             // guarded by mtx; weak, so it keeps nothing alive
  int32_t slow_delivered = 0;       // guarded by mtx: slow replies a child has sent
  caf::actor_addr last_child() {
    std::lock_guard<std::mutex> guard{mtx};
    return last;
  }
  void note_slow_delivered() {
    std::lock_guard<std::mutex> guard{mtx};
    ++slow_delivered;
    changed.notify_all();
  }
  // Blocks until `n` slow replies were sent; the bound is for a broken
  // child, not a timing assertion.
  bool await_slow_delivered(int32_t n) {
    std::unique_lock<std::mutex> lock{mtx};
    return changed.wait_for(lock, std::chrono::seconds(30), [&] { return slow_delivered >= n; });
  }
};

test_child_actor::behavior_type
test_child(test_child_actor::stateful_pointer<test_child_state> self, int32_t incarnation,
           std::shared_ptr<spawn_log> log) {
  self->state.incarnation = incarnation;
  return {
    [](echo_atom, std::string s) { return s; },
    [](pair_atom, int32_t x) -> caf::result<int32_t, std::string> {
      return {x * 2, std::to_string(x)};
    },
    [](crash_atom) -> int32_t { throw std::runtime_error("test child crashes on purpose"); },
    [](fail_atom) -> caf::result<int32_t> { return make_error(errc::tool_error, "boom"); },
    [self](slow_atom, int32_t ms) -> caf::result<int32_t> {
      auto rp = self->make_response_promise<int32_t>();
      auto id = self->state.slow_next_id++;
      self->state.slow.emplace(id, std::make_pair(rp, ms));
      self->delayed_send(self, std::chrono::milliseconds(ms), done_atom::value, id);
      return rp;
    },
    [self, log](done_atom, uint64_t id) {
      auto i = self->state.slow.find(id);
      if (i == self->state.slow.end())
        return;
      // deliver() enqueues the reply to the supervisor before the note, so
      // a request the test sends after await_slow_delivered queues behind it.
      i->second.first.deliver(i->second.second);
      self->state.slow.erase(i);
      log->note_slow_delivered();
    },
    [](block_atom, int32_t ms) {
      // Deliberately blocks: this models a child stuck in a blocking call.
      // Only ever spawned detached, so no scheduler thread is blocked.
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      return ms;
    },
    [self](hang_atom) { self->state.hung = true; },
    [self](note_atom, int32_t x) { self->state.notes_sum += x; },
    [self](count_atom) -> caf::result<int32_t, int32_t> {
      return {self->state.notes_sum, self->state.incarnation};
    },
    [self](quit_atom) { self->quit(); },
    [self](ping_atom) -> caf::result<pong_atom> {
      if (self->state.hung)  // a promise never delivered: the ping times out
        return self->make_response_promise<pong_atom>();
      return pong_atom::value;
    },
  };
}

// Spawns test children, recording each in `log`.
std::function<test_actor(caf::actor_system&)> test_factory(std::shared_ptr<spawn_log> log,
                                                          bool detached = false) {
  return [log, detached](caf::actor_system& sys) -> test_actor {
    auto n = ++log->spawned;
    test_actor child = detached ? sys.spawn<caf::detached>(test_child, n, log)
                                : sys.spawn(test_child, n, log);
    std::lock_guard<std::mutex> guard{log->mtx};
    log->last = child.address();
    return child;
  };
}

// Heartbeats stay on in every test, to show they do not disturb normal work,
// but tolerate 250 ms stalls: the 2-core test machine is shared, and a
// spurious restart would break the counts the tests assert.
supervision_config fast_config() {
  supervision_config cfg;
  cfg.restarts_max = 3;
  cfg.restart_window = 10'000ms;
  cfg.heartbeat_interval = 50ms;
  cfg.heartbeat_misses_max = 5;
  cfg.request_timeout = 2'000ms;
  return cfg;
}

// One actor system per test. The fixture stops every supervisor it tracks
// before the system goes, so a failed REQUIRE cannot hang the destructor.
struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> self;
  std::vector<caf::actor> roots;

  fixture() {
    register_all_types(cfg);
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    self = std::make_unique<caf::scoped_actor>(*sys);
  }

  ~fixture() {
    for (auto& root : roots)
      caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
    roots.clear();
    self.reset();
    sys.reset();
  }

  template <class Interface>
  Interface track(Interface h) {
    roots.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  test_actor supervise(supervision_config c, std::shared_ptr<spawn_log> log,
                       bool detached = false) {
    return track(spawn_supervised<test_actor>(*sys, "worker", c, test_factory(log, detached)));
  }

  // Blocking single-value request with a generous bound.
  template <class T, class Handle, class... Ts>
  caf::expected<T> ask(const Handle& h, Ts... xs) {
    caf::expected<T> out{make_error(errc::internal, "no reply")};
    (*self)->request(h, 5s, xs...).receive([&](T& v) { out = std::move(v); },
                                           [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  template <class Handle>
  supervision_stats stats(const Handle& sup) {
    auto s = supervisor_stats((*self)->home_system(), sup, 5s);
    REQUIRE(s);
    return *s;
  }

  // Polls `pred` every 10 ms for at most 5 s, from the test thread (never a
  // scheduler thread). Returns whether it became true.
  template <class Pred>
  bool eventually(Pred pred) {
    for (int i = 0; i < 500; ++i) {
      if (pred())
        return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }

  // Waits for the down_msg of `who` (monitored by the test) and returns its
  // reason. Down messages of other actors are kept for later calls, since
  // two monitored actors may go down in either order.
  caf::error await_down(const caf::actor_addr& who) {
    for (int i = 0; i < 10; ++i) {
      for (auto& dm : downs)
        if (dm.source == who)
          return dm.reason;
      bool timed_out = false;
      (*self)->receive([&](caf::down_msg& dm) { downs.push_back(std::move(dm)); },
                       caf::after(5s) >> [&] { timed_out = true; });
      if (timed_out)
        break;
    }
    return make_error(errc::internal, "no down_msg");
  }

  std::vector<caf::down_msg> downs;  // received by await_down; at most a few per test
};


// Trivial children for the project's four interfaces: enough to prove that
// spawn_supervised generates a forwarder for every one of their signatures
// (several inputs, handles inside messages, reacts_to) and that the replies
// cross the supervisor.
agent_actor::behavior_type stub_agent(agent_actor::pointer) {
  return {
    [](execute_atom, task_request& r) {
      task_result out;
      out.task_id = r.task_id;
      out.output = "done: " + r.input;
      return out;
    },
    [](execute_stream_atom, task_request& r, stream_sink_actor&) {
      task_result out;
      out.task_id = r.task_id;
      return out;
    },
    [](stats_atom) { return agent_stats{}; },
    [](ping_atom) { return pong_atom::value; },
  };
}

tool_actor::behavior_type stub_tool(tool_actor::pointer) {
  return {
    [](invoke_atom, tool_invocation& inv) { return tool_result{inv.call_id, Value{}, false}; },
    [](describe_atom) { return tool_spec{"stub", "does nothing", {}, true}; },
    [](stats_atom) { return tool_stats{}; },
    [](ping_atom) { return pong_atom::value; },
  };
}

memory_actor::behavior_type stub_memory(memory_actor::pointer) {
  return {
    [](store_atom, memory_entry&) { return uint64_t{7}; },
    [](recall_atom, std::string&, uint32_t k) { return std::vector<memory_hit>(k); },
    [](recall_scoped_atom, std::string&, uint32_t k, std::vector<std::string>&) {
      return std::vector<memory_hit>(k);
    },
    [](stats_atom) { return memory_stats{}; },
    [](snapshot_atom) { return uint64_t{0}; },
    [](cleanup_atom) {},
    [](memory_flush_atom) {},
    [](ping_atom) { return pong_atom::value; },
  };
}

provider_actor::behavior_type stub_provider(provider_actor::pointer self) {
  return {
    [](chat_atom, chat_request&) { return chat_response{}; },
    [self](chat_stream_atom, chat_request& req, stream_sink_actor& sink) {
      if (sink)  // one chunk, to show the sink handle crossed the supervisor
        self->send(sink, stream_chunk{req.request_id, "hi", {}});
      return chat_response{};
    },
    [](embed_atom, embed_request& req) {
      return embed_response{std::vector<std::vector<float>>(req.inputs.size()), {}};
    },
    [](cancel_atom, std::string&) {},
    [](stats_atom) { return provider_stats{}; },
    [](ping_atom) { return pong_atom::value; },
  };
}

stream_sink_actor::behavior_type counting_sink(stream_sink_actor::pointer,
                                               std::shared_ptr<std::atomic<int>> chunks) {
  return {[chunks](stream_chunk&) { ++*chunks; }};
}

// Spawns `fn` under a supervisor named `name` and tracks it for shutdown.
template <class Interface, class Fn>
Interface supervise_stub(fixture& fx, const char* name, Fn fn) {
  return fx.track(spawn_supervised<Interface>(
    *fx.sys, name, fast_config(), [fn](caf::actor_system& sys) { return sys.spawn(fn); }));
}

// The test cases live in this namespace too: no using-directives at file
// scope, so the unity build cannot leak these names into other tests.

TEST_CASE("supervisor: restart budget allows restarts_max within the window") {
  using clock = std::chrono::steady_clock;
  supervisor_detail::restart_budget budget{2, 1'000ms};
  auto t0 = clock::time_point{} + 1h;
  CHECK(budget.try_consume(t0));
  CHECK(budget.try_consume(t0 + 100ms));
  CHECK_FALSE(budget.try_consume(t0 + 200ms));  // third within 1 s: escalate
  CHECK(budget.try_consume(t0 + 1'050ms));      // the first left the window
  CHECK(budget.used() == 2);
  supervisor_detail::restart_budget none{0, 1'000ms};
  CHECK_FALSE(none.try_consume(t0));  // restarts_max 0: never restart
}

TEST_CASE("supervisor: pending table is bounded and answers each caller once") {
  supervisor_detail::pending_table table{2};
  int failures = 0;
  auto a = table.add([&](const caf::error&) { ++failures; });
  table.add([&](const caf::error&) { ++failures; });
  CHECK(table.full());
  CHECK(table.take(a));        // the reply won: the caller is answered once
  CHECK_FALSE(table.take(a));  // a late error for the same request is ignored
  CHECK_FALSE(table.full());
  table.fail_all(make_error(errc::unavailable, "w crashed"));
  CHECK(failures == 1);
  CHECK(table.size() == 0);
}

TEST_CASE("supervisor: translate_error maps CAF errors and keeps the child's own") {
  auto t = supervisor_detail::translate_error("w", caf::sec::request_timeout, 50ms);
  CHECK(errc_of(t) == errc::timeout);
  CHECK(error_context(t) == "w: no reply within 50ms");
  auto d = supervisor_detail::translate_error("w", caf::sec::request_receiver_down, 50ms);
  CHECK(errc_of(d) == errc::unavailable);
  auto own = make_error(errc::tool_error, "boom");
  CHECK(supervisor_detail::translate_error("w", own, 50ms) == own);
  CHECK(supervisor_detail::is_deliberate_exit(caf::exit_reason::user_shutdown));
  CHECK_FALSE(supervisor_detail::is_deliberate_exit(caf::sec::runtime_error));
}

TEST_CASE("supervisor: forwards requests and replies transparently") {
  fixture fx;
  auto log = std::make_shared<spawn_log>();
  auto sup = fx.supervise(fast_config(), log);
  auto echoed = fx.ask<std::string>(sup, echo_atom::value, std::string{"hello"});
  REQUIRE(echoed);
  CHECK(*echoed == "hello");
  int32_t twice = 0;
  std::string text;
  (*fx.self)->request(sup, 5s, pair_atom::value, int32_t{21})
    .receive([&](int32_t a, std::string& b) { twice = a; text = b; },
             [&](caf::error& e) { FAIL("pair failed: " << describe(e)); });
  CHECK(twice == 42);
  CHECK(text == "21");
  auto failed = fx.ask<int32_t>(sup, fail_atom::value);  // the child's own error, unchanged
  REQUIRE_FALSE(failed);
  CHECK(failed.error() == make_error(errc::tool_error, "boom"));
  auto pong = fx.ask<pong_atom>(sup, ping_atom::value);  // answered by the supervisor
  CHECK(pong);
  auto s = fx.stats(sup);
  CHECK(s.name == "worker");
  CHECK(s.requests_forwarded == 3);
  CHECK(s.restarts == 0);
  CHECK(s.child_alive);
  CHECK(log->spawned == 1);
}

TEST_CASE("supervisor: reacts_to messages are forwarded") {
  fixture fx;
  auto log = std::make_shared<spawn_log>();
  auto sup = fx.supervise(fast_config(), log);
  (*fx.self)->send(sup, note_atom::value, int32_t{3});
  caf::anon_send(sup, note_atom::value, int32_t{4});
  // Both sends went to the supervisor before this request and each hop
  // keeps order per sender, but the two senders differ: poll the sum.
  CHECK(fx.eventually([&] {
    int32_t sum = -1;
    (*fx.self)->request(sup, 5s, count_atom::value)
      .receive([&](int32_t s, int32_t) { sum = s; }, [&](caf::error&) {});
    return sum == 7;
  }));
}

TEST_CASE("supervisor: a crashed child is restarted and its caller gets unavailable") {
  fixture fx;
  auto log = std::make_shared<spawn_log>();
  auto sup = fx.supervise(fast_config(), log);
  auto crashed = fx.ask<int32_t>(sup, crash_atom::value);
  REQUIRE_FALSE(crashed);
  CHECK(errc_of(crashed.error()) == errc::unavailable);
  CHECK(error_context(crashed.error()) == "worker crashed");
  // The crash reply can overtake the child's down_msg, and a request sent in
  // between fails as "crashed" too (supervisor.hpp): wait for the restart.
  CHECK(fx.eventually([&] { return fx.stats(sup).incarnation == 2; }));
  // The same handle now reaches the second incarnation.
  int32_t incarnation = 0;
  (*fx.self)->request(sup, 5s, count_atom::value)
    .receive([&](int32_t, int32_t inc) { incarnation = inc; },
             [&](caf::error& e) { FAIL("count failed: " << describe(e)); });
  CHECK(incarnation == 2);
  auto echoed = fx.ask<std::string>(sup, echo_atom::value, std::string{"again"});
  REQUIRE(echoed);
  CHECK(*echoed == "again");
  auto s = fx.stats(sup);
  CHECK(s.restarts == 1);
  CHECK(s.incarnation == 2);
  CHECK(s.child_alive);
  CHECK(log->spawned == 2);
}

TEST_CASE("supervisor: escalates when restarts_max is exceeded within restart_window") {
  fixture fx;
  auto log = std::make_shared<spawn_log>();
  auto cfg = fast_config();
  cfg.restarts_max = 2;
  auto sup = fx.supervise(cfg, log);
  (*fx.self)->monitor(sup);
  for (int i = 0; i < 3; ++i) {  // two restarts allowed, the third crash escalates
    auto crashed = fx.ask<int32_t>(sup, crash_atom::value);
    REQUIRE_FALSE(crashed);
    CHECK(errc_of(crashed.error()) == errc::unavailable);
  }
  auto reason = fx.await_down(sup.address());
  CHECK(errc_of(reason) == errc::limit_exceeded);
  CHECK(log->spawned == 3);
  auto later = fx.ask<std::string>(sup, echo_atom::value, std::string{"anyone?"});
  CHECK_FALSE(later);  // an error, not a hang
}

TEST_CASE("supervisor: a child that stops answering pings is killed and restarted") {
  fixture fx;
  auto log = std::make_shared<spawn_log>();
  auto cfg = fast_config();
  cfg.heartbeat_interval = 20ms;
  cfg.heartbeat_misses_max = 3;
  auto sup = fx.supervise(cfg, log);
  REQUIRE(fx.ask<std::string>(sup, echo_atom::value, std::string{"up"}));  // child exists
  auto first = log->last_child();
  (*fx.self)->monitor(first);
  caf::anon_send(sup, hang_atom::value);
  CHECK(fx.eventually([&] { return fx.stats(sup).restarts == 1; }));
  auto s = fx.stats(sup);
  CHECK(s.heartbeats_missed >= cfg.heartbeat_misses_max);
  CHECK(s.incarnation == 2);
  CHECK(fx.await_down(first) == caf::exit_reason::kill);  // the hung one is gone
  auto echoed = fx.ask<std::string>(sup, echo_atom::value, std::string{"fresh"});
  REQUIRE(echoed);
  CHECK(*echoed == "fresh");
  CHECK(log->spawned == 2);
}

TEST_CASE("supervisor: a child blocked in a handler is replaced without waiting for it") {
  fixture fx;
  auto log = std::make_shared<spawn_log>();
  auto cfg = fast_config();
  cfg.heartbeat_interval = 20ms;
  cfg.heartbeat_misses_max = 3;
  auto sup = fx.supervise(cfg, log, /*detached=*/true);
  // The child blocks for 1 s; heartbeats (3 x 20 ms) notice long before, so
  // the caller gets unavailable instead of the value 1000.
  auto blocked = fx.ask<int32_t>(sup, block_atom::value, int32_t{1'000});
  REQUIRE_FALSE(blocked);
  CHECK(errc_of(blocked.error()) == errc::unavailable);
  CHECK(error_context(blocked.error()) == "worker hung; restarting");
  auto echoed = fx.ask<std::string>(sup, echo_atom::value, std::string{"new"});
  REQUIRE(echoed);
  CHECK(*echoed == "new");
  CHECK(fx.stats(sup).restarts == 1);
}

TEST_CASE("supervisor: a request past request_timeout gets errc::timeout") {
  fixture fx;
  auto log = std::make_shared<spawn_log>();
  auto cfg = fast_config();
  cfg.request_timeout = 50ms;
  auto sup = fx.supervise(cfg, log);
  auto slow = fx.ask<int32_t>(sup, slow_atom::value, int32_t{300});
  REQUIRE_FALSE(slow);
  CHECK(errc_of(slow.error()) == errc::timeout);
  CHECK(slow.error() != caf::sec::request_timeout);
  CHECK(error_context(slow.error()) == "worker: no reply within 50ms");
  // Wait until the child has sent the late reply: the supervisor's mailbox
  // then holds it ahead of the next request, so the supervisor handles it
  // (dropping it quietly) before it forwards that request, and the child,
  // which answers pings meanwhile, must keep working.
  REQUIRE(log->await_slow_delivered(1));
  auto quick = fx.ask<int32_t>(sup, slow_atom::value, int32_t{1});
  REQUIRE(quick);
  CHECK(*quick == 1);
  auto s = fx.stats(sup);
  CHECK(s.requests_timed_out == 1);
  CHECK(s.restarts == 0);
  CHECK(s.requests_in_flight == 0);
  CHECK(log->spawned == 1);
}

TEST_CASE("supervisor: a child that exits normally is not restarted") {
  fixture fx;
  auto log = std::make_shared<spawn_log>();
  auto sup = fx.supervise(fast_config(), log);
  (*fx.self)->monitor(sup);
  caf::anon_send(sup, quit_atom::value);
  auto reason = fx.await_down(sup.address());
  CHECK_FALSE(reason);  // normal exit: the supervisor stops with it
  CHECK(log->spawned == 1);
}

TEST_CASE("supervisor: a factory without a child escalates at once") {
  fixture fx;
  auto sup = fx.track(spawn_supervised<test_actor>(
    *fx.sys, "ghost", fast_config(), [](caf::actor_system&) { return test_actor{}; }));
  (*fx.self)->monitor(sup);
  auto reason = fx.await_down(sup.address());
  CHECK(errc_of(reason) == errc::unavailable);
  CHECK(error_context(reason) == "ghost: child factory returned no actor");
}

TEST_CASE("supervisor: user_shutdown stops the child and lets the system end") {
  fixture fx;
  auto log = std::make_shared<spawn_log>();
  auto sup = fx.supervise(fast_config(), log);
  REQUIRE(fx.ask<std::string>(sup, echo_atom::value, std::string{"up"}));
  auto child = log->last_child();
  (*fx.self)->monitor(child);
  (*fx.self)->monitor(sup);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  CHECK(fx.await_down(sup.address()) == caf::exit_reason::user_shutdown);
  CHECK(fx.await_down(child) == caf::exit_reason::user_shutdown);
  // Leaving the scope runs ~actor_system, which waits for every actor:
  // returning at all is the proof that nothing was left running.
}

TEST_CASE("supervisor: goes down only after its child is down") {
  fixture fx;
  auto log = std::make_shared<spawn_log>();
  auto sup = fx.supervise(fast_config(), log);
  REQUIRE(fx.ask<std::string>(sup, echo_atom::value, std::string{"up"}));
  auto child = log->last_child();
  (*fx.self)->monitor(child);
  (*fx.self)->monitor(sup);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  // Whoever waits for the supervisor's down message (the Runtime, before it
  // snapshots memory) must be able to rely on the child being gone already.
  caf::actor_addr first;
  (*fx.self)->receive([&](caf::down_msg& dm) { first = dm.source; },
                      caf::after(std::chrono::seconds(10)) >> [] {});
  CHECK(first == child);
  CHECK(fx.await_down(sup.address()) == caf::exit_reason::user_shutdown);
}

TEST_CASE("supervisor: nested supervisors restart an escalated subtree") {
  fixture fx;
  auto log = std::make_shared<spawn_log>();
  auto inner_cfg = fast_config();
  inner_cfg.restarts_max = 0;  // the inner one escalates on the first crash
  auto outer = fx.track(spawn_supervised<test_actor>(
    *fx.sys, "outer", fast_config(), [log, inner_cfg](caf::actor_system& sys) {
      return spawn_supervised<test_actor>(sys, "inner", inner_cfg, test_factory(log));
    }));
  auto crashed = fx.ask<int32_t>(outer, crash_atom::value);
  REQUIRE_FALSE(crashed);
  // The inner supervisor's answer, relayed unchanged by the outer one.
  CHECK(error_context(crashed.error()) == "inner crashed");
  // The crash reply reaches us before the inner supervisor's escalation
  // reaches the outer one; wait (bounded) for the outer restart, then use
  // the new subtree.
  CHECK(fx.eventually([&] { return fx.stats(outer).restarts == 1; }));
  auto echoed = fx.ask<std::string>(outer, echo_atom::value, std::string{"tree"});
  REQUIRE(echoed);
  CHECK(*echoed == "tree");
  CHECK(fx.stats(outer).restarts == 1);  // the inner supervisor was replaced
  CHECK(log->spawned == 2);
}

TEST_CASE("supervisor: supervises the agent, tool, memory and provider interfaces") {
  fixture fx;
  auto agent = supervise_stub<agent_actor>(fx, "agent", stub_agent);
  auto tool = supervise_stub<tool_actor>(fx, "tool", stub_tool);
  auto memory = supervise_stub<memory_actor>(fx, "memory", stub_memory);
  auto provider = supervise_stub<provider_actor>(fx, "provider", stub_provider);

  auto result = fx.ask<task_result>(agent, execute_atom::value, task_request{"t-1", "go", {}});
  REQUIRE(result);
  CHECK(result->output == "done: go");
  CHECK(fx.ask<agent_stats>(agent, stats_atom::value));

  auto spec = fx.ask<tool_spec>(tool, describe_atom::value);
  REQUIRE(spec);
  CHECK(spec->name == "stub");
  auto invoked = fx.ask<tool_result>(tool, invoke_atom::value, tool_invocation{"c-1", Value{}});
  REQUIRE(invoked);
  CHECK(invoked->call_id == "c-1");

  CHECK(fx.ask<uint64_t>(memory, store_atom::value, memory_entry{}) == uint64_t{7});
  auto hits = fx.ask<std::vector<memory_hit>>(memory, recall_atom::value, std::string{"q"},
                                              uint32_t{3});
  REQUIRE(hits);
  CHECK(hits->size() == 3);
  caf::anon_send(memory, cleanup_atom::value);
  CHECK(fx.ask<uint64_t>(memory, snapshot_atom::value));

  auto chunks = std::make_shared<std::atomic<int>>(0);
  auto sink = fx.sys->spawn(counting_sink, chunks);
  CHECK(fx.ask<chat_response>(provider, chat_atom::value, chat_request{}));
  CHECK(fx.ask<chat_response>(provider, chat_stream_atom::value, chat_request{}, sink));
  CHECK(fx.eventually([&] { return chunks->load() == 1; }));
  auto embedded = fx.ask<embed_response>(provider, embed_atom::value,
                                         embed_request{"m", {"a", "b"}});
  REQUIRE(embedded);
  CHECK(embedded->vectors.size() == 2);
  caf::anon_send(provider, cancel_atom::value, std::string{"r-1"});

  CHECK(fx.stats(agent).requests_forwarded == 2);
  CHECK(fx.stats(tool).requests_forwarded == 2);
  CHECK(fx.stats(memory).requests_forwarded == 3);  // reacts_to sends are not requests
  CHECK(fx.stats(provider).requests_forwarded == 3);
  CHECK(fx.stats(provider).restarts == 0);
}

}  // namespace agentgraph::supervisor_test_detail
