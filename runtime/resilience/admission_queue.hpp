// Bounded concurrency plus a bounded wait queue, for a provider (or any
// actor) that must not accept unbounded work (ARCHITECTURE §3.5, STYLE
// habit 11). At most `in_flight_max` items run at once; at most
// `waiting_max` more wait in FIFO order; anything beyond is rejected at
// once, so the caller gets `overloaded` immediately instead of a mailbox
// that grows until requests time out.
//
//   submit:   in_flight < in_flight_max        -> started  (caller starts it now)
//             else waiting < waiting_max       -> queued
//             else                             -> rejected (caller replies overloaded)
//   complete: one started item finished; the oldest waiting item whose
//             deadline has not passed starts (expired ones are handed back)
//   cancel:   removes a waiting item by id (a started one is the caller's
//             to abort; it still calls complete() when it ends)
//
// Items are handed back whenever the queue lets go of them (started,
// rejected, cancelled, expired), so an item can own its response promise
// and be answered exactly once. Cancellation and expiry scan the queue:
// O(waiting_max), which the bound keeps small.
//
// Not thread-safe; owned by one actor. Time is passed in by the caller.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/assert.hpp"

namespace agentgraph {

enum class admission : uint8_t { started, queued, rejected };

[[nodiscard]] const char* to_string(admission a);

struct admission_config {
  // Items running at once. Keep near 100 or below: CAF 0.17 slows down
  // badly with many outstanding requests per actor (ARCHITECTURE §3.5).
  size_t in_flight_max = 16;
  // Items waiting for a slot; 0 means reject whenever all slots are busy.
  size_t waiting_max = 64;
};

// Bounds the schema should enforce; asserted at construction.
constexpr size_t admission_in_flight_max_limit = 1000;
constexpr size_t admission_waiting_max_limit = 100'000;

struct admission_stats {
  uint64_t started = 0;    // includes items started from the queue
  uint64_t queued = 0;
  uint64_t rejected = 0;   // submit() answered rejected (overloaded)
  uint64_t cancelled = 0;  // waiting items removed by cancel()
  uint64_t expired = 0;    // waiting items whose deadline passed before a slot freed
  size_t waiting_peak = 0;
};

template <class Item, class Id = std::string>
class admission_queue {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  struct submit_result {
    admission outcome = admission::rejected;
    std::optional<Item> item;  // handed back when started or rejected; empty when queued
  };

  struct completion {
    std::optional<Item> next;   // start this one now (it holds the freed slot)
    std::vector<Item> expired;  // skipped because their deadline passed: answer them `timeout`
  };

  explicit admission_queue(admission_config cfg) : cfg_(cfg) {
    AG_ASSERT(cfg_.in_flight_max >= 1 && cfg_.in_flight_max <= admission_in_flight_max_limit);
    AG_ASSERT(cfg_.waiting_max <= admission_waiting_max_limit);
  }

  // `deadline`: when a waiting item stops being worth starting (its
  // caller's deadline). Started items are not tracked by deadline here.
  [[nodiscard]] submit_result submit(Id id, Item item, time_point deadline = time_point::max()) {
    if (in_flight_ < cfg_.in_flight_max) {
      ++in_flight_;
      AG_ASSERT(in_flight_ <= cfg_.in_flight_max);
      ++stats_.started;
      return {admission::started, std::move(item)};
    }
    if (waiting_.size() >= cfg_.waiting_max) {
      ++stats_.rejected;
      return {admission::rejected, std::move(item)};
    }
    waiting_.push_back(entry{std::move(id), std::move(item), deadline});
    AG_ASSERT(waiting_.size() <= cfg_.waiting_max);
    ++stats_.queued;
    stats_.waiting_peak = std::max(stats_.waiting_peak, waiting_.size());
    return {admission::queued, std::nullopt};
  }

  // One started item finished (success, error or cancel). Frees its slot
  // and, if an item is waiting, starts the oldest one still within its deadline.
  [[nodiscard]] completion complete(time_point now) {
    AG_ASSERT(in_flight_ > 0);  // complete() without a started item is a bug
    --in_flight_;
    completion out;
    while (!waiting_.empty()) {
      entry e = std::move(waiting_.front());
      waiting_.pop_front();
      if (e.deadline <= now) {
        ++stats_.expired;
        out.expired.push_back(std::move(e.item));
        continue;
      }
      ++in_flight_;  // the slot just freed: the bound still holds
      AG_ASSERT(in_flight_ <= cfg_.in_flight_max);
      ++stats_.started;
      out.next = std::move(e.item);
      break;
    }
    return out;
  }

  // Removes the oldest waiting item with `id`; nothing if none waits (it
  // may be running, finished or unknown).
  [[nodiscard]] std::optional<Item> cancel(const Id& id) {
    for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
      if (it->id == id) {
        Item item = std::move(it->item);
        waiting_.erase(it);
        ++stats_.cancelled;
        return item;
      }
    }
    return std::nullopt;
  }

  // Removes every waiting item whose deadline has passed, oldest first. For
  // a periodic sweep, so expired callers hear `timeout` without waiting for
  // a slot to free.
  [[nodiscard]] std::vector<Item> take_expired(time_point now) {
    std::vector<Item> out;
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (it->deadline <= now) {
        out.push_back(std::move(it->item));
        it = waiting_.erase(it);
        ++stats_.expired;
      } else {
        ++it;
      }
    }
    return out;
  }

  [[nodiscard]] size_t in_flight() const { return in_flight_; }
  [[nodiscard]] size_t waiting() const { return waiting_.size(); }
  [[nodiscard]] const admission_stats& stats() const { return stats_; }
  [[nodiscard]] const admission_config& config() const { return cfg_; }

 private:
  struct entry {
    Id id;
    Item item;
    time_point deadline;
  };

  const admission_config cfg_;
  size_t in_flight_ = 0;       // <= cfg_.in_flight_max
  std::deque<entry> waiting_;  // <= cfg_.waiting_max, oldest first
  admission_stats stats_;
};

}  // namespace agentgraph
