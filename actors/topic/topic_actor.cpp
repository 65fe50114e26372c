// The topic actor: local fan-out to subscribed agents, one message per
// other node that lists the topic, bounded queues, and checks on what
// peers send (a peer is any node this node's directory lists a topic actor
// for; its messages are checked for topic name, size and subscribers before
// anything runs).
#include "actors/topic/topic_actor.hpp"

#include <map>
#include <set>

#include <caf/actor_cast.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

namespace topic_actor_detail {

// A message id is the publisher's address and a sequence number.
constexpr size_t message_id_bytes_max = 256;

struct topic_counters {
  metrics::counter* published = nullptr;
  metrics::counter* sent = nullptr;
  metrics::counter* received = nullptr;
  metrics::counter* delivered = nullptr;
  std::map<std::string, metrics::counter*> dropped;  // by reason, fixed at start
};

struct topic_state {
  static inline const char* name = "topics";
  topic_actor_config cfg;
  topic_stats stats;
  topic_counters metrics;
  uint64_t seq = 0;
  std::string address;  // of this actor, the first half of message ids
  // topic -> node name -> that node's topic actor (bounded by routes_max).
  std::map<std::string, std::map<std::string, caf::actor>> routes;
  size_t route_count = 0;
  // Nodes whose topic actors may deliver here: CAF node -> member name.
  std::map<caf::node_id, std::string> peers;
  std::map<std::string, uint32_t> node_in_flight;  // by member name, <= node_queue_max
  uint32_t local_in_flight = 0;                    // <= local_in_flight_max
};

using self_ptr = topic_actor::stateful_pointer<topic_state>;

void drop(self_ptr self, const char* reason, uint64_t topic_stats::*field) {
  auto& st = self->state;
  ++st.stats.dropped;
  ++(st.stats.*field);
  metrics::inc(st.metrics.dropped[reason]);
}

topic_counters make_counters(metrics::registry* r) {
  topic_counters c;
  c.published = metrics::counter_of(r, "agentgraph_topic_published_total",
                                    "Messages published on this node's topics.", {}, {});
  c.sent = metrics::counter_of(r, "agentgraph_topic_sent_total",
                               "Topic messages sent to other nodes (one per node per publish).",
                               {}, {});
  c.received = metrics::counter_of(r, "agentgraph_topic_received_total",
                                   "Topic messages accepted from other nodes.", {}, {});
  c.delivered = metrics::counter_of(r, "agentgraph_topic_delivered_total",
                                    "Topic messages a local subscriber completed as a task.", {},
                                    {});
  for (const char* reason : {"overloaded", "node_queue", "timeout", "failed", "refused"})
    c.dropped[reason] = metrics::counter_of(
        r, "agentgraph_topic_dropped_total",
        "Topic messages dropped, by reason: overloaded (a subscriber or the local bound), "
        "node_queue (a node's queue full), timeout (a node silent for message_timeout), "
        "failed (a subscriber's task failed or a node refused), refused (a peer's message "
        "refused here).",
        {"reason"}, {reason});
  return c;
}

// Hands `m` to every local subscriber of its topic as a task; returns how
// many got it. The tasks' answers are counted, not kept.
uint32_t deliver_local(self_ptr self, const topic_message& m) {
  auto& st = self->state;
  uint32_t handed = 0;
  for (auto& sub : st.cfg.subscriptions->of(m.topic)) {
    auto agent = sub.handle.get();
    if (!agent) {
      drop(self, "failed", &topic_stats::dropped_failed);
      continue;
    }
    if (st.local_in_flight >= st.cfg.subscriptions->limits().local_in_flight_max) {
      drop(self, "overloaded", &topic_stats::dropped_overloaded);
      continue;
    }
    ++st.local_in_flight;
    ++handed;
    auto done = [self] {
      AG_ASSERT(self->state.local_in_flight > 0);
      --self->state.local_in_flight;
    };
    self->request(agent, sub.deadline, execute_atom::value, topic_task(m))
        .then(
            [self, done](task_result&) {
              done();
              ++self->state.stats.delivered;
              metrics::inc(self->state.metrics.delivered);
            },
            [self, done, agent = sub.agent, topic = m.topic](caf::error& err) {
              done();
              const bool full = errc_of(err) == errc::overloaded;
              drop(self, full ? "overloaded" : "failed",
                   full ? &topic_stats::dropped_overloaded : &topic_stats::dropped_failed);
              log(log_severity::warn, "topics", "subscriber did not take a message",
                  {{"topic", topic}, {"agent", agent}, {"error", describe(err)}});
            });
  }
  return handed;
}

// One message to each other node that lists the topic, within its queue.
void send_remote(self_ptr self, const topic_message& m, publish_receipt& r) {
  auto& st = self->state;
  auto it = st.routes.find(m.topic);
  if (it == st.routes.end())
    return;
  for (const auto& route : it->second) {
    const std::string node = route.first;
    const caf::actor handle = route.second;
    auto& q = st.node_in_flight[node];
    if (q >= st.cfg.subscriptions->limits().node_queue_max) {
      ++r.nodes_overloaded;
      drop(self, "node_queue", &topic_stats::dropped_node_queue);
      continue;
    }
    ++q;
    ++r.nodes;
    ++st.stats.sent;
    metrics::inc(st.metrics.sent);
    auto done = [self, node] {
      auto& st = self->state;
      auto q = st.node_in_flight.find(node);
      AG_ASSERT(q != st.node_in_flight.end() && q->second > 0);
      if (--q->second == 0)
        st.node_in_flight.erase(q);
    };
    self->request(caf::actor_cast<topic_actor>(handle), st.cfg.message_timeout,
                  topic_deliver_atom::value, m)
        .then([done](uint32_t) { done(); },
              [self, done, node, topic = m.topic](caf::error& err) {
                done();
                const bool late = err == caf::sec::request_timeout;
                drop(self, late ? "timeout" : "failed",
                     late ? &topic_stats::dropped_timeout : &topic_stats::dropped_failed);
                log(log_severity::warn, "topics", "a node did not take a topic message",
                    {{"topic", topic}, {"node", node}, {"error", describe(err)}});
              });
  }
}

caf::error check_message(self_ptr self, const std::string& topic, const Value& message) {
  if (auto err = check_topic_name(topic))
    return err;
  // An agent refuses an empty task input, and a string message is the
  // input as it is: refused here, before it is counted and fanned out.
  if (message.is_string() && message.as_string().empty())
    return make_error(errc::invalid_argument,
                      "topic '" + topic + "': an empty message (no subscriber could take it)");
  const auto max = self->state.cfg.subscriptions->limits().message_bytes_max;
  if (const auto bytes = message.to_json().size(); bytes > max)
    return make_error(errc::limit_exceeded, "topic '" + topic + "': message of " +
                                                std::to_string(bytes) + " bytes, more than " +
                                                std::to_string(max));
  return {};
}

caf::result<publish_receipt> on_publish(self_ptr self, std::string& topic, Value& message) {
  auto& st = self->state;
  if (auto err = check_message(self, topic, message))
    return err;
  topic_message m{std::move(topic), std::move(message),
                  st.address + "-" + std::to_string(++st.seq)};
  ++st.stats.published;
  metrics::inc(st.metrics.published);
  publish_receipt r{m.topic, m.id, 0, 0, 0};
  r.subscribers_local = deliver_local(self, m);
  send_remote(self, m, r);
  return r;
}

caf::result<uint32_t> on_deliver(self_ptr self, topic_message& m) {
  auto& st = self->state;
  const auto& sender = self->current_sender();
  auto refuse = [&](caf::error err) -> caf::result<uint32_t> {
    ++st.stats.refused;
    metrics::inc(st.metrics.dropped["refused"]);
    return err;
  };
  if (!sender || sender->node() == self->node() || !st.peers.contains(sender->node()))
    return refuse(make_error(errc::unauthorized, "topics: not a known node's topic actor"));
  if (m.id.empty() || m.id.size() > message_id_bytes_max)
    return refuse(make_error(errc::invalid_argument, "topics: bad message id"));
  if (auto err = check_message(self, m.topic, m.message))
    return refuse(std::move(err));
  if (st.cfg.subscriptions->of(m.topic).empty())
    return refuse(make_error(errc::not_found, "topics: no subscriber of '" + m.topic + "' here"));
  ++st.stats.received;
  metrics::inc(st.metrics.received);
  return deliver_local(self, m);
}

void on_route(self_ptr self, topic_route& r) {
  auto& st = self->state;
  const auto& sender = self->current_sender();
  if (!sender || sender->node() != self->node())
    return;  // local only: the glue
  const auto& limits = st.cfg.subscriptions->limits();
  const bool remote_handle = r.handle && r.handle.node() != self->node();
  if (r.topic == "*") {
    // Keyed by CAF node, removed by member name: a member's new incarnation
    // (another CAF node) replaces the old one's entry, so no entry outlives
    // the removal that names its member.
    std::erase_if(st.peers, [&](const auto& kv) { return kv.second == r.node; });
    if (!r.present || !remote_handle)
      return;
    if (st.peers.size() >= limits.peers_max) {
      log(log_severity::warn, "topics",
          "a node's topic actor not accepted as a peer: peers_max reached; its messages are "
          "refused",
          {{"node", r.node}, {"peers_max", std::to_string(limits.peers_max)}});
      return;
    }
    st.peers[r.handle.node()] = r.node;
    return;
  }
  if (check_topic_name(r.topic))
    return;
  if (!r.present) {
    auto it = st.routes.find(r.topic);
    if (it != st.routes.end() && it->second.erase(r.node) > 0) {
      --st.route_count;
      if (it->second.empty())
        st.routes.erase(it);
    }
    return;
  }
  if (!remote_handle)
    return;
  auto& nodes = st.routes[r.topic];
  auto [it, fresh] = nodes.try_emplace(r.node, r.handle);
  if (!fresh) {
    it->second = r.handle;
    return;
  }
  if (st.route_count >= limits.routes_max) {
    nodes.erase(it);
    if (nodes.empty())
      st.routes.erase(r.topic);
    log(log_severity::warn, "topics", "route to another node not kept: routes_max reached",
        {{"topic", r.topic}, {"node", r.node}});
    return;
  }
  ++st.route_count;
}

}  // namespace topic_actor_detail

