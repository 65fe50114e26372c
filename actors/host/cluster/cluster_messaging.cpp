#include "actors/host/cluster/cluster_messaging.hpp"

#include <map>
#include <string>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/agent/group_instances.hpp"
#include "actors/topic/topic_subscriptions.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph {

namespace cluster_messaging_detail {

using glue_actor = cluster::directory_sink::extend_with<cluster::member_event_sink>;
using key = std::pair<std::string, std::string>;  // (topic, node name)

struct glue_state {
  static inline const char* name = "cluster_messaging";
  // First, not a handle: CAF would construct a state whose first member
  // takes the actor's own pointer (aggregate init) from that pointer.
  // The incarnation whose route is held: an older one's late removal must
  // not drop the new one's (bounded by the directory's entries).
  std::map<key, uint64_t> route_uids;
  topic_actor topics;
  std::shared_ptr<group_instances> instances;
  std::vector<std::string> topic_ifs;
  caf::timespan message_timeout{};
};

using glue_self = glue_actor::stateful_pointer<glue_state>;

void on_dir_event(glue_self self, cluster::dir_event& e) {
  auto& st = self->state;
  if (e.entry.kind != "topic")
    return;
  const key k{e.entry.name, e.owner.name};
  auto it = st.route_uids.find(k);
  if (e.present) {
    if (e.entry.ifs != st.topic_ifs) {
      log(log_severity::warn, "cluster",
          "a node offers a topic actor with another interface (another agentgraph build?); "
          "not used",
          {{"topic", e.entry.name}, {"node", to_string(e.owner)}});
      return;
    }
    if (it != st.route_uids.end() && it->second > e.owner.uid)
      return;  // a late event of an older incarnation
    st.route_uids[k] = e.owner.uid;
  } else {
    if (it == st.route_uids.end() || it->second != e.owner.uid)
      return;
    st.route_uids.erase(it);
  }
  self->send(st.topics, topic_route_atom::value,
             topic_route{e.entry.name, e.owner.name, e.entry.handle, e.present});
}

void on_member_event(glue_self self, const cluster::member_event& e) {
  auto& st = self->state;
  const auto t = e.collab.message_timeout;
  if (t <= caf::timespan{0} || t == st.message_timeout)
    return;
  st.message_timeout = t;
  self->send(st.topics, topic_timeout_atom::value, t);
  st.instances->set_remote_timeout(std::chrono::duration_cast<std::chrono::milliseconds>(t));
  log(log_severity::info, "cluster", "message_timeout of the cluster in use",
      {{"ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(t).count())},
       {"origin", to_string(e.collab.origin)}});
}

glue_actor::behavior_type glue(glue_self self, cluster::node_actor node, topic_actor topics,
                               std::shared_ptr<group_instances> instances) {
  auto& st = self->state;
  st.topics = std::move(topics);
  st.instances = std::move(instances);
  const auto ifs = self->system().message_types<topic_actor>();
  st.topic_ifs.assign(ifs.begin(), ifs.end());
  self->monitor(node);
  self->set_down_handler([self](caf::down_msg&) {
    // The node left: every route goes with it (the routes only ever name
    // other members' topic actors).
    for (const auto& [k, uid] : self->state.route_uids)
      self->send(self->state.topics, topic_route_atom::value,
                 topic_route{k.first, k.second, nullptr, false});
    self->quit();
  });
  self->send(node, cluster::dir_sub_atom::value, caf::actor_cast<cluster::directory_sink>(self));
  self->send(node, cluster::member_sub_atom::value,
             caf::actor_cast<cluster::member_event_sink>(self));
  return {
      [self](cluster::dir_event_atom, cluster::dir_event& e) { on_dir_event(self, e); },
      [self](cluster::member_event_atom, cluster::member_event& e) { on_member_event(self, e); },
  };
}

}  // namespace cluster_messaging_detail

caf::error attach_cluster_messaging(caf::actor_system& sys, const cluster::node_actor& node,
                                    const topic_actor& topics, const topic_subscriptions& subs,
                                    std::shared_ptr<group_instances> instances) {
  using namespace cluster_messaging_detail;
  if (!node || !topics || !instances)
    return make_error(errc::invalid_argument, "cluster messaging: no node, topic actor or instances");
  auto g = sys.spawn(glue, node, topics, std::move(instances));
  // Offered once: subscriptions are fixed when the agents are built. The
  // node actor keeps them across its incarnations.
  const auto ifs = sys.message_types<topic_actor>();
  const std::vector<std::string> topic_ifs(ifs.begin(), ifs.end());
  auto offer = [&](const std::string& name) {
    caf::send_as(g, node, cluster::dir_put_atom::value,
                 cluster::dir_entry{"topic", name, caf::actor_cast<caf::actor>(topics),
                                    topic_ifs});
  };
  offer("*");
  const auto names = subs.topics();
  for (const auto& t : names)
    offer(t);
  log(log_severity::info, "cluster", "topics attached",
      {{"topics_offered", std::to_string(names.size())}});
  return {};
}

caf::error attach_cluster_messaging(Runtime& rt, const cluster::node_actor& node) {
  return attach_cluster_messaging(rt.system(), node, rt.topics(), *rt.subscriptions(),
                                  rt.instances());
}

}  // namespace agentgraph
