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
#include "worker_gate.hpp"
#include "runtime/error.hpp"
#include "runtime/journal/journal_actor.hpp"
#include "runtime/journal/sqlite_task_journal.hpp"
#include "runtime/register_types.hpp"

namespace agentgraph::journal_actor_test {

namespace fs = std::filesystem;
constexpr auto reply_timeout = std::chrono::seconds{10};

// A real SQLite journal whose accepts wait at the test's gate.
class gated_journal final : public task_journal {
 public:
  gated_journal(std::unique_ptr<task_journal> inner,
                std::shared_ptr<agentgraph_test::worker_gate::latch> latch)
    : task_journal(inner->limits(), "gated: "), inner_(std::move(inner)),
      latch_(std::move(latch)) {}
  std::string backend() const override { return inner_->backend(); }

 private:
  caf::expected<accept_outcome> do_accept(const journal_record& r) override {
    latch_->wait();
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
  std::shared_ptr<agentgraph_test::worker_gate::latch> latch_;
};

struct fixture : agentgraph_test::single_thread_config {
  fs::path dir = fs::temp_directory_path()
                 / ("agentgraph-jn-actor-" + std::to_string(::getpid()) + "-"
                    + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  agentgraph_test::worker_gate gate;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  journal_actor jn;

  explicit fixture(journal_actor_config jac = {}) {
    auto inner = open_sqlite_task_journal((dir / "journal.db").string());
    REQUIRE(inner);
    jn = spawn_journal_actor(
      sys, std::make_unique<gated_journal>(std::move(*inner), gate.latch_ptr()), jac);
  }
  ~fixture() {
    gate.release();
    caf::anon_send_exit(jn, caf::exit_reason::user_shutdown);
    std::error_code ec;
    fs::remove_all(dir, ec);
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
  // The caller is an event-based actor on the scheduler: it only sends.
  caf::actor reply_to = fx.self;
  auto jn = fx.jn;
  fx.sys.spawn([jn, reply_to](caf::event_based_actor* a) {
    a->request(jn, reply_timeout, journal_accept_atom::value, fixture::sample("t"))
      .then([a, reply_to](accept_outcome& out) { a->send(reply_to, out); },
            [a, reply_to](caf::error& err) { a->send(reply_to, err); });
  });
  REQUIRE(fx.gate.wait_entered(1));  // the accept is now stuck inside the journal
  // Other actors, and the journal actor's heartbeat, are served meanwhile.
  agentgraph_test::check_scheduler_serves_others(fx.sys, fx.self, fx.jn);
  CHECK(fx.gate.entered() == 1);
  fx.gate.release();
  fx.self->receive([](accept_outcome& out) { CHECK(out.fresh); },
                   [](caf::error& err) { FAIL(describe(err)); },
                   caf::after(reply_timeout) >> [] { FAIL("no reply to the accept"); });
}

TEST_CASE("journal actor: requests beyond pending_max are overloaded at once") {
  journal_actor_config jac;
  jac.pending_max = 2;
  fixture fx{jac};
  fx.self->send(fx.jn, journal_accept_atom::value, fixture::sample("t1"));
  fx.self->send(fx.jn, journal_accept_atom::value, fixture::sample("t2"));
  REQUIRE(fx.gate.wait_entered(1));
  auto refused = fx.ask_error<journal_record>(journal_get_atom::value, std::string{"t1"});
  CHECK(errc_of(refused) == errc::overloaded);
  CHECK(error_context(refused).find("pending_max") != std::string::npos);
  fx.gate.release();
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
  fx.gate.release();
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
  fx.gate.release();
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
