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
  std::string type;
  std::shared_ptr<const population_nodes> nodes;

  // The owner's population actor now, or why there is none.
  caf::expected<population_actor> owner() const {
    auto o = nodes->owner_of(type, key);
    if (!o)
      return make_error(errc::unavailable, "no node runs population '" + type + "' now");
    if (auto h = o->handle.get())
      return h;
    return make_error(errc::unavailable, "population '" + type + "' on node '" + o->node
                                           + "', owner of key '" + key + "', is down");
  }
};

using address_actor = agent_actor::stateful_pointer<address_state>;

agent_actor::behavior_type key_address(address_actor self,
                                       std::shared_ptr<const population_nodes> nodes,
                                       std::string type, std::string key) {
  self->state.key = std::move(key);
  self->state.type = std::move(type);
  self->state.nodes = std::move(nodes);
  return {
    [self](execute_atom, task_request& task) -> caf::result<task_result> {
      auto pop = self->state.owner();
      if (!pop)
        return std::move(pop.error());
      return self->delegate(*pop, pop_execute_atom::value, self->state.key, std::move(task));
    },
    [self](execute_stream_atom, task_request& task,
           stream_sink_actor& sink) -> caf::result<task_result> {
      auto pop = self->state.owner();
      if (!pop)
        return std::move(pop.error());
      return self->delegate(*pop, pop_execute_stream_atom::value, self->state.key,
                            std::move(task), std::move(sink));
    },
    [self](stats_atom) -> caf::result<agent_stats> {
      auto pop = self->state.owner();
      if (!pop)
        return std::move(pop.error());
      return self->delegate(*pop, pop_key_stats_atom::value, self->state.key);
    },
    [](ping_atom) { return pong_atom::value; },
  };
}

}  // namespace

agent_actor spawn_key_address(caf::actor_system& sys,
                              std::shared_ptr<const population_nodes> nodes, std::string type,
                              std::string key) {
  AG_ASSERT(nodes && population_key_problem(key).empty());
  return sys.spawn(key_address, std::move(nodes), std::move(type), std::move(key));
}

}  // namespace agentgraph
