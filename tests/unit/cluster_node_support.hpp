// Helpers of the cluster node tests (cluster_node_test.cpp,
// cluster_node_hostile_test.cpp): start node actors on cluster_net planets,
// ask their status from a local actor, read the states of a view, let
// virtual time pass in heartbeat-sized steps.
#pragma once

#include "cluster_net_fixture.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>

#include "actors/host/register_types.hpp"
#include "net/cluster/node_actor.hpp"

namespace agentgraph::test::cluster_net {

using cluster::cluster_status;
using cluster::member_state;

inline const std::string good_secret = "0123456789abcdef-cluster-test";

struct node_under_test {
  planet* p = nullptr;
  cluster::node_actor node;
};

inline cluster::cluster_config node_config(const std::string& host,
                                    const std::vector<std::string>& seeds) {
  cluster::cluster_config c;
  c.name = "test";
  c.listen = host;
  c.port = 4242;
  c.seeds = seeds;
  c.dedicated_thread = false;  // virtual time: never detached
  return c;
}

inline node_under_test start_node(cluster_net& net, const std::string& host,
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
inline std::optional<cluster_status> status_of(cluster_net& net, const node_under_test& n) {
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
inline std::map<std::string, std::string> states(cluster_net& net, const node_under_test& n) {
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
inline void run_for(cluster_net& net, caf::timespan d) {
  for (caf::timespan t{0}; t < d; t += 100ms)
    net.advance(100ms);
}

inline std::string seed(const std::string& host) {
  return host + ":4242";
}

inline bool all_up(cluster_net& net, const std::vector<node_under_test>& nodes, size_t count) {
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

// n1, n2, n3 (seeds n1 and n2), all up in every view; `tweak` changes
// each node's config before it starts.
inline std::vector<node_under_test> three_up(
    cluster_net& net, std::function<void(cluster::cluster_config&)> tweak = {}) {
  const std::vector<std::string> seeds{seed("n1"), seed("n2")};
  std::vector<node_under_test> nodes;
  for (auto host : {"n1", "n2", "n3"})
    nodes.push_back(start_node(net, host, seeds, good_secret, tweak));
  REQUIRE(net.advance_until([&] { return all_up(net, nodes, 3); }, 15s));
  return nodes;
}

// `name` is down in `n`'s view, or already removed (the leader removes a
// down member once the view converges, which may come first).
inline bool gone(cluster_net& net, const node_under_test& n, const std::string& name) {
  auto s = states(net, n);
  auto it = s.find(name);
  return it == s.end() || it->second == "down" || it->second == "removed";
}

}  // namespace agentgraph::test::cluster_net
