#include "runtime/checkpoint/checkpoint_store.hpp"

#include "runtime/checkpoint/checkpoint_codec.hpp"
#include "runtime/checkpoint/postgres_checkpoint_store.hpp"
#include "runtime/checkpoint/sqlite_checkpoint_store.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace checkpoint_store_detail {

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size()
         && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace checkpoint_store_detail

caf::expected<uint64_t> checkpoint_store::put(const checkpoint& c) {
  auto enc = encode_checkpoint(c, limits_, where_);
  if (!enc)
    return std::move(enc.error());
  return do_put(c, *enc);
}

caf::expected<checkpoint> checkpoint_store::latest(const std::string& thread_id) {
  if (auto err = check_thread_id(thread_id, limits_, where_))
    return err;
  return do_latest(thread_id);
}

caf::expected<checkpoint> checkpoint_store::get(const std::string& thread_id,
                                                uint64_t checkpoint_id) {
  if (auto err = check_thread_id(thread_id, limits_, where_))
    return err;
  return do_get(thread_id, checkpoint_id);
}

caf::expected<std::vector<checkpoint>> checkpoint_store::list(const std::string& thread_id,
                                                              uint32_t limit) {
  if (auto err = check_thread_id(thread_id, limits_, where_))
    return err;
  if (auto err = check_list_limit(limit, limits_.list_max, "list", where_))
    return err;
  return do_list(thread_id, limit);
}

caf::expected<std::vector<std::string>> checkpoint_store::list_threads(uint32_t limit) {
  if (auto err = check_list_limit(limit, limits_.threads_listed_max, "list_threads", where_))
    return err;
  return do_list_threads(limit);
}

caf::expected<uint64_t> checkpoint_store::delete_thread(const std::string& thread_id) {
  if (auto err = check_thread_id(thread_id, limits_, where_))
    return err;
  return do_delete_thread(thread_id);
}

caf::expected<std::unique_ptr<checkpoint_store>>
open_checkpoint_store(const std::string& location, const checkpoint_limits& limits,
                      const std::string& postgres_schema) {
  namespace d = checkpoint_store_detail;
  if (d::starts_with(location, "postgresql://") || d::starts_with(location, "postgres://"))
    return open_postgres_checkpoint_store(location, limits, postgres_schema);
  if (d::starts_with(location, "sqlite:") && location.size() > 7)
    return open_sqlite_checkpoint_store(location.substr(7), limits);
  if (d::ends_with(location, ".db") || d::ends_with(location, ".sqlite"))
    return open_sqlite_checkpoint_store(location, limits);
  return make_error(errc::invalid_argument,
                    "checkpoint store location '" + redact_connection_url(location)
                      + "': expected sqlite:PATH, a *.db or *.sqlite path, or a postgresql:// URL");
}

}  // namespace agentgraph
