// The only translation unit that includes hnswlib (see vector_index.hpp).
#include "actors/memory/vector_index.hpp"

#include <algorithm>
#include <mutex>
#include <unordered_map>

// hnswlib's SSE path prefetches one link past the end of a link list, a
// heap over-read that AddressSanitizer reports on every build
// (nmslib/hnswlib#107, #578; the fix, PR #459, is unmerged in 0.6.2 and
// later). Turning its manual vectorization off removes that read; the
// distance function below gives back most of the speed the SIMD kernels had.
#define NO_MANUAL_VECTORIZATION
#include <hnswlib/hnswlib.h>
#undef NO_MANUAL_VECTORIZATION

#include "runtime/assert.hpp"

namespace agentgraph {

namespace vector_index_detail {

using hnsw_graph = hnswlib::HierarchicalNSW<float>;

// hnswlib's inner-product distance (1 - dot) for unit vectors. Four
// independent sums keep several multiply-adds in flight and let the
// compiler pack them into one SIMD register at -O2, without -ffast-math.
float unit_ip_distance(const void* a, const void* b, const void* dim_ptr) {
  const auto* x = static_cast<const float*>(a);
  const auto* y = static_cast<const float*>(b);
  size_t dim = *static_cast<const size_t*>(dim_ptr);
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    s0 += x[i] * y[i];
    s1 += x[i + 1] * y[i + 1];
    s2 += x[i + 2] * y[i + 2];
    s3 += x[i + 3] * y[i + 3];
  }
  float sum = (s0 + s1) + (s2 + s3);
  for (; i < dim; ++i)
    sum += x[i] * y[i];
  return 1.0f - sum;
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

bool better(const index_match& a, const index_match& b) {
  return a.score != b.score ? a.score > b.score : a.id < b.id;
}

// The exact scan's score: the same loop (and float rounding) for a full
// scan and a scoped one, so both give an entry the same score.
float dot(const std::vector<float>& q, const float* v) {
  float s = 0;
  for (size_t j = 0; j < q.size(); ++j)
    s += q[j] * v[j];
  return s;
}

// The k best of `all`, best first.
std::vector<index_match> best(std::vector<index_match> all, size_t k) {
  k = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<ptrdiff_t>(k), all.end(), better);
  all.resize(k);
  return all;
}

}  // namespace vector_index_detail

struct vector_index::impl {
  using hnsw_graph = vector_index_detail::hnsw_graph;

  const uint32_t dim;
  const uint32_t exact_search_max;
  const uint32_t live_max;
  // Most HNSW slots ever allocated: live vectors plus deleted ones, which are
  // at most a quarter of all slots before a rebuild (so a third of live).
  const size_t hnsw_slots_max;

  // Exact mode: vectors packed back to back, ids[i] owns vectors[i*dim ..].
  std::vector<uint64_t> ids;
  std::vector<float> vectors;
  std::unordered_map<uint64_t, uint32_t> position;

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

  impl(uint32_t d, uint32_t exact_max, uint32_t live)
      : dim(d),
        exact_search_max(exact_max),
        live_max(live),
        hnsw_slots_max(static_cast<size_t>(live) * 4 / 3 + 2) {
  }

  size_t hnsw_live() const { return graph->cur_element_count - graph->num_deleted_; }

  size_t size() const { return graph ? hnsw_live() : ids.size(); }

  void exact_add(uint64_t id, const float* v) {
    position.emplace(id, static_cast<uint32_t>(ids.size()));
    ids.push_back(id);
    vectors.insert(vectors.end(), v, v + dim);
  }

  // Swap-with-last keeps the packed layout without shifting every vector.
  void exact_remove(uint64_t id) {
    auto it = position.find(id);
    AG_ASSERT(it != position.end(), "remove of an id not in the index");
    uint32_t pos = it->second;
    auto last = static_cast<uint32_t>(ids.size() - 1);
    if (pos != last) {
      ids[pos] = ids[last];
      std::copy_n(vectors.begin() + static_cast<ptrdiff_t>(last) * dim, dim,
                  vectors.begin() + static_cast<ptrdiff_t>(pos) * dim);
      position[ids[pos]] = pos;
    }
    ids.pop_back();
    vectors.resize(vectors.size() - dim);
    position.erase(it);
  }

