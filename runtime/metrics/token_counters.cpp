#include "runtime/metrics/token_counters.hpp"

#include "runtime/metrics/series_ref.hpp"

namespace agentgraph::metrics {

void token_counters::add(const token_usage& usage) noexcept {
  inc_nonnegative(prompt, usage.prompt_tokens);
  inc_nonnegative(completion, usage.completion_tokens);
}

token_counters make_token_counters(registry* reg, const std::string& name, const std::string& help,
                                   const std::string& component_label,
                                   const std::string& component) {
  token_counters t;
  t.prompt = counter_of(reg, name, help, {component_label, "direction"}, {component, "prompt"});
  t.completion =
    counter_of(reg, name, help, {component_label, "direction"}, {component, "completion"});
  return t;
}

}  // namespace agentgraph::metrics
