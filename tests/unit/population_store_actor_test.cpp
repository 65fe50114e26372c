// population_store_actor: the population store behind an actor that never
// blocks a scheduler thread, with a bound on pending requests, a reply for
// every call, the store's errors passed through and the worker's failures
// mapped; and the store's messages crossing CAF's serializer as they do
// between nodes.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "message_round_trip.hpp"
#include "worker_gate.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/error.hpp"
#include "runtime/population/population_store_actor.hpp"
#include "runtime/population/sqlite_population_store.hpp"
#include "runtime/register_types.hpp"

namespace agentgraph::population_store_actor_test {

namespace fs = std::filesystem;
constexpr auto reply_timeout = std::chrono::seconds{10};

// A real SQLite store whose claims wait at the test's gate, and whose count
// fails with io_error while `fail_count` is set (a backend failure).
class gated_store final : public population_store {
 public:
  gated_store(std::unique_ptr<population_store> inner,
              std::shared_ptr<agentgraph_test::worker_gate::latch> latch,
              std::shared_ptr<std::atomic<bool>> fail_count)
    : population_store(inner->limits(), "gated: "), inner_(std::move(inner)),
      latch_(std::move(latch)), fail_count_(std::move(fail_count)) {}
  std::string backend() const override { return inner_->backend(); }

 private:
  caf::expected<std::vector<population_claim>> do_claim(const std::string& population,
                                                        const std::vector<std::string>& keys,
                                                        const std::string& owner,
                                                        uint64_t epoch) override {
    latch_->wait();
    return inner_->claim(population, keys, owner, epoch);
  }
  caf::expected<std::vector<std::string>> do_save(const std::string& population,
                                                  const std::string& owner, uint64_t epoch,
                                                  const std::vector<population_save>& batch) override {
    return inner_->save(population, owner, epoch, batch);
  }
  caf::expected<std::vector<std::string>> do_keys(const std::string& population,
                                                  const std::string& after,
                                                  uint32_t limit) override {
    return inner_->keys(population, after, limit);
  }
  caf::expected<uint64_t> do_count(const std::string& population) override {
    if (fail_count_->load())
      return make_error(errc::io_error, where() + "count: disk I/O error");
    return inner_->count(population);
  }
  caf::expected<bool> do_erase(const std::string& population, const std::string& key) override {
    return inner_->erase(population, key);
  }

