#include "runtime/config/config_options.hpp"

#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace agentgraph {

namespace config_options_detail {

constexpr const char* set_option = "set";

std::string option_help(const section_spec& s, const key_spec& k) {
  std::string text = k.help;
  if (k.default_value)
    text += " [default: " + format_config_value(*k.default_value) + "]";
  text += " [env: " + env_var_name(s.name, k.name) + "]";
  return text;
}

}  // namespace config_options_detail

void add_schema_options(const config_schema& schema, po::options_description& desc) {
  using namespace config_options_detail;
  desc.add_options()(
      set_option,
      po::value<std::vector<std::string>>()->composing()->value_name("section.key=value"),
      "override one config key, also of named sections "
      "(--set agent.planner.temperature=0.2); repeatable");
  for (const auto& s : schema.sections()) {
    if (s.named)
      continue;
    for (const auto& k : s.keys) {
      auto name = s.name + "." + k.name;
      // A value semantic of std::string: the schema, not Boost, parses the
      // value, so `--runtime.x 30` and `AGENTGRAPH_RUNTIME_X=30` fail alike.
      desc.add_options()(name.c_str(),
                         po::value<std::string>()->value_name(to_string(k.rules.type)),
                         option_help(s, k).c_str());
    }
  }
}

std::vector<std::string> overrides_from_options(const config_schema& schema,
                                                const po::variables_map& vm) {
  std::vector<std::string> out;
  for (const auto& s : schema.sections()) {
    if (s.named)
      continue;
    for (const auto& k : s.keys) {
      auto name = s.name + "." + k.name;
      if (vm.count(name) > 0)
        out.push_back(name + "=" + vm[name].as<std::string>());
    }
  }
  if (vm.count(config_options_detail::set_option) > 0)
    for (const auto& o : vm[config_options_detail::set_option].as<std::vector<std::string>>())
      out.push_back(o);
  return out;
}

}  // namespace agentgraph
