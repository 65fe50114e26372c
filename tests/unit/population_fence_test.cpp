// A task that reaches a stale instance of a key (issue 15's `conflict`
// answers in `agentgraph sim configs/sim/keys.ini`): two population actors
// stand for two nodes sharing one SQLite store, a key address routes by
// rendezvous placement over them. When the store fences the stale
// instance's save, the task's turn must be applied to the key's current
// state, at the key's owner, once; a key that keeps being fenced must end
// with a clear error.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "actors/population/key_address.hpp"
#include "actors/population/population_nodes.hpp"
#include "runtime/population/population_store.hpp"
#include "runtime/population/population_store_actor.hpp"
#include "tests/unit/population_fixture.hpp"

using namespace agentgraph;
using namespace std::chrono_literals;

namespace population_fence_test {

// Two "nodes" (populations under different claims) on one SQLite store, the
// placement over both, and a key n1 owns while both run the type.
struct two_nodes : population_test::fixture {
  std::filesystem::path dir;
  std::shared_ptr<std::atomic<int>> held = std::make_shared<std::atomic<int>>(0);
  population_test::transcript_model_actor gate;
  std::shared_ptr<population_nodes> nodes = std::make_shared<population_nodes>();
  population_actor n1;
  population_actor n2;
  std::string key;

