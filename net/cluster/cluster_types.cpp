#include "net/cluster/cluster_types.hpp"

#include "net/cluster/cluster_interface.hpp"

namespace agentgraph::cluster {

void register_cluster_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<member_id>("agentgraph::cluster::member_id");
  cfg.add_message_type<member_state>("agentgraph::cluster::member_state");
  cfg.add_message_type<member_record>("agentgraph::cluster::member_record");
  cfg.add_message_type<reachability_obs>("agentgraph::cluster::reachability_obs");
  cfg.add_message_type<std::vector<member_id>>("std::vector<agentgraph::cluster::member_id>");
  cfg.add_message_type<std::vector<member_record>>(
      "std::vector<agentgraph::cluster::member_record>");
  cfg.add_message_type<std::vector<reachability_obs>>(
      "std::vector<agentgraph::cluster::reachability_obs>");
  cfg.add_message_type<join_hello>("agentgraph::cluster::join_hello");
  cfg.add_message_type<join_challenge>("agentgraph::cluster::join_challenge");
  cfg.add_message_type<join_proof>("agentgraph::cluster::join_proof");
  cfg.add_message_type<collab_settings>("agentgraph::cluster::collab_settings");
  cfg.add_message_type<gossip_msg>("agentgraph::cluster::gossip_msg");
  cfg.add_message_type<heartbeat_msg>("agentgraph::cluster::heartbeat_msg");
  cfg.add_message_type<member_event>("agentgraph::cluster::member_event");
  cfg.add_message_type<node_counters>("agentgraph::cluster::node_counters");
  cfg.add_message_type<cluster_member_status>("agentgraph::cluster::cluster_member_status");
  cfg.add_message_type<cluster_status>("agentgraph::cluster::cluster_status");
  cfg.add_message_type<member_event_sink>("agentgraph::cluster::member_event_sink");
  cfg.add_message_type<dir_entry>("agentgraph::cluster::dir_entry");
  cfg.add_message_type<std::vector<dir_entry>>("std::vector<agentgraph::cluster::dir_entry>");
  cfg.add_message_type<dir_sync>("agentgraph::cluster::dir_sync");
  cfg.add_message_type<dir_event>("agentgraph::cluster::dir_event");
  cfg.add_message_type<dir_listing>("agentgraph::cluster::dir_listing");
  cfg.add_message_type<std::vector<dir_listing>>(
      "std::vector<agentgraph::cluster::dir_listing>");
  cfg.add_message_type<directory_sink>("agentgraph::cluster::directory_sink");
  cfg.add_message_type<node_actor>("agentgraph::cluster::node_actor");
}

}  // namespace agentgraph::cluster
