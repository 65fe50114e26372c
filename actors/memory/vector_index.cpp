// The only translation unit that includes hnswlib (see vector_index.hpp).
// Past 600 lines on purpose: everything that reads hnswlib's internals (the
// byte count, the link-list padding, slot reuse, the inserter) stays here,
// so that no other file depends on hnswlib's layout.
#include "actors/memory/vector_index.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <queue>
#include <unordered_map>

// hnswlib's own distance kernels stay off (NO_MANUAL_VECTORIZATION): ours
// (vector_kernel.hpp) is chosen at run time from CPUID, where hnswlib's are
// fixed by the build's -m flags (baseline x86-64 here: SSE only). USE_SSE,
// which hnswlib derives from __SSE__ only when manual vectorization is on,
// is what turns on its prefetches of the next neighbour's vector and
// visited mark: defined by hand, they are back (measured with a driver on
// 20 K clustered 384-d vectors: insert and search about 25 % faster).
// New nodes no longer go through hnswlib's addPoint but graph_inserter
// below, which prefetches whole vectors itself; searches and slot reuse
// (updatePoint) still use these.
// Those prefetches read one link past the end of a link list
// (nmslib/hnswlib#107, #578), a heap over-read for the top upper-level list
// of a node; impl::pad_link_lists makes that read land inside the node's
// own allocation.
#define NO_MANUAL_VECTORIZATION
#if defined(__SSE__) && !defined(USE_SSE)
#define USE_SSE
#endif
#include <hnswlib/hnswlib.h>
#undef NO_MANUAL_VECTORIZATION

#include "actors/memory/vector_kernel.hpp"
#include "actors/memory/vector_scan.hpp"
#include "runtime/assert.hpp"

namespace agentgraph {

namespace vector_index_detail {

using hnsw_graph = hnswlib::HierarchicalNSW<float>;

// hnswlib's inner-product distance (1 - dot) for unit vectors.
float unit_ip_distance(const void* a, const void* b, const void* dim_ptr) {
  return 1.0f - vector_dot(static_cast<const float*>(a), static_cast<const float*>(b),
                           *static_cast<const size_t*>(dim_ptr));
}

// The metric space handed to hnswlib: float vectors of `dim`, distance
// 1 - dot. hnswlib keeps a pointer to it, so it lives as long as the graph.
class unit_ip_space : public hnswlib::SpaceInterface<float> {
 public:
  explicit unit_ip_space(size_t dim) : dim_(dim) {}
  size_t get_data_size() override { return dim_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return unit_ip_distance; }
  void* get_dist_func_param() override { return &dim_; }

