// One simulated node's gateway and end (sim_node.hpp).
#include "actors/sim/sim_node.hpp"

#include <algorithm>

#include "actors/sim/sim_network.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/error.hpp"
#include "runtime/journal/task_journal.hpp"
#include "runtime/log.hpp"
#include "runtime/virtual_time.hpp"

namespace agentgraph::sim {

namespace sim_node_detail {

constexpr auto status_timeout = std::chrono::seconds{10};

// The journal actor, this incarnation's name and uid on the gateway, then
// what an earlier incarnation left open, then adoption.
caf::error open_journal(sim_node& n, const cluster::cluster_config& cl, uint32_t in_flight_max,
                        const node_gateway_setup& setup) {
  auto store = open_task_journal(setup.journal);
  if (!store)
    return make_error(errc_of(store.error()).value_or(errc::io_error),
                      n.name() + ": task journal: " + error_context(store.error()));
  journal_actor_config jc;
  // A task makes two journal calls (accept, complete), each gateway slot at most.
  jc.pending_max = std::max<uint32_t>(64, 2 * in_flight_max);
  n.journal = n.p->track(spawn_journal_actor(n.rt->system(), std::move(*store), jc));
  auto self = blocking_ask<cluster::cluster_status>(n.rt->system(), n.node, status_timeout,
                                                    "cluster node",
                                                    cluster::cluster_status_atom::value);
  if (!self)
    return std::move(self.error());
  n.gw->set_journal(caf::actor_cast<caf::actor>(n.journal), self->self.name, self->self.uid);
  // Joining and a first directory exchange fit in two join timeouts.
  auto resumed = n.gw->resume_journaled(2 * cl.join_timeout);
  if (!resumed)
    return make_error(errc::io_error, n.name() + ": task journal: " + describe(resumed.error()));
  if (*resumed > 0 && setup.line)
    setup.line(n.name() + " resumed " + std::to_string(*resumed) + " journaled task(s)");
  // Member events drive adoption; the sweep is the fallback, as on a real node.
  const auto sweep =
    std::max<std::chrono::milliseconds>(std::chrono::seconds{1}, 4 * cl.heartbeat_interval);
  return n.gw->adopt_orphans(caf::actor_cast<caf::actor>(n.node), sweep);
}

}  // namespace sim_node_detail

caf::error open_gateway(sim_node& n, const node_config& cfg, const node_gateway_setup& setup) {
  gateway_config g;
  g.tasks_in_flight_max = cfg.node.tasks_in_flight_max;
  g.tasks_kept = cfg.node.tasks_kept;
  g.task_events_max = cfg.node.task_events_max;
  g.cluster_member = true;  // 503 until the node has joined
  auto gw = gateway::start_core(*n.rt, g);
  if (!gw)
    return gw.error();
  n.gw = std::move(*gw);
  if (setup.executed)
    n.gw->on_task_executed(setup.executed);
  if (!setup.journal.empty())
    if (auto err = sim_node_detail::open_journal(n, *cfg.cluster, g.tasks_in_flight_max, setup))
      return err;
  n.gw->set_cluster(caf::actor_cast<caf::actor>(n.node));
  return {};
}

void end_node(sim_node& n, size_t steps_max) {
  if (n.transport)
    n.transport->unbind();
  if (!n.rt)
    return;
  if (n.gw) {
    n.gw->stop();
    n.gw.reset();  // stops its runners
  }
  // A killed node never shuts down: no passivation into the store its
  // next incarnation uses, no snapshots.
  if (n.killed)
    n.rt->abandon();
  // Stepped alone (no world driver any more): its waits run its own jobs
  // and timers.
  (void)n.rt->shutdown();
  auto& sys = n.rt->system();
  auto* sched = virtual_scheduler(sys);
  for (size_t i = 0; i < steps_max && sched->try_run_once(); ++i) {
  }
  // What still runs would make ~actor_system wait forever on a scheduler
  // nobody steps.
  if (const auto running = sys.registry().running(); running > 0) {
    log(log_severity::warn, "sim", "actors still running at a node's end",
        {{"node", n.name()}, {"running", std::to_string(running)}});
    sys.await_actors_before_shutdown(false);
  }
  n.rt.reset();
}

}  // namespace agentgraph::sim
