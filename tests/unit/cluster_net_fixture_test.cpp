// The cluster_net fixture (cluster_net_fixture.hpp) proven on its own, with
// a tiny typed ping actor instead of the cluster's node actor: publish and
// connect through the middleman actors across planets, kill (down at once),
// freeze (down after the virtual connection timeout), partition and heal,
// three planets, and the same event log on two runs.
#include "cluster_net_fixture.hpp"

namespace agentgraph::test::cluster_net {

using cnping_atom = caf::atom_constant<caf::atom("ag_cnping")>;
using cnconn_atom = caf::atom_constant<caf::atom("ag_cnconn")>;
using ping_actor = caf::typed_actor<caf::replies_to<cnping_atom, int>::with<int>>;

constexpr caf::timespan ping_timeout = 2s;
constexpr caf::timespan connect_timeout = 10s;

void register_ping(caf::actor_system_config& cfg) {
  cfg.add_message_type<ping_actor>("ag_cn_ping_actor");
}

ping_actor::behavior_type ping_impl() {
  return {[](cnping_atom, int x) { return x + 1; }};
}

std::string text(const caf::error& e) { return caf::to_string(e); }

// The client side of a test, on one planet: connects through `connector`
// when told (cnconn_atom, host, port), pings the peer it got (cnping_atom,
// x), monitors it, and writes what happens to the fixture's event log.
struct prober_state {
  ping_actor peer;
};

caf::behavior prober_impl(caf::stateful_actor<prober_state>* self, cluster_net* net,
                          std::string name, caf::io::middleman_actor connector) {
  self->set_down_handler([=](caf::down_msg& dm) {
    net->note(name + " down " + text(dm.reason));
    self->state.peer = nullptr;
  });
  return {
      [=](cnconn_atom, const std::string& host, uint16_t port) {
        self->request(connector, connect_timeout, caf::connect_atom::value, host, port)
            .then(
                [=](const caf::node_id&, caf::strong_actor_ptr& ptr,
                    const std::set<std::string>& ifs) {
                  if (!ptr || ifs != self->system().message_types<ping_actor>()) {
                    net->note(name + " connect " + host + " gave no ping actor");
                    return;
                  }
                  self->state.peer = caf::actor_cast<ping_actor>(ptr);
                  self->monitor(self->state.peer);
                  net->note(name + " connected " + host);
                },
                [=](caf::error& e) { net->note(name + " connect " + host + " failed " + text(e)); });
      },
      [=](cnping_atom, int x) {
        if (!self->state.peer) {
          net->note(name + " ping " + std::to_string(x) + " no peer");
          return;
        }
        self->request(self->state.peer, ping_timeout, cnping_atom::value, x)
            .then([=](int y) { net->note(name + " pong " + std::to_string(y)); },
                  [=](caf::error& e) {
                    net->note(name + " ping " + std::to_string(x) + " failed " + text(e));
                  });
      },
  };
}

planet_options options(std::string host) {
  planet_options o;
  o.host = std::move(host);
  o.configure = register_ping;
  return o;
}

// Publishes a ping actor on p and returns it.
ping_actor serve_ping(cluster_net& net, planet& p) {
  auto ping = p.track(p.sys().spawn(ping_impl));
  auto port = net.publish(p, ping);
  REQUIRE_MESSAGE(port, text(port.error()));
  CHECK(*port == p.port());
  return ping;
}

caf::actor spawn_prober(cluster_net& net, planet& p, caf::io::middleman_actor connector) {
  return p.track(p.sys().spawn(prober_impl, &net, p.host(), std::move(connector)));
}

void connect_to(cluster_net& net, const caf::actor& prober, planet& to) {
  caf::anon_send(prober, cnconn_atom::value, to.host(), to.port());
  net.note("steps " + std::to_string(net.step_all()));
}

void send_ping(cluster_net& net, const caf::actor& prober, int x) {
  caf::anon_send(prober, cnping_atom::value, x);
  net.note("steps " + std::to_string(net.step_all()));
}

void dump(const cluster_net& net) {
  for (auto& e : net.events())
    MESSAGE(e);
}

// Planet n1 serves a ping actor, n2 connects to it through a connector of
// its own: the start of most scenarios below.
struct two_planets {
  cluster_net& net;
  planet& a;
  planet& b;
  caf::actor prober;