 private:
  size_t dim_;
};

// libstdc++ unordered_map node for integer keys: a next pointer plus the
// value (the hash is not cached for std::hash of integers), and one pointer
// per bucket.
template <class Map>
size_t unordered_map_bytes(const Map& m) {
  return m.bucket_count() * sizeof(void*)
         + m.size() * (sizeof(void*) + sizeof(typename Map::value_type));
}

// The upper-level link list hnswlib mallocs for the node in `slot` (none on
// level 0 alone).
size_t upper_links_bytes(const hnsw_graph& g, size_t slot) {
  const int level = g.element_levels_[slot];
  return level > 0 ? g.size_links_per_element_ * static_cast<size_t>(level) + 1 : 0;
}

// Every node's upper-level links: a walk over all slots, O(n). The index
// keeps this sum as it adds nodes (impl::upper_links); the walk runs when a
// graph is built and for bytes_recounted.
size_t upper_links_bytes(const hnsw_graph& g) {
  size_t total = 0;
  for (size_t i = 0; i < g.cur_element_count; ++i)
    total += upper_links_bytes(g, i);
  return total;
}

// Everything hnswlib allocates for `g`, read from its public fields, with
// `upper_links` = upper_links_bytes(g) passed in so that this stays O(1).
// hnswlib 0.6.2 allocates: level 0 (links + vector + label per slot), a
// pointer per slot to upper-level links, the upper-level links of each node
// that has them, one level and one mutex per slot, 65536 update mutexes, a
// visited list of one mark per slot (one list: a single thread ever
// searches), and the label map.
size_t hnsw_bytes(const hnsw_graph& g, size_t upper_links) {
  size_t total = sizeof(hnsw_graph) + sizeof(unit_ip_space);
  total += g.max_elements_ * g.size_data_per_element_;
  total += g.max_elements_ * sizeof(char*);
  total += upper_links;
  total += g.element_levels_.capacity() * sizeof(int);
  total += g.link_list_locks_.capacity() * sizeof(std::mutex);
  total += g.link_list_update_locks_.capacity() * sizeof(std::mutex);
  total += sizeof(hnswlib::VisitedListPool) + sizeof(hnswlib::VisitedList)
           + g.max_elements_ * sizeof(hnswlib::vl_type);
  total += unordered_map_bytes(g.label_lookup_);
  return total;
}

// Whether `a` and `b` hold the same ids, in any order (k is at most 100).
bool same_ids(const std::vector<index_match>& a, const std::vector<index_match>& b) {
  if (a.size() != b.size())
    return false;
  std::vector<uint64_t> x, y;
  x.reserve(a.size());
  y.reserve(b.size());
  for (const auto& m : a)
    x.push_back(m.id);
  for (const auto& m : b)
    y.push_back(m.id);
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  return x == y;
}


// Insertion into the graph, hnswlib 0.6.2's addPoint for a new label
// (hnswalg.h) with three changes, for issue 13's insert rate at 100 K
// entries (perf on 100 K clustered 384-d inserts: 60 % of the time was
// hnswlib's searchBaseLayer and the distances it computes, stalled on
// vectors that do not fit in cache; neighbour repair 4 %):
// - the layer search first gathers a node's unvisited neighbours, then
//   computes their distances while prefetching the whole vector of the
//   ones insert_prefetch_ahead places further on (hnswlib prefetches the
//   first cache line of the next one only: 1 of a 384-d vector's 24);
// - its heaps are buffers kept across inserts (hnswlib allocates two
//   priority queues per layer per insert);
// - no locks: one thread owns the index (hnswlib takes a mutex per node
//   it expands).
// The graph built is hnswlib's: same level draws, same candidates, same
// neighbour selection and repair (mutuallyConnectNewElement, called as is;
// the repair of full neighbour lists was 4-7 % of an insert, not worth a
// change). Measured at 100 K clustered 384-d entries, M 16, efc 32, three
// interleaved runs each on the loaded shared machine: 12.5-14.0 K inserts
// per CPU second with hnswlib's addPoint, 14.0-15.2 K with this (recall
// unchanged, 0.980: the same graph). Tried and dropped: madvise of the
// level-0 block for transparent huge pages (13.9-15.3 K, no difference).
constexpr size_t insert_prefetch_ahead = 2;

using dist_id = std::pair<float, hnswlib::tableint>;

class graph_inserter {
 public:
  hnswlib::tableint add(hnsw_graph& g, const float* v, hnswlib::labeltype label);

 private:
  void search_layer(hnsw_graph& g, hnswlib::tableint entry, const float* v, int layer);
  static float distance(const hnsw_graph& g, const float* v, hnswlib::tableint id) {
    return 1.0f
           - vector_dot(v, reinterpret_cast<const float*>(g.getDataByInternalId(id)),
                        g.data_size_ / sizeof(float));
  }
  static void prefetch_vector(const hnsw_graph& g, hnswlib::tableint id) {
    const char* at = g.getDataByInternalId(id);
    for (size_t b = 0; b < g.data_size_; b += 64)
      __builtin_prefetch(at + b);
  }

