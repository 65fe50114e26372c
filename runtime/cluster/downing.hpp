// Who gets downed when members become unreachable: Akka's split-brain
// resolver strategy keep-majority (design §5.3), pure.
//
// Every node evaluates it on its own view; the rule is written so that two
// sides of a partition that see each other as unreachable reach opposite
// verdicts, and never both keep running:
// - counted members: up and leaving (not joining), and down ones not yet
//   removed (on the other side), minus the ones proven dead (a refused
//   reconnect: nothing listens on their host:port any more, which no
//   partition can fake; the node downs those at once, not here);
// - this node's side is self plus every counted member it can reach;
// - strict majority of the counted members: down the unreachable ones,
//   once every member of this side sees each of them unreachable (else
//   wait: see unreachable_by);
//   strict minority: down self; a tie: the side holding the lowest
//   member_id among the counted members stays, the other downs itself.
//
// It runs only once the unreachable set has been unchanged for
// `stable_after` (the `stability` tracker below, fed with the caller's
// `now`): a verdict on a set that is still changing would down members that
// are only slow to be seen. If the set keeps changing for stable_after +
// down_all_after, down-all-when-unstable (off by default) downs every
// member, self included, as Akka does: a cluster that cannot settle is
// safer stopped than split.
//
// A two-node cluster always keeps its lower member on a split, so if that
// one freezes the other downs itself: run three nodes.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include <caf/error.hpp>

#include "runtime/cluster/member.hpp"

namespace agentgraph::cluster {

struct downing_input {
  std::vector<member_id> counted;     // up and leaving members, self included
  std::set<member_id> unreachable;    // seen unreachable from this node's side
  std::set<member_id> proven_dead;    // refused reconnect: left out of the count
  // Down but not yet removed (the newest incarnation of its name), and
  // not yet known to be down by every counted member (the caller filters
  // by what each member's gossip showed): still in the count, always on the
  // other side, never downed again, never the lowest of a tie. A member
  // that has not heard of the down may still vote with the downed one.
  // Dropping it from the count at once let a node cut off from two peers
  // first down the one it lost first (before the other heard of it) and
  // then win the 1-1 tie against the other: two clusters, found by the
  // simulator's chaos sweep. (Akka's resolver drops down members from the
  // count at once; this is stricter, only while the down is news.)
  // The node also puts here an exiting member whose exit some counted
  // member has not shown yet (node_membership.cpp count_exits_in_doubt):
  // that member may still count it on the other side.
  std::set<member_id> downed;
  // Per counted subject: the live observers whose verdict says it is
  // unreachable. This side downs a member only once every member of this
  // side (self included) says so: if one of them still hears it, the
  // links failed round a third node (n1 and n2 lose each other, both
  // still reach n3), each of n1 and n2 has "a majority with n3", and both
  // would stay and down the other. Then nobody is downed, only waited for.
  std::map<member_id, std::set<member_id>> unreachable_by;
  member_id self;
};

enum class downing_verdict : uint8_t {
  wait,              // nothing to decide (nobody counted is unreachable, or self has no vote)
  down_unreachable,  // this side stays: down `to_down`
  down_self,         // this side is the minority (or loses the tie): down self
  down_all,          // down-all-when-unstable: every member, self included
};

[[nodiscard]] const char* to_string(downing_verdict v);

struct downing_decision {
  downing_verdict verdict = downing_verdict::wait;
  // down_unreachable: the counted unreachable members; down_self: self;
  // down_all: every counted member and self; wait: empty. Sorted.
  std::vector<member_id> to_down;
  size_t reachable_count = 0;    // this side, self included
  size_t unreachable_count = 0;  // the other side
};

// Drops from `in.downed` every down that each counted member other than
// self has shown in its gossip (`known_by`: down member -> members whose
// gossip showed it down): old news no longer counts.
void drop_known_downs(downing_input& in,
                      const std::map<member_id, std::set<member_id>>& known_by);

// Keep-majority on one snapshot (no timing: see `stability`). `self`
// is always on its own side, so it is ignored in `unreachable` and
// `proven_dead`; a self that is not in `counted` (joining, or already down)
// has no vote and gets `wait`.
[[nodiscard]] downing_decision keep_majority(const downing_input& in);

struct downing_settings {
  // How long the unreachable set must stay unchanged before a verdict; > 0.
  std::chrono::milliseconds stable_after{500};
  // Akka's down-all-when-unstable; off by default.
  bool down_all_when_unstable = false;
  // With it on: how long past stable_after the set may keep changing
  // before every member is downed; > 0.
  std::chrono::milliseconds down_all_after{5000};
};

// The settings' first problem as errc::invalid_argument, or an empty error.
[[nodiscard]] caf::error validate(const downing_settings& s);

// Remembers when the unreachable set last changed, and since when it has
// been changing. Fed with every fresh snapshot of the set and the caller's
// `now`; reads no clock. Not thread-safe; owned by one actor.
class stability {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit stability(const downing_settings& s);

  // The unreachable set as of `now`. A different set restarts the
  // stable_after wait; the first change after a calm period starts the
  // instability clock; an empty set (everyone reachable again) ends it.
  void observe(const std::set<member_id>& unreachable, time_point now);

  // A non-empty set unchanged for stable_after: time for keep_majority.
  [[nodiscard]] bool stable(time_point now) const;

  // down-all-when-unstable is on, the set is not stable, and it has been
  // changing for stable_after + down_all_after.
  [[nodiscard]] bool unstable_too_long(time_point now) const;

  // The verdict was acted on: the instability clock starts again from the
  // next change (Akka resets its change statistics the same way).
  void decided();

  [[nodiscard]] const std::set<member_id>& unreachable() const { return last_set_; }
  [[nodiscard]] uint64_t changes() const { return changes_; }

 private:
  downing_settings settings_;
  std::set<member_id> last_set_;
  time_point last_change_{};
  time_point first_change_{};
  uint64_t changes_ = 0;  // since the last calm period or decision
};

// The whole rule at `now`: down_all when unstable too long, keep_majority
// once stable, else wait. `in.unreachable` must be the set last given to
// `st.observe` (asserted), so the verdict is about the set that was stable.
[[nodiscard]] downing_decision decide_downing(const downing_input& in, const stability& st,
                                              stability::time_point now);

}  // namespace agentgraph::cluster
