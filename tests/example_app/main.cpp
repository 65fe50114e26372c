// Embeds agentgraph: a runtime with the scripted provider, a calculator tool
// and one agent, called from ordinary code through a future and a callback.
#include <agentgraph/agentgraph.hpp>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: example_app RULES_FILE\n";
    return 2;
  }
  agentgraph::Runtime rt;
  agentgraph::provider_config provider;
  provider.name = "scripted";
  provider.rules = argv[1];
  agentgraph::tool_config calculator;
  calculator.name = "calculator";
  calculator.kind = "calculator";
  agentgraph::agent_config agent;
  agent.name = "mathematician";
  agent.role = agentgraph::agent_role::analysis;
  agent.system_prompt = "[mathematician] You compute.";
  agent.tools = {"calculator"};
  auto report = [](const caf::error& err) {
    std::cerr << "example_app: " << agentgraph::describe(err) << "\n";
    return 1;
  };
  agentgraph::runtime_builder build{rt};
  if (auto p = build.add_provider(provider); !p)
    return report(p.error());
  if (auto t = build.add_tool(calculator); !t)
    return report(t.error());
  if (auto a = build.add_agent(agent); !a)
    return report(a.error());
  agentgraph::runtime_client client{rt};
  auto future = client.submit("mathematician", {"t-1", "What is 6*7?", {}});
  auto result = future.get();
  if (!result) {
    std::cerr << "example_app: " << agentgraph::describe(result.error()) << "\n";
    return 1;
  }
  std::cout << result->output << "\n";
  std::promise<bool> called;
  client.submit("nobody", {"t-2", "hello", {}},
                [&](caf::expected<agentgraph::task_result> r) { called.set_value(!r); });
  bool not_found = called.get_future().get();
  return result->output.find("42") != std::string::npos && not_found ? 0 : 1;
}