  std::vector<dist_id> top_;         // max-heap by distance: the ef best
  std::vector<dist_id> candidates_;  // min-heap by distance: still to expand
  std::vector<hnswlib::tableint> batch_;
};

void graph_inserter::search_layer(hnsw_graph& g, hnswlib::tableint entry, const float* v,
                                  int layer) {
  const auto farther = [](const dist_id& a, const dist_id& b) { return a.first < b.first; };
  const auto nearer = [](const dist_id& a, const dist_id& b) { return a.first > b.first; };
  const size_t ef = g.ef_construction_;
  hnswlib::VisitedList* vl = g.visited_list_pool_->getFreeVisitedList();
  hnswlib::vl_type* visited = vl->mass;
  const hnswlib::vl_type tag = vl->curV;
  top_.clear();
  candidates_.clear();
  float lower_bound = std::numeric_limits<float>::max();
  if (!g.isMarkedDeleted(entry)) {
    lower_bound = distance(g, v, entry);
    top_.emplace_back(lower_bound, entry);
    candidates_.emplace_back(lower_bound, entry);
  } else {
    candidates_.emplace_back(lower_bound, entry);
  }
  visited[entry] = tag;
  while (!candidates_.empty()) {
    const dist_id current = candidates_.front();
    if (current.first > lower_bound && top_.size() == ef)
      break;
    std::pop_heap(candidates_.begin(), candidates_.end(), nearer);
    candidates_.pop_back();
    auto* list = layer == 0 ? g.get_linklist0(current.second)
                                  : g.get_linklist(current.second, layer);
    const size_t size = g.getListCount(list);
    const auto* links = reinterpret_cast<const hnswlib::tableint*>(list + 1);
    batch_.clear();
    for (size_t j = 0; j < size; ++j)
      if (visited[links[j]] != tag) {
        visited[links[j]] = tag;
        batch_.push_back(links[j]);
      }
    for (size_t j = 0; j < batch_.size() && j < insert_prefetch_ahead; ++j)
      prefetch_vector(g, batch_[j]);
    for (size_t j = 0; j < batch_.size(); ++j) {
      if (j + insert_prefetch_ahead < batch_.size())
        prefetch_vector(g, batch_[j + insert_prefetch_ahead]);
      const hnswlib::tableint id = batch_[j];
      const float d = distance(g, v, id);
      if (top_.size() < ef || lower_bound > d) {
        candidates_.emplace_back(d, id);
        std::push_heap(candidates_.begin(), candidates_.end(), nearer);
        if (!g.isMarkedDeleted(id)) {
          top_.emplace_back(d, id);
          std::push_heap(top_.begin(), top_.end(), farther);
        }
        if (top_.size() > ef) {
          std::pop_heap(top_.begin(), top_.end(), farther);
          top_.pop_back();
        }
        if (!top_.empty())
          lower_bound = top_.front().first;
      }
    }
    // The next node expanded is the nearest candidate: fetch its links.
    if (!candidates_.empty())
      __builtin_prefetch(g.get_linklist0(candidates_.front().second));
  }
  g.visited_list_pool_->releaseVisitedList(vl);
}

hnswlib::tableint graph_inserter::add(hnsw_graph& g, const float* v, hnswlib::labeltype label) {
  AG_ASSERT(g.cur_element_count < g.max_elements_, "hnsw insert into a full graph");
  AG_ASSERT(g.label_lookup_.count(label) == 0, "hnsw insert of a present label");
  const auto cur = static_cast<hnswlib::tableint>(g.cur_element_count);
  ++g.cur_element_count;
  g.label_lookup_[label] = cur;
  const int level = g.getRandomLevel(g.mult_);
  g.element_levels_[cur] = level;
  const int max_level = g.maxlevel_;
  hnswlib::tableint current = g.enterpoint_node_;
  const hnswlib::tableint entry = g.enterpoint_node_;
  std::memset(g.data_level0_memory_ + cur * g.size_data_per_element_ + g.offsetLevel0_, 0,
              g.size_data_per_element_);
  std::memcpy(g.getExternalLabeLp(cur), &label, sizeof(label));
  std::memcpy(g.getDataByInternalId(cur), v, g.data_size_);
  if (level > 0) {
    const size_t bytes = g.size_links_per_element_ * static_cast<size_t>(level) + 1;
    g.linkLists_[cur] = static_cast<char*>(std::malloc(bytes));
    if (g.linkLists_[cur] == nullptr)
      throw std::bad_alloc();
    std::memset(g.linkLists_[cur], 0, bytes);
  }
  if (static_cast<int>(current) == -1) {  // the first node
    g.enterpoint_node_ = cur;
    g.maxlevel_ = level;
    return cur;
  }
  // Greedy descent through the levels above the new node's.
  if (level < max_level) {
    float best = distance(g, v, current);
    for (int l = max_level; l > level; --l) {
      for (bool changed = true; changed;) {
        changed = false;
        auto* list = g.get_linklist(current, l);
        const size_t size = g.getListCount(list);
        const auto* links = reinterpret_cast<const hnswlib::tableint*>(list + 1);
        for (size_t i = 0; i < size; ++i) {
          const float d = distance(g, v, links[i]);
          if (d < best) {
            best = d;
            current = links[i];
            changed = true;
          }
        }
      }
    }
  }
  const bool entry_deleted = g.isMarkedDeleted(entry);
  for (int l = std::min(level, max_level); l >= 0; --l) {
    search_layer(g, current, v, l);
    if (entry_deleted) {
      top_.emplace_back(distance(g, v, entry), entry);
      std::push_heap(top_.begin(), top_.end(),
                     [](const dist_id& a, const dist_id& b) { return a.first < b.first; });
      if (top_.size() > g.ef_construction_) {
        std::pop_heap(top_.begin(), top_.end(),
                      [](const dist_id& a, const dist_id& b) { return a.first < b.first; });
        top_.pop_back();
      }
    }
    // hnswlib's queue type; its heap order is the same (max by distance).
    std::priority_queue<dist_id, std::vector<dist_id>, hnsw_graph::CompareByFirst> found(
        hnsw_graph::CompareByFirst(), top_);
    current = g.mutuallyConnectNewElement(v, cur, found, l, false);
  }
  if (level > max_level) {
    g.enterpoint_node_ = cur;
    g.maxlevel_ = level;
  }
  return cur;
}

}  // namespace vector_index_detail

struct vector_index::impl {
  using hnsw_graph = vector_index_detail::hnsw_graph;