  explicit two_planets(cluster_net& n)
      : net(n), a(n.add_planet(options("n1"))), b(n.add_planet(options("n2"))) {
    net.step_all();
    serve_ping(net, a);
    prober = spawn_prober(net, b, b.make_connector());
    connect_to(net, prober, a);
    REQUIRE(net.saw("n2 connected n1"));
  }
};

// Scenario 1 (publish, connect, one request across planets, step_all only)
// then scenario 2 (kill the server: down at once, a reconnect is refused).
// Returns the event log.
std::vector<std::string> run_ping_then_kill() {
  cluster_net net;
  two_planets t{net};
  send_ping(net, t.prober, 41);
  CHECK(net.saw("n2 pong 42"));
  CHECK(net.elapsed() == caf::timespan{0});

  net.kill(t.a);
  net.note("steps " + std::to_string(net.step_all()));
  CHECK(net.saw("n2 down exit_reason(remote_link_unreachable)"));
  CHECK(net.elapsed() == caf::timespan{0});
  connect_to(net, t.prober, t.a);
  CHECK(net.saw("n2 connect n1 failed system_error(cannot_connect_to_node)"));
  return net.events();
}

// Test cases stay inside the namespace: the unity build pastes this file
// next to others, so no using-directive at global scope.

TEST_CASE("cluster_net: publish, connect and one typed request across planets, step_all only") {
  cluster_net net;
  auto& a = net.add_planet(options("n1"));
  auto& b = net.add_planet(options("n2"));
  net.step_all();
  CHECK(a.sys().node() != b.sys().node());
  // Before the publish, a's port is closed: a connect is refused.
  auto early = spawn_prober(net, b, b.middleman_actor());
  connect_to(net, early, a);
  CHECK(net.saw("n2 connect n1 failed system_error(cannot_connect_to_node)"));
  serve_ping(net, a);
  // A connector (one per peer in the node actor) is a scheduled actor of b's
  // test_coordinator: a message to it waits in the job queue until stepped.
  auto connector = b.make_connector();
  caf::anon_send(connector, caf::connect_atom::value, std::string{"n9"}, uint16_t{1});
  CHECK(b.sched().prioritize(connector));
  net.step_all();
  CHECK_FALSE(b.sched().prioritize(connector));
  // A prepared path that waits does not expire: connect 3 s (12 heartbeats,
  // twice the connection timeout) after it was prepared.
  net.advance(3s);
  auto prober = spawn_prober(net, b, b.make_connector());
  connect_to(net, prober, a);
  REQUIRE(net.saw("n2 connected n1"));
  send_ping(net, prober, 1);
  CHECK(net.saw("n2 pong 2"));
  // The connection then stays up across idle virtual time (heartbeats flow).
  net.advance_until([] { return false; }, 5s);
  CHECK_FALSE(net.saw("down"));
  send_ping(net, prober, 7);
  CHECK(net.saw("n2 pong 8"));
  dump(net);
}

TEST_CASE("cluster_net: kill gives the peer down_msg at once and a reconnect is refused") {
  auto events = run_ping_then_kill();
  for (auto& e : events)
    MESSAGE(e);
}

TEST_CASE("cluster_net: freeze gives the peer down_msg only after the virtual connection timeout") {
  cluster_net net;
  two_planets t{net};
  net.freeze(t.a);
  auto frozen_at = net.elapsed();
  // Time moves for b only; a answers nothing, not even heartbeats.
  caf::timespan heartbeat = 250ms, timeout = 1500ms;
  while (!net.saw("n2 down") && net.elapsed() - frozen_at < timeout + 4 * heartbeat) {
    net.advance(heartbeat);
    if (net.elapsed() - frozen_at < timeout - heartbeat)
      REQUIRE_FALSE(net.saw("n2 down"));
  }
  REQUIRE(net.saw("n2 down exit_reason(remote_link_unreachable)"));
  CHECK(net.elapsed() - frozen_at >= timeout - heartbeat);
  CHECK(net.elapsed() - frozen_at <= timeout + 2 * heartbeat);
  // A connect to the frozen planet is not refused (its "kernel" accepts);
  // it fails with b's BASP connection timeout.
  auto before = net.elapsed();
  connect_to(net, t.prober, t.a);
  CHECK_FALSE(net.saw("n2 connect n1 failed"));
  bool failed = net.advance_until([&] { return net.saw("n2 connect n1 failed"); }, 3s);
  dump(net);
  REQUIRE(failed);
  CHECK(net.saw("n2 connect n1 failed system_error(connection_timeout)"));
  // Not after a full connection timeout: BASP's context for a connect
  // starts with last_seen at the clock's epoch, so once the clock is past
  // the timeout the next heartbeat tick drops an unanswered handshake.
  CHECK(net.elapsed() - before <= heartbeat);
}

TEST_CASE("cluster_net: partition then heal and a fresh connect works after the heal") {
  cluster_net net;
  two_planets t{net};
  // A short partition: the request waits in the buffers and is answered
  // after the heal, before any timeout.
  net.partition({&t.a}, {&t.b});
  send_ping(net, t.prober, 10);
  net.advance(500ms);
  CHECK_FALSE(net.saw("n2 pong 11"));
  net.heal();
  net.step_all();
  CHECK(net.saw("n2 pong 11"));

  // A long one: the request times out (BASP does not fail requests to a
  // lost node, toolchain §9.8), each side's heartbeat timeout drops the
  // connection, and b's monitor gets down_msg.
  net.partition({&t.a}, {&t.b});
  send_ping(net, t.prober, 20);
  REQUIRE(net.advance_until([&] { return net.saw("n2 down"); }, 3s));
  CHECK(net.saw("n2 down exit_reason(remote_link_unreachable)"));
  REQUIRE(net.advance_until([&] { return net.saw("n2 ping 20 failed"); }, 3s));
  CHECK(net.saw("n2 ping 20 failed system_error(request_timeout)"));
  // During the partition a connect is not refused: it times out (a black
  // hole), so the cluster never mistakes a partition for a dead node.
  connect_to(net, t.prober, t.a);
  REQUIRE(net.advance_until([&] { return net.saw("n2 connect n1 failed"); }, 3s));
  CHECK(net.saw("n2 connect n1 failed system_error(connection_timeout)"));
  CHECK_FALSE(net.saw("cannot_connect_to_node"));
  net.heal();
  connect_to(net, t.prober, t.a);
  auto connects = std::count_if(net.events().begin(), net.events().end(), [](const std::string& e) {
    return e.find("connected n1") != std::string::npos;
  });
  CHECK(connects == 2);
  send_ping(net, t.prober, 30);
  CHECK(net.saw("n2 pong 31"));
  dump(net);
}

// A third planet n3 with a prober connected to n1's ping actor.
caf::actor third_prober(cluster_net& net, two_planets& t) {
  auto& c = net.add_planet(options("n3"));
  net.step_all();
  auto pc = spawn_prober(net, c, c.make_connector());
  connect_to(net, pc, t.a);
  REQUIRE(net.saw("n3 connected n1"));
  return pc;
}

TEST_CASE("cluster_net: three planets where killing one client leaves the other link alone") {
  cluster_net net;
  two_planets t{net};
  auto pc = third_prober(net, t);
  send_ping(net, t.prober, 100);
  send_ping(net, pc, 200);
  CHECK(net.saw("n2 pong 101"));
  CHECK(net.saw("n3 pong 201"));
  net.kill(t.b);
  net.step_all();
  send_ping(net, pc, 300);
  CHECK(net.saw("n3 pong 301"));
  // And it stays so across several heartbeat timeouts of virtual time.
  net.advance_until([] { return false; }, 5s);
  CHECK_FALSE(net.saw("n3 down"));
  send_ping(net, pc, 400);
  CHECK(net.saw("n3 pong 401"));
  dump(net);
}

TEST_CASE("cluster_net: two runs of the same scenario log the same events in the same order") {
  auto first = run_ping_then_kill();
  auto second = run_ping_then_kill();
  CHECK(first.size() > 5);
  CHECK(first == second);
}

TEST_CASE("cluster_net: a delayed link answers after the round trip, other links at once") {
  cluster_net net;
  two_planets t{net};
  auto pc = third_prober(net, t);
  // 100 ms each way on n2's links only (every segment: no jitter).
  net.set_link_faults({sim::link_fault{{"n2"}, sim::link_rule{100ms, 0ms, 0}}});
  const auto t0 = net.elapsed();
  send_ping(net, t.prober, 50);
  send_ping(net, pc, 60);
  CHECK(net.saw("n3 pong 61"));  // n3's link is not slowed
  CHECK_FALSE(net.saw("n2 pong 51"));
  net.run_until(t0 + 199ms);
  CHECK_FALSE(net.saw("n2 pong 51"));
  net.run_until(t0 + 200ms);
  CHECK(net.saw("n2 pong 51"));
  CHECK(net.segments_delayed() >= 2);
  // Lifted: the next ping is answered at once again.
  net.set_link_faults({});
  send_ping(net, t.prober, 70);
  CHECK(net.saw("n2 pong 71"));
  dump(net);
}

TEST_CASE("cluster_net: a lossy link delivers everything, late, in order") {
  cluster_net net;
  two_planets t{net};
  net.seed_links(7);
  net.set_link_faults({sim::link_fault{{}, sim::link_rule{0ms, 0ms, 0.1}}});
  std::vector<int> expected;
  for (int i = 0; i < 30; ++i) {
    send_ping(net, t.prober, 100 + 10 * i);
    expected.push_back(101 + 10 * i);
  }
  // TCP resends what a lossy link drops: every ping is answered, none
  // twice, and no answer overtakes an earlier one on the connection.
  const bool all = net.advance_until([&] { return net.saw("n2 pong 391"); }, 60s);
  if (!all)
    dump(net);
  REQUIRE(all);
  std::vector<int> order;
  for (const auto& e : net.events())
    if (auto at = e.find("n2 pong "); at != std::string::npos)
      order.push_back(std::stoi(e.substr(at + 8)));
  CHECK(order == expected);
  CHECK(net.segments_dropped() > 0);
  CHECK(net.elapsed() >= sim::rto_min);
  CHECK_FALSE(net.saw("failed"));
  dump(net);
}

}  // namespace agentgraph::test::cluster_net
