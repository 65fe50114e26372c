// The figures a supervisor reports about one child: a relaying supervisor
// (runtime/supervisor.hpp) about its only child, a supervision group
// (runtime/supervision_group.hpp) about the child asked for.
#pragma once

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

namespace agentgraph {

struct supervision_stats {
  std::string name;                  // the supervised child's name
  uint64_t restarts = 0;             // successful restarts (crash or hang)
  uint64_t heartbeats_missed = 0;    // pings unanswered within the interval, all incarnations
  // Relaying supervisors only (a group relays nothing: these stay 0).
  uint64_t requests_forwarded = 0;   // requests accepted and sent to a child
  uint64_t requests_timed_out = 0;   // forwarded requests that passed request_timeout
  uint64_t requests_in_flight = 0;   // forwarded requests still waiting for the child
  uint64_t incarnation = 0;          // 1 for the first child, +1 per restart
  bool child_alive = false;          // a running child is attached
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, supervision_stats& x) {
  return f(caf::meta::type_name("agentgraph::supervision_stats"), x.name, x.restarts,
           x.heartbeats_missed, x.requests_forwarded, x.requests_timed_out,
           x.requests_in_flight, x.incarnation, x.child_alive);
}

}  // namespace agentgraph
