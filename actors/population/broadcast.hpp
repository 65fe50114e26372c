// Broadcast and sampling for simulations (issue 14): one message to every
// key of a population that has a saved state, or to a seeded random sample
// of them, with at most `concurrency` tasks in flight, so a million keys
// never flood the providers past their rate limits. Each key's task goes to
// the key's owner (population_nodes), like any "<type>/<key>" task.
//
// Keys come from the population's store, a page at a time: an "every key"
// broadcast holds one page and its tasks in flight; a sample holds the
// sample (reservoir sampling with a std::mt19937_64 seeded by `seed` over
// the keys in byte order: the same keys, seed and sample size give the
// same sample on every run and build).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/typed_actor.hpp>

#include "runtime/value.hpp"

namespace agentgraph {

inline constexpr uint32_t broadcast_concurrency_max = 1'024;
inline constexpr uint64_t broadcast_sample_max = 1'000'000;
inline constexpr size_t broadcast_errors_kept = 8;

struct population_broadcast {
  std::string input;  // every key's task input
  Value context;
  uint64_t sample = 0;  // 0: every key; else at most this many keys, chosen by `seed`
  uint64_t seed = 0;
  uint32_t concurrency = 16;  // tasks in flight at once, 1..broadcast_concurrency_max
  // Task ids are "<task_prefix>-<key>"; 1-64 bytes of A-Z a-z 0-9 _ . : -
  std::string task_prefix = "broadcast";
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, population_broadcast& x) {
  return f(caf::meta::type_name("agentgraph::population_broadcast"), x.input, x.context,
           x.sample, x.seed, x.concurrency, x.task_prefix);
}

struct population_broadcast_result {
  uint64_t keys = 0;    // keys sent a task
  uint64_t ok = 0;
  uint64_t failed = 0;
  std::vector<std::string> errors;  // the first broadcast_errors_kept, "<key>: <error>"
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, population_broadcast_result& x) {
  return f(caf::meta::type_name("agentgraph::population_broadcast_result"), x.keys, x.ok,
           x.failed, x.errors);
}

// The problem with `b` ("" when none): empty input, concurrency or sample
// out of bounds, a bad task_prefix.
[[nodiscard]] std::string broadcast_problem(const population_broadcast& b);

using broadcast_run_atom = caf::atom_constant<caf::atom("ag_bcast")>;

// One broadcast: send it broadcast_run_atom once; it replies with the
// result when every task ended, then quits.
using population_broadcast_actor =
  caf::typed_actor<caf::replies_to<broadcast_run_atom>::with<population_broadcast_result>>;

}  // namespace agentgraph
