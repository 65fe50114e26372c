#include "apps/cli/cli_options.hpp"

#include <cstdlib>
#include <iostream>

#include "actors/host/node_config.hpp"
#include "runtime/config/config_options.hpp"

namespace po = boost::program_options;

namespace agentgraph::cli {

namespace cli_options_detail {

// Runs `parser` into `vm`: 2 on bad usage (printed), 0 after --help (the
// options printed), nothing when the command goes on.
std::optional<int> store_options(po::command_line_parser& parser, const char* command,
                                 const po::options_description& desc, po::variables_map& vm) {
  try {
    po::store(parser.run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "agentgraph " << command << ": " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  return std::nullopt;
}

}  // namespace cli_options_detail

std::optional<int> parse_config_command(const args& argv, const char* command,
                                        po::options_description& desc, po::variables_map& vm,
                                        config_args& out) {
  desc.add_options()("config", po::value(&out.config),
                     "config file (default: $AGENTGRAPH_CONFIG)");
  add_schema_options(node_schema(), desc);
  po::command_line_parser parser{argv};
  parser.options(desc);
  if (auto code = cli_options_detail::store_options(parser, command, desc, vm))
    return code;
  if (out.config.empty())
    if (const char* env = std::getenv("AGENTGRAPH_CONFIG"))
      out.config = env;
  out.overrides = overrides_from_options(node_schema(), vm);
  return std::nullopt;
}

std::optional<int> parse_bench_options(const args& argv, const char* command,
                                       const po::options_description& desc, po::variables_map& vm) {
  // An empty positional description makes a stray word an error instead
  // of ignoring it.
  po::positional_options_description none;
  po::command_line_parser parser{argv};
  parser.options(desc).positional(none);
  return cli_options_detail::store_options(parser, command, desc, vm);
}

}  // namespace agentgraph::cli
