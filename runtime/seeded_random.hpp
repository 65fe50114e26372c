// Seeded randomness that is the same on every standard library: a
// broadcast's sample (and any run that promises "the same seed gives the
// same result") must not change with the platform. std::mt19937_64's
// output is fixed by the standard; std::uniform_int_distribution's
// algorithm is each library's own, so draws go through uniform_below.
#pragma once

#include <cstdint>
#include <limits>
#include <random>
#include <string_view>

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

// A double in [0, 1) from the generator's top 53 bits (the standard's
// generate_canonical leaves its algorithm to each library).
inline double uniform_unit(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// A seed for one named consumer of a run's seed: FNV-1a of the label,
// mixed with the seed by splitmix64's finalizer. Never zero (zero means
// "no seed" where seeds are optional).
inline uint64_t derive_seed(uint64_t seed, std::string_view label) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : label) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  uint64_t z = seed ^ h;
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return z == 0 ? 1 : z;
}

}  // namespace agentgraph
