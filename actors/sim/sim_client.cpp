// The simulated client (sim_client.hpp): tasks into the nodes' gateways,
// asked again at another node when their node died or froze, and each
// task's outcome into the run_record.
#include "actors/sim/sim_client.hpp"

#include <algorithm>
#include <cstdio>

#include "actors/sim/sim_network.hpp"
#include "runtime/error.hpp"
#include "runtime/journal/task_journal.hpp"
#include "runtime/seeded_random.hpp"
#include "runtime/value.hpp"

namespace agentgraph::sim {

namespace sim_client_detail {

double ms_of(caf::timespan t) {
  return std::chrono::duration<double, std::milli>(t).count();
}

std::string fmt_ms(double t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", t);
  return buf;
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// The error object of an answer's body ({"error": {"code","message"}}, or
// a failed task's {"status":"failed","error":{...}}); null when none.
const Value* error_of(const Value& body) {
  const Value* err = body.find("error");
  return err != nullptr && err->is_object() ? err : nullptr;
}

std::string field_of(const Value* err, const char* name) {
  const Value* v = err != nullptr ? err->find(name) : nullptr;
  return v != nullptr && v->is_string() ? v->as_string() : std::string{};
}

// What one answer says to a client that holds the task's id.
struct reading {
  // Not the task's answer, so the client asks again: the gateway did not
  // take the task (503 without a task body: not in the cluster, draining),
  // or answered without the journal (its error says "task journal", or to
  // ask again: a journaled task still running elsewhere past the wait, one
  // cancelled at a drain). A task that failed `unavailable` (503 too) is an
  // answer: the journal keeps it, and asking again gets it again.
  bool try_again = false;
  // 503 because this node is not in the cluster.
  bool not_member = false;
  std::string outcome;  // "ok", or the error code ("overloaded" for a 429, ...)
};

reading read_answer(int status, const std::string& body) {
  reading r;
  auto parsed = Value::from_json(body);
  const Value* err = parsed ? error_of(*parsed) : nullptr;
  const auto message = field_of(err, "message");
  const Value* task_status = parsed ? parsed->find("status") : nullptr;
  const bool task_failed = task_status != nullptr && task_status->is_string()
                           && task_status->as_string() == "failed";
  r.not_member = status == 503 && message.find("not in the cluster") != std::string::npos;
  r.try_again = (status == 503 && !task_failed) || message.find("ask again") != std::string::npos
                || message.find("task journal") != std::string::npos;
  if (status == 200)
    r.outcome = "ok";
  else if (auto code = field_of(err, "code"); !code.empty())
    r.outcome = code;
  else
    r.outcome = "http_" + std::to_string(status);
  return r;
}

}  // namespace sim_client_detail

sim_client::sim_client(const scenario& sc, uint64_t seed, run_record& rec, sample_row& sample,
                       const std::vector<std::unique_ptr<sim_node>>& nodes, client_hooks hooks)
  : sc_(sc), rec_(rec), sample_(sample), nodes_(nodes), hooks_(std::move(hooks)),
    keys_rng_(derive_seed(seed, "keys")), entry_rng_(derive_seed(seed, "entry")) {}

double sim_client::now_ms() const {
  return sim_client_detail::ms_of(hooks_.now());
}

sim_node* sim_client::pick_entry(size_t avoid) {
  // The client-side load balancer knows which nodes are dead or frozen; a
  // retry goes to another node than the one that failed it, when there is one.
  std::vector<sim_node*> live;
  for (auto& n : nodes_)
    if (n && !n->killed && !n->frozen && n->number != avoid)
      live.push_back(n.get());
  if (live.empty() && avoid != 0) {
    const auto& n = nodes_[avoid - 1];
    if (n && !n->killed && !n->frozen)
      live.push_back(n.get());
  }
  if (live.empty())
    return nullptr;
  if (sc_.entry == "random")
    return live[uniform_below(entry_rng_, live.size())];
  return live[rr_++ % live.size()];
}

void sim_client::arrive(const std::string& agent) {
  if (rec_.tasks.size() >= sc_.tasks_max)
    return;
  task_record r;
  r.id = rec_.tasks.size() + 1;
  r.arrived_ms = now_ms();
  r.agent = agent;
  if (sc_.keys > 0)
    r.agent += "/k" + std::to_string(uniform_below(keys_rng_, sc_.keys));
  ++sample_.arrived;
  answer_hash_.push_back(0);
  auto* n = pick_entry(0);
  if (n == nullptr) {
    r.ended_ms = r.arrived_ms;
    r.outcome = "no_entry";
    ++sample_.failed;
    hooks_.line(r.arrived_ms, "task " + std::to_string(r.id) + " found no live node");
    rec_.tasks.push_back(std::move(r));
    return;
  }
  r.entry = n->number;
  r.entry_incarnation = n->incarnation;
  Value body = Value::object();
  auto input = sc_.input;
  if (auto pos = input.find("{id}"); pos != std::string::npos)
    input.replace(pos, 4, std::to_string(r.id));
  body["input"] = Value{input};
  body["task_id"] = Value{"sim-" + std::to_string(r.id)};
  body["mode"] = Value{"sync"};
  open_task t;
  t.agent = r.agent;
  t.body = body.to_json();
  t.give_up = hooks_.now() + std::chrono::duration_cast<caf::timespan>(sc_.deadline);
  const auto idx = r.id;
  rec_.tasks.push_back(std::move(r));
  hooks_.wake_at(t.give_up, idx);
  open_.emplace(idx, std::move(t));
  send(idx, n);
}

void sim_client::send(uint64_t idx, sim_node* n) {
  auto& t = open_.at(idx);
  if (n == nullptr)
    n = pick_entry(t.node);
  if (n == nullptr)
    return retry_later(idx, hooks_.now() + client_retry_pause);
  auto& r = rec_.tasks.at(idx - 1);
  ++r.attempts;
  t.attempt = r.attempts;
  t.node = n->number;
  t.incarnation = n->incarnation;
  // The last attempt waits for the deadline; a timeout at or past the
  // deadline would never fire first anyway.
  t.next = std::min(t.give_up,
                    hooks_.now() + std::chrono::duration_cast<caf::timespan>(sc_.client_timeout));
  if (t.attempt >= sc_.client_attempts)
    t.next = t.give_up;
  else if (t.next < t.give_up)
    hooks_.wake_at(t.next, idx);
  hooks_.line(now_ms(), "task " + std::to_string(idx) + " -> " + n->name() + " " + t.agent
                          + (t.attempt > 1 ? " (attempt " + std::to_string(t.attempt) + ")" : ""));
  // The answer may come at once (a refusal), so nothing of `t` is used
  // after this call: on_answer may have ended the task.
  const auto attempt = t.attempt;
  const auto number = n->number;
  n->gw->submit_task(t.body, t.agent,
                     [this, alive = std::weak_ptr<int>(alive_), idx, attempt,
                      number](int status, const std::string& body) {
                       if (alive.lock())
                         on_answer(idx, attempt, number, status, body);
                     });
}

void sim_client::retry_later(uint64_t idx, caf::timespan at) {
  auto& t = open_.at(idx);
  t.node = 0;
  t.next = at;
  if (at < t.give_up)
    hooks_.wake_at(at, idx);
}

void sim_client::wake(uint64_t idx) {
  auto it = open_.find(idx);
  if (it == open_.end())
    return;
  auto& t = it->second;
  const auto now = hooks_.now();
  if (now >= t.give_up) {
    // The deadline: the client stops waiting. Its last attempt's node
    // frozen is said as such; otherwise the answer was just late.
    const sim_node* n = t.node != 0 && t.incarnation != 0 ? nodes_[t.node - 1].get() : nullptr;
    return end(idx, n != nullptr && n->frozen ? "entry_frozen" : "timeout", 0);
  }
  if (now < t.next)
    return;  // an earlier attempt's timer
  if (t.attempt >= sc_.client_attempts && t.node != 0)
    return;  // no attempts left: the last one waits for the deadline
  if (t.node != 0 && t.incarnation != 0)
    hooks_.line(now_ms(), "task " + std::to_string(idx) + ": no answer from n"
                            + std::to_string(t.node) + " within the client timeout");
  send(idx);
}

void sim_client::after_fault() {
  std::vector<uint64_t> out_of_attempts;
  for (auto& [idx, t] : open_) {
    if (t.node == 0 || t.incarnation == 0)
      continue;  // no connection open, or its reset was seen already
    const auto& n = nodes_[t.node - 1];
    if (n && !n->killed && n->incarnation == t.incarnation)
      continue;
    hooks_.line(now_ms(), "task " + std::to_string(idx) + ": connection to n"
                            + std::to_string(t.node) + " reset");
    if (t.attempt >= sc_.client_attempts) {
      out_of_attempts.push_back(idx);
      continue;
    }
    // t.node stays, so the retry picks another node; incarnation 0 marks
    // the connection gone.
    t.incarnation = 0;
    t.next = hooks_.now() + client_retry_pause;
    if (t.next < t.give_up)
      hooks_.wake_at(t.next, idx);
  }
  // Nothing left to try: the client knows at once.
  for (auto idx : out_of_attempts)
    end(idx, "entry_died", 0);
}

void sim_client::on_answer(uint64_t idx, uint32_t attempt, size_t node, int status,
                           const std::string& body) {
  const auto rd = sim_client_detail::read_answer(status, body);
  auto& r = rec_.tasks.at(idx - 1);
  // Every answer that is the task's (not a "try again"), on any attempt,
  // even one the client gave up on: a journaled id must get one answer.
  // A 429 (the table full) and a 409 (an unjournaled id still running
  // there) refuse the task before it ran: no answer of its.
  if (!rd.try_again && status != 429 && status != 409) {
    const auto h = sim_client_detail::fnv1a(body);
    auto& first = answer_hash_.at(idx - 1);
    if (first == 0) {
      first = h;
      r.answers = 1;
    } else if (first != h) {
      ++r.answers;
      hooks_.line(now_ms(), "task " + std::to_string(idx) + " answered again, differently, by n"
                              + std::to_string(node) + ": " + rd.outcome);
    }
  }
  auto it = open_.find(idx);
  if (it == open_.end() || it->second.attempt != attempt || it->second.node != node)
    return;  // an attempt the client no longer waits for
  auto& t = it->second;
  if (!rd.try_again)
    return end(idx, rd.outcome == "ok" && attempt > 1 ? "redispatched_ok" : rd.outcome, node);
  // A node outside the cluster refuses a new task: counted as such on the
  // first attempt (the cluster's own verdict); a retry moves on.
  if (attempt == 1 && rd.not_member)
    return end(idx, "refused_not_member", 0);
  if (t.attempt >= sc_.client_attempts)
    return end(idx, rd.outcome, 0);
  hooks_.line(now_ms(), "task " + std::to_string(idx) + ": n" + std::to_string(node) + " says "
                          + std::to_string(status) + ", ask again");
  t.incarnation = 0;  // this attempt is over
  t.next = hooks_.now() + client_retry_pause;
  if (t.next < t.give_up)
    hooks_.wake_at(t.next, idx);
}

void sim_client::end(uint64_t idx, const std::string& outcome, size_t answered_by) {
  open_.erase(idx);
  auto& r = rec_.tasks.at(idx - 1);
  r.ended_ms = now_ms();
  r.outcome = outcome;
  hooks_.line(*r.ended_ms, "task " + std::to_string(idx) + " " + outcome + " after "
                             + sim_client_detail::fmt_ms(*r.ended_ms - r.arrived_ms) + " ms");
  if (outcome == "ok" || outcome == "redispatched_ok") {
    ++sample_.ok;
    sample_.latencies_ms.push_back(*r.ended_ms - r.arrived_ms);
    if (sample_.ok_by_entry.size() < nodes_.size())
      sample_.ok_by_entry.resize(nodes_.size());
    ++sample_.ok_by_entry[answered_by - 1];
  } else {
    ++sample_.failed;
  }
}

std::function<void(const std::string&)> sim_client::execution_observer() {
  return [this, alive = std::weak_ptr<int>(alive_)](const std::string& task_id) {
    if (!alive.lock() || task_id.rfind("sim-", 0) != 0)
      return;
    const auto idx = std::strtoull(task_id.c_str() + 4, nullptr, 10);
    if (idx >= 1 && idx <= rec_.tasks.size())
      ++rec_.tasks[idx - 1].executions;
  };
}

void sim_client::finish(double end_ms, const std::string& journal,
                        const std::function<double(const std::string& agent)>& run_ms) {
  // Still waited for: the deadline reaches past the end.
  for (auto& [idx, t] : open_) {
    auto& r = rec_.tasks.at(idx - 1);
    r.outcome = "unfinished_at_end";
    hooks_.line(end_ms, "task " + std::to_string(idx) + " unanswered: " + r.outcome);
  }
  open_.clear();
  if (journal.empty())
    return;
  auto store = open_task_journal(journal);
  if (!store) {
    hooks_.line(end_ms, "the shared journal cannot be read: " + error_context(store.error()));
    return;
  }
  // What the journal promises: a task it holds is answered, at the latest
  // when its run's deadline fails it, wherever it runs. Open at the end:
  // - on a live owner: it may still run until that deadline (the agent's,
  //   minutes); past it, lost. Before it, `open_at_end` (no answer yet).
  // - on an owner that is dead or frozen: while a majority lives, the
  //   cluster downs the owner and its leader adopts the task within
  //   client_adoption_slack_ms, so past the client's deadline and that,
  //   lost; without a majority nobody may adopt it: `open_at_end`.
  size_t live = 0;
  for (const auto& n : nodes_)
    live += n && !n->killed && !n->frozen;
  const bool majority = 2 * live > nodes_.size();
  const double deadline_ms = std::chrono::duration<double, std::milli>(sc_.deadline).count();
  for (auto& r : rec_.tasks) {
    if (r.outcome == "ok" || r.outcome == "redispatched_ok" || r.outcome == "unfinished_at_end"
        || r.outcome == "refused_not_member" || r.outcome == "no_entry")
      continue;
    if (r.arrived_ms + deadline_ms + client_adoption_slack_ms > end_ms)
      continue;
    auto got = (*store)->get("sim-" + std::to_string(r.id));
    if (!got || !*got || (**got).state != task_state::open)
      continue;
    const auto& owner = (**got).owner;
    bool owner_live = false;
    for (const auto& n : nodes_)
      owner_live = owner_live || (n && n->name() == owner && !n->killed && !n->frozen);
    const bool lost = owner_live ? r.arrived_ms + run_ms(r.agent) + client_adoption_slack_ms <= end_ms
                                 : majority;
    hooks_.line(end_ms, "task " + std::to_string(r.id) + (lost ? " lost" : " open at the end")
                          + ": open in the journal on " + owner + (owner_live ? "" : " (not live)")
                          + ", " + r.outcome + " for its client");
    r.outcome = lost ? "lost" : "open_at_end";
  }
}

void sim_client::close() {
  alive_.reset();
}

bool sim_client::ran_again(uint64_t task, const std::string& journal) {
  if (task == 0 || task > rec_.tasks.size() || journal.empty())
    return true;
  const auto& r = rec_.tasks[task - 1];
  if (r.attempts > 1 || r.executions > 1 || r.entry == 0 || r.entry > nodes_.size())
    return true;
  const auto& n = nodes_[r.entry - 1];
  if (!n || n->killed || n->incarnation != r.entry_incarnation)
    return true;
  if (!journal_)
    if (auto j = open_task_journal(journal))
      journal_ = std::move(*j);
  if (!journal_)
    return true;
  auto got = journal_->get("sim-" + std::to_string(task));
  return !got || !*got || (**got).owner != n->name();
}

}  // namespace agentgraph::sim