  explicit two_nodes(const char* name) {
    dir = std::filesystem::temp_directory_path()
          / ("ag_population_fence_" + std::string{name} + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    // The fixture's model, counting the calls it holds.
    gate = sys->spawn(population_test::transcript_model, calls, held);
    model = gate;
  }
  ~two_nodes() { std::filesystem::remove_all(dir); }

  void start(population_store_actor store) {
    n1 = spawn(store, 1);
    n2 = spawn(store, 2);
    nodes->put("persona", "n1", dep<population_actor>{n1}, true);
    nodes->put("persona", "n2", dep<population_actor>{n2}, true);
    for (int i = 0; i < 64 && key.empty(); ++i)
      if (nodes->owner_of("persona", "k" + std::to_string(i))->node == "n1")
        key = "k" + std::to_string(i);
    REQUIRE(!key.empty());
  }

  population_store_actor sqlite_store() {
    auto opened = open_population_store("sqlite:" + (dir / "populations.sqlite").string());
    REQUIRE(opened);
    // A short call timeout: each call's CAF timer outlives its reply
    // (toolchain.md §9.21), and the actor system's end waits for it.
    population_store_actor_config cfg;
    cfg.call_timeout = 3s;
    return spawn_population_store_actor(*sys, std::move(*opened), cfg);
  }

  caf::expected<task_result> via(const agent_actor& address, const std::string& input) {
    caf::expected<task_result> out = make_error(errc::internal, "no reply");
    (*self)
      ->request(address, 30s, execute_atom::value, task_request{"t-" + input, input, {}})
      .receive([&](task_result& r) { out = std::move(r); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  // Waits (bounded) until `pred` holds.
  template <class Pred>
  bool eventually(Pred pred) {
    for (int i = 0; i < 2'000 && !pred(); ++i)
      std::this_thread::sleep_for(2ms);
    return pred();
  }
};

constexpr auto prompt = "sys=You are {{key}} of persona, {{mood}}.|";

std::string expected(const std::string& key, const std::string& users) {
  std::string p = prompt;
  p.replace(p.find("{{key}}"), 7, key);
  return p + "users=" + users;
}

}  // namespace population_fence_test

using population_fence_test::expected;
using population_fence_test::two_nodes;

TEST_CASE("population fence: a task on a stale instance runs again on the key's state at its "
          "owner, re-activated from the store") {
  two_nodes f{"again"};
  f.start(f.sqlite_store());
  auto address = spawn_key_address(*f.sys, f.nodes, "persona", f.key, 30s);
  auto one = f.via(address, "one");
  REQUIRE_MESSAGE(one, describe(one.error()));
  CHECK(one->output == expected(f.key, "one"));
  // n2 takes the key, as when the cluster had downed n1 (a freeze, a
  // partition): its claim fences n1's instance, which n1 does not know yet.
  auto two = f.run(f.n2, f.key, "two");
  REQUIRE_MESSAGE(two, describe(two.error()));
  CHECK(two->output == expected(f.key, "one,two"));
  // n1 is the owner again: its stale instance runs the task, its save is
  // fenced; the task runs again on the key's state claimed back from the
  // store, and its answer carries every turn.
  auto three = f.via(address, "three");
  REQUIRE_MESSAGE(three, describe(three.error()));
  CHECK(three->output == expected(f.key, "one,two,three"));
  CHECK(f.calls->load() == 4);  // three ran twice: on the stale state, then on the store's
  CHECK(f.stats(f.n1).fenced == 1);
  CHECK(f.stats(f.n1).active == 1);
  // The store holds each turn once: one more task sees exactly them.
  auto four = f.via(address, "four");
  REQUIRE_MESSAGE(four, describe(four.error()));
  CHECK(four->output == expected(f.key, "one,two,three,four"));
  // n2's instance is stale now. A task sent to it directly (no address)
  // answers conflict and n2 drops the instance.
  auto stale = f.run(f.n2, f.key, "five");
  REQUIRE_FALSE(stale);
  CHECK(errc_of(stale.error()) == errc::conflict);
  CHECK(f.eventually([&] { return f.stats(f.n2).active == 0; }));
  CHECK(f.stats(f.n2).fenced == 1);
  CHECK(f.via(address, "six")->output == expected(f.key, "one,two,three,four,six"));
}

TEST_CASE("population fence: a task on a stale instance moves to the key's new owner") {
  two_nodes f{"moves"};
  f.start(f.sqlite_store());
  auto address = spawn_key_address(*f.sys, f.nodes, "persona", f.key, 30s);
  REQUIRE(f.via(address, "one"));
  REQUIRE(f.run(f.n2, f.key, "two"));  // n2 claims the key: n1's instance is stale
  // The task reaches n1's stale instance; while it runs, the placement
  // drops n1 (the directory caught up).
  caf::anon_send(f.gate, std::string{"hold"});
  auto pending = (*f.self)->request(address, 30s, execute_atom::value,
                                    task_request{"t-three", "three", {}});
  REQUIRE(f.eventually([&] { return f.held->load() == 1; }));
  f.nodes->drop("persona", "n1");
  caf::anon_send(f.gate, std::string{"release"});
  caf::expected<task_result> three = make_error(errc::internal, "no reply");
  pending.receive([&](task_result& r) { three = std::move(r); },
                  [&](caf::error& e) { three = std::move(e); });
  REQUIRE_MESSAGE(three, describe(three.error()));
  // Run again on n2's instance, whose state is the key's current one.
  CHECK(three->output == expected(f.key, "one,two,three"));
  CHECK(f.stats(f.n1).fenced == 1);
  CHECK(f.eventually([&] { return f.stats(f.n1).active == 0; }));  // the stale instance is gone
  CHECK(f.stats(f.n2).fenced == 0);
  auto four = f.via(address, "four");
  REQUIRE_MESSAGE(four, describe(four.error()));
  CHECK(four->output == expected(f.key, "one,two,three,four"));
}

TEST_CASE("population fence: a key that is always fenced ends with a clear conflict, bounded") {
  two_nodes f{"bounded"};
  auto store = f.sys->spawn(population_test::test_store);
  f.start(store);
  caf::anon_send(store, std::string{"fence:" + f.key});  // every save of the key is refused
  auto address = spawn_key_address(*f.sys, f.nodes, "persona", f.key, 30s);
  auto r = f.via(address, "one");
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::conflict);
  const auto why = describe(r.error());
  CHECK_MESSAGE(why.find("fenced " + std::to_string(key_address_fenced_max + 1) + " times")
                  != std::string::npos,
                why);
  // The first run and one per re-send, no more.
  CHECK(f.calls->load() == static_cast<int>(key_address_fenced_max) + 1);
  CHECK(f.stats(f.n1).fenced == key_address_fenced_max + 1);
  CHECK(f.eventually([&] { return f.stats(f.n1).active == 0; }));
}
