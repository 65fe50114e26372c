// The cluster directory (design §8.1): directory_table's checks and diffs,
// then the node actors on the cluster_net fixture spreading entries,
// repairing a table a node missed, and dropping a member's entries when it
// goes down. Every fixture test is bounded in virtual time.
#include "cluster_node_support.hpp"

#include "net/cluster/directory_table.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/error.hpp"

namespace agentgraph::test::cluster_net {

namespace {

using cluster::dir_entry;
using cluster::dir_event;
using cluster::dir_listing;
using cluster::dir_sync;
using cluster::directory_table;
using dir_echo_actor = caf::typed_actor<caf::replies_to<int>::with<int>>;

dir_echo_actor::behavior_type dir_echo() {
  return {[](int x) { return x; }};
}

// Echo actors of the plain actor systems below, stopped when it goes.
struct dir_echo_pool {
  caf::actor_system& sys;
  std::vector<caf::actor> spawned;
  caf::actor spawn() {
    spawned.push_back(caf::actor_cast<caf::actor>(sys.spawn(dir_echo)));
    return spawned.back();
  }
  ~dir_echo_pool() {
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }
};

dir_entry entry_with(caf::actor_system& sys, caf::actor h, const std::string& kind,
                     const std::string& name) {
  auto types = sys.message_types<dir_echo_actor>();
  return dir_entry{kind, name, std::move(h), {types.begin(), types.end()}};
}

dir_entry entry_on(dir_echo_pool& pool, const std::string& kind, const std::string& name) {
  return entry_with(pool.sys, pool.spawn(), kind, name);
}

// An entry whose handle lives on planet `p` (stopped at teardown).
dir_entry entry_on(planet& p, const std::string& kind, const std::string& name) {
  auto h = p.track(p.sys().spawn(dir_echo));
  return entry_with(p.sys(), caf::actor_cast<caf::actor>(h), kind, name);
}

cluster::member_id member(const std::string& name, uint64_t uid = 1) {
  return {name, name, 4242, uid};
}

// What a local subscriber on a planet heard, in order.
struct heard {
  std::vector<dir_event> events;
};

void subscribe(cluster_net& net, const node_under_test& n, std::shared_ptr<heard> out) {
  auto node = n.node;
  auto sink = n.p->track(n.p->sys().spawn(
      [out](cluster::directory_sink::pointer) -> cluster::directory_sink::behavior_type {
        return {[out](cluster::dir_event_atom, dir_event& e) {
          out->events.push_back(std::move(e));
        }};
      }));
  n.p->sys().spawn([node, sink](caf::event_based_actor* self) {
    self->send(node, cluster::dir_sub_atom::value, sink);
  });
  net.step_all();
}

void put(cluster_net& net, const node_under_test& n, dir_entry e) {
  auto node = n.node;
  n.p->sys().spawn([node, e](caf::event_based_actor* self) {
    self->send(node, cluster::dir_put_atom::value, e);
  });
  net.step_all();
}

void drop(cluster_net& net, const node_under_test& n, const std::string& kind,
          const std::string& name) {
  auto node = n.node;
  n.p->sys().spawn([node, kind, name](caf::event_based_actor* self) {
    self->send(node, cluster::dir_drop_atom::value, kind, name);
  });
  net.step_all();
}

// "owner-name kind/name" for every entry `n` lists.
std::set<std::string> listing(cluster_net& net, const node_under_test& n) {
  auto out = std::make_shared<std::set<std::string>>();
  auto node = n.node;
  n.p->sys().spawn([out, node](caf::event_based_actor* self) {
    self->request(node, std::chrono::seconds{5}, cluster::dir_list_atom::value)
        .then(
            [out](std::vector<dir_listing>& xs) {
              for (const auto& x : xs)
                out->insert(x.owner.name + " " + x.entry.kind + "/" + x.entry.name);
            },
            [](caf::error&) {});
  });
  net.step_all();
  return *out;
}

}  // namespace

TEST_CASE("directory table: entries are checked, versions move on change only") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  dir_echo_pool pool{sys, {}};
  directory_table t{2};
  auto a = entry_on(pool, "agent", "writer");
  REQUIRE(t.put_local(a));
  CHECK(*t.put_local(a) == false);  // the same entry again: no change
  CHECK(t.local_version() == 1);
  auto moved = a;
  moved.handle = pool.spawn();  // a restart: new handle
  CHECK(*t.put_local(moved) == true);
  CHECK(t.local_version() == 2);
  REQUIRE(t.put_local(entry_on(pool, "tool", "calc")));
  auto third = t.put_local(entry_on(pool, "memory", "notes"));
  REQUIRE_FALSE(third);
  CHECK(describe(third.error()).find("directory_entries_max") != std::string::npos);
  auto bad = a;
  bad.kind = "provider";
  CHECK_FALSE(t.put_local(bad));
  bad = a;
  bad.name = std::string(200, 'x');
  CHECK_FALSE(t.put_local(bad));
  bad = a;
  bad.handle = nullptr;
  CHECK_FALSE(t.put_local(bad));
  bad = a;
  bad.ifs.clear();
  CHECK_FALSE(t.put_local(bad));
  CHECK(t.drop_local("tool", "calc"));
  CHECK_FALSE(t.drop_local("tool", "calc"));
  CHECK(t.local_version() == 4);
  CHECK(t.local_counts().agents == 1);
  CHECK(t.local_counts().tools == 0);
}

