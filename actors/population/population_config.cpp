#include "actors/population/population_config.hpp"

namespace agentgraph {

const char* to_string(population_durability d) {
  switch (d) {
    case population_durability::task: return "task";
    case population_durability::passivation: return "passivation";
  }
  return "unknown";
}

std::string population_key_problem(const std::string& key) {
  if (key.empty() || key.size() > 128)
    return "a key is 1-128 bytes, this one has " + std::to_string(key.size());
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '_' || c == '.' || c == ':' || c == '@' || c == '-';
    if (!ok)
      return "a key holds only A-Z a-z 0-9 _ . : @ -";
  }
  return {};
}

std::string population_vars_problem(const std::map<std::string, std::string>& vars) {
  if (vars.size() > population_vars_max)
    return "a key has at most " + std::to_string(population_vars_max) + " variables, these are "
           + std::to_string(vars.size());
  for (const auto& [name, value] : vars) {
    if (name.empty() || name.size() > 64)
      return "a variable name is 1-64 bytes, '" + name.substr(0, 64) + "' has "
             + std::to_string(name.size());
    for (char c : name) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '_';
      if (!ok)
        return "a variable name holds only A-Z a-z 0-9 _, not '" + name + "'";
    }
    if (name == "key" || name == "population")
      return "'" + name + "' is filled in by the population itself; it cannot be set";
    if (value.size() > population_var_value_max)
      return "variable '" + name + "' has " + std::to_string(value.size())
             + " bytes, at most " + std::to_string(population_var_value_max) + " are allowed";
  }
  return {};
}

std::optional<population_address> parse_population_address(const std::string& name) {
  auto slash = name.find('/');
  if (slash == std::string::npos)
    return std::nullopt;
  return population_address{name.substr(0, slash), name.substr(slash + 1)};
}

std::string render_population_prompt(const std::string& tmpl, const std::string& population,
                                     const std::string& key,
                                     const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(tmpl.size() + key.size());
  size_t pos = 0;
  // Each pass consumes at least two bytes of the template: bounded by its size.
  while (pos < tmpl.size()) {
    auto open = tmpl.find("{{", pos);
    auto close = open == std::string::npos ? open : tmpl.find("}}", open + 2);
    if (close == std::string::npos) {
      out.append(tmpl, pos, std::string::npos);
      break;
    }
    out.append(tmpl, pos, open - pos);
    auto name = tmpl.substr(open + 2, close - open - 2);
    if (name == "key")
      out += key;
    else if (name == "population")
      out += population;
    else if (auto it = vars.find(name); it != vars.end())
      out += it->second;
    else
      out.append(tmpl, open, close + 2 - open);
    pos = close + 2;
  }
  return out;
}

}  // namespace agentgraph
