#include "apps/cli/cli_options.hpp"

#include <cstdlib>
#include <iostream>

#include "actors/host/node_config.hpp"
#include "runtime/config/config_options.hpp"

namespace po = boost::program_options;

namespace agentgraph::cli {

std::optional<int> parse_config_command(const args& argv, const char* command,
                                        po::options_description& desc, po::variables_map& vm,
                                        config_args& out) {
  desc.add_options()("config", po::value(&out.config),
                     "config file (default: $AGENTGRAPH_CONFIG)");
  add_schema_options(node_schema(), desc);
  try {
    po::store(po::command_line_parser(argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "agentgraph " << command << ": " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (out.config.empty())
    if (const char* env = std::getenv("AGENTGRAPH_CONFIG"))
      out.config = env;
  out.overrides = overrides_from_options(node_schema(), vm);
  return std::nullopt;
}

}  // namespace agentgraph::cli
