// An agent group: several agents behind one agent_actor handle, so clients,
// the gateway and workflows address "support" and a router picks the
// member (ARCHITECTURE §4: client -> router -> agent). In a cluster a
// member name stands for every instance of that agent on any node
// (group_instances.hpp); alone, for the member's own ref. The router counts
// the tasks it has in flight on each instance:
//   round_robin      instances in turn
//   least_loaded     the fewest of this router's tasks in flight plus the
//                    tasks in flight its node reported in its last
//                    heartbeat (ties: this node's, then the earliest)
//   consistent_hash  sticky by key: the task's context "session" (a
//                    string), else its task id; rendezvous hashing, so a
//                    key moves only when its instance comes or goes
// A member that answers `overloaded` gets the task offered to the next
// instance, each at most once per task; so does an instance on another
// node that went away with the task (re-dispatch within the task's one
// deadline: the task may run twice, the router answers once; a streamed
// task streams again from the start). Other errors go to the caller
// unchanged (the task may have had effects).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/agent/agent_interface.hpp"
#include "runtime/supervised_ref.hpp"

namespace agentgraph {

class group_instances;  // group_instances.hpp

enum class group_strategy : uint8_t { round_robin, least_loaded, consistent_hash };
[[nodiscard]] const char* to_string(group_strategy s);

constexpr size_t agent_group_members_max = 256;
// Tasks in flight through one router; one more is `overloaded`.
constexpr size_t agent_group_tasks_max = 4096;

struct group_config {
  std::string name;
  std::vector<std::string> agents;  // members, by agent name
  group_strategy strategy = group_strategy::least_loaded;
  // Deadline of a task on a member; the Runtime sets it from the members'.
  std::chrono::milliseconds task_timeout{300'000};
};

struct group_member {
  std::string name;
  dep<agent_actor> handle;  // .get(): the member's current incarnation
  uint64_t in_flight = 0;
  uint64_t sent = 0;
};

// Errors: invalid_argument (no members, too many, an invalid handle).
// `instances`: the members' instances across a cluster; null or empty for
// a member: its own ref.
[[nodiscard]] caf::expected<agent_actor> spawn_agent_group(
  caf::actor_system& sys, group_config cfg, std::vector<group_member> members,
  std::shared_ptr<const group_instances> instances = nullptr);

// The instance a consistent_hash router picks for `key` among `keys` (the
// instances' "member@node" names) not yet tried: the highest rendezvous
// score; -1 when all were tried. Exposed for tests.
[[nodiscard]] int rendezvous_pick(const std::string& key, const std::vector<std::string>& keys,
                                  const std::vector<bool>& tried);

}  // namespace agentgraph
