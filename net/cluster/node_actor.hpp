// The node actor: one per process, published on the cluster port, the
// whole membership engine of a node (design §1, §5, §6, §7). It admits
// peers that prove the shared secret, keeps the gossip view, sends and
// hears heartbeats, runs the phi-accrual detectors and keep-majority, and
// tells local subscribers who joined, left or went down.
//
// Time comes only from its own clock (self->clock(), virtual under CAF's
// test_coordinator) and the network only through middleman actors it is
// given: `publisher` publishes it, and `make_connector` makes one connector
// per peer endpoint (a connect that hangs on one endpoint then stalls only
// that connector; design §6 item 4). So the same code runs in a process,
// and several nodes run in one test process over CAF's test_multiplexer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/io/middleman_actor.hpp>

#include "net/cluster/cluster_auth.hpp"
#include "net/cluster/cluster_config.hpp"
#include "net/cluster/cluster_figures.hpp"
#include "net/cluster/cluster_interface.hpp"

namespace agentgraph::cluster {

struct endpoint {
  std::string host;
  uint16_t port = 0;
  friend auto operator<=>(const endpoint&, const endpoint&) = default;
};

[[nodiscard]] std::string to_string(const endpoint& ep);

// "host:port" (host non-empty, port 1-65535), else invalid_argument naming
// `origin` (e.g. "[cluster] seeds").
[[nodiscard]] caf::expected<endpoint> parse_endpoint(const std::string& text,
                                                     const std::string& origin);

struct node_args {
  cluster_config cfg;               // checked by validate() below
  cluster_secret secret;
  uint64_t uid = 0;                 // this incarnation (next_uid; > 0)
  uint64_t start_ms = 0;            // wall-clock ms at start, for later incarnations' uids
  int32_t pid = 0;                  // for `cluster status`
  std::string url;                  // this node's HTTP gateway, for peers
  caf::io::middleman_actor publisher;
  std::function<caf::io::middleman_actor()> make_connector;
  // Where the node publishes its status after each tick (for metrics); may
  // be null.
  std::shared_ptr<cluster_figures> figures;
  // This node's tasks in flight, read before each round of heartbeats (which
  // carry it to the routers of other nodes); must be quick, thread-safe and
  // never block for long. Empty: 0.
  std::function<uint32_t()> load_probe;
};

// The first problem of `cfg` for the node actor (bounds, seeds, timings),
// as invalid_argument; empty when usable.
[[nodiscard]] caf::error validate(const cluster_config& cfg);

// Spawns the node actor (detached when cfg.dedicated_thread). It publishes
// itself, then joins through the seeds. Its status request is answered once
// it is published (the port is then known); a failed publish ends the
// actor with the error.
[[nodiscard]] node_actor spawn_node(caf::actor_system& sys, node_args args);

}  // namespace agentgraph::cluster
