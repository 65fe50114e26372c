// runtime/cluster/membership_view: the merge laws (commutative,
// associative, idempotent) over generated views with a seeded PRNG,
// incarnations, reachability by version, convergence, the leader and its
// actions, downing input per side, and the bounds.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "runtime/cluster/membership_view.hpp"
#include "runtime/error.hpp"

namespace membership_view_test {

using namespace agentgraph::cluster;
using agentgraph::errc;
using agentgraph::errc_of;

member_id m(int i, uint64_t uid = 1) {
  return {"n" + std::to_string(i), "10.0.0." + std::to_string(i + 1), 7000, uid};
}

member_record rec(const member_id& id, member_state s, uint64_t version = 0) {
  member_record r;
  r.id = id;
  r.state = s;
  r.version = version;
  return r;
}

membership_view empty(size_t members_max = 32, size_t tombstones_max = 64) {
  auto v = membership_view::make({members_max, tombstones_max});
  REQUIRE(v);
  return std::move(*v);
}

membership_view of(std::vector<member_record> rs, std::vector<reachability_obs> reach = {}) {
  view_parts p;
  p.members = std::move(rs);
  p.reach = std::move(reach);
  auto v = membership_view::assemble({32, 64}, p);
  REQUIRE(v);
  return std::move(*v);
}

membership_view merged(membership_view a, const membership_view& b) {
  REQUIRE_FALSE(a.merge(b));
  return a;
}

// A random view over 5 names x 3 incarnations: any states, versions 0..3,
// two urls, observations between any two ids, random retired floors and a
// random seen subset; assemble() normalises it.
membership_view random_view(std::mt19937_64& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  auto any_id = [&] { return m(pick(5), 1 + static_cast<uint64_t>(pick(3))); };
  view_parts p;
  for (int i = 0, n = pick(9); i < n; ++i) {
    auto r = rec(any_id(), member_states[pick(6)], static_cast<uint64_t>(pick(4)));
    r.url = pick(2) ? "http://a" : "http://b";
    p.members.push_back(r);
  }
  for (int i = 0, n = pick(8); i < n; ++i)
    p.reach.push_back({any_id(), any_id(), pick(2) == 0, static_cast<uint64_t>(pick(3))});
  for (int i = 0, n = pick(3); i < n; ++i)
    p.retired["n" + std::to_string(pick(5))] = 1 + static_cast<uint64_t>(pick(3));
  for (int i = 0, n = pick(6); i < n; ++i)
    p.seen.push_back(any_id());
  auto v = membership_view::assemble({32, 64}, p);
  REQUIRE(v);
  return std::move(*v);
}

TEST_CASE("membership view: merge is commutative, associative and idempotent") {
  std::mt19937_64 rng{20261206};
  for (int i = 0; i < 400; ++i) {
    CAPTURE(i);
    auto a = random_view(rng);
    auto b = random_view(rng);
    auto c = random_view(rng);
    CHECK(merged(a, b) == merged(b, a));
    CHECK(merged(merged(a, b), c) == merged(a, merged(b, c)));
    CHECK(merged(a, a) == a);
    CHECK(merged(merged(a, b), b) == merged(a, b));
  }
}

// Five nodes join through the first seed and gossip with random peers (a
// seeded PRNG); each runs the leader's actions after every exchange. Within
// a bounded number of rounds every view holds the same five members, all
// up, converged, with the same leader.
TEST_CASE("membership view: gossip between five nodes converges with everyone up") {
  constexpr int nodes = 5;
  std::mt19937_64 rng{12};
  std::vector<membership_view> views(nodes, empty());
  REQUIRE_FALSE(views[0].add_joining(rec(m(0), member_state::joining)));
  views[0].mark_seen(m(0));
  for (int i = 1; i < nodes; ++i) {  // admission by the seed, welcome = its view
    REQUIRE_FALSE(views[0].add_joining(rec(m(i), member_state::joining)));
    views[0].mark_seen(m(0));
    views[i] = views[0];
    views[i].mark_seen(m(i));
  }
  auto settled = [&] {
    for (const auto& v : views) {
      if (!v.same_content(views[0]) || !v.converged() || v.records().size() != nodes)
        return false;
      for (const auto& [id, r] : v.records())
        if (r.state != member_state::up)
          return false;
    }
    return true;
  };
  int rounds = 0;
  for (; rounds < 200 && !settled(); ++rounds) {
    for (int i = 0; i < nodes; ++i) {
      const int j = static_cast<int>((static_cast<uint64_t>(i) + 1 + rng() % (nodes - 1)) % nodes);
      REQUIRE_FALSE(views[j].merge(views[i]));
      views[j].mark_seen(m(j));
      REQUIRE_FALSE(views[i].merge(views[j]));
      views[i].mark_seen(m(i));
      for (int k : {i, j})
        (void)views[k].leader_actions(m(k));
    }
  }
  CAPTURE(rounds);
  CHECK(settled());
  for (const auto& v : views)
    CHECK(v.leader() == m(0));
}

TEST_CASE("membership view: a record keeps the higher state, then the higher version") {
  auto a = of({rec(m(0), member_state::up, 5), rec(m(1), member_state::up, 1)});
  auto b = of({rec(m(0), member_state::down, 1), rec(m(1), member_state::up, 2)});
  auto v = merged(a, b);
  REQUIRE(v.find(m(0)));
  CHECK(v.find(m(0))->state == member_state::down);
  CHECK(v.find(m(1))->version == 2);
  CHECK(v.seen().empty());  // new content: nobody has seen it yet
}

TEST_CASE("membership view: seen survives a merge that adds nothing") {
  auto a = of({rec(m(0), member_state::up), rec(m(1), member_state::up)});
  auto b = a;
  a.mark_seen(m(0));
  b.mark_seen(m(1));
  auto v = merged(a, b);
  CHECK(v.seen() == std::set<member_id>{m(0), m(1)});
  a.mark_seen(m(7));  // not a member: ignored
  CHECK(a.seen() == std::set<member_id>{m(0)});
}

TEST_CASE("membership view: a new uid for a name downs the old one, then retires it") {
  auto old_view = of({rec(m(0), member_state::up, 3), rec(m(1, 10), member_state::up, 2)});
  auto rejoin = of({rec(m(1, 11), member_state::joining)});
  auto v = merged(old_view, rejoin);
  CHECK(v.find(m(1, 10))->state == member_state::down);
  CHECK(v.find(m(1, 11))->state == member_state::joining);
  // The leader removes the old incarnation: folded into `retired`, dropped.
  REQUIRE_FALSE(v.set_state(m(1, 10), member_state::removed));
  CHECK(v.find(m(1, 10)) == nullptr);
  CHECK(v.retired().at("n1") == 11);
  // A stale view that still has it up cannot bring it back.
  auto again = merged(v, old_view);
  CHECK(again.find(m(1, 10)) == nullptr);
  CHECK(errc_of(again.add_joining(rec(m(1, 10), member_state::joining))) == errc::conflict);
  CHECK(errc_of(again.add_joining(rec(m(1, 9), member_state::joining))) == errc::conflict);
}

TEST_CASE("membership view: reachability merges per pair by version, unreachable on a tie") {
  auto a = of({rec(m(0), member_state::up), rec(m(1), member_state::up)});
  auto b = a;
  REQUIRE_FALSE(a.observe(m(0), m(1), false));  // version 1
  REQUIRE_FALSE(a.observe(m(0), m(1), true));   // version 2
  REQUIRE_FALSE(b.observe(m(0), m(1), false));  // version 1, stale
  auto v = merged(a, b);
  CHECK(v.reachable(m(1)));
  CHECK(v.observations().at({m(0), m(1)}).version == 2);
  auto c = of({rec(m(0), member_state::up), rec(m(1), member_state::up)},
              {{m(0), m(1), true, 3}});
  auto d = of({rec(m(0), member_state::up), rec(m(1), member_state::up)},
              {{m(0), m(1), false, 3}});
  CHECK_FALSE(merged(c, d).reachable(m(1)));
  CHECK_FALSE(merged(d, c).reachable(m(1)));
  // the verdict of a member that is down no longer counts
  REQUIRE_FALSE(d.set_state(m(0), member_state::down));
  CHECK(d.reachable(m(1)));
}

TEST_CASE("membership view: convergence needs every reachable up member in seen") {
  auto v = of({rec(m(0), member_state::up), rec(m(1), member_state::up),
               rec(m(2), member_state::up), rec(m(3), member_state::joining)});
  v.mark_seen(m(0));
  v.mark_seen(m(1));
  CHECK_FALSE(v.converged());
  v.mark_seen(m(2));
  CHECK(v.converged());  // the joining member need not have seen it
  // m(2) unreachable and still up: the leader must wait
  REQUIRE_FALSE(v.observe(m(0), m(2), false));
  v.mark_seen(m(0));
  v.mark_seen(m(1));
  CHECK_FALSE(v.converged());
  REQUIRE_FALSE(v.set_state(m(2), member_state::down));
  v.mark_seen(m(0));
  v.mark_seen(m(1));
  CHECK(v.converged());  // unreachable and down: no longer blocks
}

TEST_CASE("membership view: the leader is the lowest reachable up member") {
  auto v = of({rec(m(0, 5), member_state::joining), rec(m(1), member_state::up),
               rec(m(2), member_state::up)});
  CHECK(v.leader() == m(1));
  REQUIRE_FALSE(v.observe(m(2), m(1), false));
  CHECK(v.leader() == m(2));
  auto alone = of({rec(m(4), member_state::joining), rec(m(3), member_state::joining)});
  CHECK(alone.leader() == m(3));  // nobody up yet: the lowest joining one
  CHECK_FALSE(empty().leader());
}

TEST_CASE("membership view: leader actions run only on the leader and on convergence") {
  auto v = of({rec(m(0), member_state::up, 1), rec(m(1), member_state::joining),
               rec(m(2), member_state::exiting, 4), rec(m(3), member_state::down, 2),
               rec(m(4), member_state::leaving, 1)});
  CHECK(v.leader_actions(m(0)).empty());  // m(4), up-like, has not seen it
  v.mark_seen(m(0));
  v.mark_seen(m(4));
  CHECK(v.leader_actions(m(4)).empty());  // not the leader
  auto changed = v.leader_actions(m(0));
  CHECK(changed.size() == 4);
  CHECK(v.find(m(1))->state == member_state::up);
  CHECK(v.find(m(1))->version == 1);
  CHECK(v.find(m(2))->state == member_state::removed);
  CHECK(v.find(m(2))->version == 5);
  CHECK(v.find(m(3))->state == member_state::removed);
  CHECK(v.find(m(4))->state == member_state::exiting);
  CHECK(v.find(m(0))->state == member_state::up);
  CHECK(v.seen() == std::set<member_id>{m(0)});
  CHECK(v.leader_actions(m(0)).empty());  // m(1) is now up and has not seen it
}

TEST_CASE("membership view: the first seed promotes itself") {
  auto v = empty();
  REQUIRE_FALSE(v.add_joining(rec(m(0), member_state::joining)));
  v.mark_seen(m(0));
  auto changed = v.leader_actions(m(0));
  REQUIRE(changed.size() == 1);
  CHECK(v.find(m(0))->state == member_state::up);
}

TEST_CASE("membership view: an unreachable joiner is not promoted") {
  auto v = of({rec(m(0), member_state::up), rec(m(1), member_state::joining)});
  REQUIRE_FALSE(v.observe(m(0), m(1), false));
  v.mark_seen(m(0));
  CHECK_FALSE(v.converged());  // unreachable and joining blocks, as in Akka
  CHECK(v.leader_actions(m(0)).empty());
}

TEST_CASE("membership view: set_state only moves a record forward") {
  auto v = of({rec(m(0), member_state::up, 3)});
  CHECK(errc_of(v.set_state(m(0), member_state::joining)) == errc::invalid_argument);
  CHECK(errc_of(v.set_state(m(0), member_state::removed)) == errc::invalid_argument);
  CHECK(errc_of(v.set_state(m(9), member_state::down)) == errc::not_found);
  REQUIRE_FALSE(v.set_state(m(0), member_state::leaving));
  CHECK(v.find(m(0))->version == 4);
}

TEST_CASE("membership view: each side of a partition builds its own downing input") {
  const auto a = m(0), b = m(1), c = m(2);
  auto base = of({rec(a, member_state::up), rec(b, member_state::up), rec(c, member_state::up)});
  auto majority = base;  // A's and B's observations, plus a stale one of C
  REQUIRE_FALSE(majority.observe(a, c, false));
  REQUIRE_FALSE(majority.observe(b, c, false));
  REQUIRE_FALSE(majority.observe(c, a, false));  // C cannot be heard: ignored
  auto minority = base;
  REQUIRE_FALSE(minority.observe(c, a, false));
  REQUIRE_FALSE(minority.observe(c, b, false));
  auto from_a = majority.downing_input_for(a);
  CHECK(from_a.unreachable == std::set<member_id>{c});
  CHECK(from_a.counted.size() == 3);
  CHECK(keep_majority(from_a).verdict == downing_verdict::down_unreachable);
  auto from_b = majority.downing_input_for(b);
  CHECK(from_b.unreachable == std::set<member_id>{c});
  CHECK(keep_majority(from_b).verdict == downing_verdict::down_unreachable);
  auto from_c = minority.downing_input_for(c);
  CHECK(from_c.unreachable == std::set<member_id>{a, b});
  CHECK(keep_majority(from_c).verdict == downing_verdict::down_self);
}

TEST_CASE("membership view: links failed round a third member: nobody is downed") {
  // a and b lost each other; c still hears both.
  const auto a = m(0), b = m(1), c = m(2);
  auto v = of({rec(a, member_state::up), rec(b, member_state::up), rec(c, member_state::up)});
  REQUIRE_FALSE(v.observe(a, b, false));
  REQUIRE_FALSE(v.observe(b, a, false));
  // c: each verdict comes from a member someone on c's side cuts off, so
  // neither makes anyone unreachable: c does not down itself.
  auto from_c = v.downing_input_for(c);
  CHECK(from_c.unreachable.empty());
  CHECK(keep_majority(from_c).verdict == downing_verdict::wait);
  // a: b is unreachable to a, but c (on a's side) never said so: wait.
  auto from_a = v.downing_input_for(a);
  CHECK(from_a.unreachable == std::set<member_id>{b});
  CHECK(from_a.unreachable_by.at(b) == std::set<member_id>{a});
  CHECK(keep_majority(from_a).verdict == downing_verdict::wait);
  auto from_b = v.downing_input_for(b);
  CHECK(keep_majority(from_b).verdict == downing_verdict::wait);
  // A clean cut of b instead: c agrees, and a's side downs b.
  auto clean = of({rec(a, member_state::up), rec(b, member_state::up), rec(c, member_state::up)});
  REQUIRE_FALSE(clean.observe(a, b, false));
  REQUIRE_FALSE(clean.observe(c, b, false));
  auto d = keep_majority(clean.downing_input_for(a));
  CHECK(d.verdict == downing_verdict::down_unreachable);
  CHECK(d.to_down == std::vector<member_id>{b});
}

TEST_CASE("membership view: a down member not yet removed is in the downing input as downed") {
  const auto a = m(0), b = m(1), c = m(2);
  // C is down (this incarnation); an older incarnation of B is superseded
  // by a newer one and is not a vote anywhere.
  auto v = of({rec(a, member_state::up), rec(m(1, 1), member_state::down),
               rec(m(1, 2), member_state::up), rec(c, member_state::down)});
  REQUIRE_FALSE(v.observe(a, m(1, 2), false));
  auto in = v.downing_input_for(a);
  CHECK(in.downed == std::set<member_id>{c});
  CHECK(in.counted == std::vector<member_id>{a, m(1, 2)});
  CHECK(in.unreachable == std::set<member_id>{m(1, 2)});
  // A alone against B and the downed C: a minority, not a won tie.
  CHECK(keep_majority(in).verdict == downing_verdict::down_self);
  (void)b;
}

TEST_CASE("membership view: members_max refuses a joiner and an oversized merge") {
  auto v = empty(3, 2);
  for (int i = 0; i < 3; ++i)
    REQUIRE_FALSE(v.add_joining(rec(m(i), member_state::joining)));
  REQUIRE_FALSE(v.add_joining(rec(m(0), member_state::joining)));  // again: no change
  const auto before = v;
  auto err = v.add_joining(rec(m(3), member_state::joining));
  CHECK(errc_of(err) == errc::limit_exceeded);
  CHECK(agentgraph::error_context(err).find("members_max") != std::string::npos);
  CHECK(v == before);
  auto other = empty(3, 2);
  REQUIRE_FALSE(other.add_joining(rec(m(5), member_state::joining)));
  CHECK(errc_of(v.merge(other)) == errc::limit_exceeded);
  CHECK(v == before);
  CHECK(errc_of(v.add_joining(rec(m(6), member_state::up))) == errc::invalid_argument);
}

TEST_CASE("membership view: gossip past the bounds is refused before it is read") {
  view_parts p;
  for (int i = 0; i < 5; ++i)
    p.members.push_back(rec(m(i), member_state::up));
  auto v = membership_view::assemble({2, 2}, p);
  REQUIRE_FALSE(v);
  CHECK(errc_of(v.error()) == errc::limit_exceeded);
  view_parts q;
  for (int i = 0; i < 5; ++i)
    q.reach.push_back({m(0), m(i), false, 1});
  CHECK_FALSE(membership_view::assemble({2, 2}, q));
  // 3 live members under members_max 2, within the raw size check:
  view_parts r;
  for (int i = 0; i < 3; ++i)
    r.members.push_back(rec(m(i), member_state::up));
  CHECK_FALSE(membership_view::assemble({2, 2}, r));
  CHECK(errc_of(membership_view::make({0, 1}).error()) == errc::invalid_argument);
  CHECK(errc_of(membership_view::make({1, view_members_limit + 1}).error()) ==
        errc::invalid_argument);
}

TEST_CASE("membership view: tombstones stay bounded; past the bound a member stays down") {
  auto v = empty(4, 1);
  REQUIRE_FALSE(v.add_joining(rec(m(0), member_state::joining)));
  REQUIRE_FALSE(v.add_joining(rec(m(1), member_state::joining)));
  REQUIRE_FALSE(v.add_joining(rec(m(2), member_state::joining)));
  v.mark_seen(m(0));
  REQUIRE(v.leader_actions(m(0)).size() == 3);
  REQUIRE_FALSE(v.set_state(m(1), member_state::down));
  REQUIRE_FALSE(v.set_state(m(2), member_state::down));
  v.mark_seen(m(0));
  auto changed = v.leader_actions(m(0));
  CHECK(changed.size() == 1);  // one tombstone allowed
  size_t removed = 0, down = 0;
  for (const auto& [id, r] : v.records()) {
    removed += r.state == member_state::removed;
    down += r.state == member_state::down;
  }
  CHECK(removed == 1);
  CHECK(down == 1);
  CHECK(errc_of(v.set_state(m(2), member_state::removed)) == errc::limit_exceeded);
  // Many restarts of one name leave one record: older uids are retired.
  auto w = empty(4, 1);
  for (uint64_t uid = 1; uid <= 50; ++uid) {
    REQUIRE_FALSE(w.add_joining(rec(m(1, uid), member_state::joining)));
    if (uid > 1)
      REQUIRE_FALSE(w.set_state(m(1, uid - 1), member_state::removed));
    CHECK(w.records().size() <= 2);
  }
  CHECK(w.retired().at("n1") == 50);
}

}  // namespace membership_view_test
