// The node config the simulator's population tests share (sim_test.cpp,
// sim_keys_test.cpp): a cluster node with one simulated vendor and a
// population `persona` on the nodes' shared store, small enough that keys
// passivate (idle_timeout 1 s) and move during a run of seconds.
#pragma once

namespace sim_population_node {

inline constexpr const char* ini = R"(
[runtime]
log_level = error
[cluster]
name = simtest
node_id = n1
listen = n1
port = 4242
seeds = n1:4242
[provider.llm]
kind = openai
model = m
in_flight_max = 64
[population.persona]
role = general
provider = llm
active_max = 100
idle_timeout = 1s
)";

}  // namespace sim_population_node
