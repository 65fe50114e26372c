// The tools an agent may call, by name: each entry holds the tool actor's
// handle and its spec (what the model is shown). A plain value, not an
// actor: an agent keeps one in its state and only that agent touches it, so
// it is not thread-safe and needs no lock.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/tool/tool_interface.hpp"
#include "runtime/supervised_ref.hpp"

namespace agentgraph {

struct registered_tool {
  dep<tool_actor> handle;  // .get(): the tool's current incarnation
  tool_spec spec;
};

class tool_registry {
 public:
  // Registers `handle` under spec.name. Errors: invalid_argument for an
  // empty name, an invalid handle or a name already registered.
  [[nodiscard]] caf::error add(dep<tool_actor> handle, tool_spec spec);

  // nullptr when no tool has that name. The pointer is valid until the next add.
  [[nodiscard]] const registered_tool* find(std::string_view name) const;

  // Every registered name, sorted.
  [[nodiscard]] std::vector<std::string> names() const;

  // The definitions to show a model for `names`, in the order given.
  // Errors: not_found naming the first unknown tool.
  [[nodiscard]] caf::expected<std::vector<tool_definition>>
  definitions(const std::vector<std::string>& names) const;

  [[nodiscard]] size_t size() const { return tools_.size(); }

 private:
  std::map<std::string, registered_tool, std::less<>> tools_;
};

}  // namespace agentgraph
