// `agentgraph run --workflow FILE --input JSON`: builds the runtime, runs the
// workflow from the input state and prints its events as they happen (node
// starts and ends, agent tokens), then the final state.
#include <iostream>

#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/host/runtime_client.hpp"
#include "actors/workflow/workflow_file.hpp"
#include <boost/program_options.hpp>

#include "apps/cli/cli_options.hpp"
#include "apps/cli/commands.hpp"
#include "runtime/config/config_resolve.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph::cli {

namespace cmd_run_workflow_detail {

void print_event(const workflow_event& ev, bool& in_tokens) {
  auto line = [&](const std::string& text) {
    if (in_tokens)
      std::cout << "\n";
    in_tokens = false;
    std::cout << text << "\n";
  };
  switch (ev.kind) {
    case workflow_event_kind::node_started:
      line("[step " + std::to_string(ev.step) + "] " + ev.node + " started");
      break;
    case workflow_event_kind::node_completed:
      line("[step " + std::to_string(ev.step) + "] " + ev.node + " -> " + ev.data.to_json());
      break;
    case workflow_event_kind::node_failed:
      line("[step " + std::to_string(ev.step) + "] " + ev.node + " FAILED: " + ev.text);
      break;
    case workflow_event_kind::token:
      if (!in_tokens)
        std::cout << "[step " << ev.step << "] " << ev.node << " says: ";
      in_tokens = true;
      std::cout << ev.data.get_string("text") << std::flush;
      break;
    default:
      break;
  }
}

// Prints the result; returns the exit code: 0 completed, 1 failed, 3
// interrupted, 2 when the run could not start for a reason a retry will not
// fix (bad input, unknown thread, a checkpoint that does not fit the graph
// or is not a workflow's, a thread that already ended).
int report(const std::string& workflow, const caf::expected<workflow_result>& result) {
  if (!result) {
    std::cerr << "agentgraph: workflow: " << describe(result.error()) << "\n";
    switch (errc_of(result.error()).value_or(errc::internal)) {
      case errc::invalid_argument:
      case errc::not_found:
      case errc::parse_error:
      case errc::conflict:
        return 2;
      default:
        return 1;
    }
  }
  std::cout << "workflow " << workflow << " (thread " << result->thread_id << "): "
            << to_string(result->status) << " after " << result->steps << " steps\n";
  int code = 0;
  if (result->status == workflow_status::failed) {
    std::cerr << "agentgraph: " << result->error << "\n";
    code = 1;
  }
  if (result->status == workflow_status::interrupted) {
    std::cout << "paused before:";
    for (const auto& n : result->next)
      std::cout << " " << n;
    std::cout << "\n";
    code = 3;
  }
  std::cout << "state:\n" << result->state.to_json_pretty() << "\n";
  return code;
}

caf::expected<Value> parse_input(const std::string& input_json) {
  if (input_json.empty())
    return Value::object();
  auto input = Value::from_json(input_json);
  if (!input)
    return std::move(input.error());
  if (!input->is_object())
    return make_error(errc::invalid_argument, "not a JSON object");
  return input;
}

}  // namespace cmd_run_workflow_detail

int run_workflow_file(const node_config& cfg, const std::string& path,
                      const std::string& input_json, const std::string& thread) {
  auto graph = load_workflow(path);
  if (!graph) {
    std::cerr << "agentgraph run: " << describe(graph.error()) << "\n";
    return 2;
  }
  workflow_start start;
  // Never a fixed default: a second run would take the first one's thread.
  start.thread_id = thread.empty() ? new_thread_id(graph->name) : thread;
  auto input = cmd_run_workflow_detail::parse_input(input_json);
  if (!input) {
    std::cerr << "agentgraph run: --input must be a JSON object: " << describe(input.error())
              << "\n";
    return 2;
  }
  start.state = std::move(*input);
  auto rt = runtime_builder::from_config(cfg);
  if (!rt) {
    std::cerr << "agentgraph run: " << describe(rt.error()) << "\n";
    return 2;
  }
  bool in_tokens = false;
  auto result = runtime_client{**rt}.run_workflow(*graph, std::move(start), [&](const workflow_event& ev) {
    cmd_run_workflow_detail::print_event(ev, in_tokens);
  });
  if (in_tokens)
    std::cout << "\n";
  int code = cmd_run_workflow_detail::report(graph->name, result);
  if (auto err = (*rt)->shutdown())
    std::cerr << "agentgraph run: shutdown: " << describe(err) << "\n";
  return code;
}

int resume_command(const args& argv) {
  namespace po = boost::program_options;
  std::string workflow, thread, input_json;
  uint64_t checkpoint_id = 0;
  po::options_description desc{"agentgraph resume"};
  desc.add_options()("help", "print this help")("workflow", po::value(&workflow),
                                                "the workflow file the thread runs")(
    "thread", po::value(&thread), "the thread id to continue")(
    "input", po::value(&input_json), "JSON object merged over the saved state (e.g. an approval)")(
    "checkpoint", po::value(&checkpoint_id), "continue from this checkpoint (default: the latest)");
  po::variables_map vm;
  config_args cfg_args;
  if (auto code = parse_config_command(argv, "resume", desc, vm, cfg_args))
    return *code;
  if (cfg_args.config.empty() || workflow.empty() || thread.empty()) {
    std::cerr << "agentgraph resume: --config, --workflow and --thread are required\n";
    return 2;
  }
  auto env = process_environment();
  env.erase("AGENTGRAPH_CONFIG");
  auto cfg = load_node_config(cfg_args.config, env, cfg_args.overrides);
  if (!cfg) {
    std::cerr << "agentgraph resume: " << describe(cfg.error()) << "\n";
    return 2;
  }
  set_log_level(cfg->runtime.log_level);
  auto graph = load_workflow(workflow);
  if (!graph) {
    std::cerr << "agentgraph resume: " << describe(graph.error()) << "\n";
    return 2;
  }
  auto input = cmd_run_workflow_detail::parse_input(input_json);
  if (!input) {
    std::cerr << "agentgraph resume: --input must be a JSON object: " << describe(input.error())
              << "\n";
    return 2;
  }
  auto rt = runtime_builder::from_config(*cfg);
  if (!rt) {
    std::cerr << "agentgraph resume: " << describe(rt.error()) << "\n";
    return 2;
  }
  bool in_tokens = false;
  auto result = runtime_client{**rt}.resume_workflow(*graph, thread, checkpoint_id, *input,
                                       [&](const workflow_event& ev) {
                                         cmd_run_workflow_detail::print_event(ev, in_tokens);
                                       });
  if (in_tokens)
    std::cout << "\n";
  int code = cmd_run_workflow_detail::report(graph->name, result);
  if (auto err = (*rt)->shutdown())
    std::cerr << "agentgraph resume: shutdown: " << describe(err) << "\n";
  return code;
}

}  // namespace agentgraph::cli
