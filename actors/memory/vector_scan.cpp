#include "actors/memory/vector_scan.hpp"

#include <algorithm>

#include "actors/memory/vector_kernel.hpp"
#include "runtime/assert.hpp"

namespace agentgraph {

namespace vector_scan_detail {

// Entries scored per kernel call: their scores (4 KB) stay in L1 while the
// kernel walks each query coordinate's run of them.
constexpr size_t chunk_lanes = 1024;
// The first capacity: 16 entries, so a small shard holds 64 floats of
// slack per coordinate at most.
constexpr size_t capacity_min = vector_scan_lane_multiple;
static_assert(chunk_lanes % vector_scan_lane_multiple == 0);

// `live` rounded up to the kernel's lane multiple (lanes past size() are 0
// and within capacity, which is a multiple of 16).
size_t padded(size_t live) {
  return (live + vector_scan_lane_multiple - 1) / vector_scan_lane_multiple
         * vector_scan_lane_multiple;
}

bool better(const index_match& a, const index_match& b) {
  return a.score != b.score ? a.score > b.score : a.id < b.id;
}

// The query's nonzero coordinates, in order: the only ones a score needs.
struct query_terms {
  std::vector<uint32_t> coords;
  std::vector<float> values;
};

query_terms terms_of(const std::vector<float>& q) {
  query_terms t;
  for (size_t c = 0; c < q.size(); ++c)
    if (q[c] != 0.0f) {
      t.coords.push_back(static_cast<uint32_t>(c));
      t.values.push_back(q[c]);
    }
  return t;
}

// The k best matches offered, best first: a heap of at most k with the
// worst on top, so a scan of n entries costs O(n log k) and no n-sized
// buffer.
class top_k {
 public:
  explicit top_k(size_t k) : k_(k) { heap_.reserve(k); }

  void offer(uint64_t id, float score) {
    if (k_ == 0)
      return;
    index_match m{id, score};
    if (heap_.size() < k_) {
      heap_.push_back(m);
      std::push_heap(heap_.begin(), heap_.end(), better);
    } else if (better(m, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), better);
      heap_.back() = m;
      std::push_heap(heap_.begin(), heap_.end(), better);
    }
  }

  std::vector<index_match> take() {
    std::sort_heap(heap_.begin(), heap_.end(), better);
    return std::move(heap_);
  }

 private:
  size_t k_;
  std::vector<index_match> heap_;
};

}  // namespace vector_scan_detail

std::vector<index_match> best_matches(std::vector<index_match> all, size_t k) {
  k = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<ptrdiff_t>(k), all.end(),
                    vector_scan_detail::better);
  all.resize(k);
  return all;
}

vector_scan::vector_scan(uint32_t dim) : dim_(dim) {
}

void vector_scan::grow() {
  const size_t bigger = std::max(vector_scan_detail::capacity_min, capacity_ * 2);
  std::vector<float> runs(static_cast<size_t>(dim_) * bigger, 0.0f);
  for (size_t c = 0; c < dim_; ++c)
    std::copy_n(runs_.data() + c * capacity_, ids_.size(), runs.data() + c * bigger);
  runs_ = std::move(runs);
  capacity_ = bigger;
}

void vector_scan::add(uint64_t id, const float* v) {
  AG_ASSERT(position_.count(id) == 0, "add of an id already in the scan");
  if (ids_.size() == capacity_)
    grow();
  const size_t i = ids_.size();
  for (size_t c = 0; c < dim_; ++c) {
    runs_[c * capacity_ + i] = v[c];
    nonzeros_ += v[c] != 0.0f ? 1 : 0;
  }
  position_.emplace(id, static_cast<uint32_t>(i));
  ids_.push_back(id);
}

void vector_scan::remove(uint64_t id) {
  auto it = position_.find(id);
  AG_ASSERT(it != position_.end(), "remove of an id not in the index");
  const size_t pos = it->second;
  const size_t last = ids_.size() - 1;
  for (size_t c = 0; c < dim_; ++c) {
    float* run = runs_.data() + c * capacity_;
    nonzeros_ -= run[pos] != 0.0f ? 1 : 0;
    run[pos] = run[last];
    run[last] = 0.0f;  // lanes past size() stay 0
  }
  if (pos != last) {
    ids_[pos] = ids_[last];
    position_[ids_[pos]] = static_cast<uint32_t>(pos);
  }
  ids_.pop_back();
  position_.erase(it);
}

std::vector<index_match> vector_scan::search(const std::vector<float>& query, size_t k) const {
  AG_ASSERT(query.size() == dim_, "query of the wrong dimension");
  const auto t = vector_scan_detail::terms_of(query);
  vector_scan_detail::top_k found(k);
  float scores[vector_scan_detail::chunk_lanes];
  for (size_t first = 0; first < ids_.size(); first += vector_scan_detail::chunk_lanes) {
    const size_t live = std::min(vector_scan_detail::chunk_lanes, ids_.size() - first);
    vector_column_dots(runs_.data() + first, capacity_, vector_scan_detail::padded(live),
                       t.coords.data(), t.values.data(), t.coords.size(), scores);
    for (size_t l = 0; l < live; ++l)
      found.offer(ids_[first + l], scores[l]);
  }
  return found.take();
}

std::vector<index_match> vector_scan::score(const std::vector<float>& query,
                                            const std::vector<uint64_t>& ids, size_t k) const {
  AG_ASSERT(query.size() == dim_, "query of the wrong dimension");
  const auto t = vector_scan_detail::terms_of(query);
  vector_scan_detail::top_k found(k);
  float scores[vector_scan_lane_multiple];
  for (uint64_t id : ids) {
    auto it = position_.find(id);
    AG_ASSERT(it != position_.end(), "score of an id not in the index");
    const size_t i = it->second;
    // The entry's 16 lanes, with search's kernel: the same sum, the same score.
    const size_t first = i - i % vector_scan_lane_multiple;
    vector_column_dots(runs_.data() + first, capacity_, vector_scan_lane_multiple,
                       t.coords.data(), t.values.data(), t.coords.size(), scores);
    found.offer(id, scores[i - first]);
  }
  return found.take();
}

void vector_scan::copy_vector(size_t i, float* out) const {
  AG_ASSERT(i < ids_.size(), "copy of a vector past the end");
  for (size_t c = 0; c < dim_; ++c)
    out[c] = runs_[c * capacity_ + i];
}

double vector_scan::nonzero_share() const {
  return ids_.empty() ? 0.0
                      : static_cast<double>(nonzeros_)
                          / (static_cast<double>(ids_.size()) * static_cast<double>(dim_));
}

size_t vector_scan::bytes() const {
  // libstdc++ unordered_map: a node (next pointer + value) per element, a
  // pointer per bucket; the hash of an integer key is not cached.
  return runs_.capacity() * sizeof(float) + ids_.capacity() * sizeof(uint64_t)
         + position_.bucket_count() * sizeof(void*)
         + position_.size() * (sizeof(void*) + sizeof(decltype(position_)::value_type));
}

}  // namespace agentgraph
