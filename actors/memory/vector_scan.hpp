// The exact scan of the vector index (vector_index.hpp): every stored
// vector scored against the query, the k best kept. Vectors are stored
// column-major (coordinate c of every entry in one contiguous run), and
// the scan reads only the runs of the query's nonzero coordinates: a
// hash-256 query of a short text has a few dozen of its 256, so it reads a
// tenth of the vectors' bytes, in long sequential runs; a dense query
// costs what a row-by-row scan costs. Measured in apps/cli/BENCHMARKS.md,
// "Vector index".
//
// Not thread-safe: one owner (the vector index) calls every method.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "actors/memory/vector_index.hpp"

namespace agentgraph {

// The k best of `all`, best first, ties to the lower id: the order every
// path of the index answers in.
[[nodiscard]] std::vector<index_match> best_matches(std::vector<index_match> all, size_t k);

class vector_scan {
 public:
  explicit vector_scan(uint32_t dim);

  // `v` has dim() floats; `id` must not be present. O(dim) amortized: a
  // full store doubles its capacity, copying every run once.
  void add(uint64_t id, const float* v);
  // Moves the last vector into the hole: O(dim). Removing an absent id is
  // a programmer error.
  void remove(uint64_t id);
  [[nodiscard]] bool contains(uint64_t id) const { return position_.count(id) > 0; }
  [[nodiscard]] size_t size() const { return ids_.size(); }

  // The k best, best first, ties to the lower id.
  [[nodiscard]] std::vector<index_match> search(const std::vector<float>& query, size_t k) const;
  // The k best of `ids` (each present, no duplicates), with the scores
  // search gives them: O(ids * 16 * nonzero coordinates of the query).
  [[nodiscard]] std::vector<index_match> score(const std::vector<float>& query,
                                               const std::vector<uint64_t>& ids, size_t k) const;

  // The i-th vector (i < size()) and its id, for a switch to HNSW.
  void copy_vector(size_t i, float* out) const;
  [[nodiscard]] uint64_t id_at(size_t i) const { return ids_[i]; }
  // Share of the stored coordinates that are not zero (0 when empty).
  [[nodiscard]] double nonzero_share() const;

  // Heap bytes: the runs (dim x capacity floats), ids, position map.
  [[nodiscard]] size_t bytes() const;

 private:
  void grow();

  uint32_t dim_;
  // Entries the runs have room for: 0 or a multiple of 16 (the kernel
  // scores 16 lanes at a time), doubled when full. Lanes past size() are 0.
  size_t capacity_ = 0;
  std::vector<float> runs_;    // coordinate c of entry i at runs_[c * capacity_ + i]
  std::vector<uint64_t> ids_;  // ids_[i] owns lane i
  std::unordered_map<uint64_t, uint32_t> position_;
  uint64_t nonzeros_ = 0;  // nonzero coordinates of the stored vectors
};

}  // namespace agentgraph
