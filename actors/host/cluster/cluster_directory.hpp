// Joins a Runtime to its node's cluster directory (net/cluster DESIGN.md
// §8.1, §8.2), so an agent on node A calls a tool on node B and recalls
// from a shard on node C through the same refs, typed interfaces,
// deadlines and errors as locally:
//   * every component built here is offered to the cluster (dir_put), and
//     again after each restart (the ref's observer); a component whose
//     supervisor gave up is withdrawn (dir_drop);
//   * every component placed on another node (Runtime::remote) is a ref
//     that follows the directory: the handle its node offers, or down with
//     the reason (its node went down, left, or withdrew it), so new calls
//     get `unavailable` at once;
//   * when the cluster downs a member whose connection may still be up,
//     every local actor with calls in flight to that node fails them at
//     once (call_watch's node_down_group); a dead connection already does
//     that through CAF's proxies.
#pragma once

#include <caf/error.hpp>
#include <caf/timespan.hpp>

#include "actors/host/runtime.hpp"
#include "net/cluster/cluster_interface.hpp"

namespace agentgraph {

//   * agents on every node become instances the runtime's groups route
//     over (Runtime::instances), with the load each node reported in its
//     last heartbeat, read every `load_poll`.
// Call once per runtime, from setup code, after the node actor started
// (it asks the node's status, blocking). The directory glue stops when the
// node actor does. Errors: invalid_argument (no node, load_poll <= 0), the
// node's status error.
[[nodiscard]] caf::error attach_cluster_directory(Runtime& rt, const cluster::node_actor& node,
                                                  caf::timespan load_poll);

}  // namespace agentgraph
