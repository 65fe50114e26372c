// Resolving a config: the parsed file, the environment and the command-line
// overrides are validated against the schema and merged into one tree of
// typed values, each remembering where it came from.
//
// Precedence: command line > environment > file > default.
//
// Environment: AGENTGRAPH_<SECTION>_<KEY> (see env_var_name). We generate
// the names of every key of every section present (fixed sections are
// always present) and look those up, rather than parsing variable names,
// so underscores inside section or key names are never ambiguous. Any other
// AGENTGRAPH_* variable is an error (it is almost always a typo), except
// AGENTGRAPH_CONFIG, the default config path read by the CLI, and
// AGENTGRAPH_TEST_*, set by the test harness for the tests (the throwaway
// servers' addresses: AGENTGRAPH_TEST_REDIS_URL); no section is named
// `test`, so no key is lost; and a variable that a *_env key names in the
// file or by default (a secret's variable, such as [cluster] secret_env's
// default AGENTGRAPH_CLUSTER_SECRET). If two keys
// map to the same variable name (e.g. [agent.a_b] x and [agent.a-b] x) that
// variable is rejected as ambiguous when it is set.
//
// Command line: "section.key=value" strings (from `--set` and from the
// generated `--runtime.key value` options, config_options.hpp); a later
// override of the same key wins. Neither the environment nor the command
// line can create a named section: [agent.x] must be declared in the file,
// because a section conjured from a typo would silently run with defaults.
// A value's origin is the assignment itself, "--set agent.x.temperature=3.5"
// (value shown as <redacted> when it looks secret, config_text.hpp), so
// every error about it, cross-references included, names what was typed.
//
// Paths: a relative value of a `path` key resolves against `base_dir`, the
// directory of the config file, whatever its source (file, environment or
// command line), so the same value means the same file wherever it is set.
// With an empty base_dir relative paths stay relative (to the process's
// working directory).
#pragma once

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/config/config_schema.hpp"
#include "runtime/config/config_value.hpp"
#include "runtime/config/ini_parser.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

constexpr std::string_view config_env_prefix = "AGENTGRAPH_";
// The one AGENTGRAPH_* variable that is not a key: the CLI's default for
// `--config`.
constexpr std::string_view config_path_env = "AGENTGRAPH_CONFIG";
// Variables for the test harness, never keys: tools/test-services.sh exports
// the URLs of the throwaway servers of a test run (AGENTGRAPH_TEST_POSTGRES_URL, AGENTGRAPH_TEST_REDIS_URL),
// and every CLI started by a test inherits them.
constexpr std::string_view config_test_env_prefix = "AGENTGRAPH_TEST_";
constexpr size_t config_overrides_max = 256;  // more command-line overrides are rejected
constexpr size_t config_env_vars_max = 1024;  // more AGENTGRAPH_* variables are rejected

// The origin of a value that nobody set.
constexpr std::string_view config_default_origin = "default";

struct config_entry {
  config_value value;
  // "node.ini:12", "environment AGENTGRAPH_AGENT_PLANNER_MODEL",
  // "--set agent.planner.model=m" or "default": the prefix of every message
  // about it.
  std::string origin;

  [[nodiscard]] bool is_default() const { return origin == config_default_origin; }
};

struct config_section {
  std::string name;      // "runtime", "agent.planner"
  std::string family;    // the schema section: "runtime", "agent"
  std::string instance;  // "planner"; empty for fixed sections
  std::string origin;    // "node.ini:3" (its header), or "default"
  // Every key that was set or has a default; optional keys nobody set are
  // absent.
  std::map<std::string, config_entry> entries;

  [[nodiscard]] const config_entry* find(std::string_view key) const;
  // The origin to blame for `key`: where it was set, or the section header
  // (with " (default)") when it took its default.
  [[nodiscard]] std::string origin_of(std::string_view key) const;
};

struct config_tree {
  std::vector<config_section> sections;  // fixed sections first, then file order

  [[nodiscard]] const config_section* find(std::string_view name) const;
  [[nodiscard]] std::vector<const config_section*> family(std::string_view family) const;
};

// "origin: [section] key: message" (key part omitted when empty): the one
// shape of every config error, so users always learn where to look.
[[nodiscard]] caf::error config_error(errc code, std::string_view origin, std::string_view section,
                                      std::string_view key, std::string_view message);

// Validates and merges; the first problem found is returned.
[[nodiscard]] caf::expected<config_tree> resolve_config(
    const config_schema& schema, const ini_document& file,
    const std::map<std::string, std::string>& env, const std::vector<std::string>& overrides,
    const std::string& base_dir);

// The AGENTGRAPH_* variables of this process (from `environ`), the map
// production code passes where tests pass their own.
[[nodiscard]] std::map<std::string, std::string> process_environment();

}  // namespace agentgraph
