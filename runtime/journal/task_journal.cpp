#include "runtime/journal/task_journal.hpp"

#include <string_view>

#include "runtime/checkpoint/checkpoint_codec.hpp"
#include "runtime/error.hpp"
#include "runtime/journal/journal_checks.hpp"
#include "runtime/journal/postgres_task_journal.hpp"
#include "runtime/journal/sqlite_task_journal.hpp"

namespace agentgraph {

caf::expected<accept_outcome> task_journal::accept(const journal_record& r) {
  if (auto err = check_accept(r, limits_, where_))
    return err;
  return do_accept(r);
}

caf::error task_journal::assign(const std::string& task_id, const std::string& member,
                                const std::string& owner, uint64_t owner_epoch) {
  if (auto err = check_journal_name(task_id, limits_.task_id_bytes_max, "task id", where_))
    return err;
  if (auto err = check_journal_name(member, limits_.owner_bytes_max, "member", where_))
    return err;
  if (auto err = check_journal_name(owner, limits_.owner_bytes_max, "owner", where_))
    return err;
  return do_assign(task_id, member, owner, owner_epoch);
}

caf::expected<journal_record> task_journal::complete(const std::string& task_id,
                                                     task_state final_state,
                                                     const std::vector<uint8_t>& result) {
  if (auto err = check_journal_name(task_id, limits_.task_id_bytes_max, "task id", where_))
    return err;
  if (auto err = check_final_state(final_state, where_))
    return err;
  if (auto err = check_journal_bytes(result, limits_.result_bytes_max, "result", where_))
    return err;
  return do_complete(task_id, final_state, result);
}

caf::expected<std::vector<journal_record>>
task_journal::open_of(const std::string& owner, uint32_t limit, const std::string& after) {
  if (auto err = check_journal_name(owner, limits_.owner_bytes_max, "owner", where_))
    return err;
  if (limit == 0 || limit > limits_.list_max)
    return make_error(errc::invalid_argument, where_ + "open_of limit " + std::to_string(limit)
                                                + " is outside [1, "
                                                + std::to_string(limits_.list_max) + "]");
  if (!after.empty())
    if (auto err = check_journal_name(after, limits_.task_id_bytes_max, "after", where_))
      return err;
  return do_open_of(owner, limit, after);
}

caf::expected<uint64_t> task_journal::adopt(const std::string& from, uint64_t from_epoch,
                                            const std::string& to, uint64_t to_epoch) {
  if (auto err = check_journal_name(from, limits_.owner_bytes_max, "adopt from", where_))
    return err;
  if (auto err = check_journal_name(to, limits_.owner_bytes_max, "adopt to", where_))
    return err;
  if (to_epoch == 0)
    return make_error(errc::invalid_argument,
                      where_ + "adopt to epoch 0 (an owner's incarnation uid is above 0)");
  return do_adopt(from, from_epoch, to, to_epoch);
}

caf::expected<std::optional<journal_record>> task_journal::get(const std::string& task_id) {
  if (auto err = check_journal_name(task_id, limits_.task_id_bytes_max, "task id", where_))
    return err;
  return do_get(task_id);
}

caf::expected<std::unique_ptr<task_journal>>
open_task_journal(const std::string& location, const journal_limits& limits,
                  const std::string& postgres_schema) {
  auto starts_with = [&](std::string_view prefix) {
    return location.compare(0, prefix.size(), prefix) == 0;
  };
  if (starts_with("postgresql://") || starts_with("postgres://"))
    return open_postgres_task_journal(location, limits, postgres_schema);
  if (starts_with("sqlite:") && location.size() > 7)
    return open_sqlite_task_journal(location.substr(7), limits);
  return make_error(errc::invalid_argument,
                    "task journal location '" + redact_connection_url(location)
                      + "': expected sqlite:PATH or a postgresql:// URL");
}

}  // namespace agentgraph
