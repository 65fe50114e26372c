// Graceful leave when the leaving member's exit never reaches the others
// (issue 15's gap, seen in a CI run of integration.cluster_nodes): the
// leader left right after a member rejoined, moved itself to exiting and
// quit before that state reached anyone. The others kept it "leaving"
// for good: a leaving member whose port refuses is proven dead, so
// keep-majority has no verdict on it (proof takes its vote), and an
// unreachable leaving member stops convergence, so no leader moved it on.
// Without down_on_refused (a refusal is then no proof) the same member is
// downed by keep-majority instead: never stuck either. And a partition
// during a leave: the leader's side, which moved the leaving member to
// exiting, must not win against the side where it is still leaving (split
// brain).
// Every test is bounded in virtual time.
#include "cluster_node_support.hpp"

namespace agentgraph::test::cluster_net {

namespace cluster_node_leave_test {

// Asks `n` to leave from a local actor and runs the world until it is
// idle (no time passes); the reply lands in the result when it comes.
std::shared_ptr<std::optional<member_state>> ask_leave(cluster_net& net,
                                                       const node_under_test& n) {
  auto reply = std::make_shared<std::optional<member_state>>();
  auto node = n.node;
  n.p->track(n.p->sys().spawn([reply, node](caf::event_based_actor* self) {
    self->request(node, std::chrono::seconds{30}, cluster::leave_atom::value)
        .then([reply](member_state s) { *reply = s; }, [](caf::error&) {});
  }));
  net.step_all();
  return reply;
}

std::string state_in(cluster_net& net, const node_under_test& n, const std::string& who) {
  auto s = states(net, n);
  auto it = s.find(who);
  return it == s.end() ? "(none)" : it->second;
}

}  // namespace cluster_node_leave_test

TEST_CASE("cluster node: a leader that leaves right after a rejoin and quits before its exit spread ends removed, never down") {
  using namespace cluster_node_leave_test;
  cluster_net net;
  auto nodes = three_up(net);
  // n3 is killed and comes back as a new incarnation on the same port.
  net.kill(*nodes[2].p);
  REQUIRE(net.advance_until([&] { return gone(net, nodes[0], "n3:4242") && gone(net, nodes[1], "n3:4242"); },
                            3s, 100ms));
  nodes[2] = start_node(net, "n3", {seed("n1"), seed("n2")});
  REQUIRE(net.advance_until([&] { return all_up(net, nodes, 3); }, 15s, 50ms));
  // At once the leader n1 leaves. Without time passing (no tick) the
  // others see it leaving and answer, so n1's view converges.
  REQUIRE(status_of(net, nodes[0])->leader.name == "n1:4242");
  const auto downs_before = status_of(net, nodes[1])->counters.downs + status_of(net, nodes[2])->counters.downs;
  auto reply = ask_leave(net, nodes[0]);
  REQUIRE(state_in(net, nodes[1], "n1:4242") == "leaving");
  REQUIRE(state_in(net, nodes[2], "n1:4242") == "leaving");
  CHECK_FALSE(reply->has_value());
  // n1's next tick moves it to exiting and answers the leave; its gossip
  // saying so never arrives (held by a cut, then lost with the process),
  // as a process that exits the moment its leave is answered loses what
  // its transport had not sent yet.
  net.partition({nodes[0].p}, {nodes[1].p, nodes[2].p});
  REQUIRE(net.advance_until([&] { return reply->has_value(); }, 1s, 50ms));
  CHECK(**reply == member_state::exiting);
  net.kill(*nodes[0].p);
  net.heal();
  // The others find n1's port closed. It said it was going: it ends
  // removed (or dropped), never down, and the two stay up together.
  bool ever_down = false;
  const bool removed = net.advance_until(
      [&] {
        bool both = true;
        for (size_t i : {size_t{1}, size_t{2}}) {
          const auto s = state_in(net, nodes[i], "n1:4242");
          ever_down = ever_down || s == "down";
          both = both && (s == "(none)" || s == "removed");
        }
        return both;
      },
      10s, 100ms);
  CHECK_MESSAGE(removed, "n1 on n2: " << state_in(net, nodes[1], "n1:4242")
                                      << ", on n3: " << state_in(net, nodes[2], "n1:4242"));
  CHECK_FALSE(ever_down);
  CHECK(status_of(net, nodes[1])->counters.downs + status_of(net, nodes[2])->counters.downs ==
        downs_before);
  CHECK(state_in(net, nodes[1], "n3:4242") == "up");
  CHECK(state_in(net, nodes[2], "n2:4242") == "up");
  // And the cluster moves on: the leader is n2, which can promote again.
  CHECK(status_of(net, nodes[2])->leader.name == "n2:4242");
}

TEST_CASE("cluster node: without down_on_refused a leaving member whose exit was lost is downed, not kept leaving") {
  using namespace cluster_node_leave_test;
  cluster_net net;
  auto nodes = three_up(net, [](cluster::cluster_config& c) { c.down_on_refused = false; });
  // As above, n1 leaves and its exit is lost; a refusal is no proof here,
  // so nothing may move it on without keep-majority: n2 and n3 both find
  // it unreachable and the leader n2 downs it. Never stuck leaving.
  auto reply = ask_leave(net, nodes[0]);
  REQUIRE(state_in(net, nodes[1], "n1:4242") == "leaving");
  net.partition({nodes[0].p}, {nodes[1].p, nodes[2].p});
  REQUIRE(net.advance_until([&] { return reply->has_value(); }, 1s, 50ms));
  net.kill(*nodes[0].p);
  net.heal();
  CHECK_MESSAGE(net.advance_until([&] { return gone(net, nodes[1], "n1:4242") &&
                                                gone(net, nodes[2], "n1:4242"); },
                                  10s, 100ms),
                "n1 on n2: " << state_in(net, nodes[1], "n1:4242")
                             << ", on n3: " << state_in(net, nodes[2], "n1:4242"));
  CHECK(state_in(net, nodes[1], "n3:4242") == "up");
}

TEST_CASE("cluster node: a partition during a leave leaves one cluster: the minority leader downs itself, not the others") {
  using namespace cluster_node_leave_test;
  cluster_net net;
  auto nodes = three_up(net);
  // n3 leaves. Without time passing n1 and n2 see it leaving and answer,
  // so the leader n1's view converges; then n1 is cut off from n2 and n3,
  // and its next tick moves n3 to exiting behind the cut. n2 never hears
  // of the exit: for n2, n3 still leaves and votes, 2 against 1. n1 must
  // count n3 on the other side while its exit is news to n2: not counting
  // it, n1 tied 1-1 with n2, won on the lowest id and downed n2, while n2
  // and n3 downed n1 (two clusters, found by this test). Nothing proves n3
  // gone (a cut is not a refusal), so nothing else moves it either.
  auto reply = ask_leave(net, nodes[2]);
  REQUIRE(state_in(net, nodes[0], "n3:4242") == "leaving");
  REQUIRE(state_in(net, nodes[1], "n3:4242") == "leaving");
  net.partition({nodes[0].p}, {nodes[1].p, nodes[2].p});
  bool n1_downed_n2 = false;
  CHECK_MESSAGE(net.advance_until(
      [&] {
        const auto s1 = states(net, nodes[0]);
        n1_downed_n2 = n1_downed_n2 || (s1.contains("n2:4242") && s1.at("n2:4242") == "down");
        return status_of(net, nodes[0])->counters.incarnations >= 1;
      },
      8s, 100ms), "n1, alone against n2 and the leaving n3, downs itself");
  CHECK_FALSE(n1_downed_n2);
  CHECK(status_of(net, nodes[0])->counters.downs == 0);
  // n2's side downs n1 and lets n3 finish its leave; n2 stays.
  REQUIRE(net.advance_until([&] { return reply->has_value() && gone(net, nodes[1], "n1:4242"); },
                            8s, 100ms));
  CHECK(**reply == member_state::exiting);
  CHECK(status_of(net, nodes[1])->counters.incarnations == 0);
  CHECK(status_of(net, nodes[1])->joined);
}

TEST_CASE("cluster node: a dead leaver's old unreachable verdicts do not hold convergence") {
  using namespace cluster_node_leave_test;
  cluster_net net;
  auto nodes = three_up(net);
  // n2 and n3 lose each other (n1 still hears both), long enough for each
  // to gossip the other unreachable. Then n3 leaves and dies, and the cut
  // heals. n3's verdict on n2 is one only n3 could take back: counted, it
  // kept n2 unreachable, the view never converged, and n3 stayed exiting
  // on n1 and n2 for good (the reviewer's case of the leave fix).
  net.partition({nodes[1].p}, {nodes[2].p});
  net.advance_until([] { return false; }, 3s, 100ms);
  auto reply = ask_leave(net, nodes[2]);
  net.advance_until([] { return false; }, 1s, 100ms);
  REQUIRE(state_in(net, nodes[0], "n3:4242") != "(none)");
  net.kill(*nodes[2].p);
  net.heal();
  const auto removed = [&](const node_under_test& n) {
    const auto s = state_in(net, n, "n3:4242");
    return s == "(none)" || s == "removed";
  };
  CHECK_MESSAGE(net.advance_until([&] { return removed(nodes[0]) && removed(nodes[1]); }, 30s,
                                  100ms),
                "n3 on n1: " << state_in(net, nodes[0], "n3:4242")
                             << ", on n2: " << state_in(net, nodes[1], "n3:4242"));
  CHECK(state_in(net, nodes[0], "n2:4242") == "up");
  CHECK(status_of(net, nodes[0])->counters.downs == 0);
}

}  // namespace agentgraph::test::cluster_net
