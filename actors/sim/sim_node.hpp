// One simulated node of `agentgraph sim` (sim_runner.hpp): a Runtime with
// its cluster node actor, its gateway without HTTP and its journal actor,
// on one planet of the simulated world; how its gateway is set up and how
// the node ends at teardown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/error.hpp>

#include "actors/host/node/gateway.hpp"
#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/sim/sim_llm.hpp"
#include "net/cluster/cluster_interface.hpp"
#include "runtime/journal/journal_actor.hpp"

namespace agentgraph::sim {

class planet;

// One incarnation of one node.
struct sim_node {
  size_t number = 0;  // n<number>
  uint32_t incarnation = 0;
  std::unique_ptr<Runtime> rt;
  // After rt, so it goes first: it holds a reference to the runtime.
  std::unique_ptr<gateway> gw;
  std::shared_ptr<sim_transport> transport;
  planet* p = nullptr;
  cluster::node_actor node;
  journal_actor journal;  // invalid without a journal
  bool killed = false;
  bool frozen = false;
  bool started = false;  // start_node went through
  std::string name() const { return "n" + std::to_string(number); }
};

struct node_gateway_setup {
  std::string journal;  // the journal's location ("sqlite:PATH"); empty: none
  std::function<void(const std::string& task_id)> executed;  // gateway::on_task_executed
  std::function<void(const std::string& what)> line;         // into the run's trace
};

// Builds the node's gateway without HTTP and sets it up as `agentgraph
// node` sets up its own (apps/cli/cmd_node.cpp: open_journal, then
// set_cluster): the journal with this incarnation's member name and uid,
// the tasks an earlier incarnation left open run again, the adopter of
// dead members' tasks (the simulated nodes share their journal), then the
// membership gate. Setup code: its waits run the world.
[[nodiscard]] caf::error open_gateway(sim_node& n, const node_config& cfg,
                                      const node_gateway_setup& setup);

// Ends the node at teardown, with no world any more: its gateway stops,
// its Runtime shuts down on its own system (a killed node's abandoned
// first: a killed process saves nothing), which is stepped alone at most
// `steps_max` jobs, then the system goes.
void end_node(sim_node& n, size_t steps_max);

}  // namespace agentgraph::sim
