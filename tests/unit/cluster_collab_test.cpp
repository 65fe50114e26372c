// Collaboration settings cluster-wide (net/cluster DESIGN.md §8.5) on the
// cluster_net fixture, in virtual time: the values of the node that formed
// the cluster win (welcome and gossip), heartbeat_interval takes effect on
// the joiner, and max_agents is enforced by every node's directory:
// seniors' agents first, a junior's past the count withheld (not offered,
// not believed), room again when a senior leaves.
#include "cluster_node_support.hpp"

#include "net/cluster/directory_table.hpp"
#include "runtime/error.hpp"

namespace agentgraph::test::cluster_net {

namespace {

using dir_echo_actor = caf::typed_actor<caf::replies_to<int>::with<int>>;

dir_echo_actor::behavior_type collab_echo() {
  return {[](int x) { return x; }};
}

void put_agent(cluster_net& net, const node_under_test& n, const std::string& name) {
  auto h = n.p->track(n.p->sys().spawn(collab_echo));
  auto types = n.p->sys().message_types<dir_echo_actor>();
  cluster::dir_entry e{"agent", name, caf::actor_cast<caf::actor>(h), {types.begin(), types.end()}};
  auto node = n.node;
  n.p->sys().spawn([node, e](caf::event_based_actor* self) {
    self->send(node, cluster::dir_put_atom::value, e);
  });
  net.step_all();
}

// "owner-name/agent" for every agent entry `n` believes.
std::set<std::string> agents_seen(cluster_net& net, const node_under_test& n) {
  auto out = std::make_shared<std::set<std::string>>();
  auto node = n.node;
  n.p->sys().spawn([out, node](caf::event_based_actor* self) {
    self->request(node, std::chrono::seconds{5}, cluster::dir_list_atom::value)
        .then(
            [out](std::vector<cluster::dir_listing>& xs) {
              for (const auto& x : xs)
                if (x.entry.kind == "agent")
                  out->insert(x.owner.name + "/" + x.entry.name);
            },
            [](caf::error&) {});
  });
  net.step_all();
  return *out;
}

auto settings(uint32_t max_agents, std::chrono::milliseconds timeout,
              std::chrono::milliseconds heartbeat) {
  return [=](cluster::cluster_config& c) {
    c.max_agents = max_agents;
    c.message_timeout = timeout;
    c.heartbeat_interval = heartbeat;
  };
}

// Events a local subscriber of `n` got: member events (their collab) and
// directory events ("owner/kind/name present|gone").
struct heard {
  std::vector<cluster::member_event> members;
  std::vector<std::string> dir;
};

std::shared_ptr<heard> subscribe(cluster_net& net, const node_under_test& n) {
  using sink_actor = cluster::directory_sink::extend_with<cluster::member_event_sink>;
  auto out = std::make_shared<heard>();
  auto node = n.node;
  n.p->track(n.p->sys().spawn([out, node](sink_actor::pointer self) -> sink_actor::behavior_type {
    self->send(node, cluster::member_sub_atom::value,
               caf::actor_cast<cluster::member_event_sink>(self));
    self->send(node, cluster::dir_sub_atom::value, caf::actor_cast<cluster::directory_sink>(self));
    return {
        [out](cluster::member_event_atom, cluster::member_event& e) {
          out->members.push_back(std::move(e));
        },
        [out](cluster::dir_event_atom, cluster::dir_event& e) {
          out->dir.push_back(e.owner.name + "/" + e.entry.kind + "/" + e.entry.name +
                             (e.present ? " present" : " gone (" + e.why + ")"));
        },
    };
  }));
  net.step_all();
  return out;
}

}  // namespace

TEST_CASE("collaboration settings: joiners adopt the forming node's, through any member") {
  cluster_net net;
  auto n1 = start_node(net, "n1", {seed("n1")}, good_secret, settings(7, 3s, 100ms));
  REQUIRE(net.advance_until([&] { return status_of(net, n1)->joined; }, 10s));
  auto n2 = start_node(net, "n2", {seed("n1")}, good_secret, settings(0, 9s, 400ms));
  REQUIRE(net.advance_until([&] { return all_up(net, {n1, n2}, 2); }, 15s));
  // n3 knows only n2: its welcome comes from a node that adopted n1's.
  auto n3 = start_node(net, "n3", {seed("n2")}, good_secret, settings(1, 1s, 300ms));
  REQUIRE(net.advance_until([&] { return all_up(net, {n1, n2, n3}, 3); }, 15s));
  const auto origin = status_of(net, n1)->self;
  for (const auto& n : {n1, n2, n3}) {
    const auto c = status_of(net, n)->collab;
    CHECK(c.origin == origin);
    CHECK(c.max_agents == 7);
    CHECK(c.message_timeout == caf::timespan{3s});
    CHECK(c.heartbeat_interval == caf::timespan{100ms});
  }
  // The joiner now heartbeats at n1's 100 ms, not its own 400 ms (which
  // would still tick at the 250 ms gossip interval): 2 s to two peers.
  const auto before = status_of(net, n2)->counters.heartbeats_sent;
  run_for(net, 2s);
  const auto sent = status_of(net, n2)->counters.heartbeats_sent - before;
  CHECK(sent >= 2 * 18);
  CHECK(sent <= 2 * 22);
}

TEST_CASE("collaboration settings: a node forming a cluster alone keeps its own") {
  cluster_net net;
  auto n1 = start_node(net, "n1", {seed("n1")}, good_secret, settings(4, 2s, 200ms));
  REQUIRE(net.advance_until([&] { return status_of(net, n1)->joined; }, 10s));
  const auto st = status_of(net, n1);
  CHECK(st->collab.origin == st->self);
  CHECK(st->collab.max_agents == 4);
  CHECK(st->collab.message_timeout == caf::timespan{2s});
}

TEST_CASE("max_agents: seniors' agents first, a junior's past the count withheld everywhere") {
  cluster_net net;
  const std::vector<std::string> seeds{seed("n1"), seed("n2")};
  std::vector<node_under_test> nodes;
  // Only n1's value counts; the others' say "no limit".
  nodes.push_back(start_node(net, "n1", seeds, good_secret, settings(3, 60s, 250ms)));
  for (auto host : {"n2", "n3"})
    nodes.push_back(start_node(net, host, seeds));
  REQUIRE(net.advance_until([&] { return all_up(net, nodes, 3); }, 15s));
  for (const auto& n : nodes)
    for (auto name : {"a", "b"})
      put_agent(net, n, name);
  run_for(net, 2s);
  // uids grow with the start: n1 is the most senior, then n2, then n3.
  const std::set<std::string> first{"n1:4242/a", "n1:4242/b", "n2:4242/a"};
  for (const auto& n : nodes) {
    const auto seen = agents_seen(net, n);
    std::string text;
    for (const auto& x : seen)
      text += x + " ";
    INFO("seen: " << text << " max_agents " << status_of(net, n)->collab.max_agents);
    CHECK(seen == first);
  }
  CHECK(status_of(net, nodes[0])->counters.agents_refused == 0);
  CHECK(status_of(net, nodes[1])->counters.agents_refused == 1);
  CHECK(status_of(net, nodes[2])->counters.agents_refused == 2);
  // A senior goes: the juniors' agents fill its room.
  net.kill(*nodes[0].p);
  REQUIRE(net.advance_until([&] { return gone(net, nodes[1], "n1:4242"); }, 3s));
  run_for(net, 2s);
  const std::set<std::string> after{"n2:4242/a", "n2:4242/b", "n3:4242/a"};
  CHECK(agents_seen(net, nodes[1]) == after);
  CHECK(agents_seen(net, nodes[2]) == after);
}

TEST_CASE("max_agents: a peer's table past its allowance is capped by the receiver") {
  cluster::directory_table t{16};
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto h1 = sys.spawn(collab_echo);
  auto h2 = sys.spawn(collab_echo);
  auto types = sys.message_types<dir_echo_actor>();
  const std::vector<std::string> ifs{types.begin(), types.end()};
  const cluster::member_id peer{"p", "p", 4242, 5};
  cluster::dir_sync sync{peer, 1,
                         {{"agent", "x", caf::actor_cast<caf::actor>(h1), ifs},
                          {"agent", "y", caf::actor_cast<caf::actor>(h2), ifs},
                          {"tool", "t", caf::actor_cast<caf::actor>(h2), ifs}}};
  size_t withheld = 0;
  auto changes = t.apply(sync, sys.node(), 1, &withheld);
  REQUIRE(changes);
  CHECK(withheld == 1);
  CHECK(changes->size() == 2);  // agent x and tool t appear; y never does
  CHECK(t.agents_of(peer) == 1);
  // More room: y appears, and nothing else changes.
  auto more = t.recap(peer, 2, &withheld);
  CHECK(withheld == 0);
  REQUIRE(more.size() == 1);
  CHECK(more[0].entry.name == "y");
  CHECK(more[0].present);
  // Less: both agents leave, the tool stays.
  auto none = t.recap(peer, 0, &withheld);
  CHECK(withheld == 2);
  CHECK(none.size() == 2);
  CHECK(t.agents_of(peer) == 0);
  caf::anon_send_exit(h1, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(h2, caf::exit_reason::user_shutdown);
}


TEST_CASE("collaboration settings: a joiner with a faster heartbeat never suspects the slower "
          "cluster") {
  cluster_net net;
  // The forming node beats every 2 s, the joiner would every 250 ms: its
  // detector of the node that welcomed it must expect 2 s gaps from the
  // start (not learn them from arrivals it judges late).
  auto n1 = start_node(net, "n1", {seed("n1")}, good_secret, settings(0, 60s, 2000ms));
  REQUIRE(net.advance_until([&] { return status_of(net, n1)->joined; }, 10s));
  auto n2 = start_node(net, "n2", {seed("n1")}, good_secret, settings(0, 60s, 250ms));
  auto n3 = start_node(net, "n3", {seed("n1")}, good_secret, settings(0, 60s, 250ms));
  REQUIRE(net.advance_until([&] { return all_up(net, {n1, n2, n3}, 3); }, 30s));
  for (int i = 0; i < 300; ++i) {  // 30 virtual seconds
    net.advance(100ms);
    for (const auto& n : {n1, n2, n3}) {
      const auto st = status_of(net, n);
      REQUIRE(st);
      for (const auto& m : st->members) {
        INFO("at " << i * 100 << " ms " << cluster::to_string(st->self) << " sees "
                   << cluster::to_string(m.record.id) << " phi " << m.phi);
        REQUIRE(m.reachable);
        REQUIRE(m.record.state == cluster::member_state::up);
      }
      REQUIRE(st->counters.downs == 0);
      REQUIRE(st->collab.heartbeat_interval == caf::timespan{2s});
    }
  }
}

TEST_CASE("collaboration settings: subscribers hear them at once and when they change") {
  cluster_net net;
  auto n1 = start_node(net, "n1", {seed("n1")}, good_secret, settings(0, 3s, 250ms));
  REQUIRE(net.advance_until([&] { return status_of(net, n1)->joined; }, 10s));
  auto n2 = start_node(net, "n2", {seed("n1")}, good_secret, settings(0, 9s, 250ms));
  // Subscribed before it joins: the first event carries n2's own 9 s.
  auto h = subscribe(net, n2);
  REQUIRE(!h->members.empty());
  CHECK(h->members.front().why == "subscribed");
  CHECK(h->members.front().collab.message_timeout == caf::timespan{9s});
  REQUIRE(net.advance_until([&] { return all_up(net, {n1, n2}, 2); }, 15s));
  // The adoption is told as it happens, with the cluster's 3 s.
  auto adopted = std::find_if(h->members.begin(), h->members.end(), [](const auto& e) {
    return e.why.find("collaboration settings adopted") != std::string::npos;
  });
  REQUIRE(adopted != h->members.end());
  CHECK(adopted->collab.message_timeout == caf::timespan{3s});
  // A subscriber that comes later hears the cluster's at once.
  auto late = subscribe(net, n2);
  REQUIRE(!late->members.empty());
  CHECK(late->members.front().collab.message_timeout == caf::timespan{3s});
}

TEST_CASE("directory: a peer's table is kept on its first admission, dropped on a reconnect") {
  cluster_net net;
  auto n1 = start_node(net, "n1", {seed("n1")}, good_secret);
  REQUIRE(net.advance_until([&] { return status_of(net, n1)->joined; }, 10s));
  auto h = subscribe(net, n1);
  auto n2 = start_node(net, "n2", {seed("n1")}, good_secret);
  put_agent(net, n2, "a");
  REQUIRE(net.advance_until([&] { return all_up(net, {n1, n2}, 2); }, 15s));
  run_for(net, 3s);
  std::string text;
  for (const auto& x : h->dir)
    text += x + "\n";
  INFO(text);
  CHECK(std::count(h->dir.begin(), h->dir.end(), "n2:4242/agent/a present") >= 1);
  CHECK(std::none_of(h->dir.begin(), h->dir.end(),
                     [](const std::string& x) { return x.find("gone") != std::string::npos; }));
}

}  // namespace agentgraph::test::cluster_net
