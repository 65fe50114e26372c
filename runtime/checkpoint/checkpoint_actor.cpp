#include "runtime/virtual_time.hpp"
#include "runtime/checkpoint/checkpoint_actor.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/worker_front.hpp"

namespace agentgraph {

namespace checkpoint_actor_detail {

using worker_actor = checkpoint_store_signatures;

struct worker_state {
  std::shared_ptr<checkpoint_store> store;  // only this actor's thread touches it
  static inline const char* name = "checkpoint_worker";
};

struct front_state : worker_front_state<worker_actor, checkpoint_actor_config> {
  static inline const char* name = "checkpoint";
};

// Runs on its own thread (spawned detached): blocking is allowed here.
worker_actor::behavior_type worker(worker_actor::stateful_pointer<worker_state> self,
                                   std::shared_ptr<checkpoint_store> store) {
  AG_ASSERT(store != nullptr);
  self->state.store = std::move(store);
  auto* st = &self->state;
  return {
    [st](checkpoint_put_atom, const checkpoint& c) { return to_result(st->store->put(c)); },
    [st](checkpoint_latest_atom, const std::string& t) { return to_result(st->store->latest(t)); },
    [st](checkpoint_get_atom, const std::string& t, uint64_t id) {
      return to_result(st->store->get(t, id));
    },
    [st](checkpoint_list_atom, const std::string& t, uint32_t limit) {
      return to_result(st->store->list(t, limit));
    },
    [st](checkpoint_threads_atom, uint32_t limit) {
      return to_result(st->store->list_threads(limit));
    },
    [st](checkpoint_delete_atom, const std::string& t) {
      return to_result(st->store->delete_thread(t));
    },
  };
}

using front_ptr = checkpoint_actor::stateful_pointer<front_state>;

// Relays to the worker; its errors (CAF's request_timeout included) as they are.
template <class T, class... Ts>
caf::result<T> relay(front_ptr self, Ts... xs) {
  return relay_to_worker<T>(
    self, "checkpoint store", [](caf::error err) { return err; }, std::move(xs)...);
}

checkpoint_actor::behavior_type front(front_ptr self, std::shared_ptr<checkpoint_store> store,
                                      checkpoint_actor_config cfg) {
  self->state.cfg = cfg;
  self->state.worker = spawn_blocking_worker<caf::linked>(self, worker, std::move(store));
  return {
    [self](checkpoint_put_atom a, checkpoint& c) { return relay<uint64_t>(self, a, std::move(c)); },
    [self](checkpoint_latest_atom a, std::string& t) {
      return relay<checkpoint>(self, a, std::move(t));
    },
    [self](checkpoint_get_atom a, std::string& t, uint64_t id) {
      return relay<checkpoint>(self, a, std::move(t), id);
    },
    [self](checkpoint_list_atom a, std::string& t, uint32_t limit) {
      return relay<std::vector<checkpoint>>(self, a, std::move(t), limit);
    },
    [self](checkpoint_threads_atom a, uint32_t limit) {
      return relay<std::vector<std::string>>(self, a, limit);
    },
    [self](checkpoint_delete_atom a, std::string& t) {
      return relay<uint64_t>(self, a, std::move(t));
    },
    [](ping_atom) { return pong_atom::value; },
  };
}

}  // namespace checkpoint_actor_detail

checkpoint_actor spawn_checkpoint_actor(caf::actor_system& sys,
                                        std::unique_ptr<checkpoint_store> store,
                                        checkpoint_actor_config cfg) {
  AG_ASSERT(store != nullptr);
  AG_ASSERT(cfg.pending_max >= 1);
  return sys.spawn(checkpoint_actor_detail::front,
                   std::shared_ptr<checkpoint_store>{std::move(store)}, cfg);
}

}  // namespace agentgraph
