// journal_actor: the task journal behind an actor that never blocks a
// scheduler thread, with a bound on pending requests, a reply for every
// call and the journal's errors passed through; and the journal's messages
// crossing CAF's serializer as they do between nodes.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "message_round_trip.hpp"
#include "runtime/error.hpp"
#include "runtime/journal/journal_actor.hpp"
#include "runtime/journal/sqlite_task_journal.hpp"
#include "runtime/register_types.hpp"

namespace agentgraph::journal_actor_test {

namespace fs = std::filesystem;
constexpr auto reply_timeout = std::chrono::seconds{10};

// A real SQLite journal whose accepts wait until the test opens the gate
// (at most gate_wait_max, so a broken test fails instead of hanging).
class gated_journal final : public task_journal {
 public:
  static constexpr auto gate_wait_max = std::chrono::seconds{10};
  gated_journal(std::unique_ptr<task_journal> inner, std::shared_future<void> gate,
                std::shared_ptr<std::atomic<int>> entered)
    : task_journal(inner->limits(), "gated: "), inner_(std::move(inner)),
      gate_(std::move(gate)), entered_(std::move(entered)) {}
  std::string backend() const override { return inner_->backend(); }

 private:
  caf::expected<accept_outcome> do_accept(const journal_record& r) override {
    ++*entered_;
    gate_.wait_for(gate_wait_max);
    return inner_->accept(r);
  }
  caf::error do_assign(const std::string& id, const std::string& member, const std::string& owner,
                       uint64_t epoch) override {
    return inner_->assign(id, member, owner, epoch);
  }
  caf::expected<journal_record> do_complete(const std::string& id, task_state s,
                                            const std::vector<uint8_t>& result) override {
    return inner_->complete(id, s, result);
  }
  caf::expected<std::vector<journal_record>> do_open_of(const std::string& owner, uint32_t limit,
                                                        const std::string& after) override {
    return inner_->open_of(owner, limit, after);
  }
  caf::expected<uint64_t> do_adopt(const std::string& from, uint64_t from_epoch,
                                   const std::string& to, uint64_t to_epoch) override {
    return inner_->adopt(from, from_epoch, to, to_epoch);
  }
  caf::expected<std::optional<journal_record>> do_get(const std::string& id) override {
    return inner_->get(id);
  }

