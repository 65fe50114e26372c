#include "actors/population/key_address.hpp"

#include <caf/typed_event_based_actor.hpp>

#include "actors/population/population_config.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace {

struct address_state {
  static inline const char* name = "population_key";
  // Not the first member: CAF builds a state from the self pointer when it can.
  std::string key;
  dep<population_actor> population;
};

using address_actor = agent_actor::stateful_pointer<address_state>;

agent_actor::behavior_type key_address(address_actor self, dep<population_actor> population,
                                       std::string key) {
  self->state.key = std::move(key);
  self->state.population = std::move(population);
  auto down = [self] {
    return make_error(errc::unavailable, "the population of key '" + self->state.key
                                           + "' is down");
  };
  return {
    [self, down](execute_atom, task_request& task) -> caf::result<task_result> {
      auto pop = self->state.population.get();
      if (!pop)
        return down();
      return self->delegate(pop, pop_execute_atom::value, self->state.key, std::move(task));
    },
    [self, down](execute_stream_atom, task_request& task,
                 stream_sink_actor& sink) -> caf::result<task_result> {
      auto pop = self->state.population.get();
      if (!pop)
        return down();
      return self->delegate(pop, pop_execute_stream_atom::value, self->state.key,
                            std::move(task), std::move(sink));
    },
    [self, down](stats_atom) -> caf::result<agent_stats> {
      auto pop = self->state.population.get();
      if (!pop)
        return down();
      return self->delegate(pop, pop_key_stats_atom::value, self->state.key);
    },
    [](ping_atom) { return pong_atom::value; },
  };
}

}  // namespace

agent_actor spawn_key_address(caf::actor_system& sys, dep<population_actor> population,
                              std::string key) {
  AG_ASSERT(population_key_problem(key).empty());
  return sys.spawn(key_address, std::move(population), std::move(key));
}

}  // namespace agentgraph
