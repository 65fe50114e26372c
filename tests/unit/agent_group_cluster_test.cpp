// Agent groups over instances on several nodes (group_instances.hpp): a
// member name stands for every instance; round robin, least loaded by the
// nodes' reported load, consistent hashing sticky by session, and the
// rendezvous pick's balance and minimal movement. The "nodes" here are
// local actors filed under node names: routing does not care where an
// instance runs (cluster_calls.sh runs it across processes).
#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <set>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/agent/agent_group.hpp"
#include "actors/agent/group_instances.hpp"
#include "actors/host/register_types.hpp"
#include "runtime/error.hpp"

namespace agent_group_cluster_test {

using namespace agentgraph;
using namespace std::chrono_literals;

// Answers with its own name.
agent_actor::behavior_type instance(std::string name) {
  auto run = [name](task_request& t) {
    task_result r;
    r.task_id = t.task_id;
    r.agent = name;
    r.output = name;
    return r;
  };
  return {
    [run](execute_atom, task_request& t) { return run(t); },
    [run](execute_stream_atom, task_request& t, stream_sink_actor&) { return run(t); },
    [](stats_atom) { return agent_stats{}; },
    [](ping_atom) { return pong_atom::value; },
  };
}

// Dies with the first task it gets, as an instance whose node goes away.
agent_actor::behavior_type dying(agent_actor::pointer self) {
  auto die = [self](task_request&) -> caf::result<task_result> {
    self->quit(caf::exit_reason::kill);
    return caf::delegated<task_result>{};
  };
  return {
    [die](execute_atom, task_request& t) { return die(t); },
    [die](execute_stream_atom, task_request& t, stream_sink_actor&) { return die(t); },
    [](stats_atom) { return agent_stats{}; },
    [](ping_atom) { return pong_atom::value; },
  };
}

// Takes every task and never answers, as an instance on a node that hangs.
agent_actor::behavior_type silent(agent_actor::pointer self) {
  auto hold = [self](task_request&) {
    // Kept until the actor ends: the caller's deadline is what ends the call.
    return self->make_response_promise<task_result>();
  };
  return {
    [hold](execute_atom, task_request& t) { return hold(t); },
    [hold](execute_stream_atom, task_request& t, stream_sink_actor&) { return hold(t); },
    [](stats_atom) { return agent_stats{}; },
    [](ping_atom) { return pong_atom::value; },
  };
}

struct fixture {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  std::optional<caf::scoped_actor> self;
  std::vector<caf::actor> owned;
  std::shared_ptr<group_instances> table = std::make_shared<group_instances>();

