// A bounded map whose entries expire after a fixed time-to-live and whose
// least recently used entry is evicted when a new key would exceed
// `entries_max`. Used by the caching tool wrapper and meant for any actor
// that needs a small local result cache.
//
// Not thread-safe: one owner (normally one actor's state) calls it. Sharing
// it between actors would need a lock, and every caller we have keeps it in
// actor state where CAF already serialises access.
//
// The clock is injectable so tests (and `agentgraph sim`) expire entries by
// moving a virtual clock instead of sleeping.
//
// Optional second bound (limit_bytes): a total weight, e.g. key + value
// bytes, for caches whose values vary in size (runtime/cache/: the L1 and
// the shards of the L2 of the multi-level cache). Entries may also carry a
// TTL shorter than the cache's (put with a ttl): an entry filled from a
// lower cache level keeps the time it had left there.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <functional>
#include <list>
#include <optional>
#include <unordered_map>
#include <utility>

namespace agentgraph {

struct cache_counters {
  uint64_t hits = 0;
  uint64_t misses = 0;       // includes lookups that found only an expired entry
  uint64_t evictions = 0;    // live entries dropped to stay within entries_max
  uint64_t expirations = 0;  // entries dropped because their TTL had passed
};

template <class Key, class Val, class Hash = std::hash<Key>>
class ttl_lru_cache {
 public:
  using clock_type = std::chrono::steady_clock;
  using time_point = clock_type::time_point;
  using clock_fn = std::function<time_point()>;

  // `entries_max` must be at least 1 and `ttl` positive: a cache that can
  // hold nothing is a configuration bug the caller validates first, so here
  // it is a broken invariant and aborts.
  ttl_lru_cache(size_t entries_max, clock_type::duration ttl,
                clock_fn clock = [] { return clock_type::now(); })
      : entries_max_(entries_max), ttl_(ttl), clock_(std::move(clock)) {
    if (entries_max_ == 0 || ttl_ <= clock_type::duration::zero() || !clock_) {
      std::fputs("agentgraph: ttl_lru_cache needs entries_max >= 1, ttl > 0 and a clock\n",
                 stderr);
      std::abort();
    }
  }

  // Returns a copy of the value and marks the entry most recently used, or
  // nothing when the key is absent or expired (an expired entry is removed).
  // A copy rather than a pointer: a pointer would dangle after the next put.
  [[nodiscard]] std::optional<Val> get(const Key& key) {
    auto it = index_.find(key);
    if (it == index_.end()) {
      ++counters_.misses;
      return std::nullopt;
    }
    if (expired(*it->second)) {
      erase_node(it);
      ++counters_.expirations;
      ++counters_.misses;
      return std::nullopt;
    }
    order_.splice(order_.begin(), order_, it->second);
    ++counters_.hits;
    return it->second->value;
  }

  using weigh_fn = std::function<size_t(const Key&, const Val&)>;

  // Adds the weight bound: the entries' total weight stays <= bytes_max.
  // Call before the first put. bytes_max >= 1 and a weigher, or it aborts.
  void limit_bytes(size_t bytes_max, weigh_fn weigh) {
    if (bytes_max == 0 || !weigh || !order_.empty()) {
      std::fputs("agentgraph: ttl_lru_cache::limit_bytes needs bytes_max >= 1, a weigher and "
                 "an empty cache\n", stderr);
      std::abort();
    }
    bytes_max_ = bytes_max;
    weigh_ = std::move(weigh);
  }

  // Inserts or replaces `key`; the entry's TTL starts now. When the cache is
  // full, expired entries go first, then the least recently used ones.
  // Returns false (and drops any older entry of `key`) when the entry alone
  // weighs more than bytes_max: it could never fit.
  bool put(Key key, Val value) { return put(std::move(key), std::move(value), ttl_); }

  // The same with a TTL of its own, capped at the cache's; a non-positive
  // one stores nothing (the entry would be expired already).
  bool put(Key key, Val value, clock_type::duration ttl) {
    const auto now = clock_();
    const size_t weight = weigh_ ? weigh_(key, value) : 0;
    erase(key);
    if (ttl <= clock_type::duration::zero() || (weigh_ && weight > bytes_max_))
      return false;
    make_room(weight);
    order_.push_front(node{key, std::move(value), now + std::min(ttl, ttl_), weight});
    index_.emplace(std::move(key), order_.begin());
    bytes_ += weight;
    return true;
  }

  // Removes `key`; returns whether it was present (expired or not).
  bool erase(const Key& key) {
    auto it = index_.find(key);
    if (it == index_.end())
      return false;
    erase_node(it);
    return true;
  }

  // Drops every expired entry. Costs one pass over at most entries_max nodes.
  size_t purge_expired() {
    size_t dropped = 0;
    for (auto it = order_.begin(); it != order_.end();) {
      auto next = std::next(it);
      if (expired(*it)) {
        erase_node(index_.find(it->key));
        ++counters_.expirations;
        ++dropped;
      }
      it = next;
    }
    return dropped;
  }

  void clear() {
    order_.clear();
    index_.clear();
    bytes_ = 0;
  }

  // Entries held, including expired ones not yet purged.
  [[nodiscard]] size_t size() const { return order_.size(); }
  [[nodiscard]] size_t entries_max() const { return entries_max_; }
  // Total weight held (0 without limit_bytes).
  [[nodiscard]] size_t bytes() const { return bytes_; }
  [[nodiscard]] const cache_counters& counters() const { return counters_; }

 private:
  struct node {
    Key key;
    Val value;
    time_point expires_at;
    size_t weight = 0;
  };
  using order_list = std::list<node>;  // front: most recently used
  using index_map = std::unordered_map<Key, typename order_list::iterator, Hash>;

  [[nodiscard]] bool expired(const node& n) const { return clock_() >= n.expires_at; }

  void erase_node(typename index_map::iterator it) {
    bytes_ -= it->second->weight;
    order_.erase(it->second);
    index_.erase(it);
  }

  // Expired entries go first, then the least recently used ones, until one
  // more entry of `weight` fits both bounds. Bounded by the entries held.
  void make_room(size_t weight) {
    auto full = [&] {
      return order_.size() >= entries_max_ || (weigh_ && bytes_ + weight > bytes_max_);
    };
    if (full())
      purge_expired();
    while (!order_.empty() && full()) {
      erase_node(index_.find(order_.back().key));
      ++counters_.evictions;
    }
  }

  const size_t entries_max_;
  const clock_type::duration ttl_;
  const clock_fn clock_;
  size_t bytes_max_ = 0;  // 0: no weight bound (limit_bytes not called)
  weigh_fn weigh_;
  size_t bytes_ = 0;  // sum of the entries' weights
  order_list order_;
  index_map index_;
  cache_counters counters_;
};

}  // namespace agentgraph
