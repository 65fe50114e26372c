// Lost links (net/cluster DESIGN.md §8.2): a node that lost its connection
// to a peer tells it with heartbeat_msg::links_lost, on which the peer fails
// its calls in flight to that node at once. Pinned here: the wire (an older
// peer's heartbeat, which ends before links_lost, still decodes, and an
// older peer still reads ours); a notice's effect on the receiver (the
// calls to the sender's node fail, once per new count, only from an
// admitted member); the sender's count and notices after a real loss. The
// whole path under load (a callee that lost the link, a caller whose
// calls end at once) runs in sim_lostlink_test.cpp.
#include "cluster_node_support.hpp"

#include <cstring>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/message.hpp>

#include "actors/host/register_types.hpp"
#include "net/cluster/cluster_interface.hpp"
#include "runtime/call_watch.hpp"

namespace cluster_lostlink_test {

using namespace agentgraph;
using cluster::heartbeat_msg;

// The heartbeat as the first release sent it: no links_lost.
struct old_heartbeat_msg {
  cluster::member_id from;
  uint64_t seq = 0;
  uint32_t load = 0;
  uint64_t dir_version = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, old_heartbeat_msg& x) {
  return f(caf::meta::type_name("agentgraph::cluster::heartbeat_msg"), x.from, x.seq, x.load,
           x.dir_version);
}

struct ll_world {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  ll_world() {
    register_all_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

heartbeat_msg ll_sample(uint64_t links_lost) {
  return heartbeat_msg{{"n2", "n2", 4242, 77}, 41, 7, 9, links_lost};
}

template <class T>
std::vector<char> ll_bytes_of(caf::actor_system& sys, T x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  auto err = sink(x);
  REQUIRE_FALSE(err);
  return buf;
}

}  // namespace cluster_lostlink_test

using namespace cluster_lostlink_test;

TEST_CASE("cluster heartbeat: ours is an older peer's plus links_lost at the end") {
  ll_world w;
  const auto hb = ll_sample(3);
  const auto ours = ll_bytes_of(*w.sys, hb);
  const auto theirs = ll_bytes_of(*w.sys, old_heartbeat_msg{hb.from, hb.seq, hb.load, hb.dir_version});
  REQUIRE(ours.size() == theirs.size() + sizeof(uint64_t));
  CHECK(std::memcmp(ours.data(), theirs.data(), theirs.size()) == 0);
  // An older peer reads the fields it knows and leaves links_lost unread
  // (BASP does not check for bytes past a message's last element).
  old_heartbeat_msg read;
  caf::binary_deserializer source{*w.sys, ours};
  REQUIRE_FALSE(source(read));
  CHECK(read.from == hb.from);
  CHECK(read.seq == hb.seq);
  CHECK(read.load == hb.load);
  CHECK(read.dir_version == hb.dir_version);
  CHECK(source.remaining() == sizeof(uint64_t));
}

TEST_CASE("cluster heartbeat: as BASP gets it, ours decodes whole and an older peer's with links_lost 0") {
  ll_world w;
  // What a node sends: the message (cluster_hb_atom, heartbeat_msg), the
  // heartbeat last.
  auto payload = ll_bytes_of(*w.sys, caf::make_message(cluster::cluster_hb_atom::value, ll_sample(5)));
  auto decode = [&](const std::vector<char>& buf) {
    caf::message msg;
    caf::binary_deserializer source{*w.sys, buf};
    auto err = source(msg);
    REQUIRE_FALSE(err);
    CHECK(source.remaining() == 0);
    REQUIRE(msg.match_elements<caf::atom_value, heartbeat_msg>());
    CHECK(msg.get_as<caf::atom_value>(0) == cluster::cluster_hb_atom::value);
    return msg.get_as<heartbeat_msg>(1);
  };
  auto whole = decode(payload);
  CHECK(whole.from == ll_sample(5).from);
  CHECK(whole.seq == 41);
  CHECK(whole.dir_version == 9);
  CHECK(whole.links_lost == 5);
  // An older peer's payload is the same without the last field's bytes.
  payload.resize(payload.size() - sizeof(uint64_t));
  auto old = decode(payload);
  CHECK(old.from == ll_sample(5).from);
  CHECK(old.seq == 41);
  CHECK(old.load == 7);
  CHECK(old.dir_version == 9);
  CHECK(old.links_lost == 0);
  // Cut inside a field it is no heartbeat at all, as before.
  payload.resize(payload.size() - 3);
  caf::message msg;
  caf::binary_deserializer source{*w.sys, payload};
  CHECK(source(msg));
}

namespace cluster_lostlink_test {

using namespace agentgraph::test::cluster_net;

using lost_hold_atom = caf::atom_constant<caf::atom("ag_tlhold")>;

// Never answers: its callers' requests stay in flight.
using lost_holder_actor = caf::typed_actor<caf::replies_to<lost_hold_atom>::with<int>>;

lost_holder_actor::behavior_type lost_holder(
    lost_holder_actor::stateful_pointer<std::vector<caf::response_promise>> self) {
  return {[self](lost_hold_atom) -> caf::result<int> {
    self->state.push_back(self->make_response_promise());
    return caf::delegated<int>{};
  }};
}

struct lost_caller_state {
  call_watch watch{16};
};

template <class Handle>
cluster::dir_entry ll_tool_entry(caf::actor_system& sys, const Handle& h, const std::string& name) {
  auto types = sys.message_types<Handle>();
  return cluster::dir_entry{"tool", name, caf::actor_cast<caf::actor>(h), {types.begin(), types.end()}};
}

void ll_offer(cluster_net& net, const node_under_test& n, cluster::dir_entry e) {
  auto node = n.node;
  n.p->sys().spawn([node, e](caf::event_based_actor* self) {
    self->send(node, cluster::dir_put_atom::value, e);
  });
  net.step_all();
}

// The handle `n` holds for the tool `name` of another member.
caf::actor ll_remote_tool(cluster_net& net, const node_under_test& n, const std::string& name) {
  auto out = std::make_shared<caf::actor>();
  auto node = n.node;
  n.p->sys().spawn([out, node, name](caf::event_based_actor* self) {
    self->request(node, std::chrono::seconds{5}, cluster::dir_list_atom::value)
        .then(
            [out, name](std::vector<cluster::dir_listing>& xs) {
              for (auto& x : xs)
                if (x.entry.name == name)
                  *out = x.entry.handle;
            },
            [](caf::error&) {});
  });
  net.step_all();
  return *out;
}

}  // namespace cluster_lostlink_test

TEST_CASE("cluster lost link: a member's notice fails the calls in flight to its node at once, once per count") {
  cluster_net net;
  net.virtual_max = std::chrono::minutes{10};
  auto nodes = three_up(net);
  auto& a = *nodes[0].p;
  auto& b = *nodes[1].p;
  // b offers a callee that never answers; a offers its node actor, so an
  // actor on b holds a proxy of it over the cluster's own connection.
  auto holder = b.track(b.sys().spawn(lost_holder));
  ll_offer(net, nodes[1], ll_tool_entry(b.sys(), holder, "holder"));
  ll_offer(net, nodes[0], ll_tool_entry(a.sys(), nodes[0].node, "a-node"));
  run_for(net, 1s);
  auto callee = caf::actor_cast<lost_holder_actor>(ll_remote_tool(net, nodes[0], "holder"));
  auto a_node_on_b = caf::actor_cast<cluster::node_actor>(ll_remote_tool(net, nodes[1], "a-node"));
  REQUIRE(callee);
  REQUIRE(callee.node() == b.sys().node());
  REQUIRE(a_node_on_b);
  REQUIRE(a_node_on_b.node() == a.sys().node());
  const auto b_id = status_of(net, nodes[1])->self;
  // a calls the silent callee on b, the way an agent group calls another
  // node's instance: watched, with a long deadline.
  auto outcomes = std::make_shared<std::vector<std::string>>();
  auto call = [&] {
    a.track(a.sys().spawn([callee, outcomes](caf::stateful_actor<lost_caller_state>* self) {
      route_to_watch(self, &lost_caller_state::watch);
      watched_request(
          self, self->state.watch, callee, self->clock().now() + std::chrono::minutes{5},
          [outcomes](int) { outcomes->push_back("reply"); },
          [outcomes](caf::error& e) { outcomes->push_back(caf::to_string(e)); },
          lost_hold_atom::value);
      return caf::behavior{[](int) {}};
    }));
    net.step_all();
  };
  // What b's node actor would send: a heartbeat from b's node with a count.
  auto notice = [&](const cluster::member_id& from, uint64_t count, planet& on) {
    on.sys().spawn([a_node_on_b, from, count](caf::event_based_actor* self) {
      self->send(a_node_on_b, cluster::cluster_hb_atom::value,
                 heartbeat_msg{from, 0, 0, 0, count});
    });
    net.step_all();
  };
  call();
  run_for(net, 2s);
  CHECK(outcomes->empty());  // the call waits on the silent callee
  notice(b_id, 0, b);        // a plain (or an older peer's) heartbeat says nothing
  CHECK(outcomes->empty());
  auto forged = b_id;
  forged.uid += 1;
  notice(forged, 1, b);      // not the member a admitted on b's node
  CHECK(outcomes->empty());
  notice(b_id, 1, b);
  REQUIRE(outcomes->size() == 1);
  CHECK((*outcomes)[0] == "system_error(request_receiver_down)");
  CHECK(status_of(net, nodes[0])->counters.lost_links_heard == 1);
  // A repeat of the same count fails nothing new; a higher one does.
  call();
  notice(b_id, 1, b);
  run_for(net, 1s);
  CHECK(outcomes->size() == 1);
  notice(b_id, 2, b);
  REQUIRE(outcomes->size() == 2);
  CHECK((*outcomes)[1] == "system_error(request_receiver_down)");
  CHECK(status_of(net, nodes[0])->counters.lost_links_heard == 2);
  // The cluster is untouched: a notice is not a down.
  CHECK(all_up(net, nodes, 3));
}

TEST_CASE("cluster lost link: a node that lost its connection to a member counts it and tells it once back") {
  cluster_net net;
  auto nodes = three_up(net);
  // n3 pauses past the BASP connection timeout (1.5 s) but not long enough
  // to be downed: n1 and n2 drop their connections to it (every proxy of
  // n3 goes), reconnect after the thaw, and tell it.
  net.freeze(*nodes[2].p);
  run_for(net, 1700ms);
  net.thaw(*nodes[2].p);
  REQUIRE(net.advance_until([&] { return status_of(net, nodes[2])->counters.lost_links_heard >= 1; },
                            10s, 100ms));
  uint64_t lost = 0;
  for (size_t i = 0; i < 2; ++i)
    lost += status_of(net, nodes[i])->counters.links_lost;
  CHECK(lost >= 1);
}