TEST_CASE("directory table: a peer's table is believed only for its own actors, whole or not at all") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  dir_echo_pool pool{sys, {}};
  directory_table t{4};
  const auto peer = member("n2");
  const auto here = sys.node();
  auto other = caf::make_node_id(77, "0102030405060708090a0b0c0d0e0f1011121314");
  REQUIRE(other);
  auto w = entry_on(pool, "agent", "writer");
  auto c = entry_on(pool, "tool", "calc");
  auto changes = t.apply(dir_sync{peer, 3, {w, c}}, here);
  REQUIRE(changes);
  CHECK(changes->size() == 2);
  CHECK(t.version_of(peer) == 3);
  // Stale or equal versions change nothing.
  CHECK(t.apply(dir_sync{peer, 3, {}}, here)->empty());
  CHECK(t.apply(dir_sync{peer, 2, {}}, here)->empty());
  CHECK(t.counts_of(peer).agents == 1);
  // A handle on another node than the sender's: refused whole, table kept.
  auto refused = t.apply(dir_sync{peer, 4, {w}}, *other);
  REQUIRE_FALSE(refused);
  CHECK(describe(refused.error()).find("another node") != std::string::npos);
  CHECK(t.version_of(peer) == 3);
  // Twice the same (kind, name); too many entries; a bad entry.
  CHECK_FALSE(t.apply(dir_sync{peer, 5, {w, w}}, here));
  CHECK_FALSE(t.apply(dir_sync{peer, 5, {w, c, w, c, w}}, here));
  auto nameless = w;
  nameless.name.clear();
  CHECK_FALSE(t.apply(dir_sync{peer, 5, {nameless}}, here));
  CHECK(t.version_of(peer) == 3);
  // A newer table: one entry left, one changed.
  auto w2 = entry_on(pool, "agent", "writer");
  changes = t.apply(dir_sync{peer, 6, {w2}}, here);
  REQUIRE(changes);
  REQUIRE(changes->size() == 2);
  int gone = 0;
  int present = 0;
  for (const auto& ch : *changes) {
    if (ch.present) {
      ++present;
      CHECK(ch.entry.handle == w2.handle);
    } else {
      ++gone;
      CHECK(ch.entry.name == "calc");
    }
  }
  CHECK(gone == 1);
  CHECK(present == 1);
  auto purged = t.purge(peer);
  CHECK(purged.size() == 1);
  CHECK_FALSE(purged[0].present);
  CHECK(t.version_of(peer) == 0);
  CHECK(t.members().empty());
}

