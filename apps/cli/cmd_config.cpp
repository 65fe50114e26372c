// `agentgraph config check FILE` and `agentgraph config schema`.
#include <iostream>

#include <boost/program_options.hpp>

#include "actors/host/node_config.hpp"
#include "apps/cli/commands.hpp"
#include "runtime/config/config_options.hpp"
#include "runtime/config/config_resolve.hpp"
#include "runtime/error.hpp"

namespace po = boost::program_options;

namespace agentgraph::cli {

namespace cmd_config_detail {

int check(const args& argv) {
  po::options_description desc{"agentgraph config check FILE"};
  std::string file;
  desc.add_options()("help", "print this help")("file", po::value(&file), "config file");
  add_schema_options(node_schema(), desc);
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argv).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "agentgraph config check: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help") || file.empty()) {
    std::cout << desc;
    return vm.count("help") ? 0 : 2;
  }
  auto cfg = load_node_config(file, process_environment(), overrides_from_options(node_schema(), vm));
  if (!cfg) {
    std::cerr << "agentgraph config check: " << describe(cfg.error()) << "\n";
    return 2;
  }
  // Beyond the schema: what a start needs from outside the file (rules,
  // prices, workflow files, tool roots, API keys), the very function
  // runtime_builder::from_config runs first, so a config passes here exactly when
  // `run` and `node` would get past loading it, and fails with their message.
  if (auto err = check_node_resources(*cfg)) {
    std::cerr << "agentgraph config check: " << describe(err) << "\n";
    return 2;
  }
  std::cout << "ok: " << file << ": " << cfg->agents.size() << " agents, " << cfg->tools.size()
            << " tools, " << cfg->memories.size() << " memory shards, " << cfg->providers.size()
            << " providers\n";
  return 0;
}

}  // namespace cmd_config_detail

int config_command(const args& argv) {
  if (!argv.empty() && argv[0] == "schema" && argv.size() == 1) {
    std::cout << describe_schema(node_schema());
    return 0;
  }
  if (!argv.empty() && argv[0] == "check")
    return cmd_config_detail::check({argv.begin() + 1, argv.end()});
  std::cerr << "usage: agentgraph config check FILE [--set SECTION.KEY=VALUE]...\n"
               "       agentgraph config schema\n";
  return 2;
}

}  // namespace agentgraph::cli