  const uint32_t dim;
  const uint32_t exact_search_max;
  const uint32_t live_max;
  const bool sparse_stays_exact;
  // Most HNSW slots ever allocated: live vectors plus deleted ones, which are
  // at most a quarter of all slots before a rebuild (so a third of live).
  const size_t hnsw_slots_max;

  // Exact mode: every vector, scanned whole (vector_scan.hpp). Empty in
  // HNSW mode, whose graph holds the vectors.
  vector_scan scan;

  // HNSW mode (both set) or exact mode (both null).
  std::unique_ptr<vector_index_detail::unit_ip_space> space;
  std::unique_ptr<hnsw_graph> graph;
  // Slots of deleted vectors, reused by the next adds. Without reuse every
  // eviction leaves a dead slot and a shard at max_entries rebuilds its
  // graph every n/3 stores: measured 1.8 s on the actor thread at 10k
  // entries (dim 256, -O1). Reuse keeps steady-state churn rebuild-free.
  std::vector<hnswlib::tableint> free_slots;
  // upper_links_bytes(*graph), kept as nodes are added so that bytes() does
  // not walk every slot. A reused slot keeps its level (updatePoint
  // re-links it where it is), hence its upper links.
  size_t upper_links = 0;
  // The ef the last HNSW search ended at (0 before any): for benchmarks.
  size_t last_search_ef = 0;
  // Adds new nodes to the graph; holds its search buffers between adds.
  vector_index_detail::graph_inserter inserter;

  impl(uint32_t d, uint32_t exact_max, uint32_t live, bool sparse_exact)
      : dim(d),
        exact_search_max(exact_max),
        live_max(live),
        sparse_stays_exact(sparse_exact),
        hnsw_slots_max(static_cast<size_t>(live) * 4 / 3 + 2),
        scan(d) {
  }

  size_t hnsw_live() const { return graph->cur_element_count - graph->num_deleted_; }

  size_t size() const { return graph ? hnsw_live() : scan.size(); }

  // Whether `live` vectors with this share of nonzero coordinates belong in
  // an HNSW graph rather than the exact scan.
  bool wants_hnsw(size_t live, double nonzero_share) const {
    return live >= exact_search_max
           && !(sparse_stays_exact && nonzero_share <= vector_sparse_share_max);
  }