TEST_CASE("cluster directory: an entry put on one node reaches every member and its subscribers") {
  cluster_net net;
  auto nodes = three_up(net);
  auto on_n2 = std::make_shared<heard>();
  subscribe(net, nodes[1], on_n2);
  put(net, nodes[0], entry_on(*nodes[0].p, "tool", "calc"));
  put(net, nodes[2], entry_on(*nodes[2].p, "memory", "notes"));
  run_for(net, 1s);
  const std::set<std::string> all{"n1:4242 tool/calc", "n3:4242 memory/notes"};
  for (const auto& n : nodes)
    CHECK(listing(net, n) == all);
  REQUIRE(on_n2->events.size() == 2);
  for (const auto& e : on_n2->events)
    CHECK(e.present);
  // Status counts each member's entries.
  auto st = status_of(net, nodes[1]);
  for (const auto& m : st->members) {
    if (m.record.id.name == "n1:4242")
      CHECK(m.tools == 1);
    if (m.record.id.name == "n3:4242")
      CHECK(m.shards == 1);
  }
  // A drop leaves every table, and the subscriber hears why.
  drop(net, nodes[0], "tool", "calc");
  run_for(net, 1s);
  for (const auto& n : nodes)
    CHECK(listing(net, n) == std::set<std::string>{"n3:4242 memory/notes"});
  REQUIRE(on_n2->events.size() == 3);
  CHECK_FALSE(on_n2->events.back().present);
  CHECK(on_n2->events.back().entry.name == "calc");
  // The handle that arrived works across the network.
  auto got = std::make_shared<int>(0);
  auto notes = on_n2->events[0].entry.name == "notes" ? on_n2->events[0].entry : on_n2->events[1].entry;
  nodes[1].p->sys().spawn([got, h = caf::actor_cast<dir_echo_actor>(notes.handle)](caf::event_based_actor* self) {
    self->request(h, std::chrono::seconds{5}, 41).then([got](int x) { *got = x + 1; },
                                                        [](caf::error&) {});
  });
  run_for(net, 1s);
  CHECK(*got == 42);
}

TEST_CASE("cluster directory: a node that joins later gets the tables put before it (heartbeat versions)") {
  cluster_net net;
  auto n1 = start_node(net, "n1", {seed("n1")});
  REQUIRE(net.advance_until([&] { return status_of(net, n1)->joined; }, 10s));
  put(net, n1, entry_on(*n1.p, "agent", "writer"));
  auto n2 = start_node(net, "n2", {seed("n1")});
  auto on_n2 = std::make_shared<heard>();
  subscribe(net, n2, on_n2);
  put(net, n2, entry_on(*n2.p, "group", "crew"));
  REQUIRE(net.advance_until([&] { return all_up(net, {n1, n2}, 2); }, 15s));
  run_for(net, 2s);
  const std::set<std::string> all{"n1:4242 agent/writer", "n2:4242 group/crew"};
  CHECK(listing(net, n1) == all);
  CHECK(listing(net, n2) == all);
  REQUIRE(on_n2->events.size() == 1);
  CHECK(on_n2->events[0].owner.name == "n1:4242");
}

TEST_CASE("cluster directory: a killed member's entries leave every directory at once") {
  cluster_net net;
  auto nodes = three_up(net);
  auto on_n1 = std::make_shared<heard>();
  subscribe(net, nodes[0], on_n1);
  put(net, nodes[2], entry_on(*nodes[2].p, "agent", "writer"));
  run_for(net, 1s);
  REQUIRE(listing(net, nodes[0]).contains("n3:4242 agent/writer"));
  net.kill(*nodes[2].p);
  REQUIRE(net.advance_until([&] { return gone(net, nodes[0], "n3:4242"); }, 3s));
  CHECK_FALSE(listing(net, nodes[0]).contains("n3:4242 agent/writer"));
  CHECK_FALSE(listing(net, nodes[1]).contains("n3:4242 agent/writer"));
  REQUIRE(on_n1->events.size() == 2);
  CHECK_FALSE(on_n1->events[1].present);
  CHECK(on_n1->events[1].why.find("n3:4242") != std::string::npos);
}

TEST_CASE("cluster directory: a minority node drops every remote entry until it is back in") {
  cluster_net net;
  auto nodes = three_up(net);
  put(net, nodes[0], entry_on(*nodes[0].p, "tool", "calc"));
  run_for(net, 1s);
  REQUIRE(listing(net, nodes[2]).contains("n1:4242 tool/calc"));
  net.partition({nodes[0].p, nodes[1].p}, {nodes[2].p});
  REQUIRE(net.advance_until([&] { return !status_of(net, nodes[2])->joined; }, 5s));
  CHECK(listing(net, nodes[2]).empty());
  net.heal();
  REQUIRE(net.advance_until([&] { return listing(net, nodes[2]).contains("n1:4242 tool/calc"); },
                            20s));
}

