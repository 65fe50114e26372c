// Joins a Runtime's topics and collaboration settings to its node's
// cluster (net/cluster DESIGN.md §8.5, §8.6):
//   * the node's topic actor is offered in the directory as `topic/*` (it
//     may deliver to other nodes' topic actors) and once per topic with a
//     local subscriber as `topic/<name>`; other nodes' topic entries become
//     the topic actor's routes, so a publish sends ONE message to each node
//     that lists the topic;
//   * the cluster's message_timeout (the seed's, from every membership
//     event) becomes the deadline of topic deliveries to other nodes and
//     the bound of agent groups' tasks on other nodes' instances.
// Kept apart from cluster_directory.cpp (components and refs) so each glue
// stays one concern; both follow the same node actor.
#pragma once

#include <caf/error.hpp>

#include <memory>

#include "actors/agent/group_instances.hpp"
#include "actors/host/runtime.hpp"
#include "actors/topic/topic_subscriptions.hpp"
#include "net/cluster/cluster_interface.hpp"

namespace agentgraph {

// Call once per runtime, from setup code, after the node actor started and
// every agent was added (subscriptions are read once, here). Stops when the
// node actor does. Errors: invalid_argument (no node).
[[nodiscard]] caf::error attach_cluster_messaging(Runtime& rt, const cluster::node_actor& node);

// The same from its parts (tests run it on actor systems without a
// Runtime): `topics` is offered with the topics of `subs`; `instances` gets
// the cluster's message_timeout.
[[nodiscard]] caf::error attach_cluster_messaging(caf::actor_system& sys,
                                                  const cluster::node_actor& node,
                                                  const topic_actor& topics,
                                                  const topic_subscriptions& subs,
                                                  std::shared_ptr<group_instances> instances);

}  // namespace agentgraph
