// The gossip view of the cluster (design §5.1): one record per member
// incarnation, reachability observations, and who has seen this view. Each
// node holds one; gossip merges them. Pure: versions, never times.
//
// The merge is a join in a semilattice, so gossip converges whatever the
// order, duplication or grouping of messages (tests check commutativity,
// associativity and idempotence over generated views):
// - records, per member_id: the higher state precedence (removed > down >
//   exiting > leaving > up > joining), then the higher version;
// - incarnations: for one name the largest uid is the current incarnation
//   (member.hpp, next_uid); every other live uid of that name becomes a
//   bare `down` record (version 0, no url: the lowest down, see the .cpp).
//   An older uid that is removed is folded into `retired` (name -> every
//   uid below this is removed), and records below it are dropped, so a
//   node that restarts a hundred times leaves one tombstone, not a hundred;
// - reachability, per (observer, subject): the higher version; on equal
//   versions "unreachable" wins, the cautious answer. Observations that
//   involve a removed member are dropped;
// - seen: the union of the seen sets of the inputs whose content equals
//   the merged content; a merge that produced something new starts with
//   nobody (the caller then marks itself).
//
// Reachable: no live observer reports the member unreachable. Converged:
// every reachable up/leaving member is in `seen`, and every unreachable
// member is down or exiting (Akka's rule: an unreachable up member stops
// the leader until it is downed). Leader: the lowest reachable up/leaving
// member (the lowest reachable joining one while nobody is up, so the first
// seed can promote itself). Only the leader, and only on convergence, moves
// joining -> up, leaving -> exiting, exiting -> removed, down -> removed.
//
// Bounds (refused with errc::limit_exceeded, the view unchanged):
// members_max records that are not removed, tombstones_max removed ones
// (one per node name that left and never came back), members_max^2
// observations. Not thread-safe; owned by one actor.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include "runtime/cluster/downing.hpp"
#include "runtime/cluster/member.hpp"

namespace agentgraph::cluster {

// One observer's verdict about one subject; the observer bumps `version`
// each time its verdict changes.
struct reachability_obs {
  member_id observer;
  member_id subject;
  bool reachable = true;
  uint64_t version = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reachability_obs& x) {
  return f(caf::meta::type_name("agentgraph::cluster::reachability_obs"), x.observer, x.subject,
           x.reachable, x.version);
}

struct view_settings {
  size_t members_max = 32;     // records not removed; design §5.6 `members_max`
  size_t tombstones_max = 64;  // removed records (names that left for good)
};

// Upper bound on both settings: observations grow with members_max^2.
constexpr size_t view_members_limit = 1000;

[[nodiscard]] caf::error validate(const view_settings& s);

// What travels in gossip: the view's content plus its seen set. Arbitrary
// (network) input is accepted by membership_view::assemble, which checks it.
struct view_parts {
  std::vector<member_record> members;
  std::vector<reachability_obs> reach;
  std::vector<member_id> seen;
  std::map<std::string, uint64_t> retired;
};

class membership_view {
 public:
  using obs_key = std::pair<member_id, member_id>;  // (observer, subject)
  struct obs_value {
    bool reachable = true;
    uint64_t version = 0;
  };

  // An empty view; refuses bad settings.
  [[nodiscard]] static caf::expected<membership_view> make(const view_settings& s);

  // A view from gossip parts (duplicates are merged as records are); any
  // bound exceeded is an error, never an assertion: this is network input.
  [[nodiscard]] static caf::expected<membership_view> assemble(const view_settings& s,
                                                               const view_parts& parts);
  [[nodiscard]] view_parts parts() const;

  // Admission: adds `r` (state joining). Already present: no change. Errors:
  // invalid_argument (not joining), conflict (its name has a newer
  // incarnation, or its uid is retired), limit_exceeded (members_max).
  [[nodiscard]] caf::error add_joining(const member_record& r);

  // The member itself (leaving) or the leader moves a record forward;
  // bumps its version. Errors: not_found, invalid_argument (not forward),
  // limit_exceeded (a move to removed past tombstones_max).
  [[nodiscard]] caf::error set_state(const member_id& id, member_state to);

  // `observer`'s verdict about `subject`; a change bumps the pair's version.
  // Error limit_exceeded past members_max^2 pairs.
  [[nodiscard]] caf::error observe(const member_id& observer, const member_id& subject,
                                   bool reachable);

  // This view joined with `other`; on error (a bound) this view is unchanged.
  [[nodiscard]] caf::error merge(const membership_view& other);

  // `id` has seen the current content.
  void mark_seen(const member_id& id);

  [[nodiscard]] bool reachable(const member_id& id) const;
  [[nodiscard]] bool converged() const;
  [[nodiscard]] std::optional<member_id> leader() const;

  // If `self` is the leader and the view converged, applies the leader's
  // moves (each bumps the record's version; `seen` restarts with self) and
  // returns the changed records; otherwise changes nothing.
  std::vector<member_record> leader_actions(const member_id& self);

  // keep-majority's input as `self` sees it: counted = up/leaving records;
  // unreachable = counted members that self observes unreachable, or that
  // an observer self still reaches observes unreachable (verdicts of
  // members self cannot hear are stale and ignored). proven_dead is the
  // node's own knowledge (refused reconnects), left empty here.
  [[nodiscard]] downing_input downing_input_for(const member_id& self) const;

  [[nodiscard]] const member_record* find(const member_id& id) const;
  [[nodiscard]] const std::map<member_id, member_record>& records() const { return records_; }
  [[nodiscard]] const std::map<obs_key, obs_value>& observations() const { return reach_; }
  [[nodiscard]] const std::set<member_id>& seen() const { return seen_; }
  [[nodiscard]] const std::map<std::string, uint64_t>& retired() const { return retired_; }
  [[nodiscard]] const view_settings& settings() const { return settings_; }

  // Same records, observations and retired uids (seen is not content).
  [[nodiscard]] bool same_content(const membership_view& other) const;
  // Same content and same seen set.
  friend bool operator==(const membership_view& a, const membership_view& b);

 private:
  explicit membership_view(const view_settings& s) : settings_(s) {}
  void put_record(const member_record& r);
  void put_observation(const obs_key& k, const obs_value& v);
  void normalize();
  [[nodiscard]] caf::error check_bounds() const;
  [[nodiscard]] bool live_observer(const member_id& id) const;
  [[nodiscard]] std::set<member_id> unreachable_members() const;

  view_settings settings_;
  std::map<member_id, member_record> records_;
  std::map<obs_key, obs_value> reach_;
  std::set<member_id> seen_;
  std::map<std::string, uint64_t> retired_;  // name -> uids below are removed
};

}  // namespace agentgraph::cluster
