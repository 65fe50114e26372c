// Runs one scenario (scenario.hpp) to the end: N real nodes, each a
// Runtime built by runtime_builder::from_config from the scenario's node
// config with its cluster node actor, directory and messaging attached as
// `agentgraph node` attaches them, all on one thread in virtual time over
// the simulated network (sim_network.hpp) and LLM vendors (sim_llm.hpp).
// Tasks arrive from a client (sim_client.hpp) at the nodes' gateways
// (without HTTP), which journal them in one journal the nodes share;
// faults strike on schedule; every observation goes into a run_record.
//
// What is real and what is simulated: membership, failure detection,
// downing, the directory, the gateway's task path (membership gate, task
// table, runner, journal, adoption of a dead member's tasks), group
// routing across nodes, populations, the agents and the provider pipeline
// (admission, rate limiter, breaker, retries) are the product's code; the
// clock, the network, the LLM vendors and the client are simulated. Not
// in the simulated task path: the gateway's HTTP server, tools that leave
// the process.
#pragma once

#include <functional>
#include <string>

#include <caf/expected.hpp>

#include "actors/sim/scenario.hpp"
#include "actors/sim/sim_record.hpp"

namespace agentgraph::sim {

struct run_options {
  uint64_t seed = 1;
  // Where each node's data directory goes (<dir>/n<i>); empty: a fresh
  // temporary directory, removed at the end.
  std::string data_dir;
  // Called now and then with the simulated fraction done (0..1); may be empty.
  std::function<void(double done, double sim_s)> progress;
};

[[nodiscard]] caf::expected<run_record> run_scenario(const scenario& sc, const run_options& opts);

}  // namespace agentgraph::sim
