// The cluster node actor against peers that do not play by the rules and
// at its bounds: malformed or forged handshakes, local-only requests sent
// remotely, handshakes_max, members_max; and call_watch::fail_node across
// two CAF nodes. Helpers: cluster_node_support.hpp.
#include "cluster_node_support.hpp"

#include "runtime/call_watch.hpp"
#include "runtime/error.hpp"

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
