// Replay driver for the fuzz targets when they are built without libFuzzer
// (the normal g++ build): runs every seed file given on the command line,
// then a fixed number of deterministic mutations of them (byte flips,
// truncations, insertions, splices), so ctest exercises each decoder on
// thousands of malformed inputs. The clang build (-DAGENTGRAPH_FUZZ=ON)
// links libFuzzer instead of this file for coverage-guided fuzzing.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fuzz_driver {

constexpr int mutations_per_seed = 3000;
constexpr size_t input_bytes_max = 1 << 16;

struct xorshift {
  uint64_t s = 0x9E3779B97F4A7C15ull;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
};

std::string mutate(const std::string& seed, const std::string& other, xorshift& rng) {
  std::string out = seed;
  int edits = 1 + static_cast<int>(rng.next() % 4);
  for (int i = 0; i < edits; ++i) {
    size_t pos = out.empty() ? 0 : rng.next() % out.size();
    switch (rng.next() % 5) {
      case 0:
        if (!out.empty())
          out[pos] = static_cast<char>(rng.next());
        break;
      case 1: out.resize(pos); break;
      case 2: out.insert(pos, 1, static_cast<char>(rng.next())); break;
      case 3:
        if (!other.empty())
          out.insert(pos, other.substr(rng.next() % other.size()));
        break;
      default:
        if (!out.empty())
          out.erase(pos, 1 + rng.next() % 8);
        break;
    }
  }
  if (out.size() > input_bytes_max)
    out.resize(input_bytes_max);
  return out;
}

}  // namespace fuzz_driver

int main(int argc, char** argv) {
  std::vector<std::string> seeds;
  for (int i = 1; i < argc; ++i) {
    std::ifstream in{argv[i], std::ios::binary};
    if (!in) {
      std::cerr << "fuzz_driver: cannot read " << argv[i] << "\n";
      return 2;
    }
    seeds.emplace_back(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
  }
  if (seeds.empty()) {
    std::cerr << "usage: " << argv[0] << " SEED_FILE...\n";
    return 2;
  }
  fuzz_driver::xorshift rng;
  size_t runs = 0;
  for (size_t i = 0; i < seeds.size(); ++i) {
    const auto& seed = seeds[i];
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(seed.data()), seed.size());
    ++runs;
    for (int m = 0; m < fuzz_driver::mutations_per_seed; ++m) {
      auto input = fuzz_driver::mutate(seed, seeds[(i + 1) % seeds.size()], rng);
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
      ++runs;
    }
  }
  std::cout << "fuzz_driver: " << runs << " inputs, no crash\n";
  return 0;
}
