#include "actors/population/broadcast_actor.hpp"

#include <deque>
#include <random>

#include <caf/typed_event_based_actor.hpp>

#include "actors/population/population_interface.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/seeded_random.hpp"

namespace agentgraph {

std::string broadcast_problem(const population_broadcast& b) {
  if (b.input.empty())
    return "input is empty";
  if (b.concurrency == 0 || b.concurrency > broadcast_concurrency_max)
    return "concurrency must be 1.." + std::to_string(broadcast_concurrency_max);
  if (b.sample > broadcast_sample_max)
    return "sample must be 0 (every key) .. " + std::to_string(broadcast_sample_max);
  if (b.task_prefix.empty() || b.task_prefix.size() > 64)
    return "task_prefix must be 1-64 bytes";
  for (char c : b.task_prefix) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '_' || c == '.' || c == ':' || c == '-';
    if (!ok)
      return "task_prefix holds only A-Z a-z 0-9 _ . : -";
  }
  return {};
}

namespace {

// Keys asked of the store per page.
constexpr uint32_t broadcast_page_keys = 1'024;

struct broadcast_state {
  static inline const char* name = "population_broadcast";
  // Not the first member: CAF builds a state from the self pointer when it can.
  uint32_t in_flight = 0;
  std::shared_ptr<const population_nodes> nodes;
  population_store_actor store;
  std::string type;
  population_broadcast req;
  std::chrono::milliseconds task_deadline{0};
  caf::typed_response_promise<population_broadcast_result> promise;
  population_broadcast_result result;
  std::deque<std::string> ready;  // keys to send now
  std::string after;              // the store's paging cursor
  bool fetching = false;
  bool exhausted = false;         // the store has no more keys
  // Sampling: the reservoir and how many keys were seen.
  std::vector<std::string> reservoir;
  uint64_t seen = 0;
  std::mt19937_64 rng;
  bool started = false;
};

using self_ptr = population_broadcast_actor::stateful_pointer<broadcast_state>;

void pump(self_ptr self);

void finish_if_done(self_ptr self) {
  auto& st = self->state;
  if (!st.exhausted || st.fetching || st.in_flight > 0 || !st.ready.empty())
    return;
  st.promise.deliver(st.result);
  self->quit();
}

void record_failure(broadcast_state& st, const std::string& key, const caf::error& err) {
  ++st.result.failed;
  if (st.result.errors.size() < broadcast_errors_kept)
    st.result.errors.push_back(key + ": " + describe(err));
}

void send_task(self_ptr self, std::string key) {
  auto& st = self->state;
  ++st.result.keys;
  auto owner = st.nodes->owner_of(st.type, key);
  auto pop = owner ? owner->handle.get() : population_actor{};
  if (!pop) {
    record_failure(st, key, make_error(errc::unavailable, "no node runs population '" + st.type
                                                            + "' for this key now"));
    return;
  }
  ++st.in_flight;
  task_request task{st.req.task_prefix + "-" + key, st.req.input, st.req.context};
  self->request(pop, st.task_deadline, pop_execute_atom::value, key, std::move(task))
    .then(
      [self](task_result&) {
        --self->state.in_flight;
        ++self->state.result.ok;
        pump(self);
      },
      [self, key](caf::error& err) {
        --self->state.in_flight;
        record_failure(self->state, key, err);
        pump(self);
      });
}

void fetch(self_ptr self) {
  auto& st = self->state;
  AG_ASSERT(!st.fetching && !st.exhausted);
  st.fetching = true;
  self->request(st.store, caf::infinite, pstore_keys_atom::value, st.type, st.after,
                broadcast_page_keys)
    .then(
      [self](std::vector<std::string>& keys) {
        auto& st = self->state;
        st.fetching = false;
        if (keys.empty()) {
          st.exhausted = true;
          // A sample is sent once every key was seen.
          for (auto& k : st.reservoir)
            st.ready.push_back(std::move(k));
          st.reservoir.clear();
        } else {
          st.after = keys.back();
          for (auto& k : keys) {
            if (st.req.sample == 0) {
              st.ready.push_back(std::move(k));
              continue;
            }
            // Algorithm R: the first `sample` keys fill the reservoir; the
            // n-th key after that replaces a random slot with chance sample/n.
            ++st.seen;
            if (st.reservoir.size() < st.req.sample) {
              st.reservoir.push_back(std::move(k));
            } else {
              auto j = uniform_below(st.rng, st.seen);
              if (j < st.req.sample)
                st.reservoir[j] = std::move(k);
            }
          }
        }
        pump(self);
      },
      [self](caf::error& err) {
        auto& st = self->state;
        st.fetching = false;
        st.exhausted = true;
        st.ready.clear();
        st.reservoir.clear();
        record_failure(st, "(store)", err);
        pump(self);
      });
}

void pump(self_ptr self) {
  auto& st = self->state;
  while (st.in_flight < st.req.concurrency && !st.ready.empty()) {
    auto key = std::move(st.ready.front());
    st.ready.pop_front();
    send_task(self, std::move(key));
  }
  // The next page once this one is sent (an "every key" broadcast keeps
  // one page in memory), or at once while sampling.
  if (!st.fetching && !st.exhausted && st.ready.empty())
    fetch(self);
  finish_if_done(self);
}

population_broadcast_actor::behavior_type broadcast_behavior(
  self_ptr self, std::shared_ptr<const population_nodes> nodes, population_store_actor store,
  std::string type, population_broadcast req, std::chrono::milliseconds task_deadline) {
  auto& st = self->state;
  st.nodes = std::move(nodes);
  st.store = std::move(store);
  st.type = std::move(type);
  st.rng.seed(req.seed);
  st.req = std::move(req);
  st.task_deadline = task_deadline;
  return {
    [self](broadcast_run_atom) -> caf::result<population_broadcast_result> {
      auto& st = self->state;
      if (st.started)
        return make_error(errc::conflict, "this broadcast already runs");
      st.started = true;
      st.promise = self->make_response_promise<population_broadcast_result>();
      pump(self);
      return st.promise;
    },
  };
}

}  // namespace

population_broadcast_actor spawn_population_broadcast(
  caf::actor_system& sys, std::shared_ptr<const population_nodes> nodes,
  population_store_actor store, std::string type, population_broadcast b,
  std::chrono::milliseconds task_deadline) {
  AG_ASSERT(nodes && store && broadcast_problem(b).empty());
  return sys.spawn(broadcast_behavior, std::move(nodes), std::move(store), std::move(type),
                   std::move(b), task_deadline);
}

}  // namespace agentgraph
