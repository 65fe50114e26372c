// The `agentgraph` subcommands. Each takes the arguments after its name and
// returns the process exit code: 0 success, 1 the work failed, 2 bad usage
// or bad configuration.
#pragma once

#include <string>
#include <vector>

#include "actors/host/node_config.hpp"

namespace agentgraph::cli {

using args = std::vector<std::string>;

int run_command(const args& argv);
// Exit codes: 0 clean shutdown, 1 failed to listen or a snapshot failed,
// 2 bad usage or configuration, 130 a second signal forced the exit.
int node_command(const args& argv);
int config_command(const args& argv);
int bench_command(const args& argv);
// `agentgraph bench gateway` (cmd_bench_gateway.cpp).
int bench_gateway(const args& argv);
// `agentgraph bench agents` (cmd_bench_agents.cpp, bench_agents.hpp).
int bench_agents(const args& argv);
// `agentgraph bench population` (cmd_bench_population.cpp, bench_population.hpp).
int bench_population(const args& argv);
// `agentgraph bench cluster` (cmd_bench_cluster.cpp, bench_cluster.hpp).
int bench_cluster(const args& argv);
// `agentgraph bench all`: every bench as a child process, one summary
// (cmd_bench_suite.cpp, bench_suite.hpp).
int bench_suite(const args& argv);
int status_command(const args& argv);
int submit_command(const args& argv);
// `agentgraph vars` and `agentgraph broadcast`: a population key's prompt
// variables, one task to a population's keys (cmd_client.cpp).
int vars_command(const args& argv);
int broadcast_command(const args& argv);
// `agentgraph cluster status` (cmd_client.cpp).
int cluster_command(const args& argv);
int profile_command(const args& argv);
// `agentgraph sim SCENARIO` (cmd_sim.cpp, actors/sim/).
int sim_command(const args& argv);
int resume_command(const args& argv);
// `run --workflow`: exit 0 completed, 1 failed, 3 interrupted, 2 bad input.
int run_workflow_file(const node_config& cfg, const std::string& path,
                      const std::string& input_json, const std::string& thread);

}  // namespace agentgraph::cli
