// `agentgraph profile memory`: how many bytes each agent and memory shard
// holds, and per entry, read from the live data structures (the agent's
// history and in-flight runs, the shard's store and index) after running
// the given tasks. Figures come from each component's own accounting
// (heap_bytes walks of its containers), never from counts times a guess.
#include <fstream>
#include <iostream>

#include <boost/program_options.hpp>

#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/host/runtime_client.hpp"
#include "apps/cli/commands.hpp"
#include "apps/cli/stats_table.hpp"
#include "runtime/config/config_options.hpp"
#include "runtime/config/config_resolve.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace po = boost::program_options;

namespace agentgraph::cli {

namespace cmd_profile_detail {

// Tasks one profile run may execute; each is a full agent task.
constexpr size_t profile_tasks_max = 10'000;

struct profile_options {
  std::string what;
  std::string config;
  std::string agent;
  std::vector<std::string> tasks;
  uint64_t repeat = 1;
  std::vector<std::string> overrides;
};

std::optional<int> parse(const args& argv, profile_options& out) {
  po::options_description desc{"agentgraph profile memory"};
  desc.add_options()("help", "print this help")("config", po::value(&out.config), "config file")(
    "task", po::value(&out.tasks)->composing(), "a task to run first (repeatable)")(
    "repeat", po::value(&out.repeat)->default_value(1), "run the tasks this many times")(
    "agent", po::value(&out.agent), "agent that runs the tasks (default: the first)");
  add_schema_options(node_schema(), desc);
  po::positional_options_description pos;
  pos.add("what", 1);
  po::options_description hidden;
  hidden.add_options()("what", po::value(&out.what));
  po::options_description all;
  all.add(desc).add(hidden);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "agentgraph profile: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << "usage: agentgraph profile memory --config FILE [--task TEXT]... [--repeat N]\n"
              << desc;
    return 0;
  }
  if (out.what != "memory") {
    std::cerr << "agentgraph profile: the only profile is `memory` (got '" << out.what << "')\n";
    return 2;
  }
  if (out.config.empty()) {
    std::cerr << "agentgraph profile memory: --config is required\n";
    return 2;
  }
  if (out.repeat == 0 || out.tasks.size() * out.repeat > profile_tasks_max) {
    std::cerr << "agentgraph profile memory: at most " << profile_tasks_max
              << " tasks in all (--task x --repeat)\n";
    return 2;
  }
  out.overrides = overrides_from_options(node_schema(), vm);
  return std::nullopt;
}

// Resident set size of this process from /proc, for context; 0 if unknown.
uint64_t resident_bytes() {
  std::ifstream in{"/proc/self/statm"};
  uint64_t pages = 0;
  uint64_t resident = 0;
  if (!(in >> pages >> resident))
    return 0;
  return resident * 4096;
}

int profile(const profile_options& o) {
  auto env = process_environment();
  env.erase("AGENTGRAPH_CONFIG");  // the CLI's own variable, not a config key
  auto cfg = load_node_config(o.config, env, o.overrides);
  if (!cfg) {
    std::cerr << "agentgraph profile memory: " << describe(cfg.error()) << "\n";
    return 2;
  }
  set_log_level(cfg->runtime.log_level);
  auto rt = runtime_builder::from_config(*cfg);
  if (!rt) {
    std::cerr << "agentgraph profile memory: " << describe(rt.error()) << "\n";
    return 2;
  }
  const std::string agent = o.agent.empty() ? cfg->agents.front().name : o.agent;
  size_t failed = 0;
  size_t n = 0;
  for (uint64_t round = 0; round < o.repeat; ++round)
    for (const auto& text : o.tasks) {
      auto r = runtime_client{**rt}.run(agent, task_request{"profile-" + std::to_string(++n), text, {}});
      if (!r) {
        ++failed;
        std::cerr << "agentgraph profile memory: task " << n << ": " << describe(r.error()) << "\n";
      }
    }
  std::vector<memory_profile_row> rows;
  for (const auto& name : (*rt)->agent_names())
    if (auto s = runtime_client{**rt}.stats(name))
      rows.push_back({"agent", name, static_cast<uint64_t>(s->history_turns),
                      static_cast<uint64_t>(s->memory_bytes)});
  std::vector<memory_stats> shards;
  for (const auto& name : (*rt)->memory_names())
    if (auto s = runtime_client{**rt}.stats_of_memory(name)) {
      rows.push_back({"memory", name, static_cast<uint64_t>(s->entries),
                      static_cast<uint64_t>(s->bytes)});
      shards.push_back(std::move(*s));
    }
  std::cout << "tasks run: " << n << " (" << failed << " failed)\n\n"
            << format_memory_profile_table(rows);
  if (!shards.empty())
    std::cout << "\nembeddings:\n" << format_embedding_table(shards);
  std::cout << "\nprocess resident set: " << resident_bytes() << " bytes\n";
  (void) (*rt)->shutdown();
  return failed == 0 ? 0 : 1;
}

}  // namespace cmd_profile_detail

int profile_command(const args& argv) {
  cmd_profile_detail::profile_options o;
  if (auto code = cmd_profile_detail::parse(argv, o))
    return *code;
  return cmd_profile_detail::profile(o);
}

}  // namespace agentgraph::cli
