// The [cluster] section of a node config (design §5.6): what a node needs to
// join a cluster, detect failures and decide who is down. Plain values; the
// key table that fills them is cluster_config_keys.hpp, and the node actor
// (node_actor.hpp) is their one reader.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace agentgraph::cluster {

struct cluster_config {
  // Cluster name; a hello for another name is refused.
  std::string name;
  // This node's member name; empty: "advertised host:port".
  std::string node_id;
  // Interface and port the node actor is published on (0: the OS picks),
  // and the host peers dial (empty: `listen`).
  std::string listen = "127.0.0.1";
  uint32_t port = 0;
  std::string advertise_host;
  // "host:port" of the seed nodes; a node that lists itself first may form
  // the cluster alone when no other seed answers within join_timeout.
  std::vector<std::string> seeds;
  // Name of the environment variable holding the shared secret.
  std::string secret_env = "AGENTGRAPH_CLUSTER_SECRET";
  // TLS between nodes through caf-openssl when any of these is set
  // (cluster_tls.hpp): this node's certificate and key, the variable
  // holding the key's passphrase, and the CA file peers must chain to.
  std::string tls_certificate;
  std::string tls_key;
  std::string tls_passphrase_env;
  std::string tls_cafile;
  // SQLite file of the node's task journal (runtime/journal/); empty: none.
  std::string journal_path;
  // PostgreSQL URL of a task journal the cluster shares, instead of
  // journal_path: the leader adopts a dead member's open tasks (§9.3).
  std::string journal_url;
  // Application heartbeats and the phi-accrual detector (§5.2).
  std::chrono::milliseconds heartbeat_interval{250};
  std::chrono::milliseconds acceptable_heartbeat_pause{750};
  std::chrono::milliseconds min_std_deviation{100};
  double phi_threshold = 8.0;
  uint32_t phi_samples_max = 200;
  // CAF's middleman.heartbeat-interval and connection-timeout (§5.2).
  std::chrono::milliseconds transport_heartbeat{250};
  std::chrono::milliseconds transport_timeout{1500};
  // Gossip and downing (§5.3).
  std::chrono::milliseconds gossip_interval{250};
  std::chrono::milliseconds stable_after{500};
  bool down_on_refused = true;
  bool down_all_when_unstable = false;
  // Connecting (§6).
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds join_timeout{5000};
  std::chrono::milliseconds reconnect_backoff_max{2000};
  uint32_t connectors_stalled_max = 4;
  // Bounds.
  uint32_t members_max = 32;
  uint32_t handshakes_max = 64;
  uint32_t directory_entries_max = 4096;  // per member's table (directory_table.hpp)
  // Collaboration settings (design §8.5): the values of the node that formed
  // the cluster win; a node that joins adopts them from its welcome
  // (collab_settings, cluster_interface.hpp), heartbeat_interval included.
  // Agents the cluster directory offers across the cluster; 0: no limit.
  uint32_t max_agents = 0;
  // Deadline of cross-node calls that carry none of their own (topic
  // deliveries), and the bound of an agent group's task on another node's
  // instance when the task's own deadline is longer.
  std::chrono::milliseconds message_timeout{60'000};
  // Run the node actor on its own thread (a saturated scheduler must not
  // starve heartbeats); false only for virtual time (tests, simulation).
  bool dedicated_thread = true;
};

}  // namespace agentgraph::cluster
