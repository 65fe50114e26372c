// A key's address (actors/population/key_address.hpp) against stand-in
// population actors: it sends each task to the owner population_nodes
// names, a task whose local owner dies with it fails at once (not at the
// deadline: CAF 0.17 never fails a request in flight by itself), and a
// task in flight to another node that goes moves to the key's next owner (on the cluster_net
// fixture; with real processes: tests/integration/cluster_population.sh).
#include <doctest/doctest.h>

#include <atomic>
#include <optional>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/host/register_types.hpp"
#include "actors/population/key_address.hpp"
#include "cluster_node_support.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;
using namespace std::chrono_literals;

namespace key_address_test {

// A population that answers "<name>:<key>:<input>", or, when `hold`,
// keeps every task's promise and never answers.
struct stand_in_state {
  std::string name;
  bool hold = false;
  std::vector<caf::typed_response_promise<task_result>> held;
};

population_actor::behavior_type stand_in(population_actor::stateful_pointer<stand_in_state> self,
                                         std::string name, bool hold,
                                         std::shared_ptr<std::atomic<int>> seen) {
  self->state.name = std::move(name);
  self->state.hold = hold;
  auto run = [self, seen](const std::string& key,
                          const task_request& task) -> caf::result<task_result> {
    ++*seen;
    if (self->state.hold) {
      self->state.held.push_back(self->make_response_promise<task_result>());
      return self->state.held.back();
    }
    task_result r;
    r.task_id = task.task_id;
    r.agent = "persona/" + key;
    r.output = self->state.name + ":" + key + ":" + task.input;
    return r;
  };
  return {
    [run](pop_execute_atom, const std::string& key, const task_request& task) {
      return run(key, task);
    },
    [run](pop_execute_stream_atom, const std::string& key, const task_request& task,
          const stream_sink_actor&) { return run(key, task); },
    [](pop_key_stats_atom, const std::string& key) {
      agent_stats s;
      s.name = "persona/" + key;
      return s;
    },
    [](pop_activate_atom, const std::string&) { return true; },
    [](pop_passivate_atom, const std::string&) { return false; },
    [](pop_passivate_all_atom) { return uint64_t{0}; },
    [](stats_atom) { return population_stats{}; },
    [](pop_set_vars_atom, const std::string&, const std::map<std::string, std::string>&) {
      return true;
    },
    [](pop_flush_atom) {},
    [](pop_sweep_atom) {},
    [](ping_atom) { return pong_atom::value; },
  };
}

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> self;
  std::shared_ptr<population_nodes> nodes = std::make_shared<population_nodes>();
  std::shared_ptr<std::atomic<int>> seen = std::make_shared<std::atomic<int>>(0);

  fixture() {
    register_all_types(cfg);
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    self = std::make_unique<caf::scoped_actor>(*sys);
  }
  population_actor start(const std::string& node, bool hold) {
    auto h = sys->spawn(stand_in, node, hold, seen);
    nodes->put("persona", node, dep<population_actor>{h}, true);
    return h;
  }
  caf::expected<task_result> ask(const agent_actor& address, const std::string& input) {
    caf::expected<task_result> out{caf::make_error(caf::sec::request_timeout)};
    task_request task;
    task.task_id = "t-" + input;
    task.input = input;
    (*self)->request(address, 30s, execute_atom::value, task)
      .receive([&](task_result& r) { out = std::move(r); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  }
};

}  // namespace key_address_test

TEST_CASE("key address: each task goes to the owner rendezvous hashing names, and follows it") {
  key_address_test::fixture f;
  auto a = f.start("a", false);
  auto b = f.start("b", false);
  // Keys owned by each node while both run the type.
  std::string on_a;
  std::string on_b;
  for (int i = 0; i < 64 && (on_a.empty() || on_b.empty()); ++i) {
    auto k = "k" + std::to_string(i);
    (f.nodes->owner_of("persona", k)->node == "a" ? on_a : on_b) = k;
  }
  REQUIRE(!on_a.empty());
  REQUIRE(!on_b.empty());
  auto to_b = spawn_key_address(*f.sys, f.nodes, "persona", on_b, 1h);
  auto r = f.ask(to_b, "one");
  REQUIRE_MESSAGE(r, describe(r.error()));
  CHECK(r->output == "b:" + on_b + ":one");
  // b leaves: the same address sends the key's next task to a.
  f.nodes->drop("persona", "b");
  r = f.ask(to_b, "two");
  REQUIRE_MESSAGE(r, describe(r.error()));
  CHECK(r->output == "a:" + on_b + ":two");
  // No node runs the type: unavailable, not a hang.
  f.nodes->drop("persona", "a");
  r = f.ask(to_b, "three");
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::unavailable);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
}

