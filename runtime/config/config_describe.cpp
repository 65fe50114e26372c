// describe_schema: the text of `agentgraph config schema`. It prints from
// the same declarations the parser validates against, so it cannot drift.
#include "runtime/config/config_schema.hpp"
#include "runtime/config/config_text.hpp"

namespace agentgraph {

namespace config_describe_detail {

// "1..64", "0.0..2.0", "1ms..1h", "one of a|b|c", "each count 1..10"; empty
// when the type has no constraint.
std::string constraint_text(const key_spec& k) {
  const auto& r = k.rules;
  if (r.type == value_type::enumeration)
    return "one of " + join(r.choices, "|");
  if (!r.min && !r.max)
    return {};
  std::string range = (r.min ? format_bound(r.type, *r.min) : std::string{}) + ".." +
                      (r.max ? format_bound(r.type, *r.max) : std::string{});
  return r.type == value_type::uint_map ? "each count " + range : range;
}

std::string default_text(const key_spec& k) {
  if (k.required)
    return "(required)";
  if (!k.default_value)
    return "(unset)";
  auto text = format_config_value(*k.default_value);
  return text.empty() ? "\"\"" : text;
}

void describe_key(std::string& out, const section_spec& s, const key_spec& k) {
  out += "  " + k.name + "\n";
  out += "    type:    " + std::string{to_string(k.rules.type)};
  if (auto c = constraint_text(k); !c.empty())
    out += ", " + c;
  out += "\n    default: " + default_text(k) + "\n";
  out += "    env:     " + env_var_name(s.display_name(), k.name) + "\n";
  if (!k.applies_if_key.empty())
    out += "    only if: " + k.applies_if_key + " is " + join(k.applies_if_values, "|") + "\n";
  out += "    " + k.help + "\n";
}

}  // namespace config_describe_detail

std::string describe_schema(const config_schema& schema) {
  std::string out =
      "# agentgraph config schema\n"
      "# Precedence: command line (--set section.key=value) > environment\n"
      "# (AGENTGRAPH_<SECTION>_<KEY>) > config file > default.\n"
      "# Durations need a unit: ms, s, m or h. Lists are comma-separated.\n";
  for (const auto& s : schema.sections()) {
    out += "\n[" + s.display_name() + "]\n  " + s.help + "\n";
    for (const auto& k : s.keys)
      config_describe_detail::describe_key(out, s, k);
  }
  return out;
}

}  // namespace agentgraph
