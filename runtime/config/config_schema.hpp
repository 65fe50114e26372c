// The config schema (ARCHITECTURE §3.6): every setting is declared once,
// here as a key_spec inside a section_spec, and that one declaration drives
// the INI parser's validation, the environment and command-line overrides,
// the Boost.Program_options flags and `agentgraph config schema`.
//
// Two kinds of section:
//   fixed  [runtime], [supervisor]: exactly one, always present (all keys
//          take their defaults when the file does not mention it);
//   named  [agent.<name>], [tool.<name>], ...: any number, each created only
//          by a header in the config file. <name> matches [a-z0-9_-]{1,64}.
//
// The schema is immutable after construction and may be shared by threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/config/config_value.hpp"

namespace agentgraph {

// One setting. Exactly one of: a default (the usual case), `required`
// (no sensible default, the file must set it), or neither (optional: the
// binding sees "unset", e.g. an agent temperature that falls back to the
// role's preset).
struct key_spec {
  std::string name;  // [a-z][a-z0-9_]*
  value_rules rules;
  std::optional<config_value> default_value;
  bool required = false;
  std::string help;
  // Keys that only mean something for some kinds, e.g. a tool's `root` only
  // for kind file_read: setting it for another kind is an error (the user
  // expects an effect that would silently not happen). Empty: always applies.
  std::string applies_if_key;
  std::vector<std::string> applies_if_values;
};

// Factories for the common shapes; bounds are inclusive.
[[nodiscard]] key_spec string_key(std::string name, std::string def, std::string help);
// A string that names a file or directory: a relative value resolves
// against the directory of the config file (see resolve_config).
[[nodiscard]] key_spec path_key(std::string name, std::string def, std::string help);
[[nodiscard]] key_spec bool_key(std::string name, bool def, std::string help);
[[nodiscard]] key_spec int_key(std::string name, int64_t def, int64_t min, int64_t max,
                               std::string help);
[[nodiscard]] key_spec uint_key(std::string name, uint64_t def, uint64_t min, uint64_t max,
                                std::string help);
[[nodiscard]] key_spec double_key(std::string name, double def, double min, double max,
                                  std::string help);
[[nodiscard]] key_spec duration_key(std::string name, config_duration def, config_duration min,
                                    config_duration max, std::string help);
// Comma-separated strings; the default is the empty list.
[[nodiscard]] key_spec list_key(std::string name, std::string help);
[[nodiscard]] key_spec enum_key(std::string name, std::string def, std::vector<std::string> choices,
                                std::string help);
// "name:count, name:count"; every count within [min, max]; default empty.
[[nodiscard]] key_spec uint_map_key(std::string name, uint64_t min, uint64_t max, std::string help);

// Modifiers: drop the default and make the key optional or required.
[[nodiscard]] key_spec unset_by_default(key_spec k);
[[nodiscard]] key_spec required_key(key_spec k);
// Restricts where the key may be set (see key_spec::applies_if_key).
[[nodiscard]] key_spec applies_if(key_spec k, std::string selector_key,
                                  std::vector<std::string> selector_values);

struct section_spec {
  std::string name;    // "runtime", or the family prefix "agent" of [agent.<name>]
  bool named = false;  // true: a family of [name.<instance>] sections
  std::string help;
  std::vector<key_spec> keys;

  [[nodiscard]] const key_spec* find_key(std::string_view key) const;
  [[nodiscard]] std::vector<std::string> key_names() const;
  // "runtime" or "agent.<name>", as printed in docs.
  [[nodiscard]] std::string display_name() const;
};

// Instance names of named sections and everything built from them (env
// names, actor names, metric labels) stay short and shell-safe.
constexpr size_t config_instance_name_bytes_max = 64;
[[nodiscard]] bool valid_instance_name(std::string_view name);

// The environment variable that overrides `key` of `section`:
// AGENTGRAPH_<SECTION>_<KEY> upper-cased, '.' and '-' mapped to '_'.
// section is the full section name ("runtime", "agent.planner").
[[nodiscard]] std::string env_var_name(std::string_view section, std::string_view key);

class config_schema {
 public:
  // Adds a section. A malformed declaration (duplicate name, bad key name,
  // default outside its own bounds or not round-tripping through the parser,
  // applies_if naming an unknown key) is a programmer error: it aborts with
  // a message, so a broken schema can never ship past the first test run.
  void add_section(section_spec s);

  [[nodiscard]] const std::vector<section_spec>& sections() const { return sections_; }
  [[nodiscard]] const section_spec* find(std::string_view name) const;
  [[nodiscard]] std::vector<std::string> section_names() const;

 private:
  std::vector<section_spec> sections_;
};

// Prints every section and key: section, key, type, default, bounds or
// choices, environment variable and help. This is `agentgraph config schema`.
[[nodiscard]] std::string describe_schema(const config_schema& schema);

}  // namespace agentgraph
