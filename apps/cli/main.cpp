// agentgraph: the command-line entry point. Dispatches to one subcommand.
#include <iostream>
#include <string>

#include "apps/cli/commands.hpp"

namespace agentgraph::cli {

constexpr const char* version_text = "agentgraph 0.1.0 (CAF 0.17.6)";

constexpr const char* usage_text =
  "usage: agentgraph <command> [options]\n"
  "\n"
  "commands:\n"
  "  run --config FILE --task TEXT [--agent NAME] [--set SECTION.KEY=VALUE]...\n"
  "                       build a runtime from FILE, run TEXT on an agent, print the\n"
  "                       answer and per-agent stats\n"
  "  run --config FILE --workflow W [--input JSON] [--thread ID]\n"
  "                       run a workflow file on that runtime, print its events and final\n"
  "                       state; exit 3 when it is interrupted (continue it with `resume`)\n"
  "  node --config FILE [--port-file PATH] [--set SECTION.KEY=VALUE]...\n"
  "                       serve the HTTP gateway ([node] section) until SIGTERM/SIGINT,\n"
  "                       then drain, cancel what is left and persist memory; a second\n"
  "                       signal exits at once with code 130\n"
  "  config check FILE [--set SECTION.KEY=VALUE]...\n"
  "                       validate a config file (and environment) without running it\n"
  "  config schema        print every config key: type, default, bounds, env name, help\n"
  "  bench llm [--requests N] [--concurrency 1,8,32] [--quick] [--json]\n"
  "                       requests/s and p50/p99 of the LLM client against the mock\n"
  "                       server, next to raw libcurl and the openai npm SDK\n"
  "  bench workflow [--runs N] [--warmup N] [--quick] [--postgres-url URL]\n"
  "                       per-step overhead of a 3-node chain and a 10-way fan-out\n"
  "                       (checkpoints off, SQLite, PostgreSQL), next to LangGraph.js\n"
  "  bench gateway [--requests N] [--concurrency 1,64] [--slow-clients N] [--quick] [--json]\n"
  "                       sync tasks/s and p50/p99 through the node gateway, and /health\n"
  "                       latency under slow clients, next to the cpp-httplib server it replaced\n"
  "  bench memory [--stores N] [--concurrency 1,64] [--quick] [--json]\n"
  "                       stores/s and p50/p99 of a memory shard, durability commit\n"
  "                       (fsync'd before the reply) against snapshot\n"
  "  bench agents [--tasks N] [--agents N[,N]] [--time-cap-s S] [--quick] [--json]\n"
  "                       what an agent costs: task latency and tasks/s, bytes, idle CPU\n"
  "                       and spawn rate at 10 K and 1 M agents, next to raw CAF actors\n"
  "  bench population [--keys N] [--active-max N] [--activations N] [--quick] [--json]\n"
  "                       keyed agents (issue 14): one task on each of 1 M keys, at most\n"
  "                       100 K active; bytes per active and passivated key, peak RSS,\n"
  "                       activation p50/p99 of a saved key, next to raw CAF actors\n"
  "  bench cluster [--requests N] [--concurrency 1,32] [--failover-tasks N] [--quick] [--json]\n"
  "                       node processes on loopback: cross-node request/response next to raw\n"
  "                       CAF remote actors, tasks/s through 1, 2 and 3 nodes, kill -9 and\n"
  "                       SIGSTOP failover timings (lost and answered-twice tasks counted)\n"
  "  bench all [--quick] [--only llm,cluster,...] [--json] [--markdown FILE] [--out DIR]\n"
  "            [--bound-s S]\n"
  "                       every bench above as a child process, one after the other, each\n"
  "                       killed past its wall-time bound: machine details, one summary\n"
  "                       table of headline figures next to the same run's baselines and\n"
  "                       their ratios, failover timings; exit 1 naming the failed ones\n"
  "  resume --config FILE --workflow W --thread T [--input JSON] [--checkpoint N]\n"
  "                       continue a checkpointed workflow thread (after an interrupt\n"
  "                       or a crash) from its latest or a chosen checkpoint\n"
  "  status [--url U]     a running node's agents: health, tasks, req/s, latency,\n"
  "                       tokens/s, error rate, memory (GET /v1/agents); then its\n"
  "                       populations: active, activating, passivating, saved keys,\n"
  "                       waiting, in flight, activations, passivations, evictions,\n"
  "                       store errors, active_max (GET /v1/populations)\n"
  "  vars [--url U] --agent TYPE/KEY (--var NAME=VALUE... | --clear)\n"
  "                       set a population key's prompt variables on a node\n"
  "  broadcast [--url U] --population TYPE --input TEXT [--sample N] [--seed S]\n"
  "            [--concurrency C] [--json]\n"
  "                       one task to every saved key of a population, or a seeded sample\n"
  "  submit [--url U] --agent NAME --task TEXT [--background]\n"
  "                       run a task on a node and stream its tokens and answer\n"
  "  cluster status [--url U] [--json]\n"
  "                       the cluster's members as that node sees them: state (joining,\n"
  "                       up, suspect, leaving, exiting, down, removed), pid, phi, load\n"
  "  profile memory --config FILE [--task TEXT]...\n"
  "                       bytes and bytes per entry of every agent and memory shard,\n"
  "                       measured from the live data structures\n"
  "  sim SCENARIO [--seed N] [--out DIR] [--check-determinism] [--set K=V] [--json]\n"
  "                       run a cluster scenario in virtual time: real node code, simulated\n"
  "                       clock, network and LLM vendors, injected faults; report and plots\n"
  "  version              print the version\n"
  "  help                 print this text\n"
  "\n"
  "Run `agentgraph <command> --help` for a command's options.\n";

}  // namespace agentgraph::cli

int main(int argc, char** argv) {
  using namespace agentgraph::cli;
  if (argc < 2) {
    std::cerr << usage_text;
    return 2;
  }
  std::string command = argv[1];
  args rest(argv + 2, argv + argc);
  if (command == "run")
    return run_command(rest);
  if (command == "node")
    return node_command(rest);
  if (command == "config")
    return config_command(rest);
  if (command == "bench" && !rest.empty() && rest[0] == "all")
    return bench_suite({rest.begin() + 1, rest.end()});
  if (command == "bench") {
    // `bench` alone prints the usage: the whole suite takes about 9 min on
    // 2 cores, too long to start by leaving out a word.
    if (rest.empty())
      std::cerr << "usage: agentgraph bench all [--quick] [--only NAMES] [--json] "
                   "[--markdown FILE] [--out DIR] [--bound-s S]\n";
    return bench_command(rest);
  }
  if (command == "status")
    return status_command(rest);
  if (command == "submit")
    return submit_command(rest);
  if (command == "vars")
    return vars_command(rest);
  if (command == "broadcast")
    return broadcast_command(rest);
  if (command == "cluster")
    return cluster_command(rest);
  if (command == "profile")
    return profile_command(rest);
  if (command == "sim")
    return sim_command(rest);
  if (command == "resume")
    return resume_command(rest);
  if (command == "version" || command == "--version") {
    std::cout << version_text << "\n";
    return 0;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << usage_text;
    return 0;
  }
  std::cerr << "agentgraph: unknown command '" << command << "'\n\n" << usage_text;
  return 2;
}
