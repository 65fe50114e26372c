// memory_store's part for vectors that come from a provider: checking them
// at the door, filling in the entries held without one, and the keyword
// match that stands in for a vector that is not there (an entry not
// embedded yet, or a query the provider could not embed).
#include <algorithm>
#include <cmath>

#include "actors/memory/memory_store.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace memory_store_vectors_detail {

// Distinct lowercase words, sorted.
std::vector<std::string> word_set(std::string_view text) {
  auto words = embedding_tokens(text);
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  return words;
}

bool better(const index_match& a, const index_match& b) {
  return a.score != b.score ? a.score > b.score : a.id < b.id;
}

}  // namespace memory_store_vectors_detail

float keyword_score(const std::vector<std::string>& query_words, std::string_view text) {
  if (query_words.empty())
    return 0.0f;
  auto words = memory_store_vectors_detail::word_set(text);
  size_t shared = 0;
  for (const auto& w : query_words)
    shared += std::binary_search(words.begin(), words.end(), w) ? 1 : 0;
  return static_cast<float>(shared) / static_cast<float>(query_words.size());
}

caf::expected<std::vector<float>> memory_store::accept_vector(std::vector<float> v) {
  const auto model = " (" + cfg_.embedding_model + ", memory." + cfg_.name + ")";
  if (v.empty() || v.size() > memory_embedding_dimensions_max)
    return make_error(errc::provider_error, "embedding of " + std::to_string(v.size())
                                              + " floats, expected 1 to "
                                              + std::to_string(memory_embedding_dimensions_max)
                                              + model);
  if (dim_ != 0 && v.size() != dim_)
    return make_error(errc::provider_error,
                      "dimension mismatch: an embedding of " + std::to_string(v.size())
                        + " floats, the shard's vectors have " + std::to_string(dim_) + model);
  double norm2 = 0;
  for (float x : v) {
    if (!std::isfinite(x))
      return make_error(errc::provider_error, "embedding holds a value that is not finite" + model);
    norm2 += static_cast<double>(x) * x;
  }
  if (norm2 > 0) {
    const auto scale = static_cast<float>(1.0 / std::sqrt(norm2));
    for (float& x : v)
      x *= scale;
  }
  if (dim_ == 0) {  // the first vector fixes the shape of every later one
    dim_ = static_cast<uint32_t>(v.size());
    index_for_dim(live_max_);
  }
  return v;
}

bool memory_store::set_vector(uint64_t id, std::vector<float> v) {
  if (unembedded_.count(id) == 0)
    return false;
  AG_ASSERT(v.size() == dim_ && index_.has_value(), "a vector not through accept_vector");
  index_->add(id, v);
  unembedded_.erase(id);
  AG_ASSERT(entries_.size() == indexed() + unembedded_.size());
  return true;
}

std::vector<index_match> memory_store::keyword_matches(std::string_view query,
                                                       const std::vector<uint64_t>& ids,
                                                       size_t k) const {
  namespace d = memory_store_vectors_detail;
  const auto words = d::word_set(query);
  std::vector<index_match> best;
  if (words.empty() || k == 0)
    return best;
  best.reserve(k + 1);
  // Bounded: a keyword match reads each entry's text, so a recall with no
  // query vector on a large shard reads the newest memory_keyword_scan_max
  // of its candidates (ids ascend with age) and no more.
  const size_t first = ids.size() > memory_keyword_scan_max ? ids.size() - memory_keyword_scan_max : 0;
  for (size_t i = first; i < ids.size(); ++i) {
    const uint64_t id = ids[i];
    auto it = entries_.find(id);
    AG_ASSERT(it != entries_.end());
    index_match m{id, keyword_score(words, it->second.text)};
    if (m.score <= 0.0f)
      continue;
    // Keep the k best in order: k is at most recall_k_max.
    auto at = std::lower_bound(best.begin(), best.end(), m, d::better);
    if (static_cast<size_t>(at - best.begin()) >= k)
      continue;
    best.insert(at, m);
    if (best.size() > k)
      best.pop_back();
  }
  return best;
}

std::vector<index_match> memory_store::merge_best(std::vector<index_match> a,
                                                  const std::vector<index_match>& b, size_t k) {
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end(), memory_store_vectors_detail::better);
  if (a.size() > k)
    a.resize(k);
  return a;
}

}  // namespace agentgraph
