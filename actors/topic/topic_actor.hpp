// A node's topic actor (topic_interface.hpp): spawned once per Runtime, with
// the node's subscriptions. Works alone on one node; in a cluster the glue
// (actors/host/cluster/cluster_messaging.hpp) feeds it routes to other
// nodes' topic actors and the cluster's message_timeout.
#pragma once

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/timespan.hpp>

#include "actors/topic/topic_interface.hpp"
#include "actors/topic/topic_subscriptions.hpp"
#include "runtime/metrics/registry.hpp"

namespace agentgraph {

struct topic_actor_config {
  std::shared_ptr<const topic_subscriptions> subscriptions;  // required
  // Where the agentgraph_topic_* counters go; null: nowhere.
  std::shared_ptr<metrics::registry> registry;
  // Deadline of a delivery to another node until the cluster's
  // message_timeout arrives (cluster_config's default).
  caf::timespan message_timeout{std::chrono::seconds{60}};
};

// The task a subscriber gets for `m`: id "topic-<m.id>", input the message
// itself when it is a string (else its JSON), context {"topic", "message"}.
[[nodiscard]] task_request topic_task(const topic_message& m);

[[nodiscard]] topic_actor spawn_topic_actor(caf::actor_system& sys, topic_actor_config cfg);

}  // namespace agentgraph
