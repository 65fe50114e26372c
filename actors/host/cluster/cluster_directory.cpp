#include "actors/host/cluster/cluster_directory.hpp"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/group.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/agent/group_instances.hpp"
#include "actors/population/population_nodes.hpp"
#include "actors/host/cluster/replica_table.hpp"
#include "actors/memory/memory_replica_interface.hpp"
#include "runtime/actor_timer.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/supervised_ref.hpp"

namespace agentgraph {

namespace cluster_directory_detail {

using feeder_actor = cluster::directory_sink::extend_with<cluster::member_event_sink>;
using key = std::pair<std::string, std::string>;  // (kind, name)

// A component placed on another node, and who offers it now.
struct remote_slot {
  std::shared_ptr<supervised_ref_base> ref;
  std::vector<std::string> ifs;
  std::string placement;  // the one node whose offer counts
  std::map<cluster::member_id, caf::actor> offers;  // bounded by the members
  caf::actor current;
};

struct feeder_state {
  static inline const char* name = "cluster_directory";
  std::map<key, remote_slot> slots;  // fixed at start: the config's remote components
  caf::group node_down;
  cluster::node_actor node;
  std::shared_ptr<group_instances> instances;
  std::vector<std::string> agent_ifs;
  // (agent, node name) -> uid of the incarnation whose instance is in
  // `instances`: an old incarnation's late removal must not drop the new one's.
  std::map<key, uint64_t> instance_uids;
  // Agents pinned to one node: only that node's instance is routed to.
  std::map<std::string, std::string> agent_pins;
  caf::timespan poll{};  // how often node loads are read into `instances`
  // Copies of replicated shards other nodes offer, for the fronts.
  std::shared_ptr<replica_table> replicas;
  std::vector<std::string> replica_ifs;
  // Populations on other nodes, for key addresses (population_nodes.hpp),
  // and the incarnation each came from, as for `instances`.
  std::shared_ptr<population_nodes> populations;
  std::vector<std::string> population_ifs;
  std::map<key, uint64_t> population_uids;  // (type, node name) -> uid
};

using feeder_self = feeder_actor::stateful_pointer<feeder_state>;

// Points the ref at an offer (the lowest member id: every node picks the
// same), or sets it down with `why` when nobody offers it.
void settle(remote_slot& slot, const std::string& kind, const std::string& name,
            const std::string& why) {
  if (slot.offers.empty()) {
    if (slot.current) {
      slot.current = nullptr;
      slot.ref->set_down(why);
      log(log_severity::warn, "cluster", "remote component unavailable",
          {{"kind", kind}, {"name", name}, {"why", why}});
    }
    return;
  }
  const auto& [owner, handle] = *slot.offers.begin();
  if (slot.current == handle)
    return;
  slot.current = handle;
  slot.ref->set_actor(handle);
  log(log_severity::info, "cluster", "remote component reachable",
      {{"kind", kind}, {"name", name}, {"node", to_string(owner)}});
}

// Every agent on another node is an instance its groups may route to
// (an agent pinned to a node: only there).
void track_instance(feeder_self self, const cluster::dir_event& e) {
  auto& st = self->state;
  if (e.entry.kind != "agent")
    return;
  if (auto pin = st.agent_pins.find(e.entry.name);
      pin != st.agent_pins.end() && pin->second != e.owner.name)
    return;
  const key k{e.entry.name, e.owner.name};
  auto it = st.instance_uids.find(k);
  if (e.present && e.entry.ifs == st.agent_ifs) {
    if (it != st.instance_uids.end() && it->second > e.owner.uid)
      return;  // a late event of an older incarnation
    st.instances->put(e.entry.name, e.owner.name, caf::actor_cast<agent_actor>(e.entry.handle),
                      false);
    st.instance_uids[k] = e.owner.uid;
    return;
  }
  if (it == st.instance_uids.end() || it->second != e.owner.uid)
    return;
  st.instances->drop(e.entry.name, e.owner.name);
  st.instance_uids.erase(it);
}

// A population on another node joins the owners of its type's keys, and
// leaves them when withdrawn or when its node goes (forget_member).
void track_population(feeder_self self, const cluster::dir_event& e) {
  auto& st = self->state;
  if (e.entry.kind != "population")
    return;
  const key k{e.entry.name, e.owner.name};
  auto it = st.population_uids.find(k);
  if (e.present && e.entry.ifs == st.population_ifs) {
    if (it != st.population_uids.end() && it->second > e.owner.uid)
      return;  // a late event of an older incarnation
    st.populations->put(e.entry.name, e.owner.name,
                        caf::actor_cast<population_actor>(e.entry.handle), false);
    st.population_uids[k] = e.owner.uid;
    return;
  }
  if (e.present)
    log(log_severity::warn, "cluster",
        "a node offers a population with another interface (another agentgraph build?); "
        "not used",
        {{"name", e.entry.name}, {"node", to_string(e.owner)}});
  if (it == st.population_uids.end() || it->second != e.owner.uid)
    return;
  st.populations->drop(e.entry.name, e.owner.name);
  st.population_uids.erase(it);
}

// Everything `m` offered leaves the refs and the groups' instances.
void forget_member(feeder_self self, const cluster::member_id& m, const std::string& why) {
  auto& st = self->state;
  for (auto& [k, slot] : st.slots)
    if (slot.offers.erase(m) > 0)
      settle(slot, k.first, k.second, to_string(m) + " " + why);
  st.replicas->drop_node(m.name, m.uid);
  for (auto it = st.population_uids.begin(); it != st.population_uids.end();) {
    if (it->first.second == m.name && it->second == m.uid) {
      st.populations->drop(it->first.first, m.name);
      it = st.population_uids.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = st.instance_uids.begin(); it != st.instance_uids.end();) {
    if (it->first.second == m.name && it->second == m.uid) {
      st.instances->drop(it->first.first, m.name);
      it = st.instance_uids.erase(it);
    } else {
      ++it;
    }
  }
}

// Reads the members' heartbeat loads into `instances`, for least_loaded.
void poll_loads(feeder_self self) {
  auto& st = self->state;
  self->request(st.node, caf::infinite, cluster::cluster_status_atom::value)
    .then(
      [self](cluster::cluster_status& s) {
        std::map<std::string, uint32_t> loads;
        for (const auto& m : s.members)
          if (cluster::is_live(m.record.state))
            loads[m.record.id.name] = m.load;
        self->state.instances->set_loads(std::move(loads));
      },
      [](caf::error&) {});
  run_at(self, self->clock().now() + st.poll, [self] { poll_loads(self); });
}

// Another node's copy of a replicated shard comes and goes in the fronts'
// table (an offer with another interface is not used, as for refs).
void track_replica(feeder_self self, const cluster::dir_event& e) {
  auto& st = self->state;
  if (e.entry.kind != "memory" || !st.replicas->watched(e.entry.name))
    return;
  if (e.present && e.entry.ifs == st.replica_ifs) {
    st.replicas->put(e.entry.name, e.owner.name, e.owner.uid, e.entry.handle);
    return;
  }
  if (e.present)
    log(log_severity::warn, "cluster",
        "a node offers a replicated memory shard with another interface (another agentgraph "
        "build, or replicas = 1 there?); not used",
        {{"name", e.entry.name}, {"node", to_string(e.owner)}});
  st.replicas->drop(e.entry.name, e.owner.name, e.owner.uid);
}

void on_dir_event(feeder_self self, cluster::dir_event& e) {
  track_instance(self, e);
  track_replica(self, e);
  track_population(self, e);
  auto it = self->state.slots.find({e.entry.kind, e.entry.name});
  if (it == self->state.slots.end())
    return;  // not placed elsewhere in our config: ours, or unknown here
  auto& slot = it->second;
  if (e.present && e.owner.name != slot.placement) {
    log(log_severity::warn, "cluster",
        "a node offers a component pinned to another node (its config differs?); not used",
        {{"kind", e.entry.kind}, {"name", e.entry.name}, {"node", to_string(e.owner)},
         {"placement", slot.placement}});
    return;
  }
  if (e.present && e.entry.ifs != slot.ifs) {
    log(log_severity::warn, "cluster",
        "a node offers a component with another interface (another agentgraph build?); "
        "not used",
        {{"kind", e.entry.kind}, {"name", e.entry.name}, {"node", to_string(e.owner)}});
    slot.offers.erase(e.owner);
  } else if (e.present) {
    slot.offers[e.owner] = e.entry.handle;
  } else {
    slot.offers.erase(e.owner);
  }
  settle(slot, e.entry.kind, e.entry.name,
         "not offered by any live node (last: " + to_string(e.owner) + ": " + e.why + ")");
}

feeder_actor::behavior_type feeder(feeder_self self, cluster::node_actor node,
                                   std::vector<runtime_component> remote,
                                   std::map<std::string, std::string> agent_pins,
                                   std::shared_ptr<group_instances> instances,
                                   std::shared_ptr<replica_table> replicas,
                                   std::shared_ptr<population_nodes> populations,
                                   caf::timespan poll) {
  auto& st = self->state;
  for (auto& c : remote)
    st.slots[{c.kind, c.name}] =
      remote_slot{std::move(c.ref), std::move(c.ifs), c.placement, {}, nullptr};
  st.agent_pins = std::move(agent_pins);
  st.node_down = self->system().groups().get_local(node_down_group);
  st.node = node;
  st.instances = std::move(instances);
  const auto ifs = self->system().message_types<agent_actor>();
  st.agent_ifs.assign(ifs.begin(), ifs.end());
  st.replicas = std::move(replicas);
  const auto rifs = self->system().message_types<memory_replica_actor>();
  st.replica_ifs.assign(rifs.begin(), rifs.end());
  st.populations = std::move(populations);
  const auto pifs = self->system().message_types<population_actor>();
  st.population_ifs.assign(pifs.begin(), pifs.end());
  st.poll = poll;
  poll_loads(self);
  // The glue lives as long as the node actor; without it nothing tells
  // remote components apart from dead ones, so they all go down with it.
  self->monitor(node);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    for (auto& [k, slot] : st.slots) {
      slot.offers.clear();
      settle(slot, k.first, k.second, "this node left the cluster (" + describe(dm.reason) + ")");
    }
    for (const auto& [k, uid] : st.instance_uids)
      st.instances->drop(k.first, k.second);
    st.instance_uids.clear();
    st.replicas->clear();
    for (const auto& [k, uid] : st.population_uids)
      st.populations->drop(k.first, k.second);
    st.population_uids.clear();
    self->quit();
  });
  self->send(node, cluster::dir_sub_atom::value, caf::actor_cast<cluster::directory_sink>(self));
  self->send(node, cluster::member_sub_atom::value,
             caf::actor_cast<cluster::member_event_sink>(self));
  return {
      [self](cluster::dir_event_atom, cluster::dir_event& e) { on_dir_event(self, e); },
      [self](cluster::member_event_atom, cluster::member_event& e) {
        // A node downed by the cluster: CAF drops its proxies only when the
        // connection goes, which a frozen or partitioned node's may not.
        if (e.record.state != cluster::member_state::down || e.node == caf::node_id{}
            || e.node == self->node())
          return;
        // First out of the refs and the groups, so a call failed below is
        // not sent straight back to it; the directory's own purge follows.
        forget_member(self, e.record.id, "is down: " + e.why);
        caf::anon_send(self->state.node_down, watch_node_down_atom::value, e.node);
      },
  };
}

}  // namespace cluster_directory_detail