  fixture() {
    register_all_types(cfg);
    sys.emplace(cfg);
    self.emplace(*sys);
  }
  ~fixture() {
    for (auto& a : owned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    self.reset();
  }
  // An instance of member `member` on `node`.
  void add(const std::string& member, const std::string& node, bool local = false) {
    auto a = sys->spawn(instance, member + "@" + node);
    owned.push_back(caf::actor_cast<caf::actor>(a));
    table->put(member, node, a, local);
  }
  void add_dying(const std::string& member, const std::string& node, bool local) {
    auto a = sys->spawn(dying);
    owned.push_back(caf::actor_cast<caf::actor>(a));
    table->put(member, node, a, local);
  }
  agent_actor group(group_strategy strategy, const std::vector<std::string>& members,
                    std::chrono::milliseconds task_timeout = 5s) {
    std::vector<agentgraph::group_member> ms;
    for (const auto& name : members) {
      auto fallback = sys->spawn(instance, name + "@own-ref");
      owned.push_back(caf::actor_cast<caf::actor>(fallback));
      ms.push_back({name, fallback, 0, 0});
    }
    group_config gc;
    gc.name = "team";
    gc.strategy = strategy;
    gc.task_timeout = task_timeout;
    auto g = spawn_agent_group(*sys, gc, ms, table);
    REQUIRE(g);
    owned.push_back(caf::actor_cast<caf::actor>(*g));
    return *g;
  }
  std::string ask(const agent_actor& g, const std::string& id, Value context = {}) {
    std::string out;
    (*self)->request(g, 10s, execute_atom::value, task_request{id, "go", std::move(context)})
      .receive([&](task_result& r) { out = r.output; },
               [&](caf::error& e) { out = "error: " + describe(e); });
    return out;
  }
};

Value session(const std::string& s) {
  Value v = Value::object();
  v["session"] = Value{s};
  return v;
}

TEST_CASE("agent group in a cluster: a member without instances is its own ref") {
  fixture f;
  auto g = f.group(group_strategy::round_robin, {"a"});
  CHECK(f.ask(g, "t1") == "a@own-ref");
  f.add("a", "n2");
  CHECK(f.ask(g, "t2") == "a@n2");  // the table wins once it has the member
}

TEST_CASE("agent group in a cluster: round robin goes through every instance of every member") {
  fixture f;
  f.add("a", "n1", true);
  f.add("a", "n2");
  f.add("b", "n3");
  auto g = f.group(group_strategy::round_robin, {"a", "b"});
  std::multiset<std::string> got;
  for (int i = 0; i < 6; ++i)
    got.insert(f.ask(g, "t" + std::to_string(i)));
  CHECK(got == std::multiset<std::string>{"a@n1", "a@n1", "a@n2", "a@n2", "b@n3", "b@n3"});
}

TEST_CASE("agent group in a cluster: least loaded goes to the node that reported the least load") {
  fixture f;
  f.add("a", "n1", true);
  f.add("a", "n2");
  f.add("a", "n3");
  f.table->set_load("n1", 5);
  f.table->set_load("n2", 9);
  f.table->set_load("n3", 2);
  auto g = f.group(group_strategy::least_loaded, {"a"});
  CHECK(f.ask(g, "t1") == "a@n3");
  f.table->set_load("n3", 7);
  CHECK(f.ask(g, "t2") == "a@n1");
  // Equal loads: this node's instance.
  f.table->set_load("n1", 7);
  f.table->set_load("n2", 7);
  CHECK(f.ask(g, "t3") == "a@n1");
}

TEST_CASE("agent group in a cluster: consistent hash keeps a session on one instance") {
  fixture f;
  for (auto node : {"n1", "n2", "n3"})
    f.add("a", node, std::string{node} == "n1");
  auto g = f.group(group_strategy::consistent_hash, {"a"});
  std::map<std::string, std::string> where;
  for (int s = 0; s < 30; ++s) {
    const auto key = "user-" + std::to_string(s);
    where[key] = f.ask(g, "t" + std::to_string(s), session(key));
    for (int again = 0; again < 3; ++again)
      CHECK(f.ask(g, "x" + std::to_string(again), session(key)) == where[key]);
  }
  std::set<std::string> used;
  for (const auto& [k, v] : where)
    used.insert(v);
  CHECK(used.size() == 3);  // 30 sessions spread over the three instances
  // An instance leaves: only its sessions move.
  f.table->drop("a", "n2");
  for (const auto& [key, before] : where) {
    const auto now = f.ask(g, "y", session(key));
    if (before != "a@n2")
      CHECK(now == before);
    else
      CHECK(now != "a@n2");
  }
  // Without a session the task id is the key.
  CHECK(f.ask(g, "same-id") == f.ask(g, "same-id"));
}

TEST_CASE("agent group in a cluster: a task whose remote instance goes away runs on another") {
  fixture f;
  f.add_dying("a", "n1", false);  // first in name order: round robin starts there
  f.add("a", "n2");
  auto g = f.group(group_strategy::round_robin, {"a"});
  CHECK(f.ask(g, "t1") == "a@n2");
}

TEST_CASE("agent group in a cluster: when every instance went away the task is unavailable") {
  fixture f;
  f.add_dying("a", "n1", false);
  f.add_dying("a", "n2", false);
  auto g = f.group(group_strategy::least_loaded, {"a"});
  const auto out = f.ask(g, "t1");
  CHECK(out.find("unavailable") != std::string::npos);
  CHECK(out.find("no live instance left") != std::string::npos);
}

TEST_CASE("agent group in a cluster: a local instance that dies fails the task, as alone") {
  fixture f;
  f.add_dying("a", "n1", true);
  f.add("a", "n2");
  auto g = f.group(group_strategy::round_robin, {"a"});
  CHECK(f.ask(g, "t1").rfind("error: ", 0) == 0);
}

TEST_CASE("agent group in a cluster: message_timeout bounds a task on another node's instance") {
  fixture f;
  auto a = f.sys->spawn(silent);
  f.owned.push_back(caf::actor_cast<caf::actor>(a));
  f.table->put("a", "n2", a, false);
  // The task's own deadline (30 s) is past the caller's 10 s wait: only the
  // cluster's message_timeout can end it within the wait.
  f.table->set_remote_timeout(200ms);
  auto g = f.group(group_strategy::round_robin, {"a"}, 30s);
  const auto out = f.ask(g, "t1");
  INFO(out);
  CHECK(out.find("team") != std::string::npos);
  CHECK(out.find("timeout") != std::string::npos);
  // The error names the bound that ended the call, not the task's 30 s.
  CHECK(out.find("within 200 ms") != std::string::npos);
  CHECK(out.find("message_timeout") != std::string::npos);
  CHECK(out.find("30000") == std::string::npos);
}

TEST_CASE("agent group in a cluster: message_timeout leaves a local instance alone") {
  fixture f;
  auto a = f.sys->spawn(silent);
  f.owned.push_back(caf::actor_cast<caf::actor>(a));
  f.table->put("a", "n1", a, true);
  f.table->set_remote_timeout(100ms);
  auto g = f.group(group_strategy::round_robin, {"a"}, 2s);
  // Ends at the task's own 2 s deadline, not at 100 ms: the group's error
  // names the task's deadline.
  const auto out = f.ask(g, "t1");
  INFO(out);
  CHECK(out.find("team") != std::string::npos);
  CHECK(out.find("within 2000 ms") != std::string::npos);
  CHECK(out.find("message_timeout") == std::string::npos);
}

TEST_CASE("rendezvous pick: balanced, minimal movement, skips what was tried") {
  const std::vector<std::string> four{"a@n1", "a@n2", "a@n3", "a@n4"};
  const std::vector<std::string> three{"a@n1", "a@n2", "a@n3"};
  std::map<int, int> count;
  int moved = 0;
  for (int k = 0; k < 4000; ++k) {
    const auto key = "k" + std::to_string(k);
    const int p4 = rendezvous_pick(key, four, std::vector<bool>(4, false));
    const int p3 = rendezvous_pick(key, three, std::vector<bool>(3, false));
    ++count[p4];
    if (p4 != 3 && p4 != p3)
      ++moved;  // a key not on the removed instance moved: must not happen
  }
  CHECK(moved == 0);
  for (const auto& [i, n] : count)
    CHECK(n > 800);  // 1000 each expected
  // Tried instances are skipped; all tried: -1.
  const int first = rendezvous_pick("k", three, {false, false, false});
  std::vector<bool> tried(3, false);
  tried[first] = true;
  const int second = rendezvous_pick("k", three, tried);
  CHECK(second != first);
  CHECK(second >= 0);
  CHECK(rendezvous_pick("k", three, {true, true, true}) == -1);
}

}  // namespace agent_group_cluster_test