  // The stored vector of `id` in HNSW mode.
  const float* hnsw_vector_of(uint64_t id) const {
    auto it = graph->label_lookup_.find(static_cast<hnswlib::labeltype>(id));
    AG_ASSERT(it != graph->label_lookup_.end(), "score of an id not in the index");
    AG_ASSERT(!graph->isMarkedDeleted(it->second), "score of a deleted id");
    return reinterpret_cast<const float*>(graph->getDataByInternalId(it->second));
  }

  // hnswlib's prefetch loops read the link after a list's last one
  // (hnswalg.h, `*(datal + j + 1)`): inside the node's block on level 0,
  // where the vector follows the links, but past the end of the top list
  // of an upper-level allocation (`size_links_per_element_ * level + 1`
  // bytes). Widening each upper-level list by one link, before any node
  // is added, puts that read on zeroed bytes of the node's own block
  // (addPoint memsets the whole allocation). hnswlib reads the stride from
  // this member everywhere (get_linklist, the allocation, its byte count),
  // so nothing else changes; 4 bytes per upper level per node. Rejected:
  // patching or vendoring hnswalg.h (a copy to keep in step with Debian's).
  static void pad_link_lists(hnsw_graph& g) {
    AG_ASSERT(g.cur_element_count == 0, "link lists padded after the first add");
    g.size_links_per_element_ += sizeof(hnswlib::tableint);
  }

  // Builds a fresh graph from (id, vector) pairs; slots start at twice the
  // live count so that growth by insertions rarely reallocates.
  void build_graph(const std::vector<std::pair<uint64_t, const float*>>& items) {
    // Not std::clamp: hnsw_slots_max may be below hnsw_initial_elements.
    size_t slots = std::min(std::max(items.size() * 2, hnsw_initial_elements), hnsw_slots_max);
    slots = std::max(slots, items.size() + 1);
    auto new_space = std::make_unique<vector_index_detail::unit_ip_space>(dim);
    auto new_graph = std::make_unique<hnsw_graph>(new_space.get(), slots, hnsw_links_per_node,
                                                  hnsw_ef_construction, hnsw_random_seed);
    pad_link_lists(*new_graph);
    for (const auto& [id, v] : items)
      inserter.add(*new_graph, v, static_cast<hnswlib::labeltype>(id));
    space = std::move(new_space);
    graph = std::move(new_graph);
    free_slots.clear();
    upper_links = vector_index_detail::upper_links_bytes(*graph);
  }

  void switch_to_hnsw() {
    std::vector<float> vectors(scan.size() * dim);
    std::vector<std::pair<uint64_t, const float*>> items;
    items.reserve(scan.size());
    for (size_t i = 0; i < scan.size(); ++i) {
      scan.copy_vector(i, vectors.data() + i * dim);
      items.emplace_back(scan.id_at(i), vectors.data() + i * dim);
    }
    build_graph(items);
    scan = vector_scan(dim);
  }

  // Drops deleted slots by rebuilding from the live ones, in slot order.
  // Falls back to the exact scan when few enough vectors are left, or
  // when they are sparse and sparse_stays_exact (wants_hnsw).
  void rebuild() {
    std::vector<float> live_vectors;
    std::vector<uint64_t> live_ids;
    live_ids.reserve(hnsw_live());
    live_vectors.reserve(hnsw_live() * dim);
    for (hnswlib::tableint slot = 0; slot < graph->cur_element_count; ++slot) {
      if (graph->isMarkedDeleted(slot))
        continue;
      const auto* v = reinterpret_cast<const float*>(graph->getDataByInternalId(slot));
      live_ids.push_back(graph->getExternalLabel(slot));
      live_vectors.insert(live_vectors.end(), v, v + dim);
    }
    size_t nonzeros = 0;
    for (float x : live_vectors)
      nonzeros += x != 0.0f ? 1 : 0;
    const double share = live_vectors.empty() ? 0.0
                                              : static_cast<double>(nonzeros)
                                                  / static_cast<double>(live_vectors.size());
    if (!wants_hnsw(live_ids.size(), share)) {
      graph.reset();
      space.reset();
      upper_links = 0;
      std::vector<hnswlib::tableint>().swap(free_slots);
      for (size_t i = 0; i < live_ids.size(); ++i)
        scan.add(live_ids[i], live_vectors.data() + i * dim);
      return;
    }
    std::vector<std::pair<uint64_t, const float*>> items;
    items.reserve(live_ids.size());
    for (size_t i = 0; i < live_ids.size(); ++i)
      items.emplace_back(live_ids[i], live_vectors.data() + i * dim);
    build_graph(items);
  }

