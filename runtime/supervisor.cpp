// Non-template parts of runtime/supervisor.hpp: the restart budget, the
// pending-request table, error translation and the blocking stats query.
#include "runtime/supervisor.hpp"

#include "runtime/blocking_ask.hpp"

#include <algorithm>

#include <caf/deep_to_string.hpp>
#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>

#include "runtime/assert.hpp"

namespace agentgraph {

namespace supervisor_detail {

restart_budget::restart_budget(uint32_t restarts_max, std::chrono::milliseconds window)
  : restarts_max_(restarts_max), window_(window) {
  // No reserve: most children never restart, and a group holds one budget
  // per child.
}

bool restart_budget::try_consume(time_point now) {
  // Forget restarts that left the window; what remains is the recent history.
  auto recent = std::find_if(times_.begin(), times_.end(),
                             [&](time_point t) { return now - t < window_; });
  times_.erase(times_.begin(), recent);
  if (times_.size() >= restarts_max_)
    return false;
  times_.push_back(now);
  AG_ASSERT(times_.size() <= restarts_max_);
  return true;
}

uint64_t pending_table::add(fail_fn fail) {
  AG_ASSERT(entries_.size() < capacity_);  // the forwarder answers overloaded when full()
  const auto id = next_id_++;
  const bool fresh = entries_.emplace(id, std::move(fail)).second;
  AG_ASSERT(fresh);  // ids are never reused, so no caller is answered twice
  return id;
}

bool pending_table::take(uint64_t id) {
  return entries_.erase(id) > 0;
}

void pending_table::fail_all(const caf::error& err) {
  // Detach the entries first: delivering may not re-enter this table today,
  // but a swap keeps fail_all correct even if a callback ever adds entries.
  std::unordered_map<uint64_t, fail_fn> doomed;
  doomed.swap(entries_);
  for (auto& [id, fail] : doomed)
    fail(err);
}

caf::error translate_error(const std::string& name, const caf::error& err,
                           std::chrono::milliseconds request_timeout) {
  if (err == caf::sec::request_timeout)
    return make_error(errc::timeout, name + ": no reply within " +
                                       std::to_string(request_timeout.count()) + "ms");
  // The child died with the request in its mailbox (bounced), threw while
  // handling it (CAF answers runtime_error) or was stopped (exit reason).
  // Its down_msg follows; the caller learns the child is gone, not why.
  if (err == caf::sec::request_receiver_down || err == caf::sec::runtime_error ||
      err.category() == caf::make_error(caf::exit_reason::kill).category())
    return make_error(errc::unavailable, name + " crashed");
  return err;
}

bool is_deliberate_exit(const caf::error& reason) {
  return !reason || reason == caf::exit_reason::normal ||
         reason == caf::exit_reason::user_shutdown;
}

caf::error escalation_error(const std::string& name, const supervision_config& cfg,
                            const std::string& why) {
  return make_error(errc::limit_exceeded,
                    name + ": " + why + "; giving up after " + std::to_string(cfg.restarts_max) +
                      " restarts within " + std::to_string(cfg.restart_window.count()) + "ms");
}

std::string describe_exit(const caf::error& reason) {
  if (reason == caf::sec::runtime_error)
    return "unhandled exception";
  return describe(reason);
}

}  // namespace supervisor_detail

caf::expected<supervision_stats> supervisor_stats(caf::actor_system& sys,
                                                  const supervisor_control_actor& sup,
                                                  caf::timespan timeout) {
  if (!sup)
    return make_error(errc::invalid_argument, "supervisor_stats: invalid handle");
  return blocking_ask<supervision_stats>(sys, sup, timeout, "supervisor", sup_stats_atom::value);
}

}  // namespace agentgraph