TEST_CASE("cluster directory: a leaving node withdraws its entries before it is removed") {
  cluster_net net;
  auto nodes = three_up(net);
  put(net, nodes[2], entry_on(*nodes[2].p, "agent", "writer"));
  run_for(net, 1s);
  REQUIRE(listing(net, nodes[0]).contains("n3:4242 agent/writer"));
  auto node = nodes[2].node;
  auto left = std::make_shared<std::optional<cluster::member_state>>();
  nodes[2].p->track(nodes[2].p->sys().spawn([node, left](caf::event_based_actor* self) {
    self->request(node, std::chrono::seconds{30}, cluster::leave_atom::value)
        .then([left](cluster::member_state s) { *left = s; }, [](caf::error&) {});
  }));
  net.step_all();
  // Gone from the others' directories while n3 is still a member (leaving
  // or exiting), so routers stop sending it work before it goes.
  REQUIRE(net.advance_until([&] { return !listing(net, nodes[0]).contains("n3:4242 agent/writer"); },
                            3s));
  CHECK_FALSE(listing(net, nodes[1]).contains("n3:4242 agent/writer"));
  const auto seen = states(net, nodes[0])["n3:4242"];
  CHECK((seen == "leaving" || seen == "exiting"));
}

TEST_CASE("cluster directory: tables and pulls from senders that were never admitted are dropped") {
  cluster_net net;
  auto n1 = start_node(net, "n1", {seed("n1")});
  REQUIRE(net.advance_until([&] { return status_of(net, n1)->joined; }, 10s));
  // A local actor (not an admitted peer) plays a peer: dropped and counted.
  auto node = n1.node;
  auto fake = entry_on(*n1.p, "agent", "impostor");
  n1.p->sys().spawn([node, fake](caf::event_based_actor* self) {
    self->send(node, cluster::dir_sync_atom::value, dir_sync{member("n7"), 9, {fake}});
    self->send(node, cluster::dir_pull_atom::value, member("n7"));
  });
  net.step_all();
  CHECK(listing(net, n1).empty());
  CHECK(status_of(net, n1)->counters.dropped == 2);
}

namespace {

// Holds every request's promise: a callee that never answers.
using down_silent_actor = caf::typed_actor<caf::replies_to<int>::with<int>>;
struct down_silent_state {
  std::vector<caf::typed_response_promise<int>> held;
};
down_silent_actor::behavior_type down_silent(down_silent_actor::stateful_pointer<down_silent_state> self) {
  return {[self](int) -> caf::typed_response_promise<int> {
    auto rp = self->make_response_promise<int>();
    self->state.held.push_back(rp);
    return rp;
  }};
}

struct down_caller_state {
  call_watch watch{4};
  std::optional<caf::error> failed;
};

}  // namespace

TEST_CASE("cluster directory: a node_down broadcast fails calls in flight to that node at once") {
  cluster_net net;
  auto nodes = three_up(net);
  auto& b = *nodes[1].p;
  auto callee = b.track(b.sys().spawn(down_silent));
  auto types = b.sys().message_types<down_silent_actor>();
  put(net, nodes[1],
      dir_entry{"tool", "silent", caf::actor_cast<caf::actor>(callee), {types.begin(), types.end()}});
  auto on_a = std::make_shared<heard>();
  subscribe(net, nodes[0], on_a);
  run_for(net, 1s);
  REQUIRE(on_a->events.size() == 1);
  auto remote = caf::actor_cast<down_silent_actor>(on_a->events[0].entry.handle);
  REQUIRE(remote.node() == b.sys().node());
  auto& a = *nodes[0].p;
  auto outcome = std::make_shared<std::optional<caf::error>>();
  a.track(a.sys().spawn([remote, outcome](caf::stateful_actor<down_caller_state>* self) {
    route_to_watch(self, &down_caller_state::watch);
    watched_request(
        self, self->state.watch, remote, self->clock().now() + std::chrono::minutes{5},
        [outcome](int) { *outcome = caf::error{}; },
        [outcome](caf::error& err) { *outcome = err; }, 1);
    return caf::behavior{[](int) {}};
  }));
  run_for(net, 2s);
  CHECK_FALSE(outcome->has_value());  // the call waits on the silent callee
  // Another node's id fails nothing.
  caf::anon_send(a.sys().groups().get_local(node_down_group), watch_node_down_atom::value,
                 nodes[2].p->sys().node());
  net.step_all();
  CHECK_FALSE(outcome->has_value());
  caf::anon_send(a.sys().groups().get_local(node_down_group), watch_node_down_atom::value,
                 b.sys().node());
  net.step_all();
  REQUIRE(outcome->has_value());
  CHECK(**outcome == caf::sec::request_receiver_down);
}

}  // namespace agentgraph::test::cluster_net