  // Puts `v` under `id` into a deleted slot: relabel it, clear its delete
  // mark and let hnswlib re-link it as an updated point. This is what
  // hnswlib 0.7 does for addPoint(..., replace_deleted = true); 0.6.2 has no
  // such call, so we use the same public members it uses.
  //
  // An id that comes back (evicted, then placed or imported again) takes
  // its own deleted slot, which the label map still names. Any other slot
  // keeps its old label in the map only while the map points at it: an
  // old label may have moved to a newer slot since, and erasing it there
  // would lose a live vector (found by review: a later remove then failed).
  void reuse_slot(uint64_t id, const float* v) {
    const auto label = static_cast<hnswlib::labeltype>(id);
    hnswlib::tableint slot = free_slots.back();
    if (auto own = graph->label_lookup_.find(label); own != graph->label_lookup_.end()) {
      AG_ASSERT(graph->isMarkedDeleted(own->second), "reuse for a live id");
      auto at = std::find(free_slots.begin(), free_slots.end(), own->second);
      AG_ASSERT(at != free_slots.end(), "a deleted slot not on the free list");
      slot = *at;
      *at = free_slots.back();
    }
    free_slots.pop_back();
    AG_ASSERT(graph->isMarkedDeleted(slot), "free slot is not deleted");
    if (auto old = graph->label_lookup_.find(graph->getExternalLabel(slot));
        old != graph->label_lookup_.end() && old->second == slot)
      graph->label_lookup_.erase(old);
    graph->label_lookup_[static_cast<hnswlib::labeltype>(id)] = slot;
    graph->setExternalLabel(slot, static_cast<hnswlib::labeltype>(id));
    graph->unmarkDeletedInternal(slot);
    // A reused slot is re-linked with the wider hnsw_ef_construction_reuse
    // (vector_index.hpp): hnswlib's updatePoint reads the graph's member.
    graph->ef_construction_ = hnsw_ef_construction_reuse;
    graph->updatePoint(v, slot, hnsw_reuse_neighbor_repair_probability);
    graph->ef_construction_ = hnsw_ef_construction;
  }

  void hnsw_add(uint64_t id, const float* v) {
    if (!free_slots.empty()) {
      reuse_slot(id, v);
      return;
    }
    // No deleted slot is left, so a full graph must grow: double, bounded.
    if (graph->cur_element_count == graph->max_elements_) {
      size_t slots = std::min(graph->max_elements_ * 2, hnsw_slots_max);
      AG_ASSERT(slots > graph->max_elements_, "hnsw index over its slot bound");
      graph->resizeIndex(slots);
    }
    inserter.add(*graph, v, static_cast<hnswlib::labeltype>(id));
    // A new label takes the next slot (single-threaded: nobody else adds).
    upper_links += vector_index_detail::upper_links_bytes(*graph, graph->cur_element_count - 1);
  }

  std::vector<index_match> hnsw_search_at(const std::vector<float>& q, size_t k, size_t ef) {
    graph->setEf(ef);
    auto found = graph->searchKnnCloserFirst(q.data(), k);
    std::vector<index_match> out;
    out.reserve(found.size());
    // hnswlib's inner-product distance is 1 - dot.
    for (const auto& [distance, label] : found)
      out.push_back({static_cast<uint64_t>(label), 1.0f - distance});
    return out;
  }

