// `agentgraph run --workflow FILE --input JSON`: builds the runtime, runs the
// workflow from the input state and prints its events as they happen (node
// starts and ends, agent tokens), then the final state.
#include <iostream>

#include "actors/runtime.hpp"
#include "actors/workflow/workflow_file.hpp"
#include "apps/cli/commands.hpp"
#include "runtime/error.hpp"

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

}  // namespace cmd_run_workflow_detail

int run_workflow_file(const node_config& cfg, const std::string& path,
                      const std::string& input_json, const std::string& thread) {
  auto graph = load_workflow(path);
  if (!graph) {
    std::cerr << "agentgraph run: " << describe(graph.error()) << "\n";
    return 2;
  }
  workflow_start start;
  start.thread_id = thread.empty() ? graph->name + "-1" : thread;
  if (!input_json.empty()) {
    auto input = Value::from_json(input_json);
    if (!input || !input->is_object()) {
      std::cerr << "agentgraph run: --input must be a JSON object"
                << (input ? std::string{} : ": " + describe(input.error())) << "\n";
      return 2;
    }
    start.state = std::move(*input);
  }
  auto rt = Runtime::from_config(cfg);
  if (!rt) {
    std::cerr << "agentgraph run: " << describe(rt.error()) << "\n";
    return 2;
  }
  bool in_tokens = false;
  auto result = (*rt)->run_workflow(*graph, std::move(start), [&](const workflow_event& ev) {
    cmd_run_workflow_detail::print_event(ev, in_tokens);
  });
  if (in_tokens)
    std::cout << "\n";
  int code = 0;
  if (!result) {
    std::cerr << "agentgraph run: workflow: " << describe(result.error()) << "\n";
    code = describe(result.error()).find("invalid_argument") == 0 ? 2 : 1;
  } else {
    std::cout << "workflow " << graph->name << " (thread " << result->thread_id << "): "
              << to_string(result->status) << " after " << result->steps << " steps\n";
    if (result->status == workflow_status::failed) {
      std::cerr << "agentgraph run: " << result->error << "\n";
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
  }
  if (auto err = (*rt)->shutdown())
    std::cerr << "agentgraph run: shutdown: " << describe(err) << "\n";
  return code;
}

}  // namespace agentgraph::cli
