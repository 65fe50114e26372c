// Command-line options generated from the config schema (Boost.Program_options).
//
// For every key of every fixed section there is `--<section>.<key> <value>`
// (e.g. `--runtime.scheduler_threads 4`), plus the repeatable
// `--set <section>.<key>=<value>` that also reaches named sections
// (`--set agent.planner.temperature=0.2`). The values stay text here: they
// become overrides for resolve_config, which validates them exactly like
// file values, so the CLI needs no second set of type rules.
//
// Named sections get no generated options: their names come from the file,
// which is read after the command line is parsed.
#pragma once

#include <string>
#include <vector>

#include "runtime/config/config_schema.hpp"

namespace boost::program_options {
class options_description;
class variables_map;
}  // namespace boost::program_options

namespace agentgraph {

// Adds the generated options and `--set` to `desc`.
void add_schema_options(const config_schema& schema,
                        boost::program_options::options_description& desc);

// The overrides given in `vm` as "section.key=value" strings: first the
// generated `--section.key` options (in schema order), then the `--set`
// values in command-line order, so a later --set of the same key wins.
[[nodiscard]] std::vector<std::string> overrides_from_options(
    const config_schema& schema, const boost::program_options::variables_map& vm);

}  // namespace agentgraph
