// runtime/cluster/downing: keep-majority (majority, minority, ties both
// ways, proven-dead excluded, 1/2/3/4/5-node cases, every split of up to 6
// members judged from both sides) and the stability tracker (stable-after,
// down-all-when-unstable), with a hand-moved clock.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "runtime/cluster/downing.hpp"
#include "runtime/error.hpp"

namespace downing_test {

using namespace std::chrono_literals;
using namespace agentgraph::cluster;
using time_point = stability::time_point;

// Members ordered by host: m(0) < m(1) < ...
member_id m(int i) {
  return {"n" + std::to_string(i), "10.0.0." + std::to_string(i + 1), 7000, 1};
}

std::vector<member_id> first(int n) {
  std::vector<member_id> out;
  for (int i = 0; i < n; ++i)
    out.push_back(m(i));
  return out;
}

// A clean cut: every member of self's side (the counted members not in
// `unreachable`, self included) sees every unreachable one so.
void clean_cut(downing_input& in) {
  in.unreachable_by.clear();
  for (const auto& u : in.unreachable)
    for (const auto& v : in.counted)
      if (v == in.self || !in.unreachable.contains(v))
        in.unreachable_by[u].insert(v);
}

downing_decision judge(int n, int self, std::set<int> unreachable, std::set<int> dead = {}) {
  downing_input in;
  in.counted = first(n);
  in.self = m(self);
  for (int i : unreachable)
    in.unreachable.insert(m(i));
  for (int i : dead)
    in.proven_dead.insert(m(i));
  clean_cut(in);
  return keep_majority(in);
}

std::vector<member_id> ids(std::initializer_list<int> is) {
  std::vector<member_id> out;
  for (int i : is)
    out.push_back(m(i));
  return out;
}

TEST_CASE("downing: a strict majority downs the unreachable, a strict minority downs itself") {
  auto a = judge(3, 0, {2});  // A of {A,B}|{C}
  CHECK(a.verdict == downing_verdict::down_unreachable);
  CHECK(a.to_down == ids({2}));
  CHECK(a.reachable_count == 2);
  CHECK(a.unreachable_count == 1);
  auto b = judge(3, 1, {2});
  CHECK(b.verdict == downing_verdict::down_unreachable);
  auto c = judge(3, 2, {0, 1});  // C of the same split
  CHECK(c.verdict == downing_verdict::down_self);
  CHECK(c.to_down == ids({2}));
  auto five = judge(5, 4, {0, 1, 2});  // 2 of 5
  CHECK(five.verdict == downing_verdict::down_self);
  auto five_major = judge(5, 0, {3, 4});
  CHECK(five_major.verdict == downing_verdict::down_unreachable);
  CHECK(five_major.to_down == ids({3, 4}));
}

TEST_CASE("downing: a tie keeps the side that holds the lowest member, both ways") {
  // {A,B}|{C,D}: the side with A stays.
  CHECK(judge(4, 0, {2, 3}).verdict == downing_verdict::down_unreachable);
  CHECK(judge(4, 1, {2, 3}).verdict == downing_verdict::down_unreachable);
  CHECK(judge(4, 2, {0, 1}).verdict == downing_verdict::down_self);
  CHECK(judge(4, 3, {0, 1}).verdict == downing_verdict::down_self);
  // {A,D}|{B,C}: still the side with A, though it also holds the highest.
  CHECK(judge(4, 3, {1, 2}).verdict == downing_verdict::down_unreachable);
  CHECK(judge(4, 1, {0, 3}).verdict == downing_verdict::down_self);
}

TEST_CASE("downing: one and two members") {
  CHECK(judge(1, 0, {}).verdict == downing_verdict::wait);
  // Two members split: the lower one stays, from either side.
  auto low = judge(2, 0, {1});
  CHECK(low.verdict == downing_verdict::down_unreachable);
  CHECK(low.to_down == ids({1}));
  CHECK(judge(2, 1, {0}).verdict == downing_verdict::down_self);
}

TEST_CASE("downing: nothing unreachable, or a self without a vote, waits") {
  CHECK(judge(3, 0, {}).verdict == downing_verdict::wait);
  CHECK(judge(5, 2, {}).to_down.empty());
  // self seen unreachable by someone else: still on its own side
  auto d = judge(3, 0, {0, 2});
  CHECK(d.verdict == downing_verdict::down_unreachable);
  CHECK(d.to_down == ids({2}));
  // a joining node (not counted) has no say
  downing_input in;
  in.counted = first(3);
  in.self = m(5);
  in.unreachable = {m(0), m(1)};
  clean_cut(in);
  CHECK(keep_majority(in).verdict == downing_verdict::wait);
}

TEST_CASE("downing: proven-dead members are left out of the count") {
  // 5 members; D and E refused reconnects, C is unreachable (frozen).
  // Counting the dead, A and B would be 2 of 5 and down themselves.
  CHECK(judge(5, 0, {2, 3, 4}).verdict == downing_verdict::down_self);
  auto d = judge(5, 0, {2, 3, 4}, {3, 4});
  CHECK(d.verdict == downing_verdict::down_unreachable);
  CHECK(d.to_down == ids({2}));  // the dead are downed by the node, not here
  CHECK(d.reachable_count == 2);
  CHECK(d.unreachable_count == 1);
  // 3 members, C dead, B frozen: a tie of A and B; A (lowest) stays.
  CHECK(judge(3, 0, {1, 2}, {2}).verdict == downing_verdict::down_unreachable);
  CHECK(judge(3, 1, {0, 2}, {2}).verdict == downing_verdict::down_self);
  // self is never excluded, even if listed as dead
  CHECK(judge(3, 0, {2}, {0}).verdict == downing_verdict::down_unreachable);
}

TEST_CASE("downing: a member downed but not removed still counts, on the other side") {
  // The chaos sweep's shape: A is cut off from B and C. A lost C first
  // (while B still answered) and downed it; then B goes silent too.
  // Counting only up members, A would be 1 of {A, B}, win the tie as the
  // lowest, and down B while B and C down A: two clusters.
  downing_input in;
  in.counted = ids({0, 1});
  in.self = m(0);
  in.unreachable = {m(1)};
  in.downed = {m(2)};
  clean_cut(in);
  auto d = keep_majority(in);
  CHECK(d.verdict == downing_verdict::down_self);
  CHECK(d.reachable_count == 1);
  CHECK(d.unreachable_count == 2);
  // B and C's side of the same cut: C is up there, A is the unreachable one.
  // B and C are 2 of 3 and down A (a downed member is never downed twice).
  in.counted = ids({0, 1, 2});
  in.self = m(1);
  in.unreachable = {m(0)};
  in.downed = {};
  clean_cut(in);
  d = keep_majority(in);
  CHECK(d.verdict == downing_verdict::down_unreachable);
  CHECK(d.to_down == ids({0}));
  // A tie where the lowest member is the downed one: it cannot stay, so the
  // tie goes to the lowest live member. 4 counted: A downed, B self with C,
  // D unreachable: B and C stay.
  in.counted = ids({1, 2, 3});
  in.self = m(1);
  in.unreachable = {m(3)};
  in.downed = {m(0)};
  clean_cut(in);
  d = keep_majority(in);
  CHECK(d.verdict == downing_verdict::down_unreachable);
  CHECK(d.to_down == ids({3}));
  // Nothing counted unreachable: a downed member alone decides nothing.
  in.unreachable = {};
  clean_cut(in);
  CHECK(keep_majority(in).verdict == downing_verdict::wait);
  // A downed member proven dead is out of the count like any dead one.
  in.counted = ids({0, 1});
  in.self = m(0);
  in.unreachable = {m(1)};
  in.downed = {m(2)};
  in.proven_dead = {m(2)};
  clean_cut(in);
  CHECK(keep_majority(in).verdict == downing_verdict::down_unreachable);
}

TEST_CASE("downing: a side downs nobody until each of its members sees the other side unreachable") {
  // n1 and n2 lost each other; both still reach n3 (links failed round a
  // third node). n1 sees {n1, n3} against n2: "a majority", but n3 still
  // hears n2, so n1 waits; n2 likewise. Nobody is downed, so no two
  // clusters: the lost link shows as unreachability until it heals.
  downing_input in;
  in.counted = ids({0, 1, 2});
  in.self = m(0);
  in.unreachable = {m(1)};
  in.unreachable_by[m(1)] = {m(0)};
  auto d = keep_majority(in);
  CHECK(d.verdict == downing_verdict::wait);
  // Once n3 says so too, it is a clean cut and n1's side downs n2.
  in.unreachable_by[m(1)].insert(m(2));
  d = keep_majority(in);
  CHECK(d.verdict == downing_verdict::down_unreachable);
  CHECK(d.to_down == ids({1}));
  // The minority needs nobody's agreement to down itself.
  in.self = m(1);
  in.unreachable = {m(0), m(2)};
  in.unreachable_by = {{m(0), {m(1)}}};
  CHECK(keep_majority(in).verdict == downing_verdict::down_self);
}

TEST_CASE("downing: a down every counted member has seen no longer counts") {
  // The reviewer's shape: a, b, c live, y and z stuck down (the leader can
  // not remove them past tombstones_max); c crashes. Counting y and z, a
  // and b would be 2 of 5 and down themselves; everyone has long shown
  // y and z down in gossip, so they are old news and a, b stay.
  downing_input in;
  in.counted = ids({0, 1, 2});
  in.self = m(0);
  in.unreachable = {m(2)};
  in.downed = {m(3), m(4)};
  std::map<member_id, std::set<member_id>> known;
  known[m(3)] = {m(1), m(2)};
  known[m(4)] = {m(1), m(2)};
  drop_known_downs(in, known);
  CHECK(in.downed.empty());
  clean_cut(in);
  CHECK(keep_majority(in).verdict == downing_verdict::down_unreachable);
  // A down c never showed (it was cut off first) stays in the count.
  in.downed = {m(3), m(4)};
  known[m(4)] = {m(1)};
  drop_known_downs(in, known);
  CHECK(in.downed == std::set<member_id>{m(4)});
  // Unknown to everyone: counts.
  in.downed = {m(5)};
  drop_known_downs(in, known);
  CHECK(in.downed == std::set<member_id>{m(5)});
}

// Every split of n members into two non-empty sides, each member judging
// with the other side unreachable (and the same members proven dead): one
// side keeps running and downs exactly the other; the other downs itself.
void check_all_splits(int n, std::set<int> dead) {
  for (unsigned mask = 1; mask + 1 < (1u << n); ++mask) {
    std::set<int> side[2];
    for (int i = 0; i < n; ++i)
      if (!dead.contains(i))
        side[(mask >> i) & 1u].insert(i);
    if (side[0].empty() || side[1].empty())
      continue;
    int staying_sides = 0;
    for (int s = 0; s < 2; ++s) {
      int stays = 0;
      for (int self : side[s]) {
        auto d = judge(n, self, side[1 - s], dead);
        CAPTURE(mask);
        CAPTURE(self);
        if (d.verdict == downing_verdict::down_unreachable) {
          ++stays;
          CHECK(d.to_down.size() == side[1 - s].size());
        } else {
          CHECK(d.verdict == downing_verdict::down_self);
        }
      }
      CHECK((stays == 0 || stays == static_cast<int>(side[s].size())));  // a side agrees
      staying_sides += stays > 0 ? 1 : 0;
    }
    CHECK(staying_sides == 1);  // never both, never neither
  }
}

TEST_CASE("downing: every split of 2 to 6 members, seen from both sides, keeps exactly one") {
  for (int n = 2; n <= 6; ++n) {
    CAPTURE(n);
    check_all_splits(n, {});
  }
  check_all_splits(5, {1});
  check_all_splits(6, {0, 3});  // the lowest member is dead: the next lowest breaks ties
}

downing_settings stable_after(std::chrono::milliseconds ms) {
  downing_settings s;
  s.stable_after = ms;
  return s;
}

TEST_CASE("downing: stable-after waits for the unreachable set to stop changing") {
  stability st{stable_after(500ms)};
  time_point t0{};
  CHECK_FALSE(st.stable(t0 + 10s));  // empty: nothing to decide
  st.observe({m(2)}, t0);
  CHECK_FALSE(st.stable(t0 + 499ms));
  CHECK(st.stable(t0 + 500ms));
  st.observe({m(2)}, t0 + 400ms);  // the same set again: no restart
  CHECK(st.stable(t0 + 500ms));
  st.observe({m(2), m(3)}, t0 + 600ms);  // changed: wait again
  CHECK_FALSE(st.stable(t0 + 1099ms));
  CHECK(st.stable(t0 + 1100ms));
  st.observe({}, t0 + 1200ms);
  CHECK_FALSE(st.stable(t0 + 5s));
}

TEST_CASE("downing: decide_downing applies keep-majority only once stable") {
  stability st{stable_after(500ms)};
  downing_input in;
  in.counted = first(3);
  in.self = m(0);
  in.unreachable = {m(2)};
  time_point t0{};
  st.observe(in.unreachable, t0);
  clean_cut(in);
  CHECK(decide_downing(in, st, t0 + 100ms).verdict == downing_verdict::wait);
  clean_cut(in);
  auto d = decide_downing(in, st, t0 + 500ms);
  CHECK(d.verdict == downing_verdict::down_unreachable);
  CHECK(d.to_down == ids({2}));
  in.self = m(2);
  in.unreachable = {m(0), m(1)};
  stability other{stable_after(500ms)};
  other.observe(in.unreachable, t0);
  clean_cut(in);
  CHECK(decide_downing(in, other, t0 + 500ms).verdict == downing_verdict::down_self);
}

TEST_CASE("downing: down-all-when-unstable downs everyone only when on") {
  for (bool on : {false, true}) {
    CAPTURE(on);
    downing_settings s = stable_after(500ms);
    s.down_all_when_unstable = on;
    s.down_all_after = 2000ms;
    stability st{s};
    downing_input in;
    in.counted = first(3);
    in.self = m(1);
    time_point now{};
    bool all = false;
    // The unreachable set flips every 400 ms: never stable for 500 ms.
    for (int i = 0; i < 20 && !all; ++i) {
      in.unreachable = (i % 2 == 0) ? std::set<member_id>{m(2)} : std::set<member_id>{m(0), m(2)};
      st.observe(in.unreachable, now);
      clean_cut(in);
      auto d = decide_downing(in, st, now);
      if (d.verdict == downing_verdict::down_all) {
        all = true;
        CHECK(now >= time_point{} + 2500ms);  // stable_after + down_all_after
        CHECK(d.to_down == first(3));
      } else {
        CHECK(d.verdict == downing_verdict::wait);
      }
      now += 400ms;
    }
    CHECK(all == on);
  }
}

TEST_CASE("downing: calm or a decision restarts the instability clock") {
  downing_settings s = stable_after(500ms);
  s.down_all_when_unstable = true;
  s.down_all_after = 1000ms;
  stability st{s};
  time_point t{};
  st.observe({m(1)}, t);
  st.observe({m(1), m(2)}, t + 400ms);
  st.observe({}, t + 800ms);  // everyone back
  st.observe({m(1)}, t + 1200ms);
  st.observe({m(2)}, t + 1600ms);
  CHECK_FALSE(st.unstable_too_long(t + 2000ms));  // 800 ms of changes since the calm
  st.observe({m(1)}, t + 2000ms);
  st.observe({m(2)}, t + 2400ms);
  CHECK(st.unstable_too_long(t + 2700ms));  // 1500 ms since the first change after calm
  st.decided();
  CHECK(st.changes() == 0);
  CHECK_FALSE(st.unstable_too_long(t + 2800ms));
}

TEST_CASE("downing: bad settings are refused") {
  CHECK_FALSE(validate(downing_settings{}));
  auto s = stable_after(0ms);
  CHECK(agentgraph::errc_of(validate(s)) == agentgraph::errc::invalid_argument);
  s = stable_after(500ms);
  s.down_all_when_unstable = true;
  s.down_all_after = 0ms;
  CHECK(agentgraph::errc_of(validate(s)) == agentgraph::errc::invalid_argument);
  s.down_all_when_unstable = false;  // off: the duration is not used
  CHECK_FALSE(validate(s));
}

}  // namespace downing_test
