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

namespace agentgraph::checkpoint_actor_test {

namespace fs = std::filesystem;
constexpr auto reply_timeout = std::chrono::seconds{10};

// A real SQLite store whose puts wait until the test opens the gate (at
// most gate_wait_max, so a broken test fails instead of hanging).
class gated_store final : public checkpoint_store {
 public:
  static constexpr auto gate_wait_max = std::chrono::seconds{10};
  gated_store(std::unique_ptr<checkpoint_store> inner, std::shared_future<void> gate,
              std::shared_ptr<std::atomic<int>> entered)
    : checkpoint_store(inner->limits(), "gated: "), inner_(std::move(inner)),
      gate_(std::move(gate)), entered_(std::move(entered)) {}
  const char* backend() const override { return inner_->backend(); }

 private:
  caf::expected<uint64_t> do_put(const checkpoint& c, const encoded_checkpoint&) override {
    ++*entered_;
    gate_.wait_for(gate_wait_max);
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
  std::shared_future<void> gate_;
  std::shared_ptr<std::atomic<int>> entered_;
};

struct config_holder {
  caf::actor_system_config cfg;
  config_holder() {
    register_runtime_types(cfg);
    // ONE scheduler thread: if any store call ran on it, nothing else could run.
    cfg.set("scheduler.max-threads", 1);
  }
};

struct fixture : config_holder {
  fs::path dir = fs::temp_directory_path()
                 / ("agentgraph-cp-actor-" + std::to_string(::getpid()) + "-"
                    + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::promise<void> open_gate;
  std::shared_future<void> gate = open_gate.get_future().share();
  std::shared_ptr<std::atomic<int>> entered = std::make_shared<std::atomic<int>>(0);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  checkpoint_actor cp;

  explicit fixture(checkpoint_actor_config cac = {}) {
    auto inner = open_sqlite_checkpoint_store((dir / "cp.db").string());
    REQUIRE(inner);
    cp = spawn_checkpoint_actor(sys, std::make_unique<gated_store>(std::move(*inner), gate, entered),
                                cac);
  }
  ~fixture() {
    release();
    caf::anon_send_exit(cp, caf::exit_reason::user_shutdown);
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
  auto pinger = fx.sys.spawn([]() -> caf::behavior {
    return {[](ping_atom) { return pong_atom::value; }};
  });
  // The caller is an event-based actor on the scheduler: it only sends.
  caf::actor reply_to = fx.self;
  auto cp = fx.cp;
  fx.sys.spawn([cp, reply_to](caf::event_based_actor* a) {
    a->request(cp, reply_timeout, checkpoint_put_atom::value, fixture::sample(1))
      .then([a, reply_to](uint64_t id) { a->send(reply_to, id); },
            [a, reply_to](caf::error& err) { a->send(reply_to, err); });
  });
  REQUIRE(fx.wait_entered(1));  // the put is now stuck inside the store
  int pongs = 0;
  for (int i = 0; i < 20; ++i)
    fx.self->request(pinger, std::chrono::seconds{2}, ping_atom::value)
      .receive([&](pong_atom) { ++pongs; }, [&](caf::error& err) { FAIL(describe(err)); });
  CHECK(pongs == 20);
  // The checkpoint actor itself answers its heartbeat meanwhile.
  bool alive = false;
  fx.self->request(fx.cp, std::chrono::seconds{2}, ping_atom::value)
    .receive([&](pong_atom) { alive = true; }, [&](caf::error& err) { FAIL(describe(err)); });
  CHECK(alive);
  CHECK(fx.entered->load() == 1);
  fx.release();
  fx.self->receive([](uint64_t id) { CHECK(id == 1); },
                   [](caf::error& err) { FAIL(describe(err)); },
                   caf::after(reply_timeout) >> [] { FAIL("no reply to the put"); });
  caf::anon_send_exit(pinger, caf::exit_reason::user_shutdown);
}

TEST_CASE("checkpoint actor: requests beyond pending_max are overloaded at once") {
  checkpoint_actor_config cac;
  cac.pending_max = 2;
  fixture fx{cac};
  fx.self->send(fx.cp, checkpoint_put_atom::value, fixture::sample(1));
  fx.self->send(fx.cp, checkpoint_put_atom::value, fixture::sample(2));
  REQUIRE(fx.wait_entered(1));
  caf::error refused;
  fx.self->request(fx.cp, reply_timeout, checkpoint_latest_atom::value, std::string{"run-1"})
    .receive([](checkpoint&) { FAIL("answered past the bound"); },
             [&](caf::error& err) { refused = err; });
  CHECK(errc_of(refused) == errc::overloaded);
  fx.release();
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
