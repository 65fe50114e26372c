// The gateway's tasks: one task_entry per accepted task (its status, its
// final result or error, and a bounded buffer of the stream events it
// produced), and the task_table that bounds how many run at once and how
// many finished ones are kept for GET.
//
// Thread-safe: producers are CAF threads (a task's runner actor pushes
// events and finishes it), consumers are the HTTP server's event-loop
// threads (GET) and the callbacks they register (a sync caller's answer,
// an event stream's subscription), which run on the producer's thread and
// only queue. Every method takes the object's own mutex briefly. No CAF
// here.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/host/node/task_json.hpp"
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
  // `on_ended` (first call only) runs after the end is recorded and before
  // any waiter or subscriber hears of it, so bookkeeping such as the task
  // table's is done by the time a client can act on the answer.
  bool finish(task_status status, Value body, int http_status,
              const std::function<void()>& on_ended = {});

  [[nodiscard]] task_status status() const;
  // GET /v1/tasks/<id>: {"task_id","agent","status"} plus "result" or "error".
  [[nodiscard]] Value status_json() const;
  // The final body; null while running.
  [[nodiscard]] Value final_body() const;
  [[nodiscard]] int final_http_status() const;
  // `fn(http_status, body)` runs once when the task ends: on the thread
  // that ends it, or at once on this one if it has ended. It must not block
  // nor call back into this entry.
  using finish_callback = std::function<void(int http_status, const Value& body)>;
  void when_finished(finish_callback fn);

  // One subscriber's position in the event stream.
  struct cursor {
    uint64_t next_seq = 0;
    bool done = false;  // the final event was delivered
  };
  // The events after `c` (first a `truncated` event if some were dropped
  // before this subscriber read them), then the final `completed` / `failed`
  // event once the task ended. Blocks up to `wait` when there is nothing new.
  [[nodiscard]] net::sse_step read(cursor& c, std::chrono::milliseconds wait);

  // Live delivery for an event stream: `sink` gets at once what read()
  // gives a new cursor (the replay), then each later batch as it happens,
  // the last with `finished` set, after which it is forgotten. It runs
  // under this entry's lock, so it must only queue (never call back in).
  // Returns the id unsubscribe() takes; 0 when the replay already ended it.
  using subscriber = std::function<void(net::sse_step)>;
  uint64_t subscribe(subscriber sink);
  void unsubscribe(uint64_t id);

  // Events dropped from the front of the buffer so far.
  [[nodiscard]] uint64_t events_dropped() const;

 private:
  struct event {
    uint64_t seq;
    std::string name;
    std::string data;  // JSON
  };
  void append_final(std::vector<net::server_sse_event>& out) const;  // mutex_ held
  net::sse_step read_locked(cursor& c) const;                        // mutex_ held
  void notify_subscribers();                                         // mutex_ held

  const size_t events_max_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;  // an event, the end, or wake()
  std::deque<event> events_;         // guarded by mutex_; at most events_max_
  uint64_t next_seq_ = 0;            // guarded by mutex_; seq of the next event
  task_status status_ = task_status::running;  // guarded by mutex_
  Value final_;                                // guarded by mutex_
  int final_http_status_ = 0;                  // guarded by mutex_
  std::vector<finish_callback> on_finish_;     // guarded by mutex_; cleared at the end
  struct live_subscriber {
    cursor at;
    subscriber sink;
  };
  // Guarded by mutex_; at most one per open event stream (bounded by the
  // server's connections), cleared at the end.
  std::map<uint64_t, live_subscriber> subscribers_;
  uint64_t next_subscriber_ = 0;  // guarded by mutex_
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
  // Forgets a finished entry (no-op for a running or unknown id), so the
  // id is admitted again: for an answer that is not the task's stored one
  // (a journal the cluster shares still runs it elsewhere).
  void forget(const std::string& id);

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