  std::vector<index_match> exact_search(const std::vector<float>& q, size_t k) const {
    std::vector<index_match> all;
    all.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i)
      all.push_back({ids[i], vector_index_detail::dot(q, vectors.data() + i * dim)});
    return vector_index_detail::best(std::move(all), k);
  }

  // The stored vector of `id`, in either mode.
  const float* vector_of(uint64_t id) const {
    if (graph) {
      auto it = graph->label_lookup_.find(static_cast<hnswlib::labeltype>(id));
      AG_ASSERT(it != graph->label_lookup_.end(), "score of an id not in the index");
      AG_ASSERT(!graph->isMarkedDeleted(it->second), "score of a deleted id");
      return reinterpret_cast<const float*>(graph->getDataByInternalId(it->second));
    }
    auto it = position.find(id);
    AG_ASSERT(it != position.end(), "score of an id not in the index");
    return vectors.data() + static_cast<size_t>(it->second) * dim;
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
    for (const auto& [id, v] : items)
      new_graph->addPoint(v, static_cast<hnswlib::labeltype>(id));
    space = std::move(new_space);
    graph = std::move(new_graph);
    free_slots.clear();
    upper_links = vector_index_detail::upper_links_bytes(*graph);
  }

  void switch_to_hnsw() {
    std::vector<std::pair<uint64_t, const float*>> items;
    items.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i)
      items.emplace_back(ids[i], vectors.data() + i * dim);
    build_graph(items);
    std::vector<uint64_t>().swap(ids);
    std::vector<float>().swap(vectors);
    std::unordered_map<uint64_t, uint32_t>().swap(position);
  }

  // Drops deleted slots by rebuilding from the live ones, in slot order.
  // Falls back to the exact scan when few enough vectors are left.
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
    if (live_ids.size() < exact_search_max) {
      graph.reset();
      space.reset();
      upper_links = 0;
      std::vector<hnswlib::tableint>().swap(free_slots);
      for (size_t i = 0; i < live_ids.size(); ++i)
        exact_add(live_ids[i], live_vectors.data() + i * dim);
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
  void reuse_slot(uint64_t id, const float* v) {
    hnswlib::tableint slot = free_slots.back();
    free_slots.pop_back();
    AG_ASSERT(graph->isMarkedDeleted(slot), "free slot is not deleted");
    graph->label_lookup_.erase(graph->getExternalLabel(slot));
    graph->label_lookup_[static_cast<hnswlib::labeltype>(id)] = slot;
    graph->setExternalLabel(slot, static_cast<hnswlib::labeltype>(id));
    graph->unmarkDeletedInternal(slot);
    graph->updatePoint(v, slot, hnsw_reuse_neighbor_repair_probability);
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
    graph->addPoint(v, static_cast<hnswlib::labeltype>(id));
    // A new label takes the next slot (single-threaded: nobody else adds).
    upper_links += vector_index_detail::upper_links_bytes(*graph, graph->cur_element_count - 1);
  }

  std::vector<index_match> hnsw_search(const std::vector<float>& q, size_t k) {
    graph->setEf(std::max(k * hnsw_ef_search_per_result, hnsw_ef_search_min));
    auto found = graph->searchKnnCloserFirst(q.data(), k);
    std::vector<index_match> out;
    out.reserve(found.size());
    // hnswlib's inner-product distance is 1 - dot.
    for (const auto& [distance, label] : found)
      out.push_back({static_cast<uint64_t>(label), 1.0f - distance});
    return out;
  }
};

vector_index::vector_index(uint32_t dim, uint32_t exact_search_max, uint32_t live_max)
    : impl_(std::make_unique<impl>(dim, exact_search_max, live_max)) {
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
  impl_->exact_add(id, v.data());
  if (impl_->ids.size() >= impl_->exact_search_max)
    impl_->switch_to_hnsw();
}

void vector_index::remove(uint64_t id) {
  if (!impl_->graph) {
    impl_->exact_remove(id);
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
    return impl_->position.count(id) > 0;
  auto it = impl_->graph->label_lookup_.find(static_cast<hnswlib::labeltype>(id));
  return it != impl_->graph->label_lookup_.end() && !impl_->graph->isMarkedDeleted(it->second);
}

std::vector<index_match> vector_index::score(const std::vector<float>& query,
                                             const std::vector<uint64_t>& ids, size_t k) const {
  AG_ASSERT(query.size() == impl_->dim, "query of the wrong dimension");
  std::vector<index_match> all;
  all.reserve(ids.size());
  for (uint64_t id : ids)
    all.push_back({id, vector_index_detail::dot(query, impl_->vector_of(id))});
  return vector_index_detail::best(std::move(all), k);
}

std::vector<index_match> vector_index::search(const std::vector<float>& query, size_t k) {
  AG_ASSERT(query.size() == impl_->dim, "query of the wrong dimension");
  if (k == 0 || size() == 0)
    return {};
  return impl_->graph ? impl_->hnsw_search(query, k) : impl_->exact_search(query, k);
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

size_t vector_index::deleted_slots() const {
  return impl_->graph ? impl_->graph->num_deleted_ : 0;
}

size_t vector_index::bytes() const {
  size_t total = sizeof(impl);
  total += impl_->ids.capacity() * sizeof(uint64_t);
  total += impl_->vectors.capacity() * sizeof(float);
  total += vector_index_detail::unordered_map_bytes(impl_->position);
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
