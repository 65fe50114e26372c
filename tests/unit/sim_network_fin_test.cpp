// The simulated network's FIN (actors/sim/sim_network.hpp): a connection
// one end's broker closes is seen closed by the other end at once, as TCP
// tells a peer, so the peer's proxies go down and its calls fail instead
// of being written into the closed end and lost (chaos seeds 48 and 84:
// tasks open until the end, their agent call never answered); a cut link
// holds the FIN until the heal.
#include "cluster_net_fixture.hpp"

namespace agentgraph::test::cluster_net {

namespace sim_network_fin_test {

using snfping_atom = caf::atom_constant<caf::atom("ag_snfping")>;
using snfconn_atom = caf::atom_constant<caf::atom("ag_snfconn")>;
using fin_ping_actor = caf::typed_actor<caf::replies_to<snfping_atom, int>::with<int>>;

void register_fin_ping(caf::actor_system_config& cfg) {
  cfg.add_message_type<fin_ping_actor>("ag_snf_ping_actor");
}

planet_options fin_options(std::string host) {
  planet_options o;
  o.host = std::move(host);
  o.configure = register_fin_ping;
  return o;
}

struct fin_prober_state {
  fin_ping_actor peer;
};

// Connects when told, monitors the peer, pings it; notes what happens.
caf::behavior fin_prober(caf::stateful_actor<fin_prober_state>* self, cluster_net* net,
                         caf::io::middleman_actor connector) {
  self->set_down_handler([=](caf::down_msg& dm) {
    net->note("down " + caf::to_string(dm.reason));
    self->state.peer = nullptr;
  });
  return {
    [=](snfconn_atom, const std::string& host, uint16_t port) {
      self->request(connector, 10s, caf::connect_atom::value, host, port)
        .then(
          [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
            self->state.peer = caf::actor_cast<fin_ping_actor>(ptr);
            self->monitor(self->state.peer);
            net->note("connected");
          },
          [=](caf::error& e) { net->note("connect failed " + caf::to_string(e)); });
    },
    [=](snfping_atom, int x) {
      if (!self->state.peer)
        return net->note("no peer");
      self->request(self->state.peer, 30s, snfping_atom::value, x)
        .then([=](int y) { net->note("pong " + std::to_string(y)); },
              [=](caf::error& e) { net->note("ping failed " + caf::to_string(e)); });
    },
  };
}

// n1 serves a ping actor, n2's prober connects to it.
struct fin_world {
  cluster_net net;
  planet& a = net.add_planet(fin_options("n1"));
  planet& b = net.add_planet(fin_options("n2"));
  caf::actor prober;

  fin_world() {
    net.step_all();
    auto ping = a.track(a.sys().spawn([]() -> fin_ping_actor::behavior_type {
      return {[](snfping_atom, int x) { return x + 1; }};
    }));
    REQUIRE(net.publish(a, ping));
    prober = b.track(b.sys().spawn(fin_prober, &net, b.make_connector()));
    caf::anon_send(prober, snfconn_atom::value, a.host(), a.port());
    net.step_all();
    REQUIRE(net.saw("connected"));
  }

  // Closes n1's end of its connection with n2 the way its broker closes
  // one (a heartbeat timeout, a second connection to the same node): the
  // scribe leaves the broker. n1's BASP state is not told, as it would be
  // in the broker's own close; only what n2 sees matters here.
  void close_server_end() {
    for (const auto& w : net.wires())
      if (w.server == a.id() && w.client == b.id() && !w.retracted && *w.client_scribe != nullptr) {
        auto* broker = caf::actor_cast<caf::io::abstract_broker*>(a.basp());
        REQUIRE(broker != nullptr);
        REQUIRE(broker->close(w.server_hdl));
        return;
      }
    FAIL("no connection from n2 to n1");
  }
};

}  // namespace sim_network_fin_test

using namespace sim_network_fin_test;

TEST_CASE("sim network: a connection one end closed is closed for the other at once, as TCP's FIN") {
  fin_world w;
  caf::anon_send(w.prober, snfping_atom::value, 1);
  w.net.step_all();
  REQUIRE(w.net.saw("pong 2"));
  const auto before = w.net.elapsed();
  w.close_server_end();
  w.net.step_all();
  // Before the FIN existed, n2 went on writing into the closed end until
  // its own heartbeat timeout (1.5 s later): a ping sent meanwhile was lost
  // without an error.
  CHECK(w.net.saw("down exit_reason(remote_link_unreachable)"));
  CHECK(w.net.elapsed() == before);
  caf::anon_send(w.prober, snfping_atom::value, 2);
  w.net.step_all();
  CHECK(w.net.saw("no peer"));
  for (auto& e : w.net.events())
    MESSAGE(e);
}

TEST_CASE("sim network: a cut link holds the FIN until the heal") {
  fin_world w;
  w.net.partition({&w.a}, {&w.b});
  w.close_server_end();
  w.net.step_all();
  CHECK_FALSE(w.net.saw("down"));
  w.net.heal();
  w.net.step_all();
  CHECK(w.net.saw("down exit_reason(remote_link_unreachable)"));
  CHECK(w.net.elapsed() == caf::timespan{0});
}

}  // namespace agentgraph::test::cluster_net