caf::error attach_cluster_directory(Runtime& rt, const cluster::node_actor& node,
                                    caf::timespan load_poll) {
  using namespace cluster_directory_detail;
  if (!node)
    return make_error(errc::invalid_argument, "cluster directory: no node actor");
  if (load_poll <= caf::timespan{0})
    return make_error(errc::invalid_argument, "cluster directory: load_poll must be > 0");
  // This node's member name: its instances go into the groups' table
  // under it, as other nodes see them.
  auto status = blocking_ask<cluster::cluster_status>(rt.system(), node, std::chrono::seconds{10},
                                                      "cluster node", cluster::cluster_status_atom::value);
  if (!status)
    return std::move(status.error());
  std::vector<runtime_component> local;
  std::vector<runtime_component> remote;
  for (auto& c : rt.components())
    (c.remote ? remote : local).push_back(std::move(c));
  auto instances = rt.instances();
  std::map<std::string, std::string> agent_pins;
  for (const auto& c : rt.components())
    if (c.kind == "agent" && c.placement != "any")
      agent_pins[c.name] = c.placement;
  // The fronts of replicated shards now know this node by its member name,
  // as the other nodes' fronts do when they rank the replicas.
  rt.replicas()->set_self(status->self.name);
  auto glue = rt.system().spawn(feeder, node, std::move(remote), std::move(agent_pins), instances,
                                rt.replicas(), rt.populations_placement(), load_poll);
  // Each local component is offered now and after every restart, through
  // its ref's observer (called under the ref's lock, so the puts and drops
  // reach the node actor in the order of the changes).
  // A local agent is also an instance of its name for the groups, in and
  // out with its incarnations (a router skips one that is down).
  for (auto& c : local) {
    std::shared_ptr<supervised_ref<agent_actor>> agent_ref;
    if (c.kind == "agent")
      agent_ref = std::dynamic_pointer_cast<supervised_ref<agent_actor>>(c.ref);
    auto offer = [glue, node, kind = c.kind, name = c.name, ifs = c.ifs, instances,
                  self_name = status->self.name, weak = std::weak_ptr{agent_ref}](
                   const caf::actor& current, const std::string&) {
      if (auto ref = weak.lock()) {
        if (current)
          instances->put(name, self_name, dep<agent_actor>{ref}, true);
        else
          instances->drop(name, self_name);
      }
      if (current)
        caf::send_as(glue, node, cluster::dir_put_atom::value,
                     cluster::dir_entry{kind, name, current, ifs});
      else
        caf::send_as(glue, node, cluster::dir_drop_atom::value, kind, name);
    };
    c.ref->observe(std::move(offer));
  }
  log(log_severity::info, "cluster", "directory attached",
      {{"self", status->self.name},
       {"offered", std::to_string(local.size())},
       {"placed_elsewhere", std::to_string(rt.components().size() - local.size())}});
  return {};
}

}  // namespace agentgraph
