// Lost links (net/cluster DESIGN.md §8.2, issue 15): a callee node that
// lost its connection to the caller. On a lossy link one direction of a
// connection can stall past the BASP connection timeout at one end only:
// that end (the callee) drops it and CAF kills every proxy of the caller
// there, so the callee's answers to the calls in flight go nowhere, while
// the caller, whose route to the callee stayed up, heard nothing and waited
// the cluster's message_timeout (60 s) per call (the chaos sweep found it:
// `sim configs/sim/small.ini --seed 8 --chaos 8`). Now the callee tells it
// with heartbeat_msg::links_lost, on which the caller fails those calls at
// once and its agent group sends each task to another instance.
//
// Pinned here: the wire (an older peer's heartbeat, which ends before
// links_lost, still decodes, and an older peer still reads ours); a
// notice's effect on the receiver (the calls to the sender's node fail,
// once per new count, only from the admitted member); the sender's count
// and notices after a real loss; and the whole path under load in the
// simulator (configs/sim/lossy.ini).
//
// Compiled on its own (tests/CMakeLists.txt): it brings the cluster_net
// fixture's names into file scope, which other test files also use.
#include "cluster_node_support.hpp"

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/message.hpp>

#include "actors/host/register_types.hpp"
#include "actors/sim/scenario.hpp"
#include "actors/sim/sim_runner.hpp"
#include "net/cluster/cluster_interface.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

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
  auto cut = ll_bytes_of(*w.sys, ll_sample(5));
  cut.resize(cut.size() - sizeof(uint64_t) - 3);
  heartbeat_msg hb;
  caf::binary_deserializer source{*w.sys, cut};
  CHECK(source(hb));
}

namespace cluster_lostlink_test {

using namespace agentgraph::test::cluster_net;

using lost_hold_atom = caf::atom_constant<caf::atom("ag_tlhold")>;

using lost_release_atom = caf::atom_constant<caf::atom("ag_tlrel")>;

// Answers its callers only when released (each 42).
using lost_holder_actor = caf::typed_actor<caf::replies_to<lost_hold_atom>::with<int>,
                                           caf::reacts_to<lost_release_atom>>;

lost_holder_actor::behavior_type lost_holder(
    lost_holder_actor::stateful_pointer<std::vector<caf::response_promise>> self) {
  return {[self](lost_hold_atom) -> caf::result<int> {
            self->state.push_back(self->make_response_promise());
            return caf::delegated<int>{};
          },
          [self](lost_release_atom) {
            for (auto& rp : self->state)
              rp.deliver(42);
            self->state.clear();
          }};
}

struct lost_caller_state {
  call_watch watch{16};
};

// An actor on `p` calls `callee` once, the way an agent group calls another
// node's instance: watched, with a long deadline; the outcome goes to `out`.
void ll_call(planet& p, const lost_holder_actor& callee,
             std::shared_ptr<std::vector<std::string>> out) {
  p.track(p.sys().spawn([callee, out](caf::stateful_actor<lost_caller_state>* self) {
    route_to_watch(self, &lost_caller_state::watch);
    watched_request(
        self, self->state.watch, callee, self->clock().now() + std::chrono::minutes{5},
        [out](int) { out->push_back("reply"); },
        [out](caf::error& e) { out->push_back(caf::to_string(e)); }, lost_hold_atom::value);
    return caf::behavior{[](int) {}};
  }));
}

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
  // a calls the silent callee on b.
  auto outcomes = std::make_shared<std::vector<std::string>>();
  auto call = [&] {
    ll_call(a, callee, outcomes);
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

TEST_CASE("cluster lost link: a paused callee's answers went nowhere, its notice ends the call at once") {
  cluster_net net;
  net.virtual_max = std::chrono::minutes{10};
  auto nodes = three_up(net);
  auto& a = *nodes[0].p;
  auto& c = *nodes[2].p;
  // n3 offers a callee that answers when told; n1 calls it, watched, with
  // a long deadline (an agent group's call to another node's instance).
  auto holder = c.track(c.sys().spawn(lost_holder));
  ll_offer(net, nodes[2], ll_tool_entry(c.sys(), holder, "holder"));
  run_for(net, 1s);
  auto callee = caf::actor_cast<lost_holder_actor>(ll_remote_tool(net, nodes[0], "holder"));
  REQUIRE(callee);
  auto outcomes = std::make_shared<std::vector<std::string>>();
  ll_call(a, callee, outcomes);
  run_for(net, 500ms);
  REQUIRE(outcomes->empty());
  // n3 pauses past the BASP connection timeout (1.5 s) but not long enough
  // to be downed. Thawed, its own timeouts fire first: it drops its
  // connections and every proxy of n1 and n2, the one its answer would
  // take among them, while n1's route to n3 stays up and tells n1 nothing.
  net.freeze(c);
  run_for(net, 1700ms);
  net.thaw(c);
  net.step_all();
  CHECK(status_of(net, nodes[2])->counters.links_lost >= 1);
  // The callee answers now; the answer goes nowhere. Before the notice
  // existed n1 waited for its deadline (here 5 min, message_timeout's
  // 60 s in a cluster); now it hears the notice within a tick or two.
  c.sys().spawn([holder](caf::event_based_actor* self) {
    self->send(holder, lost_release_atom::value);
  });
  REQUIRE(net.advance_until([&] { return !outcomes->empty(); }, 3s, 100ms));
  CHECK((*outcomes)[0] == "system_error(request_receiver_down)");
  CHECK(status_of(net, nodes[0])->counters.lost_links_heard >= 1);
  // A notice is not a down: every member is still up.
  run_for(net, 2s);
  CHECK(all_up(net, nodes, 3));
}

// configs/sim/lossy.ini: three nodes under load, n2's links losing a
// quarter of their segments for 6 s. Before the fix, seed 1 ended 17 tasks
// as timeouts and 3 unfinished, seed 2 11 and 15 (each an LLM call of
// about 3 s): the callee logged "connection to a peer lost", the caller
// did not. Now every task is answered by its deadline.
TEST_CASE("sim run: calls to a callee that lost its link to the caller end at once, not at message_timeout") {
  auto sc = sim::load_scenario(AGENTGRAPH_SOURCE_DIR "/configs/sim/lossy.ini", {});
  REQUIRE_MESSAGE(sc, (sc ? "" : describe(sc.error())));
  set_log_level(log_severity::error);
  for (uint64_t seed : {1, 2}) {
    CAPTURE(seed);
    sim::run_options o;
    o.seed = seed;
    auto rec = sim::run_scenario(*sc, o);
    REQUIRE_MESSAGE(rec, (rec ? "" : describe(rec.error())));
    std::map<std::string, uint64_t> outcomes;
    for (const auto& t : rec->tasks)
      ++outcomes[t.outcome];
    std::string summary;
    for (const auto& [outcome, n] : outcomes)
      summary += outcome + "=" + std::to_string(n) + " ";
    CAPTURE(summary);
    REQUIRE(rec->tasks.size() > 300);
    // Every task answered: none waited out its deadline (timeout) or the
    // run (unfinished_at_end, open_at_end) on a call whose answer was gone.
    CHECK(outcomes["timeout"] == 0);
    CHECK(outcomes["unfinished_at_end"] == 0);
    CHECK(outcomes["open_at_end"] == 0);
    CHECK(outcomes["lost"] == 0);
  }
}
