// Seeded randomness that is the same on every standard library: a
// broadcast's sample (and any run that promises "the same seed gives the
// same result") must not change with the platform. std::mt19937_64's
// output is fixed by the standard; std::uniform_int_distribution's
// algorithm is each library's own, so draws go through uniform_below.
#pragma once

#include <cstdint>
#include <limits>
#include <random>

#include "runtime/assert.hpp"

namespace agentgraph {

// A uniform integer in [0, n), n > 0, by rejection: outputs in the
// generator's last partial block of n are drawn again (at most 64 times;
// each draw lands there with chance below n / 2^64).
inline uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
  AG_ASSERT(n > 0);
  constexpr uint64_t max = std::numeric_limits<uint64_t>::max();
  const uint64_t limit = max - (max % n + 1) % n;  // [0, limit] holds whole blocks of n
  for (int i = 0; i < 64; ++i) {
    const uint64_t x = rng();
    if (x <= limit)
      return x % n;
  }
  return rng() % n;
}

}  // namespace agentgraph
