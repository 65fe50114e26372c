// The gateway's tasks: one task_entry per accepted task (its status, its
// final result or error, and a bounded buffer of the stream events it
// produced), and the task_table that bounds how many run at once and how
// many finished ones are kept for GET.
//
// Thread-safe: producers are CAF threads (a task's runner actor pushes
// events and finishes it), consumers are the HTTP worker threads (sync
// waiters, GET, event-stream subscribers). Every method takes the object's
// own mutex briefly; nothing waits while holding a lock but the condition
// waits, which are bounded by their deadline. No CAF here.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/node/task_json.hpp"
#include "net/http_server/http_server.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

class task_entry {
 public:
  // `events_max`: stream events buffered; beyond it the oldest are dropped.
  task_entry(std::string id, std::string agent, size_t events_max);

  const std::string id;
  const std::string agent;

  // A `token` or `tool_call` event; drops the oldest buffered event when full.
  void push_event(std::string name, Value data);
  // Ends the task with `body` (result_json or failure_json). Only the first
  // call counts: it returns true; later ones (a result arriving after a
  // cancel) return false and change nothing.
  // `http_status` is what a sync caller gets (200, or http_status_of(error)).
  bool finish(task_status status, Value body, int http_status);

  [[nodiscard]] task_status status() const;
  // GET /v1/tasks/<id>: {"task_id","agent","status"} plus "result" or "error".
  [[nodiscard]] Value status_json() const;
  // The final body; null while running.
  [[nodiscard]] Value final_body() const;
  [[nodiscard]] int final_http_status() const;
  // Waits until the task ended, `deadline` passed or `abort` became true
  // (abort is checked whenever the entry is notified; see wake()).
  bool wait_finished(std::chrono::steady_clock::time_point deadline,
                     const std::atomic<bool>& abort);
  // Wakes every waiter so it re-checks its abort flag.
  void wake();

  // One subscriber's position in the event stream.
  struct cursor {
    uint64_t next_seq = 0;
    bool done = false;  // the final event was delivered
  };
  // The events after `c` (first a `truncated` event if some were dropped
  // before this subscriber read them), then the final `completed` / `failed`
  // event once the task ended. Blocks up to `wait` when there is nothing new.
  [[nodiscard]] net::sse_step read(cursor& c, std::chrono::milliseconds wait);

  // Events dropped from the front of the buffer so far.
  [[nodiscard]] uint64_t events_dropped() const;

 private:
  struct event {
    uint64_t seq;
    std::string name;
    std::string data;  // JSON
  };
  void append_final(std::vector<net::server_sse_event>& out) const;  // mutex_ held

  const size_t events_max_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;  // an event, the end, or wake()
  std::deque<event> events_;         // guarded by mutex_; at most events_max_
  uint64_t next_seq_ = 0;            // guarded by mutex_; seq of the next event
  task_status status_ = task_status::running;  // guarded by mutex_
  Value final_;                                // guarded by mutex_
  int final_http_status_ = 0;                  // guarded by mutex_
};

// Bounds: at most `in_flight_max` running tasks (admit refuses more), at
// most `kept_max` finished ones (the oldest finished is forgotten first).
class task_table {
 public:
  task_table(size_t in_flight_max, size_t kept_max, size_t events_max);

  enum class admit_outcome : uint8_t { admitted, full, duplicate };
  struct admission {
    admit_outcome outcome;
    std::shared_ptr<task_entry> entry;  // set when admitted
  };
  [[nodiscard]] admission admit(const std::string& id, const std::string& agent);

  // Null when the id is unknown or was evicted.
  [[nodiscard]] std::shared_ptr<task_entry> find(const std::string& id) const;
  // Call once per task, after its entry->finish() returned true.
  void on_finished(const std::shared_ptr<task_entry>& entry);

  [[nodiscard]] size_t in_flight() const;
  [[nodiscard]] std::vector<std::shared_ptr<task_entry>> running() const;
  [[nodiscard]] std::vector<std::shared_ptr<task_entry>> all() const;
  // True when nothing runs, false if `deadline` passed first.
  bool wait_idle(std::chrono::steady_clock::time_point deadline);

 private:
  const size_t in_flight_max_;
  const size_t kept_max_;
  const size_t events_max_;
  mutable std::mutex mutex_;
  std::condition_variable idle_;  // notified when a task finishes
  std::unordered_map<std::string, std::shared_ptr<task_entry>> by_id_;  // guarded by mutex_
  size_t running_ = 0;                  // guarded by mutex_; <= in_flight_max_
  std::deque<std::string> finished_;    // guarded by mutex_; oldest first, <= kept_max_
};

}  // namespace agentgraph
