// The cluster part of a node process (issue 12): starts the node actor on
// the process's own middleman with one connector per peer, and waits for it
// from setup code (the main thread of `agentgraph node`, never an actor).
//
// The node actor itself (net/cluster/node_actor.hpp) never reads a wall
// clock; the caller passes the start time and the random bits of the
// first incarnation's uid.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "net/cluster/cluster_config.hpp"
#include "net/cluster/cluster_figures.hpp"
#include "net/cluster/cluster_interface.hpp"

namespace agentgraph {

struct cluster_start {
  cluster::cluster_config cfg;
  std::string secret;        // the value of cfg.secret_env
  uint64_t start_ms = 0;     // wall-clock milliseconds since the epoch
  uint32_t random_bits = 0;  // for the first uid (next_uid)
  int32_t pid = 0;
  std::string url;           // this node's gateway
  // Where the node actor publishes its status for metrics; may be null.
  std::shared_ptr<cluster::cluster_figures> figures;
  // This node's tasks in flight (node_args::load_probe); may be empty.
  std::function<uint32_t()> load_probe;
};

// The middleman settings a cluster node needs (design §1 item 2, §5.2):
// BASP heartbeats and connection timeout on every node, and no middleman
// worker threads (BASP messages deserialised on the multiplexer thread,
// so a saturated scheduler cannot delay heartbeats). With TLS configured
// (cluster::tls_enabled) it also loads caf-openssl's manager and maps the
// tls_* keys to openssl.* (the passphrase is read from its variable here).
// Call before the actor system is made, after the middleman is loaded.
void apply_cluster_transport(const cluster::cluster_config& cfg, caf::actor_system_config& sys_cfg);

// Spawns the node actor and waits until it is published (at most
// cfg.connect_timeout). `sys` must have loaded the middleman (and, with
// TLS, caf-openssl's manager: apply_cluster_transport). With TLS the node
// is published through the openssl manager and dials peers through
// caf-openssl connectors, so it neither accepts nor makes a plain
// connection. Errors:
// invalid_argument (the config or the secret), io_error (cannot publish).
[[nodiscard]] caf::expected<cluster::node_actor> start_cluster_node(caf::actor_system& sys,
                                                                    cluster_start start);

// Graceful leave (SIGTERM): the node says it is leaving and waits until the
// leader moves it to exiting (or `deadline` passes), then the node actor
// stops and unpublishes. Returns the state it reached.
caf::expected<cluster::member_state> leave_cluster(caf::actor_system& sys,
                                                   const cluster::node_actor& node,
                                                   std::chrono::milliseconds deadline);

}  // namespace agentgraph
