// The typed interface of a node's topic actor (net/cluster DESIGN.md §8.6):
// publish/subscribe that reaches subscribed agents on every node. Each node
// runs one topic actor; its agents subscribe by config ([agent.x]
// subscribe). A publish hands the message to this node's subscribers and
// sends ONE message to each other node whose directory lists the topic;
// that node's topic actor hands it to its own subscribers. A subscriber
// gets a message as a task (topic_task below).
#pragma once

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common_atoms.hpp"
#include "runtime/heartbeat.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

using topic_publish_atom = caf::atom_constant<caf::atom("ag_tpub")>;
using topic_deliver_atom = caf::atom_constant<caf::atom("ag_tdeliv")>;
using topic_route_atom = caf::atom_constant<caf::atom("ag_troute")>;
using topic_peer_atom = caf::atom_constant<caf::atom("ag_tpeer")>;
using topic_timeout_atom = caf::atom_constant<caf::atom("ag_ttime")>;

// One message on a topic, as it travels between nodes.
struct topic_message {
  std::string topic;
  Value message;
  // Unique per publish in the cluster: the publishing topic actor's
  // address and its sequence number. Subscribers' task ids are made of it.
  std::string id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, topic_message& x) {
  return f(caf::meta::type_name("agentgraph::topic_message"), x.topic, x.message, x.id);
}

// What a publish did on this node: the local subscribers it was handed to,
// the other nodes it was sent to (one message each) and those skipped
// because their queue was full (overloaded).
struct publish_receipt {
  std::string topic;
  std::string id;
  uint32_t subscribers_local = 0;
  uint32_t nodes = 0;
  uint32_t nodes_overloaded = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, publish_receipt& x) {
  return f(caf::meta::type_name("agentgraph::publish_receipt"), x.topic, x.id,
           x.subscribers_local, x.nodes, x.nodes_overloaded);
}

// Where a topic has subscribers on another node (the cluster glue tells the
// topic actor from the directory's `topic` entries). present = false: no
// longer. `topic` "*" with a handle: that node runs a topic actor and may
// deliver to this one (no route).
struct topic_route {
  std::string topic;
  std::string node;  // the cluster member name
  caf::actor handle;  // that node's topic actor
  bool present = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, topic_route& x) {
  return f(caf::meta::type_name("agentgraph::topic_route"), x.topic, x.node, x.handle,
           x.present);
}

// Counters of one topic actor since it started (the metrics are the same
// figures, summed over the process).
struct topic_stats {
  uint64_t published = 0;      // publishes accepted on this node
  uint64_t sent = 0;           // messages sent to other nodes (one per node per publish)
  uint64_t received = 0;       // messages accepted from other nodes
  uint64_t delivered = 0;      // tasks a local subscriber completed
  uint64_t dropped = 0;        // every drop below, summed
  uint64_t dropped_overloaded = 0;  // a subscriber, or this actor's local bound, was full
  uint64_t dropped_node_queue = 0;  // a node's queue was full
  uint64_t dropped_timeout = 0;     // a node did not answer within message_timeout
  uint64_t dropped_failed = 0;      // a subscriber's task failed, or a node refused
  uint64_t refused = 0;        // deliveries from peers refused (unknown node, bad, oversize)
  uint32_t topics = 0;         // topics with local subscribers
  uint32_t routes = 0;         // (topic, node) pairs known on other nodes
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, topic_stats& x) {
  return f(caf::meta::type_name("agentgraph::topic_stats"), x.published, x.sent, x.received,
           x.delivered, x.dropped, x.dropped_overloaded, x.dropped_node_queue, x.dropped_timeout,
           x.dropped_failed, x.refused, x.topics, x.routes);
}

// Topic names: 1-64 of [a-z0-9_.-]. Errors: invalid_argument naming it.
[[nodiscard]] caf::error check_topic_name(const std::string& topic);

// {"topic","id","subscribers_local","nodes","nodes_overloaded"}: what the
// gateway and the publish tool answer.
[[nodiscard]] Value publish_receipt_json(const publish_receipt& r);

using topic_actor = caf::typed_actor<
    // Local (the gateway, the publish tool, runtime_client): publish to
    // every subscriber of the topic in the cluster. Reply: what was done
    // (it does not wait for the subscribers). Errors: invalid_argument (bad
    // topic name), limit_exceeded (message larger than message_bytes_max).
    caf::replies_to<topic_publish_atom, std::string, Value>::with<publish_receipt>,
    // From another node's topic actor: hand the message to this node's
    // subscribers only. Reply: how many. Errors: unauthorized (the sender's
    // node runs no topic actor this node knows), invalid_argument,
    // limit_exceeded, not_found (no subscriber here). Callers use the
    // cluster's message_timeout.
    caf::replies_to<topic_deliver_atom, topic_message>::with<uint32_t>,
    // Local (the cluster glue): routes to other nodes, and the deadline of
    // deliveries to them (the cluster's message_timeout).
    caf::reacts_to<topic_route_atom, topic_route>,
    caf::reacts_to<topic_timeout_atom, caf::timespan>,
    caf::replies_to<stats_atom>::with<topic_stats>,
    heartbeat_signature>;

}  // namespace agentgraph