task_request topic_task(const topic_message& m) {
  Value context = Value::object();
  context["topic"] = Value{m.topic};
  context["message"] = m.message;
  std::string input = m.message.is_string() ? m.message.as_string() : m.message.to_json();
  return task_request{"topic-" + m.id, std::move(input), std::move(context)};
}

topic_actor spawn_topic_actor(caf::actor_system& sys, topic_actor_config cfg) {
  using namespace topic_actor_detail;
  AG_ASSERT(cfg.subscriptions != nullptr);
  return sys.spawn([cfg = std::move(cfg)](self_ptr self) mutable -> topic_actor::behavior_type {
    auto& st = self->state;
    st.metrics = make_counters(cfg.registry.get());
    st.cfg = std::move(cfg);
    st.address = caf::to_string(self->address());
    return {
        [self](topic_publish_atom, std::string& topic, Value& message) {
          return on_publish(self, topic, message);
        },
        [self](topic_deliver_atom, topic_message& m) { return on_deliver(self, m); },
        [self](topic_route_atom, topic_route& r) { on_route(self, r); },
        [self](topic_timeout_atom, caf::timespan t) {
          const auto& sender = self->current_sender();
          if (sender && sender->node() == self->node() && t > caf::timespan{0})
            self->state.cfg.message_timeout = t;
        },
        [self](stats_atom) {
          auto s = self->state.stats;
          s.topics = static_cast<uint32_t>(self->state.cfg.subscriptions->topics().size());
          s.routes = static_cast<uint32_t>(self->state.route_count);
          return s;
        },
        [](ping_atom) { return pong_atom::value; },
    };
  });
}

}  // namespace agentgraph
