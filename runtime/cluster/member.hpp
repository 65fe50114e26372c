// Who is in the cluster: a member's identity (member_id), its life-cycle
// state (member_state) and the record the gossip view keeps per member
// (member_record). Akka Cluster's model, trimmed (design §4, §5.1).
//
// The types are plain values with a CAF `inspect`, so they can travel in
// gossip messages later. member_record has no actor handles yet: the node
// and directory handles arrive with the node actor (slice 2), and keeping
// them out here lets the gossip view stay pure and comparable.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <caf/meta/type_name.hpp>

namespace agentgraph::cluster {

// One incarnation of one node. `name` says which node ([cluster] node_id);
// `uid` says which start of it: a node that restarts or rejoins after being
// downed comes back with a new, larger uid (next_uid below), and its old
// uid is never up again.
struct member_id {
  std::string name;
  std::string host;   // advertised host of the node actor
  uint16_t port = 0;  // its port
  uint64_t uid = 0;   // the incarnation; larger is newer for the same name
};

// Total order by (host, port, uid): "the lowest address" that wins a tied
// split, as in Akka's split-brain resolver. `name` is compared last only so
// that the order agrees with == on every field; two ids that differ only in
// their name are a misconfiguration, and the order still has to be total for
// std::map and for every node to pick the same leader.
[[nodiscard]] std::strong_ordering operator<=>(const member_id& a, const member_id& b);
[[nodiscard]] bool operator==(const member_id& a, const member_id& b);

// "name@host:port#uid", for logs and errors.
[[nodiscard]] std::string to_string(const member_id& id);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_id& x) {
  return f(caf::meta::type_name("agentgraph::cluster::member_id"), x.name, x.host, x.port, x.uid);
}

// The uid of a new incarnation. The node reads its clock and draws random
// bits (this code reads neither) and passes them in: the start time in
// milliseconds since the epoch goes to the high bits, so a restarted process
// gets a larger uid than its previous run, and 22 random bits separate two
// starts in the same millisecond. A rejoin of the same process passes its
// previous uid, and the result is always larger than it. The gossip view
// relies on this: for one name, the largest uid is the current incarnation.
[[nodiscard]] uint64_t next_uid(uint64_t previous_uid, uint64_t start_ms, uint32_t random_bits);

// Akka's life cycle: joining -> up -> leaving -> exiting -> removed, and
// down -> removed. The numeric order is the merge precedence of §5.1
// (removed > down > exiting > leaving > up > joining): when two views
// disagree about one member, the later state in this list wins. "Suspect"
// is not a state; it is the reachability flag (membership_view.hpp).
enum class member_state : uint8_t { joining, up, leaving, exiting, down, removed };

constexpr member_state member_states[] = {member_state::joining, member_state::up,
                                          member_state::leaving, member_state::exiting,
                                          member_state::down,    member_state::removed};

[[nodiscard]] const char* to_string(member_state s);

// The word to_string prints, back to the state; nothing for any other word.
[[nodiscard]] std::optional<member_state> parse_member_state(std::string_view word);

// Merge precedence (§5.1): higher wins.
[[nodiscard]] constexpr uint8_t precedence(member_state s) {
  return static_cast<uint8_t>(s);
}

// A member that still takes part: not down and not removed.
[[nodiscard]] constexpr bool is_live(member_state s) {
  return s != member_state::down && s != member_state::removed;
}

// What the gossip view holds per member_id. Whoever changes a record (the
// leader, or the member itself for `leaving`) bumps `version`.
struct member_record {
  member_id id;
  member_state state = member_state::joining;
  uint64_t version = 0;
  int32_t pid = 0;           // for `cluster status` on one machine
  std::string url;           // the member's HTTP gateway (status, resubmission)
  uint64_t dir_version = 0;  // version of its directory table (design §8.1)
};

[[nodiscard]] bool operator==(const member_record& a, const member_record& b);

// Which of two records of the same member wins a merge: the higher state
// precedence, then the higher version, then (only for records that a
// misbehaving peer built with equal state and version) the larger
// (dir_version, url, pid), so that every node picks the same one.
[[nodiscard]] const member_record& newer_record(const member_record& a, const member_record& b);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_record& x) {
  return f(caf::meta::type_name("agentgraph::cluster::member_record"), x.id, x.state, x.version,
           x.pid, x.url, x.dir_version);
}

}  // namespace agentgraph::cluster
