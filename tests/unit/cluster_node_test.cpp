// The cluster node actor (net/cluster/node_actor.hpp) on the cluster_net
// fixture: several nodes in one process, virtual time, a simulated network
// (design §10.1). Join, admission with the shared secret, freeze, kill,
// partitions (majority, minority, a tied split), rejoin as a new
// incarnation, graceful leave. Every test is bounded in virtual time.
#include "cluster_net_fixture.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "actors/host/register_types.hpp"
#include "net/cluster/node_actor.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/error.hpp"

namespace agentgraph::test::cluster_net {

namespace {

using cluster::cluster_status;
using cluster::member_state;

const std::string good_secret = "0123456789abcdef-cluster-test";

struct node_under_test {
  planet* p = nullptr;
  cluster::node_actor node;
};

cluster::cluster_config node_config(const std::string& host,
                                    const std::vector<std::string>& seeds) {
  cluster::cluster_config c;
  c.name = "test";
  c.listen = host;
  c.port = 4242;
  c.seeds = seeds;
  c.dedicated_thread = false;  // virtual time: never detached
  return c;
}

node_under_test start_node(cluster_net& net, const std::string& host,
                           const std::vector<std::string>& seeds,
                           const std::string& secret = good_secret,
                           std::function<void(cluster::cluster_config&)> tweak = {}) {
  planet_options o;
  o.host = host;
  o.configure = [](caf::actor_system_config& cfg) { register_all_types(cfg); };
  auto& p = net.add_planet(o);
  auto cfg = node_config(host, seeds);
  if (tweak)
    tweak(cfg);
  REQUIRE(!cluster::validate(cfg));
  auto sec = cluster::cluster_secret::make(secret, "test secret");
  REQUIRE(sec);
  const auto idx = static_cast<uint64_t>(net.size());
  cluster::node_args args{cfg,
                          std::move(*sec),
                          cluster::next_uid(0, 1000 * idx, static_cast<uint32_t>(idx)),
                          1000 * idx,
                          static_cast<int32_t>(idx),
                          "http://" + host + ":8080",
                          p.middleman_actor(),
                          [&p] { return p.make_connector(); }};
  auto node = p.track(cluster::spawn_node(p.sys(), std::move(args)));
  net.step_all();
  return {&p, node};
}

// The node's status, asked by a local actor on its planet.
std::optional<cluster_status> status_of(cluster_net& net, const node_under_test& n) {
  if (net.frozen(*n.p))
    return std::nullopt;
  auto out = std::make_shared<std::optional<cluster_status>>();
  auto node = n.node;
  n.p->sys().spawn([out, node](caf::event_based_actor* self) {
    self->request(node, std::chrono::seconds{5}, cluster::cluster_status_atom::value)
        .then([out](cluster_status& s) { *out = std::move(s); }, [](caf::error&) {});
  });
  net.step_all();
  return *out;
}

// name -> state as `n` sees it (the current incarnation of each name, i.e.
// its largest uid), "suspect" for a live member that is not reachable.
std::map<std::string, std::string> states(cluster_net& net, const node_under_test& n) {
  std::map<std::string, std::string> out;
  std::map<std::string, uint64_t> newest;
  auto st = status_of(net, n);
  if (!st)
    return out;
  for (const auto& m : st->members) {
    auto& uid = newest[m.record.id.name];
    if (m.record.id.uid < uid)
      continue;
    uid = m.record.id.uid;
    const bool suspect = !m.reachable && cluster::is_live(m.record.state);
    out[m.record.id.name] = suspect ? "suspect" : cluster::to_string(m.record.state);
  }
  return out;
}

// Lets `d` of virtual time pass in heartbeat-sized steps. One advance(d)
// would be a d-long freeze of every node at once (each node's next timer
// fires only at the end), which is not what an idle cluster does.
void run_for(cluster_net& net, caf::timespan d) {
  for (caf::timespan t{0}; t < d; t += 100ms)
    net.advance(100ms);
}

std::string seed(const std::string& host) {
  return host + ":4242";
}

bool all_up(cluster_net& net, const std::vector<node_under_test>& nodes, size_t count) {
  for (const auto& n : nodes) {
    auto s = states(net, n);
    if (s.size() != count)
      return false;
    for (const auto& [name, state] : s)
      if (state != "up")
        return false;
  }
  return true;
}

std::vector<node_under_test> three_up(cluster_net& net) {
  const std::vector<std::string> seeds{seed("n1"), seed("n2")};
  std::vector<node_under_test> nodes;
  for (auto host : {"n1", "n2", "n3"})
    nodes.push_back(start_node(net, host, seeds));
  REQUIRE(net.advance_until([&] { return all_up(net, nodes, 3); }, 15s));
  return nodes;
}

// `name` is down in `n`'s view, or already removed (the leader removes a
// down member once the view converges, which may come first).
bool gone(cluster_net& net, const node_under_test& n, const std::string& name) {
  auto s = states(net, n);
  auto it = s.find(name);
  return it == s.end() || it->second == "down" || it->second == "removed";
}

}  // namespace

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
  for (const auto& m : status_of(net, nodes[0])->members)
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

TEST_CASE("cluster node: gossip and heartbeats from a node that was not admitted are dropped") {
  cluster_net net;
  const std::vector<std::string> seeds{seed("n1")};
  auto n1 = start_node(net, "n1", seeds);
  REQUIRE(net.advance_until([&] { return status_of(net, n1)->joined; }, 10s));
  // A stranger on another planet connects and sends gossip claiming to be
  // a member, without any handshake.
  planet_options o;
  o.host = "x9";
  o.configure = [](caf::actor_system_config& cfg) { register_all_types(cfg); };
  auto& x = net.add_planet(o);
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

}  // namespace agentgraph::test::cluster_net

namespace agentgraph::test::cluster_net {

namespace {

// A process that speaks to a node actor directly, without being a node:
// connects through its own connector and runs `script` on the proxy.
template <class Script>
void stranger(cluster_net& net, const std::string& host, Script script) {
  planet_options o;
  o.host = host;
  o.configure = [](caf::actor_system_config& cfg) { register_all_types(cfg); };
  auto& x = net.add_planet(o);
  auto connector = x.make_connector();
  x.track(x.sys().spawn([connector, script](caf::event_based_actor* self) {
    self->request(connector, std::chrono::seconds{5}, caf::connect_atom::value,
                  std::string{"n1"}, uint16_t{4242})
        .then([self, script](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>&) {
          script(self, caf::actor_cast<cluster::node_actor>(ptr));
        }, [](caf::error&) {});
    return caf::behavior{[](int) {}};
  }));
}

}  // namespace

TEST_CASE("cluster node: hostile handshakes are refused with an error and the node keeps serving") {
  cluster_net net;
  auto nodes = three_up(net);
  auto errors = std::make_shared<std::vector<std::string>>();
  stranger(net, "x1", [errors](caf::event_based_actor* self, cluster::node_actor peer) {
    auto record = [errors](caf::error& e) { errors->push_back(describe(e)); };
    auto ignore = [](cluster::join_challenge&) {};
    auto nonce = std::vector<uint8_t>(cluster::nonce_bytes, 7);
    // Malformed identities and nonces.
    self->request(peer, std::chrono::seconds{5}, cluster::join_hello_atom::value,
                  cluster::join_hello{"test", {"", "x1", 1, 1}, nonce})
        .then(ignore, record);
    self->request(peer, std::chrono::seconds{5}, cluster::join_hello_atom::value,
                  cluster::join_hello{"test", {"x", "x1", 0, 1}, nonce})
        .then(ignore, record);
    self->request(peer, std::chrono::seconds{5}, cluster::join_hello_atom::value,
                  cluster::join_hello{"test", {"x", "x1", 1, 1}, {1, 2, 3}})
        .then(ignore, record);
    self->request(peer, std::chrono::seconds{5}, cluster::join_hello_atom::value,
                  cluster::join_hello{"test", {std::string(5000, 'n'), "x1", 1, 1}, nonce})
        .then(ignore, record);
    // Another cluster's name.
    self->request(peer, std::chrono::seconds{5}, cluster::join_hello_atom::value,
                  cluster::join_hello{"other", {"x", "x1", 1, 1}, nonce})
        .then(ignore, record);
    // A proof without a hello, and a forged proof after one.
    self->request(peer, std::chrono::seconds{5}, cluster::join_prove_atom::value,
                  cluster::join_proof{{"y", "x1", 2, 2}, std::vector<uint8_t>(32, 1), 0, ""})
        .then([](cluster::gossip_msg&) {}, record);
    self->request(peer, std::chrono::seconds{5}, cluster::join_hello_atom::value,
                  cluster::join_hello{"test", {"z", "x1", 3, 3}, nonce})
        .then([self, peer, record](cluster::join_challenge&) {
          self->request(peer, std::chrono::seconds{5}, cluster::join_prove_atom::value,
                        cluster::join_proof{{"z", "x1", 3, 3}, std::vector<uint8_t>(32, 9), 0, ""})
              .then([](cluster::gossip_msg&) {}, record);
        }, record);
    // Local-only requests from a remote sender.
    self->request(peer, std::chrono::seconds{5}, cluster::leave_atom::value)
        .then([](cluster::member_state) {}, record);
    self->request(peer, std::chrono::seconds{5}, cluster::cluster_status_atom::value)
        .then([](cluster::cluster_status&) {}, record);
  });
  REQUIRE(net.advance_until([&] { return errors->size() == 9; }, 5s));
  std::string all;
  for (const auto& e : *errors)
    all += e + "\n";
  MESSAGE(all);
  CHECK(std::count_if(errors->begin(), errors->end(), [](const std::string& e) {
          return e.find("malformed member id") != std::string::npos;
        }) == 3);
  CHECK(all.find("nonce has 32 bytes") != std::string::npos);
  CHECK(all.find("not a member of that cluster") != std::string::npos);
  CHECK(all.find("no handshake in progress") != std::string::npos);
  CHECK(all.find("admission refused") != std::string::npos);
  CHECK(std::count_if(errors->begin(), errors->end(), [](const std::string& e) {
          return e.find("local request") != std::string::npos;
        }) == 2);
  run_for(net, 2s);
  CHECK(all_up(net, nodes, 3));
  CHECK(status_of(net, nodes[0])->members.size() == 3);
}

TEST_CASE("cluster node: hellos past handshakes_max are refused as overloaded, and expire") {
  cluster_net net;
  const std::vector<std::string> seeds{seed("n1")};
  auto n1 = start_node(net, "n1", seeds, good_secret,
                       [](cluster::cluster_config& c) { c.handshakes_max = 4; });
  REQUIRE(net.advance_until([&] { return status_of(net, n1)->joined; }, 10s));
  auto overloaded = std::make_shared<int>(0);
  auto answered = std::make_shared<int>(0);
  stranger(net, "x1", [overloaded, answered](caf::event_based_actor* self, cluster::node_actor peer) {
    for (uint16_t i = 1; i <= 10; ++i)
      self->request(peer, std::chrono::seconds{5}, cluster::join_hello_atom::value,
                    cluster::join_hello{"test", {"s" + std::to_string(i), "x1", i, i},
                                        std::vector<uint8_t>(cluster::nonce_bytes, 1)})
          .then([answered](cluster::join_challenge&) { ++*answered; },
                [overloaded](caf::error& e) {
                  if (errc_of(e) == errc::overloaded)
                    ++*overloaded;
                });
  });
  REQUIRE(net.advance_until([&] { return *answered + *overloaded == 10; }, 5s));
  CHECK(*answered == 4);
  CHECK(*overloaded == 6);
  // The pending handshakes expire after join_timeout; a real node then joins.
  run_for(net, 6s);
  auto n2 = start_node(net, "n2", seeds, good_secret,
                       [](cluster::cluster_config& c) { c.handshakes_max = 4; });
  REQUIRE(net.advance_until([&] { return all_up(net, {n1, n2}, 2); }, 10s));
}

TEST_CASE("cluster node: a cluster at members_max refuses one more node") {
  cluster_net net;
  const std::vector<std::string> seeds{seed("n1")};
  auto small = [](cluster::cluster_config& c) { c.members_max = 2; };
  std::vector<node_under_test> nodes;
  for (auto host : {"n1", "n2"})
    nodes.push_back(start_node(net, host, seeds, good_secret, small));
  REQUIRE(net.advance_until([&] { return all_up(net, nodes, 2); }, 10s));
  auto n3 = start_node(net, "n3", seeds, good_secret, small);
  run_for(net, 5s);
  CHECK_FALSE(status_of(net, n3)->joined);
  CHECK(states(net, nodes[0]).size() == 2);
  CHECK(all_up(net, nodes, 2));
}

}  // namespace agentgraph::test::cluster_net

namespace agentgraph::test::cluster_net {

namespace {

using hold_atom = caf::atom_constant<caf::atom("ag_tshold")>;
using call_atom = caf::atom_constant<caf::atom("ag_tscall")>;
using failnode_atom = caf::atom_constant<caf::atom("ag_tsfail")>;

// Never answers: its callers' requests stay in flight.
using holder_actor = caf::typed_actor<caf::replies_to<hold_atom>::with<int>>;

holder_actor::behavior_type holder_impl(holder_actor::stateful_pointer<std::vector<caf::response_promise>> self) {
  return {[self](hold_atom) -> caf::result<int> {
    self->state.push_back(self->make_response_promise());
    return caf::delegated<int>{};
  }};
}

struct caller_state {
  call_watch watch{16};
  std::vector<std::string> outcomes;
};

}  // namespace

TEST_CASE("call_watch: fail_node fails the calls to a downed node at once while its connection is up") {
  cluster_net net;
  planet_options o;
  o.configure = [](caf::actor_system_config& cfg) {
    register_all_types(cfg);
    cfg.add_message_type<holder_actor>("ag_test_holder_actor");
  };
  o.host = "a";
  auto& a = net.add_planet(o);
  o.host = "b";
  auto& b = net.add_planet(o);
  auto holder = a.track(a.sys().spawn(holder_impl));
  REQUIRE(net.publish(a, holder));
  auto out = std::make_shared<caller_state*>(nullptr);
  auto connector = b.make_connector();
  auto caller = b.track(b.sys().spawn([out, connector](caf::stateful_actor<caller_state>* self) {
    *out = &self->state;
    route_to_watch(self, &caller_state::watch);
    return caf::behavior{
        [self, connector](call_atom) {
          self->request(connector, std::chrono::seconds{5}, caf::connect_atom::value,
                        std::string{"a"}, uint16_t{4242})
              .then([self](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>&) {
                auto h = caf::actor_cast<holder_actor>(ptr);
                for (int i = 0; i < 3; ++i)
                  watched_request(
                      self, self->state.watch, h, self->clock().now() + std::chrono::hours{1},
                      [self](int) { self->state.outcomes.push_back("reply"); },
                      [self](caf::error& e) { self->state.outcomes.push_back(caf::to_string(e)); },
                      hold_atom::value);
              }, [self](caf::error& e) { self->state.outcomes.push_back("connect " + caf::to_string(e)); });
        },
        [self](failnode_atom, caf::node_id node) {
          self->state.outcomes.push_back("failed " + std::to_string(self->state.watch.fail_node(self, node)));
        },
    };
  }));
  caf::anon_send(caller, call_atom::value);
  net.step_all();
  REQUIRE(*out != nullptr);
  CHECK((*out)->watch.size() == 3);
  CHECK((*out)->outcomes.empty());
  // A node that is not the callee's: nothing fails.
  caf::anon_send(caller, failnode_atom::value, b.sys().node());
  net.step_all();
  CHECK((*out)->watch.size() == 3);
  caf::anon_send(caller, failnode_atom::value, a.sys().node());
  net.step_all();
  REQUIRE((*out)->outcomes.size() == 5);
  CHECK((*out)->outcomes[0] == "failed 0");
  CHECK((*out)->outcomes[1] == "failed 3");
  for (size_t i = 2; i < 5; ++i)
    CHECK((*out)->outcomes[i] == "system_error(request_receiver_down)");
  CHECK((*out)->watch.size() == 0);
  CHECK((*out)->watch.monitored() == 0);
}

}  // namespace agentgraph::test::cluster_net

namespace agentgraph::test::cluster_net {

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

}  // namespace agentgraph::test::cluster_net

namespace agentgraph::test::cluster_net {

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
