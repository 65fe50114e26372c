#include "actors/tool/tool_registry.hpp"

#include "runtime/error.hpp"

namespace agentgraph {

caf::error tool_registry::add(dep<tool_actor> handle, tool_spec spec) {
  if (spec.name.empty())
    return make_error(errc::invalid_argument, "cannot register a tool without a name");
  if (!handle)
    return make_error(errc::invalid_argument,
                      "cannot register tool '" + spec.name + "': invalid handle");
  if (tools_.count(spec.name) != 0)
    return make_error(errc::invalid_argument,
                      "a tool named '" + spec.name + "' is already registered");
  auto name = spec.name;
  tools_.emplace(std::move(name), registered_tool{std::move(handle), std::move(spec)});
  return caf::none;
}

const registered_tool* tool_registry::find(std::string_view name) const {
  auto it = tools_.find(name);
  return it == tools_.end() ? nullptr : &it->second;
}

std::vector<std::string> tool_registry::names() const {
  std::vector<std::string> out;
  out.reserve(tools_.size());
  for (const auto& [name, _] : tools_)
    out.push_back(name);
  return out;
}

caf::expected<std::vector<tool_definition>>
tool_registry::definitions(const std::vector<std::string>& names) const {
  std::vector<tool_definition> out;
  out.reserve(names.size());
  for (const auto& name : names) {
    const auto* t = find(name);
    if (t == nullptr)
      return make_error(errc::not_found, "no tool named '" + name + "' is registered");
    out.push_back(to_definition(t->spec));
  }
  return out;
}

}  // namespace agentgraph
