#include "runtime/population/population_store.hpp"

#include <algorithm>
#include <string_view>

#include "runtime/checkpoint/checkpoint_codec.hpp"
#include "runtime/error.hpp"
#include "runtime/journal/journal_checks.hpp"
#include "runtime/population/population_checks.hpp"
#include "runtime/population/postgres_population_store.hpp"
#include "runtime/population/sqlite_population_store.hpp"

namespace agentgraph {

namespace {

// Names, keys and owners are checked as the task journal checks its names
// (UTF-8 without control characters, 1..max bytes): the same reasons hold
// (PostgreSQL's TEXT, libpq's NUL-terminated parameters).
caf::error check_name(const std::string& name, uint32_t max, const char* what,
                      const std::string& where) {
  return check_journal_name(name, max, what, where);
}

caf::error check_epoch(uint64_t owner_epoch, const std::string& where) {
  if (owner_epoch != 0)
    return caf::none;
  return make_error(errc::invalid_argument,
                    where + "owner_epoch 0 (an owner's incarnation uid is above 0)");
}

caf::error check_batch_size(size_t n, uint32_t max, const char* what, const std::string& where) {
  if (n >= 1 && n <= max)
    return caf::none;
  return make_error(errc::invalid_argument, where + what + " of " + std::to_string(n)
                                              + " keys is outside [1, " + std::to_string(max)
                                              + "] (batch_max)");
}

// invalid_argument naming the first key that appears twice. Sorting views
// costs O(n log n) over at most batch_max keys, no copy of the keys.
template <class KeyOf, class T>
caf::error check_distinct(const std::vector<T>& items, KeyOf key_of, const char* what,
                          const std::string& where) {
  std::vector<std::string_view> sorted;
  sorted.reserve(items.size());
  for (const auto& x : items)
    sorted.emplace_back(key_of(x));
  std::sort(sorted.begin(), sorted.end());
  auto twice = std::adjacent_find(sorted.begin(), sorted.end());
  if (twice == sorted.end())
    return caf::none;
  return make_error(errc::invalid_argument,
                    where + what + ": key '" + std::string{*twice} + "' appears twice");
}

}  // namespace

caf::error check_population_limits(const population_store_limits& limits,
                                   const std::string& where) {
  auto bad = [&](const std::string& what) {
    return make_error(errc::invalid_argument, where + "limit " + what);
  };
  for (uint32_t v : {limits.name_bytes_max, limits.key_bytes_max})
    if (v == 0 || v > population_name_bytes_max_max)
      return bad("name_bytes_max and key_bytes_max must be in [1, "
                 + std::to_string(population_name_bytes_max_max) + "]");
  if (limits.owner_bytes_max == 0 || limits.owner_bytes_max > population_owner_bytes_max_max)
    return bad("owner_bytes_max must be in [1, " + std::to_string(population_owner_bytes_max_max)
               + "]");
  if (limits.state_bytes_max == 0 || limits.state_bytes_max > population_state_bytes_max_max)
    return bad("state_bytes_max must be in [1, 64 MiB]");
  return check_list_limit(limits.batch_max, population_batch_max_max, "batch_max", where);
}

caf::expected<std::vector<population_claim>>
population_store::claim(const std::string& population, const std::vector<std::string>& keys,
                        const std::string& owner, uint64_t owner_epoch) {
  if (auto err = check_name(population, limits_.name_bytes_max, "population", where_))
    return err;
  if (auto err = check_batch_size(keys.size(), limits_.batch_max, "claim", where_))
    return err;
  for (const auto& key : keys)
    if (auto err = check_name(key, limits_.key_bytes_max, "key", where_))
      return err;
  if (auto err = check_distinct(
        keys, [](const std::string& k) -> std::string_view { return k; }, "claim", where_))
    return err;
  if (auto err = check_name(owner, limits_.owner_bytes_max, "owner", where_))
    return err;
  if (auto err = check_epoch(owner_epoch, where_))
    return err;
  return do_claim(population, keys, owner, owner_epoch);
}

caf::expected<std::vector<std::string>>
population_store::save(const std::string& population, const std::string& owner,
                       uint64_t owner_epoch, const std::vector<population_save>& batch) {
  if (auto err = check_name(population, limits_.name_bytes_max, "population", where_))
    return err;
  if (auto err = check_name(owner, limits_.owner_bytes_max, "owner", where_))
    return err;
  if (auto err = check_epoch(owner_epoch, where_))
    return err;
  if (auto err = check_batch_size(batch.size(), limits_.batch_max, "save", where_))
    return err;
  for (const auto& entry : batch) {
    if (auto err = check_name(entry.key, limits_.key_bytes_max, "key", where_))
      return err;
    if (auto err = check_journal_bytes(entry.state, limits_.state_bytes_max,
                                       "state of a saved key", where_))
      return make_error(errc::invalid_argument, error_context(err) + " (key '" + entry.key
                                                  + "'); nothing of the batch was saved");
  }
  if (auto err = check_distinct(
        batch, [](const population_save& s) -> std::string_view { return s.key; }, "save",
        where_))
    return err;
  return do_save(population, owner, owner_epoch, batch);
}

caf::expected<std::vector<std::string>> population_store::keys(const std::string& population,
                                                               const std::string& after,
                                                               uint32_t limit) {
  if (auto err = check_name(population, limits_.name_bytes_max, "population", where_))
    return err;
  if (!after.empty())
    if (auto err = check_name(after, limits_.key_bytes_max, "after", where_))
      return err;
  if (auto err = check_list_limit(limit, limits_.batch_max, "keys", where_))
    return err;
  return do_keys(population, after, limit);
}

caf::expected<uint64_t> population_store::count(const std::string& population) {
  if (auto err = check_name(population, limits_.name_bytes_max, "population", where_))
    return err;
  return do_count(population);
}

caf::expected<bool> population_store::erase(const std::string& population,
                                            const std::string& key) {
  if (auto err = check_name(population, limits_.name_bytes_max, "population", where_))
    return err;
  if (auto err = check_name(key, limits_.key_bytes_max, "key", where_))
    return err;
  return do_erase(population, key);
}

caf::expected<std::unique_ptr<population_store>>
open_population_store(const std::string& location, const population_store_limits& limits,
                      const std::string& postgres_schema) {
  auto starts_with = [&](std::string_view prefix) {
    return location.compare(0, prefix.size(), prefix) == 0;
  };
  if (starts_with("postgresql://") || starts_with("postgres://"))
    return open_postgres_population_store(location, limits, postgres_schema);
  if (starts_with("sqlite:") && location.size() > 7)
    return open_sqlite_population_store(location.substr(7), limits);
  return make_error(errc::invalid_argument,
                    "population store location '" + redact_connection_url(location)
                      + "': expected sqlite:PATH or a postgresql:// URL");
}

}  // namespace agentgraph
