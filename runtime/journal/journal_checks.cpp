#include "runtime/journal/journal_checks.hpp"

#include "runtime/checkpoint/checkpoint_codec.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

const char* to_string(task_state s) {
  switch (s) {
    case task_state::open:
      return "open";
    case task_state::done:
      return "done";
    case task_state::failed:
      return "failed";
  }
  return "invalid";
}

caf::expected<journal_record> stored_record(journal_record r, int64_t state, int64_t attempts,
                                            const std::string& where) {
  bool state_ok = state >= static_cast<int64_t>(task_state::open)
                  && state <= static_cast<int64_t>(task_state::failed);
  if (!state_ok || attempts < 0 || attempts > UINT32_MAX)
    return make_error(errc::parse_error, where + "task '" + r.task_id + "': stored state "
                                           + std::to_string(state) + " or attempts "
                                           + std::to_string(attempts) + " out of range");
  r.state = static_cast<task_state>(state);
  r.attempts = static_cast<uint32_t>(attempts);
  return r;
}

caf::error check_journal_limits(const journal_limits& limits, const std::string& where) {
  auto bad = [&](const std::string& what) {
    return make_error(errc::invalid_argument, where + "limit " + what);
  };
  for (uint32_t v : {limits.task_id_bytes_max, limits.target_bytes_max, limits.owner_bytes_max})
    if (v == 0 || v > journal_name_bytes_max)
      return bad("task_id_bytes_max, target_bytes_max and owner_bytes_max must be in [1, "
                 + std::to_string(journal_name_bytes_max) + "]");
  for (uint64_t v : {limits.payload_bytes_max, limits.result_bytes_max})
    if (v == 0 || v > journal_blob_bytes_max)
      return bad("payload_bytes_max and result_bytes_max must be in [1, 64 MiB]");
  if (limits.open_max == 0 || limits.open_max > journal_open_max_max)
    return bad("open_max must be in [1, " + std::to_string(journal_open_max_max) + "]");
  if (limits.results_kept == 0 || limits.results_kept > journal_results_kept_max)
    return bad("results_kept must be in [1, " + std::to_string(journal_results_kept_max) + "]");
  if (limits.list_max == 0 || limits.list_max > journal_list_max_max)
    return bad("list_max must be in [1, " + std::to_string(journal_list_max_max) + "]");
  if (limits.page_bytes_max == 0 || limits.page_bytes_max > journal_page_bytes_max_max)
    return bad("page_bytes_max must be in [1, 1 GiB]");
  return caf::none;
}

caf::error check_journal_name(const std::string& name, uint32_t max, const char* what,
                              const std::string& where) {
  if (name.empty())
    return make_error(errc::invalid_argument, where + "empty " + what);
  if (name.size() > max)
    return make_error(errc::invalid_argument, where + what + " of " + std::to_string(name.size())
                                                + " bytes, above the bound of "
                                                + std::to_string(max));
  if (!printable_utf8(name))
    return make_error(errc::invalid_argument,
                      where + what + " is not UTF-8 text without control characters");
  return caf::none;
}

caf::error check_journal_bytes(const std::vector<uint8_t>& bytes, uint64_t max, const char* what,
                               const std::string& where) {
  if (bytes.size() <= max)
    return caf::none;
  return make_error(errc::invalid_argument, where + what + " of " + std::to_string(bytes.size())
                                              + " bytes, above the bound of "
                                              + std::to_string(max));
}

caf::error check_accept(const journal_record& r, const journal_limits& limits,
                        const std::string& where) {
  if (auto err = check_journal_name(r.task_id, limits.task_id_bytes_max, "task id", where))
    return err;
  if (auto err = check_journal_name(r.target, limits.target_bytes_max, "target", where))
    return err;
  if (auto err = check_journal_name(r.owner, limits.owner_bytes_max, "owner", where))
    return err;
  if (auto err = check_journal_bytes(r.payload, limits.payload_bytes_max, "payload", where))
    return err;
  auto bad = [&](const std::string& what) {
    return make_error(errc::invalid_argument, where + "accept of task '" + r.task_id + "': " + what);
  };
  // 0 is adopt's "any epoch": a record must name the incarnation that owns it.
  if (r.owner_epoch == 0)
    return bad("owner_epoch 0 (an owner's incarnation uid is above 0)");
  if (r.state != task_state::open)
    return bad(std::string{"state "} + to_string(r.state) + " (a new task is open)");
  if (!r.assigned.empty() || r.attempts != 0 || !r.result.empty())
    return bad("a new task has no assigned member, no attempts and no result");
  return caf::none;
}

caf::error check_final_state(task_state s, const std::string& where) {
  if (s == task_state::done || s == task_state::failed)
    return caf::none;
  return make_error(errc::invalid_argument, where + "complete with state " + to_string(s)
                                              + " (done or failed)");
}

caf::error assign_refusal(const std::optional<journal_record>& stored, const std::string& task_id,
                          const std::string& owner, uint64_t owner_epoch,
                          const std::string& where) {
  auto task = where + "task '" + task_id + "'";
  if (!stored)
    return make_error(errc::not_found, task + ": no such task");
  if (stored->state != task_state::open)
    return make_error(errc::conflict, task + " is already finished (" + to_string(stored->state)
                                        + "): answer its stored result");
  if (stored->owner != owner || stored->owner_epoch != owner_epoch)
    return make_error(errc::conflict, task + ": fenced: owned by '" + stored->owner + "' epoch "
                                        + std::to_string(stored->owner_epoch) + ", not '" + owner
                                        + "' epoch " + std::to_string(owner_epoch)
                                        + " (another node adopted it; do not run it)");
  return make_error(errc::internal, task + ": assign matched no row, yet the task is open and "
                                           "owned by the caller");
}

}  // namespace agentgraph
