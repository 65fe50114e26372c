// Nearest-neighbour index over unit vectors keyed by entry id, for the
// memory shard. Small indexes are an exact cosine scan (vector_scan.hpp);
// at `exact_search_max` entries it switches to an HNSW graph (hnswlib,
// inner product on unit vectors = cosine), unless the vectors are sparse
// and the owner asked sparse ones to stay exact (why: memory_config.hpp,
// exact_search_sparse). hnswlib stays inside vector_index.cpp so installed
// headers never need it.
//
// Not thread-safe: one owner (the shard actor) calls every method.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace agentgraph {

// HNSW parameters, chosen with `agentgraph bench memory` (apps/cli/
// BENCHMARKS.md, "Vector index"): hnswlib's recommended ef_construction of
// 200 built 727 vectors/s at 100 K entries; below about 24 the graph loses
// recall no search-time ef wins back (clustered 384-d, 50 K entries, M 16:
// efc 16 needs ef 400 for recall@10 0.95, efc 32 needs ef 20). At 100 K
// clustered 384-d entries, with vector_index.cpp's inserter, inserts per
// second of CPU on the shared 2-core machine (load 4-5) and recall@10:
// M 16 efc 40: 14.2 K, 0.988; efc 32: 13.5 K, 0.980; efc 24: 17.3 K, 0.965.
// M 12 efc 32: 15.3 K, 0.985; efc 24 (ef from 48): 18.7 K, 0.961, but at
// 1536 dims M 12 fell to recall 0.959 with p99 3.7 ms. So M 16, efc 24.
constexpr size_t hnsw_links_per_node = 16;  // hnswlib "M"
constexpr size_t hnsw_ef_construction = 24;
// A deleted slot reused by an add is re-linked by hnswlib's updatePoint
// with this ef_construction instead: at 24, two turnovers of slot reuse
// (memory_vector_index_test.cpp, 2000 entries, dim 64) fell to recall@10
// 0.947; at 32 they keep 0.95 as before.
constexpr size_t hnsw_ef_construction_reuse = 32;
// Search ef is adaptive per query: it starts at max(k * per_result, min)
// and doubles while the k ids found keep changing, up to max. A query
// whose neighbourhood the graph finds easily stops at the first doubling;
// one on data of high intrinsic dimension (short texts hashed by hash-<dim>)
// searches wider before it answers.
constexpr size_t hnsw_ef_search_min = 32;
constexpr size_t hnsw_ef_search_per_result = 2;
constexpr size_t hnsw_ef_search_max = 512;
// Fixed seed: the same inserts build the same graph, so results reproduce.
constexpr size_t hnsw_random_seed = 100;
// When an add reuses a deleted slot, hnswlib re-links the slot itself and,
// with this probability per neighbour, also re-selects that neighbour's
// links. Measured at 5k entries, dim 256, -O1, after 4n add+remove churn
// against an exact scan: 0.0 gives recall@10 0.93 at 0.43 ms per add+remove;
// 0.1 gives 0.93 at 0.48 ms; 1.0 gives 0.95 at 2.3 ms. Never reusing slots
// (mark deleted, rebuild past a quarter) gives 0.95 at 0.93 ms but stalls
// the shard 1.2 s per rebuild. So: reuse, without neighbour repair.
// (Those figures predate issue 13: ef_construction 200, fixed ef 64,
// hnswlib's SSE kernels. Now, on clustered vectors, 2 turnovers of reuse
// keep recall@10 at or above 0.95: memory_vector_index_test.cpp.)
constexpr float hnsw_reuse_neighbor_repair_probability = 0.0f;
// First allocation of an HNSW graph, in elements; it doubles up to capacity.
constexpr size_t hnsw_initial_elements = 1024;

// Vectors whose stored coordinates are at most this share nonzero count as
// sparse. hash-256 of 6-40 word notes: about 0.2; real embedding models: 1.
constexpr double vector_sparse_share_max = 0.5;

struct index_match {
  uint64_t id = 0;
  float score = 0;  // cosine similarity of the unit vectors
};

class vector_index {
 public:
  // `dim`: vector length. `exact_search_max`: at this many live vectors the
  // index becomes HNSW. `live_max`: the most live vectors the owner will ever
  // hold at once; adding beyond it is a programmer error. HNSW keeps
  // deleted slots until more than a quarter of its slots are deleted, so its
  // allocation is bounded by live_max * 4 / 3 + 2 slots. Adds reuse deleted
  // slots first, so steady churn (one add per removal) never rebuilds.
  // `sparse_stays_exact`: while at most vector_sparse_share_max of the
  // stored coordinates are nonzero, stay exact whatever the count (the
  // shard's exact_search_sparse; why in memory_config.hpp).
  vector_index(uint32_t dim, uint32_t exact_search_max, uint32_t live_max,
               bool sparse_stays_exact = false);
  ~vector_index();
  vector_index(vector_index&&) noexcept;
  vector_index& operator=(vector_index&&) noexcept;
  vector_index(const vector_index&) = delete;
  vector_index& operator=(const vector_index&) = delete;

  // `v` has dim() floats (unit length or zero). `id` must not be present.
  void add(uint64_t id, const std::vector<float>& v);
  // Removing an absent id is a programmer error.
  void remove(uint64_t id);
  [[nodiscard]] bool contains(uint64_t id) const;

  // Up to k matches, best first; ties go to the lower id (exact mode).
  [[nodiscard]] std::vector<index_match> search(const std::vector<float>& query, size_t k);
  // The k best of `ids` (each present, no duplicates) by exact cosine,
  // best first, ties to the lower id, in either mode: O(ids * dim). For a
  // recall filtered to a few entries, which HNSW would serve badly (its
  // candidates are the whole graph's nearest, most of them filtered out).
  [[nodiscard]] std::vector<index_match> score(const std::vector<float>& query,
                                               const std::vector<uint64_t>& ids, size_t k) const;

  [[nodiscard]] size_t size() const;  // live vectors
  [[nodiscard]] uint32_t dim() const;
  [[nodiscard]] bool uses_hnsw() const;
  // The ef the last HNSW search ended at (0 before any; adaptive, see
  // hnsw_ef_search_min): for benchmarks and tests.
  [[nodiscard]] size_t last_search_ef() const;
  // HNSW slots holding deleted vectors (0 in exact mode).
  [[nodiscard]] size_t deleted_slots() const;
  // Bytes this index holds on the heap plus its own objects, read from the
  // live data structures (vector capacities, hnswlib's level-0 block, locks,
  // visited list and label map) in O(1); the upper-level link lists, one
  // per HNSW node above level 0, are a running sum kept as nodes are added.
  [[nodiscard]] size_t bytes() const;
  // bytes() with the upper-level links summed over every slot: O(n), for
  // tests that the running sum is right.
  [[nodiscard]] size_t bytes_recounted() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace agentgraph
