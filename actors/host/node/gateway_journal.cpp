// The gateway's task journal (gateway::set_journal): the journal handed to
// the runners, and the replay of a dead run's open tasks (the bytes stored
// are task_journal_codec.hpp's). The runner (gateway_runner.cpp) does the
// storing; the journal itself is runtime/journal/.
#include <chrono>
#include <thread>

#include <caf/event_based_actor.hpp>

#include "actors/host/node/gateway_impl.hpp"
#include "actors/host/node/task_json.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/virtual_time.hpp"

namespace agentgraph {

void gateway::set_journal(caf::actor journal, std::string owner, uint64_t epoch) {
  auto j = std::make_shared<task_journaling>();
  j->journal = caf::actor_cast<journal_actor>(std::move(journal));
  j->owner = std::move(owner);
  j->epoch = epoch;
  impl_->book->set_journaling(std::move(j));
}

namespace {

// Waits, at most `wait`, until every component placed on another node is
// offered by its node (the node has joined and its directory filled), so
// a resumed task for one of them does not fail at once and store that
// failure as its answer. Setup code on the main thread: it may sleep.
void wait_for_remote_components(Runtime& rt, std::chrono::milliseconds wait) {
  const auto until = std::chrono::steady_clock::now() + wait;
  auto missing = [&rt] {
    for (const auto& c : rt.components()) {
      if (!c.remote)
        continue;
      const bool up = c.kind == "agent"  ? static_cast<bool>(rt.agent(c.name))
                      : c.kind == "tool" ? static_cast<bool>(rt.tool(c.name))
                                         : static_cast<bool>(rt.memory(c.name));
      if (!up)
        return c.kind + " '" + c.name + "'";
    }
    return std::string{};
  };
  // Under virtual time (`agentgraph sim`) this thread is the one that runs
  // the world: sleeping would stop it, and its clock is the world's.
  if (runs_virtual_time(rt.system())) {
    auto& sys = rt.system();
    const auto virtual_until = sys.clock().now() + wait;
    drive_until(sys, [&] { return missing().empty() || sys.clock().now() >= virtual_until; });
    if (auto m = missing(); !m.empty())
      log(log_severity::warn, gateway_log_component,
          "resuming journaled tasks although a component on another node is not offered yet",
          {{"missing", m}, {"waited_ms", std::to_string(wait.count())}});
    return;
  }
  // Bounded by `until`: one check per 50 ms.
  for (auto m = missing(); !m.empty(); m = missing()) {
    if (std::chrono::steady_clock::now() >= until) {
      log(log_severity::warn, gateway_log_component,
          "resuming journaled tasks although a component on another node is not offered yet",
          {{"missing", m}, {"waited_ms", std::to_string(wait.count())}});
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
}

}  // namespace

void follow_incarnation(task_book& book, uint64_t uid) {
  auto j = book.journaling();
  if (!j || j->epoch == uid)
    return;
  auto next = std::make_shared<task_journaling>(*j);
  next->epoch = uid;
  book.set_journaling(std::move(next));
}

journaled_run run_journaled(Runtime& rt, const std::shared_ptr<task_book>& book,
                            const journal_record& r, journaled_unknown unknown) {
  auto task = journal_task_of(r);
  auto agent = task ? rt.agent(task->first) : caf::expected<agent_actor>{task.error()};
  if (task && !agent && unknown == journaled_unknown::keep_open)
    return journaled_run::not_offered;
  auto adm = book->table.admit(r.task_id, task ? task->first : r.target);
  if (adm.outcome == task_table::admit_outcome::full)
    return journaled_run::full;
  if (adm.outcome != task_table::admit_outcome::admitted)
    return journaled_run::in_use;
  if (book->in_flight_gauge != nullptr)
    book->in_flight_gauge->inc();
  if (!task || !agent) {
    // Ends in the journal too: the runner stores the failure.
    auto err = task ? agent.error() : task.error();
    spawn_task_runner(rt.system(), book, adm.entry, agent_actor{},
                      task_request{r.task_id, "", {}}, std::chrono::milliseconds{1});
    log(log_severity::warn, gateway_log_component, "journaled task cannot run",
        {{"task_id", r.task_id}, {"error", describe(err)}});
    return journaled_run::started;
  }
  auto deadline = rt.task_deadline(task->first) + gateway_runner_grace;
  auto runner = spawn_task_runner(rt.system(), book, adm.entry, *agent, std::move(task->second),
                                  deadline);
  std::lock_guard lock{book->mutex};
  if (adm.entry->status() == task_status::running)
    book->runners.emplace(r.task_id, runner);
  return journaled_run::started;
}

caf::expected<size_t> gateway::resume_journaled(std::chrono::milliseconds wait_for_remote) {
  auto j = impl_->book->journaling();
  if (!j)
    return make_error(errc::invalid_argument, "gateway: no task journal set");
  auto& rt = impl_->rt;
  // Every earlier incarnation's open tasks become this one's first: a late
  // write of an earlier run (a frozen process that woke up) is then fenced,
  // and a leader adopting "the dead incarnation's tasks" from a shared
  // journal finds none of those this run takes back.
  auto taken = blocking_ask<uint64_t>(rt.system(), j->journal, j->call_timeout, "task journal",
                                      journal_adopt_atom::value, j->owner, uint64_t{0}, j->owner,
                                      j->epoch);
  if (!taken)
    return std::move(taken.error());
  size_t resumed = 0;
  bool waited = false;
  std::string after;
  // Bounded: each page moves `after` forward, and open_max bounds the
  // owner's open records.
  for (size_t pages = 0; pages < 100'000; ++pages) {
    auto page = blocking_ask<std::vector<journal_record>>(
      rt.system(), j->journal, j->call_timeout, "task journal", journal_open_of_atom::value,
      j->owner, uint32_t{100}, after);
    if (!page)
      return std::move(page.error());
    if (page->empty())
      break;
    after = page->back().task_id;
    if (!waited) {
      waited = true;
      wait_for_remote_components(rt, wait_for_remote);
    }
    for (const auto& r : *page) {
      switch (run_journaled(rt, impl_->book, r)) {
        case journaled_run::started: ++resumed; break;
        case journaled_run::full:
          log(log_severity::warn, gateway_log_component, "journaled task not resumed",
              {{"task_id", r.task_id}, {"why", "the gateway is full"}});
          break;
        case journaled_run::in_use:
          log(log_severity::warn, gateway_log_component, "journaled task not resumed",
              {{"task_id", r.task_id}, {"why", "its id is in use"}});
          break;
        case journaled_run::not_offered: break;  // journaled_unknown::fail never gives it
      }
    }
  }
  log(log_severity::info, gateway_log_component, "journaled tasks resumed",
      {{"count", std::to_string(resumed)}});
  return resumed;
}

}  // namespace agentgraph
