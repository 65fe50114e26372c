// The token counters of one component: a counter family `<name>` with the
// labels {<component label>, direction}, direction `prompt` or `completion`.
// Agents and providers both count the usage of model calls this way.
// Null series (no registry) record nothing.
#pragma once

#include <string>

#include "runtime/llm_types.hpp"
#include "runtime/metrics/registry.hpp"

namespace agentgraph::metrics {

struct token_counters {
  counter* prompt = nullptr;
  counter* completion = nullptr;

  // A negative figure (a vendor's bug) counts as 0: counters only go up.
  void add(const token_usage& usage) noexcept;
};

[[nodiscard]] token_counters make_token_counters(registry* reg, const std::string& name,
                                                 const std::string& help,
                                                 const std::string& component_label,
                                                 const std::string& component);

}  // namespace agentgraph::metrics
