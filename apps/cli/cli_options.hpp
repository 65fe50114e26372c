// Option parsing shared by the subcommands that read a node config (`run`,
// `node`): the command's own options plus one per schema key, the config
// path defaulting to $AGENTGRAPH_CONFIG, and the `--set` overrides; and the
// plain parsing of the `bench` subcommands.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "apps/cli/commands.hpp"

namespace agentgraph::cli {

struct config_args {
  std::string config;
  std::vector<std::string> overrides;
};

// Adds `--config` and the schema's options to `desc`, parses `argv` into
// `vm` and `out` (config stays empty when neither --config nor the variable
// is given: the caller says what else is required). Returns the exit code
// when parsing ends the command: 0 after --help, 2 on bad usage.
[[nodiscard]] std::optional<int> parse_config_command(const args& argv, const char* command,
                                                      boost::program_options::options_description& desc,
                                                      boost::program_options::variables_map& vm,
                                                      config_args& out);

// The `bench` subcommands' parsing: `desc` (which should offer --help)
// with no positional arguments (a stray word is an error, not ignored).
// Returns the exit code when parsing ends the command: 0 after --help
// (the options printed), 2 on bad usage (the error printed, prefixed with
// "agentgraph <command>: ").
[[nodiscard]] std::optional<int> parse_bench_options(
  const args& argv, const char* command, const boost::program_options::options_description& desc,
  boost::program_options::variables_map& vm);

}  // namespace agentgraph::cli