TEST_CASE("key address: an owner that dies with the task fails it at once, not at the deadline") {
  key_address_test::fixture f;
  auto a = f.start("a", true);
  auto address = spawn_key_address(*f.sys, f.nodes, "persona", "alice", 1h);
  task_request task;
  task.task_id = "t1";
  task.input = "x";
  caf::expected<task_result> out{caf::make_error(caf::sec::request_timeout)};
  bool answered = false;
  auto pending = (*f.self)->request(address, 30s, execute_atom::value, task);
  // The owner holds the task; then it dies.
  for (int i = 0; i < 2000 && f.seen->load() == 0; ++i)
    std::this_thread::sleep_for(1ms);
  REQUIRE(f.seen->load() == 1);
  caf::anon_send_exit(a, caf::exit_reason::kill);
  pending.receive(
    [&](task_result& r) {
      out = std::move(r);
      answered = true;
    },
    [&](caf::error& err) {
      out = std::move(err);
      answered = true;
    });
  REQUIRE(answered);
  REQUIRE_FALSE(out);
  // Not the scoped actor's own 30 s timeout: the address saw its owner go
  // (a local owner is not tried again: a task that kills its population
  // would kill the next incarnation too).
  CHECK_MESSAGE(errc_of(out.error()) == errc::unavailable, describe(out.error()));
  CHECK(f.seen->load() == 1);
}

TEST_CASE("key address: a task in flight to another node that goes moves to the key's next owner") {
  namespace cn = agentgraph::test::cluster_net;
  cn::cluster_net net;
  auto nodes = cn::three_up(net);
  auto& a = *nodes[0].p;
  auto& b = *nodes[1].p;
  auto seen_a = std::make_shared<std::atomic<int>>(0);
  auto seen_b = std::make_shared<std::atomic<int>>(0);
  // b's population holds every task; b offers it in the directory, and a
  // reaches it through its listing (a proxy of b's actor).
  auto on_b = b.track(b.sys().spawn(key_address_test::stand_in, "b", true, seen_b));
  auto types = b.sys().message_types<population_actor>();
  cluster::dir_entry offer{"population", "persona", caf::actor_cast<caf::actor>(on_b),
                           {types.begin(), types.end()}};
  b.sys().spawn([node = nodes[1].node, offer](caf::event_based_actor* self) {
    self->send(node, cluster::dir_put_atom::value, offer);
  });
  cn::run_for(net, 1s);
  auto remote = std::make_shared<population_actor>();
  a.sys().spawn([node = nodes[0].node, remote](caf::event_based_actor* self) {
    self->request(node, 5s, cluster::dir_list_atom::value)
      .then(
        [remote](std::vector<cluster::dir_listing>& xs) {
          for (const auto& x : xs)
            if (x.entry.kind == "population")
              *remote = caf::actor_cast<population_actor>(x.entry.handle);
        },
        [](caf::error&) {});
  });
  net.step_all();
  REQUIRE(*remote);
  REQUIRE(remote->node() == b.sys().node());
  auto on_a = a.track(a.sys().spawn(key_address_test::stand_in, "a", false, seen_a));
  auto placement = std::make_shared<population_nodes>();
  placement->put("persona", "a", dep<population_actor>{on_a}, true);
  placement->put("persona", "b", dep<population_actor>{*remote}, false);
  std::string key;
  for (int i = 0; i < 64 && key.empty(); ++i)
    if (placement->owner_of("persona", "k" + std::to_string(i))->node == "b")
      key = "k" + std::to_string(i);
  REQUIRE(!key.empty());
  auto address = a.track(spawn_key_address(a.sys(), placement, "persona", key, 5min));
  auto outcome = std::make_shared<std::optional<caf::expected<task_result>>>();
  a.track(a.sys().spawn([address, outcome](caf::event_based_actor* self) {
    task_request task;
    task.task_id = "t1";
    task.input = "x";
    self->request(address, caf::infinite, execute_atom::value, task)
      .then([outcome](task_result& r) { *outcome = std::move(r); },
            [outcome](caf::error& err) { *outcome = caf::expected<task_result>{err}; });
    return caf::behavior{[](int) {}};
  }));
  cn::run_for(net, 2s);
  CHECK(seen_b->load() == 1);
  CHECK_FALSE(outcome->has_value());  // b holds it
  // The cluster downs b (the node_down group: calls to it fail at once),
  // but the directory glue has not dropped b's population yet: the task
  // waits for the next owner rather than going back to b.
  caf::anon_send(a.sys().groups().get_local(node_down_group), watch_node_down_atom::value,
                 b.sys().node());
  cn::run_for(net, 1s);
  CHECK_FALSE(outcome->has_value());
  CHECK(seen_b->load() == 1);
  placement->drop("persona", "b");
  cn::run_for(net, 1s);
  REQUIRE(outcome->has_value());
  REQUIRE_MESSAGE(**outcome, describe((**outcome).error()));
  CHECK((**outcome)->output == "a:" + key + ":x");
  CHECK(seen_a->load() == 1);
  CHECK(seen_b->load() == 1);
}
