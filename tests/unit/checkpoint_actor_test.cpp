// checkpoint_actor: the store behind an actor that never blocks a scheduler
// thread, with a bound on pending requests; and the checkpoint message
// crossing CAF's serializer as it does between nodes.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "runtime/checkpoint/checkpoint_actor.hpp"
#include "runtime/checkpoint/sqlite_checkpoint_store.hpp"
#include "runtime/error.hpp"
#include "runtime/register_types.hpp"
#include "message_round_trip.hpp"
#include "worker_gate.hpp"

namespace agentgraph::checkpoint_actor_test {

namespace fs = std::filesystem;
constexpr auto reply_timeout = std::chrono::seconds{10};

// A real SQLite store whose puts wait at the test's gate.
class gated_store final : public checkpoint_store {
 public:
  gated_store(std::unique_ptr<checkpoint_store> inner,
              std::shared_ptr<agentgraph_test::worker_gate::latch> latch)
    : checkpoint_store(inner->limits(), "gated: "), inner_(std::move(inner)),
      latch_(std::move(latch)) {}
  const char* backend() const override { return inner_->backend(); }

 private:
  caf::expected<uint64_t> do_put(const checkpoint& c, const encoded_checkpoint&) override {
    latch_->wait();
    return inner_->put(c);
  }
  caf::expected<checkpoint> do_latest(const std::string& t) override { return inner_->latest(t); }
  caf::expected<checkpoint> do_get(const std::string& t, uint64_t id) override {
    return inner_->get(t, id);
  }
  caf::expected<std::vector<checkpoint>> do_list(const std::string& t, uint32_t n) override {
    return inner_->list(t, n);
  }
  caf::expected<std::vector<std::string>> do_list_threads(uint32_t n) override {
    return inner_->list_threads(n);
  }
  caf::expected<uint64_t> do_delete_thread(const std::string& t) override {
    return inner_->delete_thread(t);
  }

  std::unique_ptr<checkpoint_store> inner_;
  std::shared_ptr<agentgraph_test::worker_gate::latch> latch_;
};

struct fixture : agentgraph_test::single_thread_config {
  fs::path dir = fs::temp_directory_path()
                 / ("agentgraph-cp-actor-" + std::to_string(::getpid()) + "-"
                    + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  agentgraph_test::worker_gate gate;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  checkpoint_actor cp;

  explicit fixture(checkpoint_actor_config cac = {}) {
    auto inner = open_sqlite_checkpoint_store((dir / "cp.db").string());
    REQUIRE(inner);
    cp = spawn_checkpoint_actor(sys, std::make_unique<gated_store>(std::move(*inner),
                                                                   gate.latch_ptr()),
                                cac);
  }
  ~fixture() {
    gate.release();
    caf::anon_send_exit(cp, caf::exit_reason::user_shutdown);
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  static checkpoint sample(uint64_t step) {
    checkpoint c;
    c.thread_id = "run-1";
    c.step = step;
    c.state["answer"] = Value{42};
    return c;
  }
};

TEST_CASE("checkpoint actor: a slow put never blocks the only scheduler thread") {
  fixture fx;
  // The caller is an event-based actor on the scheduler: it only sends.
  caf::actor reply_to = fx.self;
  auto cp = fx.cp;
  fx.sys.spawn([cp, reply_to](caf::event_based_actor* a) {
    a->request(cp, reply_timeout, checkpoint_put_atom::value, fixture::sample(1))
      .then([a, reply_to](uint64_t id) { a->send(reply_to, id); },
            [a, reply_to](caf::error& err) { a->send(reply_to, err); });
  });
  REQUIRE(fx.gate.wait_entered(1));  // the put is now stuck inside the store
  // Other actors, and the checkpoint actor's heartbeat, are served meanwhile.
  agentgraph_test::check_scheduler_serves_others(fx.sys, fx.self, fx.cp);
  CHECK(fx.gate.entered() == 1);
  fx.gate.release();
  fx.self->receive([](uint64_t id) { CHECK(id == 1); },
                   [](caf::error& err) { FAIL(describe(err)); },
                   caf::after(reply_timeout) >> [] { FAIL("no reply to the put"); });
}

TEST_CASE("checkpoint actor: requests beyond pending_max are overloaded at once") {
  checkpoint_actor_config cac;
  cac.pending_max = 2;
  fixture fx{cac};
  fx.self->send(fx.cp, checkpoint_put_atom::value, fixture::sample(1));
  fx.self->send(fx.cp, checkpoint_put_atom::value, fixture::sample(2));
  REQUIRE(fx.gate.wait_entered(1));
  caf::error refused;
  fx.self->request(fx.cp, reply_timeout, checkpoint_latest_atom::value, std::string{"run-1"})
    .receive([](checkpoint&) { FAIL("answered past the bound"); },
             [&](caf::error& err) { refused = err; });
  CHECK(errc_of(refused) == errc::overloaded);
  fx.gate.release();
  std::vector<uint64_t> ids;
  for (int i = 0; i < 2; ++i)
    fx.self->receive([&](uint64_t id) { ids.push_back(id); },
                     [](caf::error& err) { FAIL(describe(err)); },
                     caf::after(reply_timeout) >> [] { FAIL("no reply to a put"); });
  CHECK(ids == std::vector<uint64_t>{1, 2});
  // Answered requests free their slots.
  fx.self->request(fx.cp, reply_timeout, checkpoint_list_atom::value, std::string{"run-1"}, 10u)
    .receive([](std::vector<checkpoint>& cs) { CHECK(cs.size() == 2); },
             [](caf::error& err) { FAIL(describe(err)); });
  fx.self->request(fx.cp, reply_timeout, checkpoint_get_atom::value, std::string{"run-1"},
                   uint64_t{9})
    .receive([](checkpoint&) { FAIL("found a checkpoint that does not exist"); },
             [](caf::error& err) { CHECK(errc_of(err) == errc::not_found); });
}

TEST_CASE("checkpoint actor: a checkpoint survives CAF's binary serializer") {
  caf::actor_system_config cfg;
  register_runtime_types(cfg);
  caf::actor_system sys{cfg};
  auto c = fixture::sample(3);
  c.checkpoint_id = 7;
  c.pending = Value{Value::Array{Value{"next"}}};
  c.metadata["ü"] = Value{"ñ"};
  auto back = agentgraph_test::message_round_trip(
    sys, caf::make_message(checkpoint_put_atom::value, std::vector<checkpoint>{c}));
  REQUIRE(back.match_elements<checkpoint_put_atom, std::vector<checkpoint>>());
  const auto& got = back.get_as<std::vector<checkpoint>>(1).at(0);
  CHECK(got.checkpoint_id == 7);
  CHECK(got.state == c.state);
  CHECK(got.pending == c.pending);
  CHECK(got.metadata == c.metadata);
}

}  // namespace agentgraph::checkpoint_actor_test
