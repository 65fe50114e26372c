#include "runtime/virtual_time.hpp"
#include "runtime/population/population_store_actor.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/worker_front.hpp"

namespace agentgraph {

namespace population_store_actor_detail {

using worker_actor = population_store_signatures;

struct worker_state {
  std::shared_ptr<population_store> store;  // only this actor's thread touches it
  static inline const char* name = "population_store_worker";
};

struct front_state : worker_front_state<worker_actor, population_store_actor_config> {
  static inline const char* name = "population_store";
};

// Runs on its own thread (spawned detached): blocking is allowed here.
worker_actor::behavior_type worker(worker_actor::stateful_pointer<worker_state> self,
                                   std::shared_ptr<population_store> store) {
  AG_ASSERT(store != nullptr);
  self->state.store = std::move(store);
  auto* st = &self->state;
  return {
    [st](pstore_claim_atom, const std::string& population, const std::vector<std::string>& keys,
         const std::string& owner, uint64_t epoch) {
      return to_result(st->store->claim(population, keys, owner, epoch));
    },
    [st](pstore_save_atom, const std::string& population, const std::string& owner,
         uint64_t epoch, const std::vector<population_save>& batch) {
      return to_result(st->store->save(population, owner, epoch, batch));
    },
    [st](pstore_keys_atom, const std::string& population, const std::string& after,
         uint32_t limit) { return to_result(st->store->keys(population, after, limit)); },
    [st](pstore_count_atom, const std::string& population) {
      return to_result(st->store->count(population));
    },
    [st](pstore_erase_atom, const std::string& population, const std::string& key) {
      return to_result(st->store->erase(population, key));
    },
  };
}

using front_ptr = population_store_actor::stateful_pointer<front_state>;

// Relays to the worker; the worker's failures (a timeout, its death) in
// our vocabulary, the store's own errors as they are.
template <class T, class... Ts>
caf::result<T> relay(front_ptr self, Ts... xs) {
  auto timeout = self->state.cfg.call_timeout;
  return relay_to_worker<T>(
    self, "population store",
    [timeout](caf::error err) {
      return from_worker_error(err, "population store", timeout, errc::io_error);
    },
    std::move(xs)...);
}

population_store_actor::behavior_type front(front_ptr self,
                                            std::shared_ptr<population_store> store,
                                            population_store_actor_config cfg) {
  self->state.cfg = cfg;
  self->state.worker = spawn_blocking_worker<caf::linked>(self, worker, std::move(store));
  return {
    [self](pstore_claim_atom a, std::string& population, std::vector<std::string>& keys,
           std::string& owner, uint64_t epoch) {
      return relay<std::vector<population_claim>>(self, a, std::move(population), std::move(keys),
                                                  std::move(owner), epoch);
    },
    [self](pstore_save_atom a, std::string& population, std::string& owner, uint64_t epoch,
           std::vector<population_save>& batch) {
      return relay<std::vector<std::string>>(self, a, std::move(population), std::move(owner),
                                             epoch, std::move(batch));
    },
    [self](pstore_keys_atom a, std::string& population, std::string& after, uint32_t limit) {
      return relay<std::vector<std::string>>(self, a, std::move(population), std::move(after),
                                             limit);
    },
    [self](pstore_count_atom a, std::string& population) {
      return relay<uint64_t>(self, a, std::move(population));
    },
    [self](pstore_erase_atom a, std::string& population, std::string& key) {
      return relay<bool>(self, a, std::move(population), std::move(key));
    },
    [](ping_atom) { return pong_atom::value; },
  };
}

}  // namespace population_store_actor_detail

population_store_actor spawn_population_store_actor(caf::actor_system& sys,
                                                    std::unique_ptr<population_store> store,
                                                    population_store_actor_config cfg) {
  AG_ASSERT(store != nullptr);
  AG_ASSERT(cfg.pending_max >= 1);
  return sys.spawn(population_store_actor_detail::front,
                   std::shared_ptr<population_store>{std::move(store)}, cfg);
}

}  // namespace agentgraph
