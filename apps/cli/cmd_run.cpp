// `agentgraph run`: builds a runtime from a config file, runs one task on an
// agent, prints the answer and the per-agent and memory tables, persists the
// memory shards and exits.
#include <cstdlib>
#include <iostream>

#include <boost/program_options.hpp>

#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/host/runtime_client.hpp"
#include "apps/cli/cli_options.hpp"
#include "apps/cli/commands.hpp"
#include "apps/cli/stats_table.hpp"
#include "runtime/config/config_options.hpp"
#include "runtime/config/config_resolve.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace po = boost::program_options;

namespace agentgraph::cli {

namespace cmd_run_detail {

struct run_options {
  config_args cfg;
  std::string task;
  std::string agent;
  std::string context_json;
  bool stream = false;
  std::string workflow;
  std::string input_json;
  std::string thread;
};

// Returns the exit code when parsing ends the command (help, bad usage).
std::optional<int> parse(const args& argv, run_options& out) {
  po::options_description desc{"agentgraph run"};
  desc.add_options()("help", "print this help")("task", po::value(&out.task), "the task text")(
    "agent", po::value(&out.agent), "agent that gets the task (default: the first in the file)")(
    "context", po::value(&out.context_json), "structured task input, a JSON value")(
    "stream", po::bool_switch(&out.stream),
    "print the model's tokens as they arrive (each model call on its own line)")(
    "workflow", po::value(&out.workflow), "run this workflow file instead of a task")(
    "input", po::value(&out.input_json), "the workflow's initial state, a JSON object")(
    "thread", po::value(&out.thread), "the workflow run's thread id (default: generated)");
  po::variables_map vm;
  if (auto code = parse_config_command(argv, "run", desc, vm, out.cfg))
    return code;
  if (out.cfg.config.empty() || (out.task.empty() == out.workflow.empty())) {
    std::cerr << "agentgraph run: --config (or AGENTGRAPH_CONFIG) and either --task or "
                 "--workflow are required\n";
    return 2;
  }
  return std::nullopt;
}

void print_tables(Runtime& rt) {
  std::vector<agent_stats> agents;
  for (const auto& name : rt.agent_names())
    if (auto s = runtime_client{rt}.stats(name))
      agents.push_back(std::move(*s));
  std::cout << "\n" << format_agent_table(agents);
  std::vector<memory_stats> shards;
  for (const auto& name : rt.memory_names())
    if (auto s = runtime_client{rt}.stats_of_memory(name))
      shards.push_back(std::move(*s));
  if (!shards.empty())
    std::cout << "\n" << format_memory_table(shards);
  std::vector<provider_stats> providers;
  for (const auto& name : rt.provider_names())
    if (auto s = runtime_client{rt}.stats_of_provider(name))
      providers.push_back(std::move(*s));
  if (!providers.empty())
    std::cout << "\n" << format_provider_table(providers);
}

}  // namespace cmd_run_detail

int run_command(const args& argv) {
  cmd_run_detail::run_options opts;
  if (auto code = cmd_run_detail::parse(argv, opts))
    return *code;
  auto env = process_environment();
  env.erase("AGENTGRAPH_CONFIG");  // the CLI's own variable, not a config key
  auto cfg = load_node_config(opts.cfg.config, env, opts.cfg.overrides);
  if (!cfg) {
    std::cerr << "agentgraph run: " << describe(cfg.error()) << "\n";
    return 2;
  }
  set_log_level(cfg->runtime.log_level);
  if (!opts.workflow.empty())
    return run_workflow_file(*cfg, opts.workflow, opts.input_json, opts.thread);
  task_request task;
  task.task_id = "run-1";
  task.input = opts.task;
  if (!opts.context_json.empty()) {
    auto ctx = Value::from_json(opts.context_json);
    if (!ctx) {
      std::cerr << "agentgraph run: --context: " << describe(ctx.error()) << "\n";
      return 2;
    }
    task.context = std::move(*ctx);
  }
  std::string agent = opts.agent.empty() ? cfg->agents.front().name : opts.agent;
  bool known = false;
  for (const auto& a : cfg->agents)
    known = known || a.name == agent;
  if (!known) {
    std::cerr << "agentgraph run: --agent: no agent named '" << agent << "' in " << opts.cfg.config
              << "\n";
    return 2;
  }
  auto rt = runtime_builder::from_config(*cfg);
  if (!rt) {
    std::cerr << "agentgraph run: " << describe(rt.error()) << "\n";
    return 2;
  }
  caf::expected<task_result> result = make_error(errc::internal, "not run");
  if (opts.stream) {
    std::string current_call;
    result = runtime_client{**rt}.run_streaming(agent, task, [&](const stream_chunk& chunk) {
      if (chunk.request_id != current_call) {
        std::cout << (current_call.empty() ? "" : "\n") << "[" << chunk.request_id << "] ";
        current_call = chunk.request_id;
      }
      std::cout << chunk.delta_text;
      for (const auto& call : chunk.tool_calls)
        std::cout << "<tool call " << call.name << " " << call.arguments.to_json() << ">";
      std::cout.flush();
    });
    if (!current_call.empty())
      std::cout << "\n";
  } else {
    result = runtime_client{**rt}.run(agent, task);
  }
  int code = 0;
  if (result) {
    std::cout << "answer (" << agent << ", " << result->model_calls << " model calls, "
              << result->tool_calls.size() << " tool calls, "
              << static_cast<double>(result->latency_us) / 1000.0 << " ms):\n"
              << result->output << "\n";
  } else {
    std::cerr << "agentgraph run: task failed: " << describe(result.error()) << "\n";
    code = 1;
  }
  cmd_run_detail::print_tables(**rt);
  if (auto err = (*rt)->shutdown()) {
    std::cerr << "agentgraph run: " << describe(err) << "\n";
    code = code == 0 ? 1 : code;
  }
  return code;
}

}  // namespace agentgraph::cli
