// The cluster node actor (net/cluster/node_actor.hpp) on the cluster_net
// fixture: several nodes in one process, virtual time, a simulated network
// (design §10.1). Join, admission with the shared secret, freeze, kill,
// partitions (majority, minority, a tied split), rejoin as a new
// incarnation, graceful leave, membership events, the leader killed and
// restarted. Hostile peers and bounds: cluster_node_hostile_test.cpp.
// Every test is bounded in virtual time.
#include "cluster_node_support.hpp"

namespace agentgraph::test::cluster_net {

TEST_CASE("cluster node: three nodes join through the seeds and every view converges on three up") {
  cluster_net net;
  auto nodes = three_up(net);
  for (const auto& n : nodes) {
    auto st = status_of(net, n);
    REQUIRE(st);
    CHECK(st->joined);
    CHECK(st->members.size() == 3);
    for (const auto& m : st->members) {
      CHECK(m.reachable);
      CHECK(m.record.url == "http://" + m.record.id.host + ":8080");
    }
    CHECK(st->counters.refused == 0);
  }
  // Heartbeats flow both ways, and an idle cluster stays up for a while.
  run_for(net, 10s);
  CHECK(all_up(net, nodes, 3));
  for (const auto& n : nodes) {
    auto st = status_of(net, n);
    CHECK(st->counters.heartbeats_heard > 20);
    CHECK(st->counters.downs == 0);
    CHECK(st->counters.incarnations == 0);
  }
}

TEST_CASE("cluster node: the first seed waits join_timeout before it forms the cluster alone") {
  cluster_net net;
  auto n1 = start_node(net, "n1", {seed("n1"), seed("n2")});
  run_for(net, 4s);
  CHECK_FALSE(status_of(net, n1)->joined);
  CHECK(states(net, n1)["n1:4242"] == "joining");
  REQUIRE(net.advance_until([&] { return states(net, n1)["n1:4242"] == "up"; }, 3s));
  CHECK(status_of(net, n1)->joined);
}

TEST_CASE("cluster node: a node that is not the first seed never forms a cluster alone") {
  cluster_net net;
  auto n2 = start_node(net, "n2", {seed("n1"), seed("n2")});
  run_for(net, 15s);
  CHECK_FALSE(status_of(net, n2)->joined);
  CHECK(states(net, n2)["n2:4242"] == "joining");
}

TEST_CASE("cluster node: a node with the wrong secret is refused and never enters the view") {
  cluster_net net;
  const std::vector<std::string> seeds{seed("n1")};
  auto n1 = start_node(net, "n1", seeds);
  REQUIRE(net.advance_until([&] { return status_of(net, n1)->joined; }, 10s));
  auto bad = start_node(net, "n9", seeds, "the-wrong-secret-but-long-enough");
  run_for(net, 5s);
  auto s1 = status_of(net, n1);
  CHECK(s1->members.size() == 1);
  CHECK(s1->counters.refused >= 1);  // n1 checked n9's proof
  CHECK(s1->counters.admitted == 0);
  auto s9 = status_of(net, bad);
  CHECK_FALSE(s9->joined);
  CHECK(s9->counters.refused >= 1);  // n9 found that n1's proof is not for its secret
  CHECK(s9->members.size() == 1);
}

TEST_CASE("cluster node: a frozen node is down on the others within 3 s of virtual time") {
  cluster_net net;
  auto nodes = three_up(net);
  net.freeze(*nodes[2].p);
  const auto frozen_at = net.elapsed();
  REQUIRE(net.advance_until(
      [&] {
        return gone(net, nodes[0], "n3:4242") && gone(net, nodes[1], "n3:4242");
      },
      5s, 100ms));
  const auto took = net.elapsed() - frozen_at;
  MESSAGE("frozen node down after " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                                    << " ms virtual");
  CHECK(took < 3s);
  CHECK(took > 1s);  // not before phi or the transport could have noticed
  // The survivors stay up with each other, and the leader removes n3 later.
  REQUIRE(net.advance_until([&] {
    auto s = states(net, nodes[0]);
    return !s.contains("n3:4242") || s["n3:4242"] == "removed";
  }, 5s));
  CHECK(states(net, nodes[0])["n2:4242"] == "up");
  CHECK(states(net, nodes[1])["n1:4242"] == "up");
}

TEST_CASE("cluster node: a killed node is down at once, since its port refuses connections") {
  cluster_net net;
  auto nodes = three_up(net);
  net.kill(*nodes[2].p);
  const auto killed_at = net.elapsed();
  REQUIRE(net.advance_until([&] { return gone(net, nodes[0], "n3:4242"); }, 3s, 50ms));
  CHECK(net.elapsed() - killed_at <= 100ms);
  CHECK(states(net, nodes[1])["n1:4242"] == "up");
}

TEST_CASE("cluster node: without down_on_refused a killed node waits for phi and stable_after") {
  cluster_net net;
  const std::vector<std::string> seeds{seed("n1"), seed("n2")};
  std::vector<node_under_test> nodes;
  for (auto host : {"n1", "n2", "n3"})
    nodes.push_back(start_node(net, host, seeds, good_secret,
                               [](cluster::cluster_config& c) { c.down_on_refused = false; }));
  REQUIRE(net.advance_until([&] { return all_up(net, nodes, 3); }, 15s));
  net.kill(*nodes[2].p);
  const auto killed_at = net.elapsed();
  run_for(net, 300ms);
  CHECK_FALSE(gone(net, nodes[0], "n3:4242"));
  REQUIRE(net.advance_until([&] { return gone(net, nodes[0], "n3:4242"); }, 5s, 100ms));
  CHECK(net.elapsed() - killed_at >= 500ms);  // stable_after
}

TEST_CASE("cluster node: a partition downs the minority side and after the heal it rejoins as a new incarnation") {
  cluster_net net;
  auto nodes = three_up(net);
  const auto old_uid = status_of(net, nodes[2])->self.uid;
  net.partition({nodes[0].p, nodes[1].p}, {nodes[2].p});
  REQUIRE(net.advance_until(
      [&] {
        return gone(net, nodes[0], "n3:4242") && !status_of(net, nodes[2])->joined;
      },
      5s, 100ms));
  CHECK(gone(net, nodes[1], "n3:4242"));
  CHECK(states(net, nodes[0])["n1:4242"] == "up");
  CHECK(status_of(net, nodes[2])->counters.incarnations == 1);
  CHECK(status_of(net, nodes[0])->counters.incarnations == 0);
  net.heal();
  REQUIRE(net.advance_until([&] { return all_up(net, nodes, 3); }, 20s));
  auto s3 = status_of(net, nodes[2]);
  CHECK(s3->self.uid > old_uid);
  // The old incarnation is down or already removed, never up again.
  auto s1 = status_of(net, nodes[0]);  // named: a range-for over a temporary's member dangles
  REQUIRE(s1);
  for (const auto& m : s1->members)
    if (m.record.id.uid == old_uid)
      CHECK((m.record.state == member_state::down || m.record.state == member_state::removed));
}

TEST_CASE("cluster node: a 2-2 split keeps the side with the lowest member id") {
  cluster_net net;
  const std::vector<std::string> seeds{seed("n1"), seed("n2")};
  std::vector<node_under_test> nodes;
  for (auto host : {"n1", "n2", "n3", "n4"})
    nodes.push_back(start_node(net, host, seeds));
  REQUIRE(net.advance_until([&] { return all_up(net, nodes, 4); }, 20s));
  net.partition({nodes[0].p, nodes[2].p}, {nodes[1].p, nodes[3].p});
  REQUIRE(net.advance_until(
      [&] {
        return !status_of(net, nodes[1])->joined && !status_of(net, nodes[3])->joined &&
               gone(net, nodes[0], "n2:4242") && gone(net, nodes[0], "n4:4242") &&
               gone(net, nodes[2], "n2:4242") && gone(net, nodes[2], "n4:4242");
      },
      6s, 100ms));
  CHECK(status_of(net, nodes[0])->joined);
  CHECK(status_of(net, nodes[2])->joined);
  CHECK(states(net, nodes[2])["n1:4242"] == "up");
}

TEST_CASE("cluster node: a graceful leave ends removed, never down") {
  cluster_net net;
  auto nodes = three_up(net);
  auto reply = std::make_shared<std::optional<member_state>>();
  auto node = nodes[2].node;
  nodes[2].p->sys().spawn([reply, node](caf::event_based_actor* self) {
    self->request(node, std::chrono::seconds{30}, cluster::leave_atom::value)
        .then([reply](member_state s) { *reply = s; }, [](caf::error&) {});
  });
  REQUIRE(net.advance_until([&] { return reply->has_value(); }, 10s));
  CHECK(**reply == member_state::exiting);
  bool ever_down = false;
  REQUIRE(net.advance_until(
      [&] {
        auto s = states(net, nodes[0]);
        ever_down = ever_down || s["n3:4242"] == "down";
        return !s.contains("n3:4242") || s["n3:4242"] == "removed";
      },
      10s, 100ms));
  CHECK_FALSE(ever_down);
  CHECK(status_of(net, nodes[0])->counters.downs == 0);
  CHECK(states(net, nodes[1])["n1:4242"] == "up");
}

// A planet x9 outside the cluster, with the cluster's message types.
planet& stranger_planet(cluster_net& net) {
  planet_options o;
  o.host = "x9";
  o.configure = [](caf::actor_system_config& cfg) { register_all_types(cfg); };
  return net.add_planet(o);
}

TEST_CASE("cluster node: gossip and heartbeats from a node that was not admitted are dropped") {
  cluster_net net;
  const std::vector<std::string> seeds{seed("n1")};
  auto n1 = start_node(net, "n1", seeds);
  REQUIRE(net.advance_until([&] { return status_of(net, n1)->joined; }, 10s));
  // A stranger on another planet connects and sends gossip claiming to be
  // a member, without any handshake.
  auto& x = stranger_planet(net);
  auto connector = x.make_connector();
  auto sent = std::make_shared<bool>(false);
  x.track(x.sys().spawn([connector, sent](caf::event_based_actor* self) {
    self->request(connector, std::chrono::seconds{5}, caf::connect_atom::value,
                  std::string{"n1"}, uint16_t{4242})
        .then([self, sent](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>&) {
          auto peer = caf::actor_cast<cluster::node_actor>(ptr);
          cluster::member_record forged;
          forged.id = {"x9:4242", "x9", 4242, 7};
          forged.state = member_state::up;
          cluster::gossip_msg g{"test", forged.id, {forged}, {}, {}, {}};
          self->send(peer, cluster::gossip_atom::value, g);
          self->send(peer, cluster::cluster_hb_atom::value, cluster::heartbeat_msg{forged.id, 1, 0});
          *sent = true;
        }, [](caf::error&) {});
    return caf::behavior{[](int) {}};
  }));
  REQUIRE(net.advance_until([&] { return *sent; }, 5s));
  run_for(net, 500ms);
  auto st = status_of(net, n1);
  CHECK(st->members.size() == 1);
  CHECK(st->counters.dropped >= 2);
}

TEST_CASE("cluster node: a stranger claiming a removed member's id is told nothing") {
  cluster_net net;
  auto nodes = three_up(net);
  const auto old_n3 = status_of(net, nodes[2])->self;
  // n3 freezes until the others removed it.
  net.freeze(*nodes[2].p);
  REQUIRE(net.advance_until([&] { return !states(net, nodes[0]).contains("n3:4242") ||
                                         states(net, nodes[0])["n3:4242"] == "removed"; },
                            10s, 100ms));
  // A stranger connects and claims to be that removed incarnation: a real
  // n3 would get n1's view back (and rejoin); a node n1 never admitted as
  // n3 gets nothing.
  auto& x = stranger_planet(net);
  auto connector = x.make_connector();
  auto sent = std::make_shared<bool>(false);
  auto told = std::make_shared<int>(0);
  x.track(x.sys().spawn([connector, sent, told, old_n3](caf::event_based_actor* self) {
    self->request(connector, std::chrono::seconds{5}, caf::connect_atom::value,
                  std::string{"n1"}, uint16_t{4242})
        .then([self, sent, old_n3](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>&) {
          auto peer = caf::actor_cast<cluster::node_actor>(ptr);
          for (uint64_t seq = 1; seq <= 3; ++seq)
            self->send(peer, cluster::cluster_hb_atom::value, cluster::heartbeat_msg{old_n3, seq, 0});
          *sent = true;
        }, [](caf::error&) {});
    return caf::behavior{[told](cluster::gossip_atom, cluster::gossip_msg&) { ++*told; }};
  }));
  REQUIRE(net.advance_until([&] { return *sent; }, 5s));
  run_for(net, 1s);
  CHECK(*told == 0);
  // The real n3, thawed, learns it was removed and joins again.
  net.thaw(*nodes[2].p);
  REQUIRE(net.advance_until([&] { return status_of(net, nodes[2])->self.uid != old_n3.uid; },
                            10s, 100ms));
}

TEST_CASE("cluster node: subscribers get every state change, a downed member's with its CAF node") {
  cluster_net net;
  const std::vector<std::string> seeds{seed("n1"), seed("n2")};
  auto n1 = start_node(net, "n1", seeds);
  auto events = std::make_shared<std::vector<cluster::member_event>>();
  auto sink = n1.p->track(n1.p->sys().spawn([events]() -> cluster::member_event_sink::behavior_type {
    return {[events](cluster::member_event_atom, cluster::member_event& e) {
      events->push_back(std::move(e));
    }};
  }));
  caf::anon_send(n1.node, cluster::member_sub_atom::value, sink);  // anonymous: refused
  net.step_all();
  n1.p->sys().spawn([node = n1.node, sink](caf::event_based_actor* self) {
    self->send(node, cluster::member_sub_atom::value, sink);
  });
  std::vector<node_under_test> nodes{n1};
  for (auto host : {"n2", "n3"})
    nodes.push_back(start_node(net, host, seeds));
  REQUIRE(net.advance_until([&] { return all_up(net, nodes, 3); }, 15s));
  auto saw = [&](const std::string& name, member_state s) {
    return std::any_of(events->begin(), events->end(), [&](const cluster::member_event& e) {
      return e.record.id.name == name && e.record.state == s;
    });
  };
  CHECK(saw("n1:4242", member_state::up));
  CHECK(saw("n2:4242", member_state::up));
  CHECK(saw("n3:4242", member_state::joining));
  CHECK(saw("n3:4242", member_state::up));
  net.freeze(*nodes[2].p);
  REQUIRE(net.advance_until([&] { return saw("n3:4242", member_state::down); }, 5s, 100ms));
  auto down = std::find_if(events->begin(), events->end(), [](const cluster::member_event& e) {
    return e.record.id.name == "n3:4242" && e.record.state == member_state::down;
  });
  CHECK(down->node == nodes[2].p->sys().node());
  CHECK_FALSE(down->why.empty());
}

TEST_CASE("cluster node: the leader and first seed is killed, the others carry on, and its restart rejoins them") {
  cluster_net net;
  auto nodes = three_up(net);
  const auto old_uid = status_of(net, nodes[0])->self.uid;
  net.kill(*nodes[0].p);
  REQUIRE(net.advance_until([&] { return gone(net, nodes[1], "n1:4242") && gone(net, nodes[2], "n1:4242"); },
                            3s, 100ms));
  CHECK(states(net, nodes[1])["n3:4242"] == "up");
  // n1 comes back on the same host and port: it lists itself first among
  // the seeds, but n2 answers, so it joins n2's cluster instead of forming
  // a second one.
  auto again = start_node(net, "n1", {seed("n1"), seed("n2")});
  std::vector<node_under_test> live{again, nodes[1], nodes[2]};
  REQUIRE(net.advance_until([&] { return all_up(net, live, 3); }, 15s));
  CHECK(status_of(net, again)->self.uid > old_uid);
  for (const auto& n : live)
    CHECK(status_of(net, n)->counters.incarnations == 0);
}

}  // namespace agentgraph::test::cluster_net