  std::unique_ptr<task_journal> inner_;
  std::shared_future<void> gate_;
  std::shared_ptr<std::atomic<int>> entered_;
};

struct config_holder {
  caf::actor_system_config cfg;
  config_holder() {
    register_runtime_types(cfg);
    // ONE scheduler thread: if any journal call ran on it, nothing else could run.
    cfg.set("scheduler.max-threads", 1);
  }
};

struct fixture : config_holder {
  fs::path dir = fs::temp_directory_path()
                 / ("agentgraph-jn-actor-" + std::to_string(::getpid()) + "-"
                    + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::promise<void> open_gate;
  std::shared_future<void> gate = open_gate.get_future().share();
  std::shared_ptr<std::atomic<int>> entered = std::make_shared<std::atomic<int>>(0);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  journal_actor jn;

  explicit fixture(journal_actor_config jac = {}) {
    auto inner = open_sqlite_task_journal((dir / "journal.db").string());
    REQUIRE(inner);
    jn = spawn_journal_actor(
      sys, std::make_unique<gated_journal>(std::move(*inner), gate, entered), jac);
  }
  ~fixture() {
    release();
    caf::anon_send_exit(jn, caf::exit_reason::user_shutdown);
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  void release() {
    if (gate.wait_for(std::chrono::seconds{0}) != std::future_status::ready)
      open_gate.set_value();
  }
  bool wait_entered(int n) {
    for (int i = 0; i < 1'000 && *entered < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    return *entered >= n;
  }
  // Asks the actor and waits for a `Reply`; an error reply fails the case.
  template <class Reply, class... Ts>
  Reply ask(Ts&&... xs) {
    Reply out{};
    self->request(jn, reply_timeout, std::forward<Ts>(xs)...)
      .receive([&](Reply& r) { out = std::move(r); },
               [&](caf::error& err) { FAIL(describe(err)); });
    return out;
  }
  // Asks the actor and returns the error it answers; a value fails the case.
  template <class Reply, class... Ts>
  caf::error ask_error(Ts&&... xs) {
    caf::error out;
    self->request(jn, reply_timeout, std::forward<Ts>(xs)...)
      .receive([](Reply&) { FAIL("answered a value where an error was due"); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  }
  static journal_record sample(const std::string& id) {
    journal_record r;
    r.task_id = id;
    r.target = "planner";
    r.payload = {1, 2, 3};
    r.owner = "n1";
    r.owner_epoch = 7;
    return r;
  }
};

TEST_CASE("journal actor: a slow accept never blocks the only scheduler thread") {
  fixture fx;
  auto pinger = fx.sys.spawn([]() -> caf::behavior {
    return {[](ping_atom) { return pong_atom::value; }};
  });
  // The caller is an event-based actor on the scheduler: it only sends.
  caf::actor reply_to = fx.self;
  auto jn = fx.jn;
  fx.sys.spawn([jn, reply_to](caf::event_based_actor* a) {
    a->request(jn, reply_timeout, journal_accept_atom::value, fixture::sample("t"))
      .then([a, reply_to](accept_outcome& out) { a->send(reply_to, out); },
            [a, reply_to](caf::error& err) { a->send(reply_to, err); });
  });
  REQUIRE(fx.wait_entered(1));  // the accept is now stuck inside the journal
  int pongs = 0;
  for (int i = 0; i < 20; ++i)
    fx.self->request(pinger, std::chrono::seconds{2}, ping_atom::value)
      .receive([&](pong_atom) { ++pongs; }, [&](caf::error& err) { FAIL(describe(err)); });
  CHECK(pongs == 20);
  // The journal actor itself answers its heartbeat meanwhile.
  CHECK(fx.ask<pong_atom>(ping_atom::value) == pong_atom::value);
  CHECK(fx.entered->load() == 1);
  fx.release();
  fx.self->receive([](accept_outcome& out) { CHECK(out.fresh); },
                   [](caf::error& err) { FAIL(describe(err)); },
                   caf::after(reply_timeout) >> [] { FAIL("no reply to the accept"); });
  caf::anon_send_exit(pinger, caf::exit_reason::user_shutdown);
}

TEST_CASE("journal actor: requests beyond pending_max are overloaded at once") {
  journal_actor_config jac;
  jac.pending_max = 2;
  fixture fx{jac};
  fx.self->send(fx.jn, journal_accept_atom::value, fixture::sample("t1"));
  fx.self->send(fx.jn, journal_accept_atom::value, fixture::sample("t2"));
  REQUIRE(fx.wait_entered(1));
  auto refused = fx.ask_error<journal_record>(journal_get_atom::value, std::string{"t1"});
  CHECK(errc_of(refused) == errc::overloaded);
  CHECK(error_context(refused).find("pending_max") != std::string::npos);
  fx.release();
  std::vector<bool> fresh;
  for (int i = 0; i < 2; ++i)
    fx.self->receive([&](accept_outcome& out) { fresh.push_back(out.fresh); },
                     [](caf::error& err) { FAIL(describe(err)); },
                     caf::after(reply_timeout) >> [] { FAIL("no reply to an accept"); });
  CHECK(fresh == std::vector<bool>{true, true});
  // Answered requests free their slots.
  CHECK(fx.ask<journal_record>(journal_get_atom::value, std::string{"t2"}).task_id == "t2");
}

TEST_CASE("journal actor: every call has its reply, and the journal's errors pass through") {
  fixture fx;
  fx.release();
  auto r = fixture::sample("t");
  CHECK(fx.ask<accept_outcome>(journal_accept_atom::value, r).fresh);
  CHECK_FALSE(fx.ask<accept_outcome>(journal_accept_atom::value, r).fresh);
  CHECK(fx.ask<journal_assign_atom>(journal_assign_atom::value, std::string{"t"},
                                    std::string{"n2"}, std::string{"n1"}, uint64_t{7})
        == journal_assign_atom::value);
  auto page = fx.ask<std::vector<journal_record>>(journal_open_of_atom::value, std::string{"n1"},
                                                  uint32_t{10}, std::string{});
  REQUIRE(page.size() == 1);
  CHECK(page[0].attempts == 1);
  CHECK(page[0].assigned == "n2");
  CHECK(fx.ask<uint64_t>(journal_adopt_atom::value, std::string{"n1"}, uint64_t{0},
                         std::string{"n3"}, uint64_t{9})
        == 1);
  auto fenced = fx.ask_error<journal_assign_atom>(journal_assign_atom::value, std::string{"t"},
                                                  std::string{"n2"}, std::string{"n1"},
                                                  uint64_t{7});
  CHECK(errc_of(fenced) == errc::conflict);
  CHECK(error_context(fenced).find("fenced") != std::string::npos);
  auto done = fx.ask<journal_record>(journal_complete_atom::value, std::string{"t"},
                                     task_state::done, std::vector<uint8_t>{42});
  CHECK(done.state == task_state::done);
  CHECK(done.owner == "n3");
  auto again = fx.ask<journal_record>(journal_complete_atom::value, std::string{"t"},
                                      task_state::failed, std::vector<uint8_t>{0});
  CHECK(again.result == std::vector<uint8_t>{42});
  CHECK(fx.ask<journal_record>(journal_get_atom::value, std::string{"t"}).result
        == std::vector<uint8_t>{42});
  auto missing = fx.ask_error<journal_record>(journal_get_atom::value, std::string{"nobody"});
  CHECK(errc_of(missing) == errc::not_found);
  CHECK(error_context(missing).find("sqlite") != std::string::npos);
  auto bad = r;
  bad.task_id = "u";
  bad.owner_epoch = 0;
  CHECK(errc_of(fx.ask_error<accept_outcome>(journal_accept_atom::value, bad))
        == errc::invalid_argument);
  CHECK(errc_of(fx.ask_error<journal_record>(journal_complete_atom::value, std::string{"t"},
                                             task_state{9}, std::vector<uint8_t>{}))
        == errc::invalid_argument);
}

TEST_CASE("journal actor: a call the worker does not answer in call_timeout is a timeout") {
  journal_actor_config jac;
  jac.call_timeout = std::chrono::milliseconds{50};
  fixture fx{jac};
  auto err = fx.ask_error<accept_outcome>(journal_accept_atom::value, fixture::sample("t"));
  CHECK(errc_of(err) == errc::timeout);
  CHECK(error_context(err).find("task journal") != std::string::npos);
  fx.release();
  // The accept still happened once the gate opened: the id is journaled.
  CHECK_FALSE(fx.ask<accept_outcome>(journal_accept_atom::value, fixture::sample("t")).fresh);
}

TEST_CASE("journal actor: records and outcomes survive CAF's binary serializer") {
  caf::actor_system_config cfg;
  register_runtime_types(cfg);
  caf::actor_system sys{cfg};
  auto r = fixture::sample("ü-task");
  r.state = task_state::failed;
  r.assigned = "n2";
  r.attempts = 3;
  r.owner_epoch = UINT64_MAX;
  r.result = {0, 255, 7};
  auto back = agentgraph_test::message_round_trip(
    sys, caf::make_message(journal_complete_atom::value, std::string{"x"}, task_state::done,
                           std::vector<uint8_t>{9}, std::vector<journal_record>{r},
                           accept_outcome{true, r}));
  REQUIRE((back.match_elements<journal_complete_atom, std::string, task_state,
                               std::vector<uint8_t>, std::vector<journal_record>,
                               accept_outcome>()));
  CHECK(back.get_as<task_state>(2) == task_state::done);
  CHECK(back.get_as<std::vector<uint8_t>>(3) == std::vector<uint8_t>{9});
  const auto& got = back.get_as<std::vector<journal_record>>(4).at(0);
  CHECK(got.task_id == r.task_id);
  CHECK(got.payload == r.payload);
  CHECK(got.owner_epoch == UINT64_MAX);
  CHECK(got.state == task_state::failed);
  CHECK(got.assigned == "n2");
  CHECK(got.attempts == 3);
  CHECK(got.result == r.result);
  const auto& outcome = back.get_as<accept_outcome>(5);
  CHECK(outcome.fresh);
  CHECK(outcome.record.result == r.result);
}

}  // namespace agentgraph::journal_actor_test
