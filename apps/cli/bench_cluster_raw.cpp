// `agentgraph bench cluster`: the floor, raw CAF 0.17 remote actors in two
// processes (bench_cluster.hpp). The child publishes an echo actor; the
// parent connects with remote_actor and keeps `window` requests in flight
// through bench_loop.hpp's closed loop, each with a deadline as every
// cross-node call of agentgraph has one. Both sides run on the scheduler a
// Runtime gets by default (apply_scheduler_settings) and with the BASP
// heartbeat a cluster node uses, so the only differences from a node's hop
// are agentgraph's own; `mm_workers` is the `middleman.workers` setting
// the design's decision 2 is about (a node has 0).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>

#include "actors/host/runtime.hpp"
#include "apps/cli/bench_cluster.hpp"
#include "apps/cli/bench_loop.hpp"

namespace agentgraph::cli {

namespace bench_cluster_raw_detail {

// The transport settings of a cluster node (cluster_config's defaults for
// transport_heartbeat and transport_timeout).
constexpr auto heartbeat = std::chrono::milliseconds{250};
constexpr auto connection_timeout = std::chrono::milliseconds{1500};

void configure(caf::actor_system_config& cfg, uint32_t mm_workers) {
  cfg.load<caf::io::middleman>();
  apply_scheduler_settings(scheduler_settings{}, runtime_options{}.scheduler_threads, cfg);
  cfg.set("middleman.workers", size_t{mm_workers});
  cfg.set("middleman.heartbeat-interval", caf::timespan{heartbeat});
  cfg.set("middleman.connection-timeout", caf::timespan{connection_timeout});
}

caf::behavior echo(caf::event_based_actor*) {
  return {[](const std::string& s) { return s; }};
}

}  // namespace bench_cluster_raw_detail

int raw_peer_main(const std::string& port_file, uint32_t mm_workers) {
  using namespace bench_cluster_raw_detail;
  caf::actor_system_config cfg;
  configure(cfg, mm_workers);
  caf::actor_system sys{cfg};
  auto actor = sys.spawn(echo);
  auto port = sys.middleman().publish(actor, 0, "127.0.0.1", true);
  if (!port) {
    std::fprintf(stderr, "bench cluster raw peer: publish failed: %s\n",
                 sys.render(port.error()).c_str());
    return 1;
  }
  {
    const auto tmp = port_file + ".tmp";
    std::ofstream{tmp} << *port << "\n";
    std::filesystem::rename(tmp, port_file);
  }
  // Serves until the bench kills it (SIGTERM's default action, SIGKILL, or
  // the parent's death through PR_SET_PDEATHSIG).
  for (;;)
    ::pause();
}

loop_result run_raw_remote(uint16_t port, uint32_t mm_workers, uint32_t window, uint64_t warmup,
                           uint64_t count, size_t payload_bytes) {
  using namespace bench_cluster_raw_detail;
  caf::actor_system_config cfg;
  configure(cfg, mm_workers);
  caf::actor_system sys{cfg};
  loop_result failed;
  // Blocks this (main) thread for about a millisecond, never an actor.
  auto peer = sys.middleman().remote_actor("127.0.0.1", port);
  if (!peer) {
    failed.add_error("remote_actor: " + sys.render(peer.error()));
    return failed;
  }
  const std::string payload(payload_bytes, 'x');
  auto out = run_actor_loop(sys, window, warmup, count,
                            [peer = *peer, payload](caf::event_based_actor* self, uint64_t,
                                                    auto done) {
                              self->request(peer, bench_request_timeout, payload)
                                .then([done](const std::string&) { done(caf::error{}); },
                                      [done](caf::error& err) { done(err); });
                            });
  if (!out) {
    failed.add_error("no end within the loop's bound");
    return failed;
  }
  return std::move(*out);
}

}  // namespace agentgraph::cli