  std::unique_ptr<population_store> inner_;
  std::shared_ptr<agentgraph_test::worker_gate::latch> latch_;
  std::shared_ptr<std::atomic<bool>> fail_count_;
};

struct fixture : agentgraph_test::single_thread_config {
  fs::path dir = fs::temp_directory_path()
                 / ("agentgraph-ps-actor-" + std::to_string(::getpid()) + "-"
                    + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  agentgraph_test::worker_gate gate;
  std::shared_ptr<std::atomic<bool>> fail_count = std::make_shared<std::atomic<bool>>(false);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  population_store_actor ps;

  explicit fixture(population_store_actor_config pc = {}) {
    auto inner = open_sqlite_population_store((dir / "population.db").string());
    REQUIRE(inner);
    ps = spawn_population_store_actor(
      sys, std::make_unique<gated_store>(std::move(*inner), gate.latch_ptr(), fail_count), pc);
  }
  ~fixture() {
    gate.release();
    caf::anon_send_exit(ps, caf::exit_reason::user_shutdown);
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  // Asks the actor (runtime/blocking_ask.hpp: its errors pass through as
  // they are) and returns the `Reply`; an error reply fails the case.
  template <class Reply, class... Ts>
  Reply ask(Ts&&... xs) {
    auto r = blocking_ask<Reply>(sys, ps, reply_timeout, "population store actor",
                                 std::forward<Ts>(xs)...);
    REQUIRE_MESSAGE(static_cast<bool>(r), (r ? "" : describe(r.error())));
    return std::move(*r);
  }
  // The same, returning the error; a value fails the case.
  template <class Reply, class... Ts>
  caf::error ask_error(Ts&&... xs) {
    auto r = blocking_ask<Reply>(sys, ps, reply_timeout, "population store actor",
                                 std::forward<Ts>(xs)...);
    REQUIRE_MESSAGE(!r, "answered a value where an error was due");
    return std::move(r.error());
  }
};

using claims = std::vector<population_claim>;
using key_list = std::vector<std::string>;

TEST_CASE("population store actor: a slow claim never blocks the only scheduler thread") {
  fixture fx;
  caf::actor reply_to = fx.self;
  auto ps = fx.ps;
  fx.sys.spawn([ps, reply_to](caf::event_based_actor* a) {
    a->request(ps, reply_timeout, pstore_claim_atom::value, std::string{"p"},
               key_list{"k"}, std::string{"n1"}, uint64_t{7})
      .then([a, reply_to](claims& out) { a->send(reply_to, out); },
            [a, reply_to](caf::error& err) { a->send(reply_to, err); });
  });
  REQUIRE(fx.gate.wait_entered(1));  // the claim is now stuck inside the store
  agentgraph_test::check_scheduler_serves_others(fx.sys, fx.self, fx.ps);
  fx.gate.release();
  fx.self->receive([](claims& out) { CHECK((out.size() == 1 && !out[0].existed)); },
                   [](caf::error& err) { FAIL(describe(err)); },
                   caf::after(reply_timeout) >> [] { FAIL("no reply to the claim"); });
}

TEST_CASE("population store actor: requests beyond pending_max are overloaded at once") {
  population_store_actor_config pc;
  pc.pending_max = 2;
  fixture fx{pc};
  for (const char* key : {"k1", "k2"})
    fx.self->send(fx.ps, pstore_claim_atom::value, std::string{"p"}, key_list{key},
                  std::string{"n1"}, uint64_t{7});
  REQUIRE(fx.gate.wait_entered(1));
  auto refused = fx.ask_error<uint64_t>(pstore_count_atom::value, std::string{"p"});
  CHECK(errc_of(refused) == errc::overloaded);
  CHECK(error_context(refused).find("pending_max") != std::string::npos);
  CHECK(error_context(refused).find("population store") != std::string::npos);
  fx.gate.release();
  for (int i = 0; i < 2; ++i)
    fx.self->receive([](claims& out) { CHECK(out.size() == 1); },
                     [](caf::error& err) { FAIL(describe(err)); },
                     caf::after(reply_timeout) >> [] { FAIL("no reply to a claim"); });
  // Answered requests free their slots.
  CHECK(fx.ask<uint64_t>(pstore_count_atom::value, std::string{"p"}) == 0);
}

TEST_CASE("population store actor: every call relays, the store's errors pass through") {
  fixture fx;
  fx.gate.release();
  auto first = fx.ask<claims>(pstore_claim_atom::value, std::string{"p"}, key_list{"b", "a"},
                              std::string{"n1"}, uint64_t{7});
  REQUIRE(first.size() == 2);
  CHECK_FALSE(first[0].existed);
  std::vector<population_save> batch{{"a", {1, 2}}, {"b", {}}, {"c", {3}}};
  CHECK(fx.ask<key_list>(pstore_save_atom::value, std::string{"p"}, std::string{"n1"},
                         uint64_t{7}, batch)
        == key_list{"c"});  // never claimed: fenced
  CHECK(fx.ask<key_list>(pstore_keys_atom::value, std::string{"p"}, std::string{}, uint32_t{10})
        == key_list{"a", "b"});
  CHECK(fx.ask<uint64_t>(pstore_count_atom::value, std::string{"p"}) == 2);
  auto again = fx.ask<claims>(pstore_claim_atom::value, std::string{"p"}, key_list{"a"},
                              std::string{"n2"}, uint64_t{8});
  REQUIRE(again.size() == 1);
  CHECK(again[0].state == std::vector<uint8_t>{1, 2});
  CHECK(fx.ask<bool>(pstore_erase_atom::value, std::string{"p"}, std::string{"a"}));
  CHECK_FALSE(fx.ask<bool>(pstore_erase_atom::value, std::string{"p"}, std::string{"a"}));
  auto bad = fx.ask_error<claims>(pstore_claim_atom::value, std::string{"p"}, key_list{"a"},
                                  std::string{"n1"}, uint64_t{0});
  CHECK(errc_of(bad) == errc::invalid_argument);
  CHECK(errc_of(fx.ask_error<key_list>(pstore_keys_atom::value, std::string{"p"}, std::string{},
                                       uint32_t{0}))
        == errc::invalid_argument);
  // A backend failure reaches the caller as the store said it.
  fx.fail_count->store(true);
  auto failed = fx.ask_error<uint64_t>(pstore_count_atom::value, std::string{"p"});
  CHECK(errc_of(failed) == errc::io_error);
  CHECK(error_context(failed).find("disk I/O error") != std::string::npos);
  fx.fail_count->store(false);
  CHECK(fx.ask<uint64_t>(pstore_count_atom::value, std::string{"p"}) == 1);
}

TEST_CASE("population store actor: a call the worker does not answer in call_timeout times out") {
  population_store_actor_config pc;
  pc.call_timeout = std::chrono::milliseconds{50};
  fixture fx{pc};
  auto err = fx.ask_error<claims>(pstore_claim_atom::value, std::string{"p"}, key_list{"k"},
                                  std::string{"n1"}, uint64_t{7});
  CHECK(errc_of(err) == errc::timeout);
  CHECK(error_context(err).find("population store") != std::string::npos);
  fx.gate.release();
  // The claim still happened once the gate opened: n1's save is not fenced.
  CHECK(fx.ask<key_list>(pstore_save_atom::value, std::string{"p"}, std::string{"n1"},
                         uint64_t{7}, std::vector<population_save>{{"k", {9}}})
        .empty());
}

TEST_CASE("population store actor: claims and saves survive CAF's binary serializer") {
  caf::actor_system_config cfg;
  register_runtime_types(cfg);
  caf::actor_system sys{cfg};
  claims cs{{true, {0, 255, 7}}, {false, {}}};
  std::vector<population_save> saves{{"ü-key", {1, 2, 3}}, {"empty", {}}};
  auto back = agentgraph_test::message_round_trip(
    sys, caf::make_message(pstore_save_atom::value, std::string{"p"}, uint64_t{UINT64_MAX}, saves,
                           cs, key_list{"a", "b"}));
  REQUIRE((back.match_elements<pstore_save_atom, std::string, uint64_t,
                               std::vector<population_save>, claims, key_list>()));
  CHECK(back.get_as<uint64_t>(2) == UINT64_MAX);
  const auto& s = back.get_as<std::vector<population_save>>(3);
  REQUIRE(s.size() == 2);
  CHECK(s[0].key == "ü-key");
  CHECK(s[0].state == std::vector<uint8_t>{1, 2, 3});
  CHECK(s[1].state.empty());
  const auto& c = back.get_as<claims>(4);
  REQUIRE(c.size() == 2);
  CHECK(c[0].existed);
  CHECK(c[0].state == std::vector<uint8_t>{0, 255, 7});
  CHECK_FALSE(c[1].existed);
  CHECK(back.get_as<key_list>(5) == key_list{"a", "b"});
}

}  // namespace agentgraph::population_store_actor_test
