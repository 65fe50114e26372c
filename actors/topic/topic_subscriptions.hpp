// Which agents of this node subscribe to which topics, and the bounds of
// the topic machinery. The builder fills it as it adds agents ([agent.x]
// subscribe); the topic actor reads it per message; the cluster glue reads
// its topics to offer them in the directory.
//
// Thread-safe (a mutex): written from setup code, read by actors.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "actors/agent/agent_interface.hpp"
#include "actors/topic/topic_interface.hpp"
#include "runtime/supervised_ref.hpp"

namespace agentgraph {

// Bounds of one node's topics (named constants; tests pass smaller ones).
struct topic_limits {
  // Topics with local subscribers; one more subscribe is refused.
  uint32_t topics_max = 256;
  // Agents subscribed to one topic on this node; one more is refused.
  uint32_t subscribers_per_topic_max = 64;
  // A message's JSON text; a larger publish, or a peer's delivery, is
  // refused with limit_exceeded.
  uint32_t message_bytes_max = 64 * 1024;
  // Messages sent to one other node and not yet answered; a publish past
  // it skips that node (dropped, node_queue) and says so in its receipt.
  uint32_t node_queue_max = 64;
  // Tasks handed to local subscribers and not yet answered; past it a
  // message is dropped for that subscriber (overloaded).
  uint32_t local_in_flight_max = 1024;
  // (topic, node) routes to other nodes this node keeps.
  uint32_t routes_max = 8192;
  // Other nodes' topic actors this node accepts deliveries from.
  uint32_t peers_max = 1024;
};

struct topic_subscriber {
  std::string agent;
  dep<agent_actor> handle;
  std::chrono::milliseconds deadline{0};  // of the task a message becomes
};

class topic_subscriptions {
 public:
  explicit topic_subscriptions(topic_limits limits = {}) : limits_(limits) {}

  // Errors: invalid_argument (bad topic name, agent already subscribed),
  // limit_exceeded (topics_max, subscribers_per_topic_max).
  [[nodiscard]] caf::error subscribe(const std::string& topic, topic_subscriber s);
  [[nodiscard]] std::vector<topic_subscriber> of(const std::string& topic) const;
  // Topics with at least one subscriber, in name order.
  [[nodiscard]] std::vector<std::string> topics() const;
  [[nodiscard]] const topic_limits& limits() const { return limits_; }

 private:
  const topic_limits limits_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<topic_subscriber>> by_topic_;  // guarded by mu_
};

}  // namespace agentgraph
