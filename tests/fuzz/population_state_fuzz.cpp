// Fuzz target: a population key's saved state
// (actors/population/population_state.hpp) is read back from a store
// anyone may edit. Any bytes must decode to an error or to a state within
// the codec's promises (an even history, non-negative figures), and what
// decodes must encode and decode again to the same state.
#include <cstdint>
#include <cstdlib>

#include "actors/population/population_state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace agentgraph;
  std::vector<uint8_t> bytes(data, data + size);
  auto state = decode_population_state(bytes);
  if (!state)
    return 0;
  const auto& a = state->agent;
  if (a.history.size() % 2 != 0 || a.prompt_tokens < 0 || a.completion_tokens < 0
      || a.response_time_total_us < 0)
    std::abort();
  auto back = decode_population_state(encode_population_state(*state));
  if (!back || back->agent.history != a.history
      || back->agent.tasks_completed != a.tasks_completed || back->agent.errors != a.errors
      || back->agent.prompt_tokens != a.prompt_tokens
      || back->agent.completion_tokens != a.completion_tokens
      || back->agent.response_time_total_us != a.response_time_total_us
      || back->vars != state->vars)
    std::abort();
  return 0;
}