  // Adaptive ef (vector_index.hpp, hnsw_ef_search_*): search at ef, then
  // at twice ef, until two searches in a row return the same k ids or ef
  // reaches its bound. Each doubling costs about what the searches before
  // it cost together, so a query pays at most about twice its last search.
  std::vector<index_match> hnsw_search(const std::vector<float>& q, size_t k) {
    size_t ef = std::max(k * hnsw_ef_search_per_result, hnsw_ef_search_min);
    auto found = hnsw_search_at(q, k, ef);
    last_search_ef = ef;
    while (ef * 2 <= hnsw_ef_search_max) {
      ef *= 2;
      auto wider = hnsw_search_at(q, k, ef);
      last_search_ef = ef;
      bool same = vector_index_detail::same_ids(found, wider);
      found = std::move(wider);
      if (same)
        break;
    }
    return found;
  }
};

vector_index::vector_index(uint32_t dim, uint32_t exact_search_max, uint32_t live_max,
                           bool sparse_stays_exact)
    : impl_(std::make_unique<impl>(dim, exact_search_max, live_max, sparse_stays_exact)) {
}

vector_index::~vector_index() = default;
vector_index::vector_index(vector_index&&) noexcept = default;
vector_index& vector_index::operator=(vector_index&&) noexcept = default;

void vector_index::add(uint64_t id, const std::vector<float>& v) {
  AG_ASSERT(v.size() == impl_->dim, "vector of the wrong dimension");
  AG_ASSERT(!contains(id), "add of an id already in the index");
  AG_ASSERT(size() < impl_->live_max, "index above its live bound");
  if (impl_->graph) {
    impl_->hnsw_add(id, v.data());
    return;
  }
  impl_->scan.add(id, v.data());
  if (impl_->wants_hnsw(impl_->scan.size(), impl_->scan.nonzero_share()))
    impl_->switch_to_hnsw();
}

void vector_index::remove(uint64_t id) {
  if (!impl_->graph) {
    impl_->scan.remove(id);
    return;
  }
  AG_ASSERT(contains(id), "remove of an id not in the index");
  auto slot = impl_->graph->label_lookup_.at(static_cast<hnswlib::labeltype>(id));
  impl_->graph->markDeletedInternal(slot);
  impl_->free_slots.push_back(slot);
  if (impl_->graph->num_deleted_ * 4 > impl_->graph->cur_element_count)
    impl_->rebuild();
}

bool vector_index::contains(uint64_t id) const {
  if (!impl_->graph)
    return impl_->scan.contains(id);
  auto it = impl_->graph->label_lookup_.find(static_cast<hnswlib::labeltype>(id));
  return it != impl_->graph->label_lookup_.end() && !impl_->graph->isMarkedDeleted(it->second);
}

std::vector<index_match> vector_index::score(const std::vector<float>& query,
                                             const std::vector<uint64_t>& ids, size_t k) const {
  AG_ASSERT(query.size() == impl_->dim, "query of the wrong dimension");
  if (!impl_->graph)
    return impl_->scan.score(query, ids, k);
  std::vector<index_match> all;
  all.reserve(ids.size());
  for (uint64_t id : ids)
    all.push_back({id, vector_dot(query.data(), impl_->hnsw_vector_of(id), query.size())});
  return best_matches(std::move(all), k);
}

std::vector<index_match> vector_index::search(const std::vector<float>& query, size_t k) {
  AG_ASSERT(query.size() == impl_->dim, "query of the wrong dimension");
  if (k == 0 || size() == 0)
    return {};
  return impl_->graph ? impl_->hnsw_search(query, k) : impl_->scan.search(query, k);
}

size_t vector_index::size() const {
  return impl_->size();
}

uint32_t vector_index::dim() const {
  return impl_->dim;
}

bool vector_index::uses_hnsw() const {
  return impl_->graph != nullptr;
}

size_t vector_index::last_search_ef() const {
  return impl_->last_search_ef;
}

size_t vector_index::deleted_slots() const {
  return impl_->graph ? impl_->graph->num_deleted_ : 0;
}

size_t vector_index::bytes() const {
  size_t total = sizeof(impl);
  total += impl_->scan.bytes();
  total += impl_->free_slots.capacity() * sizeof(hnswlib::tableint);
  if (impl_->graph)
    total += vector_index_detail::hnsw_bytes(*impl_->graph, impl_->upper_links);
  return total;
}

size_t vector_index::bytes_recounted() const {
  if (!impl_->graph)
    return bytes();  // the exact scan's figure has no running part
  return bytes() - impl_->upper_links + vector_index_detail::upper_links_bytes(*impl_->graph);
}

}  // namespace agentgraph
