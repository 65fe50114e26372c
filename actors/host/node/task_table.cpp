#include "actors/host/node/task_table.hpp"

#include <algorithm>

#include "runtime/assert.hpp"

namespace agentgraph {

task_entry::task_entry(std::string task_id, std::string agent_name, size_t events_max)
  : id(std::move(task_id)), agent(std::move(agent_name)), events_max_(events_max) {}

void task_entry::push_event(std::string name, Value data) {
  {
    std::lock_guard lock{mutex_};
    if (status_ != task_status::running)
      return;
    if (events_.size() >= events_max_)
      events_.pop_front();
    events_.push_back({next_seq_++, std::move(name), data.to_json()});
    AG_ASSERT(events_.size() <= events_max_);  // the gateway keeps events_max >= 1
    notify_subscribers();
  }
  changed_.notify_all();
}

bool task_entry::finish(task_status status, Value body, int http_status,
                        const std::function<void()>& on_ended) {
  std::vector<finish_callback> callbacks;
  {
    std::lock_guard lock{mutex_};
    if (status_ != task_status::running)
      return false;
    status_ = status;
    final_ = std::move(body);
    final_http_status_ = http_status;
    callbacks.swap(on_finish_);
  }
  if (on_ended)
    on_ended();
  {
    // A subscriber that joined since saw the end in its replay and is not
    // registered; the others get their final event here.
    std::lock_guard lock{mutex_};
    notify_subscribers();
  }
  changed_.notify_all();
  // final_ never changes again, so it can be read without the lock.
  for (auto& fn : callbacks)
    fn(final_http_status_, final_);
  return true;
}

void task_entry::when_finished(finish_callback fn) {
  {
    std::lock_guard lock{mutex_};
    if (status_ == task_status::running) {
      on_finish_.push_back(std::move(fn));
      return;
    }
  }
  fn(final_http_status_, final_);
}

uint64_t task_entry::subscribe(subscriber sink) {
  std::lock_guard lock{mutex_};
  cursor c;
  auto replay = read_locked(c);
  const bool ended = replay.finished;
  sink(std::move(replay));
  if (ended)
    return 0;
  const uint64_t id = ++next_subscriber_;
  subscribers_.emplace(id, live_subscriber{c, std::move(sink)});
  return id;
}

void task_entry::unsubscribe(uint64_t id) {
  std::lock_guard lock{mutex_};
  subscribers_.erase(id);
}

void task_entry::notify_subscribers() {
  for (auto it = subscribers_.begin(); it != subscribers_.end();) {
    auto step = read_locked(it->second.at);
    const bool ended = step.finished;
    if (!step.events.empty() || ended)
      it->second.sink(std::move(step));
    it = ended ? subscribers_.erase(it) : std::next(it);
  }
}

task_status task_entry::status() const {
  std::lock_guard lock{mutex_};
  return status_;
}

Value task_entry::final_body() const {
  std::lock_guard lock{mutex_};
  return final_;
}

int task_entry::final_http_status() const {
  std::lock_guard lock{mutex_};
  return final_http_status_;
}

Value task_entry::status_json() const {
  std::lock_guard lock{mutex_};
  Value out = Value::object();
  out["task_id"] = Value{id};
  out["agent"] = Value{agent};
  out["status"] = Value{to_string(status_)};
  if (status_ == task_status::completed)
    out["result"] = final_;
  else if (const Value* err = final_.find("error"); err != nullptr && final_.is_object())
    out["error"] = *err;
  return out;
}

uint64_t task_entry::events_dropped() const {
  std::lock_guard lock{mutex_};
  return events_.empty() ? next_seq_ : events_.front().seq;
}

void task_entry::append_final(std::vector<net::server_sse_event>& out) const {
  out.push_back({status_ == task_status::completed ? "completed" : "failed", final_.to_json()});
}

net::sse_step task_entry::read(cursor& c, std::chrono::milliseconds wait) {
  if (c.done)
    return {{}, true};
  std::unique_lock lock{mutex_};
  changed_.wait_for(lock, wait,
                    [&] { return next_seq_ > c.next_seq || status_ != task_status::running; });
  return read_locked(c);
}

net::sse_step task_entry::read_locked(cursor& c) const {
  net::sse_step step;
  if (c.done) {
    step.finished = true;
    return step;
  }
  // A cursor only ever moves to next_seq_ of this entry.
  AG_ASSERT(c.next_seq <= next_seq_);
  const uint64_t first = events_.empty() ? next_seq_ : events_.front().seq;
  if (c.next_seq < first) {
    Value gap = Value::object();
    gap["dropped"] = Value{static_cast<long long>(first - c.next_seq)};
    gap["reason"] = Value{"the task's event buffer overflowed; the oldest events were dropped"};
    step.events.push_back({"truncated", gap.to_json()});
    c.next_seq = first;
  }
  for (const auto& e : events_)
    if (e.seq >= c.next_seq)
      step.events.push_back({e.name, e.data});
  c.next_seq = next_seq_;
  if (status_ != task_status::running) {
    append_final(step.events);
    c.done = true;
    step.finished = true;
  }
  return step;
}

task_table::task_table(size_t in_flight_max, size_t kept_max, size_t events_max)
  : in_flight_max_(in_flight_max), kept_max_(kept_max), events_max_(events_max) {}

task_table::admission task_table::admit(const std::string& id, const std::string& agent) {
  std::lock_guard lock{mutex_};
  if (by_id_.count(id) != 0)
    return {admit_outcome::duplicate, nullptr};
  if (running_ >= in_flight_max_)
    return {admit_outcome::full, nullptr};
  auto entry = std::make_shared<task_entry>(id, agent, events_max_);
  by_id_.emplace(id, entry);
  ++running_;
  // Every entry is running or among the kept finished ones, never both.
  AG_ASSERT(running_ <= in_flight_max_ && by_id_.size() == running_ + finished_.size());
  return {admit_outcome::admitted, std::move(entry)};
}

std::shared_ptr<task_entry> task_table::find(const std::string& id) const {
  std::lock_guard lock{mutex_};
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

void task_table::on_finished(const std::shared_ptr<task_entry>& entry) {
  {
    std::lock_guard lock{mutex_};
    AG_ASSERT(running_ > 0);  // once per admitted task: task_entry::finish wins once
    --running_;
    finished_.push_back(entry->id);
    while (finished_.size() > kept_max_) {
      by_id_.erase(finished_.front());
      finished_.pop_front();
    }
    AG_ASSERT(by_id_.size() == running_ + finished_.size());
  }
  idle_.notify_all();
}

void task_table::forget(const std::string& id) {
  std::lock_guard lock{mutex_};
  auto it = by_id_.find(id);
  if (it == by_id_.end() || it->second->status() == task_status::running)
    return;
  by_id_.erase(it);
  // Bounded by kept_max_.
  if (auto f = std::find(finished_.begin(), finished_.end(), id); f != finished_.end())
    finished_.erase(f);
  AG_ASSERT(by_id_.size() == running_ + finished_.size());
}

size_t task_table::in_flight() const {
  std::lock_guard lock{mutex_};
  return running_;
}

std::vector<std::shared_ptr<task_entry>> task_table::running() const {
  std::vector<std::shared_ptr<task_entry>> out;
  for (auto& e : all())
    if (e->status() == task_status::running)
      out.push_back(std::move(e));
  return out;
}

std::vector<std::shared_ptr<task_entry>> task_table::all() const {
  std::lock_guard lock{mutex_};
  std::vector<std::shared_ptr<task_entry>> out;
  out.reserve(by_id_.size());
  for (const auto& [id, e] : by_id_)
    out.push_back(e);
  return out;
}

bool task_table::wait_idle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock{mutex_};
  return idle_.wait_until(lock, deadline, [this] { return running_ == 0; });
}

}  // namespace agentgraph
