// The shared checkpoint backend: a PostgreSQL server (libpqxx 6.4), for
// checkpoints that any node of a cluster can resume.
//
// Durability: each put is one transaction; with the server's default
// synchronous_commit=on, COMMIT returns after the WAL record is flushed, so a
// put that returned survives a crash of our process and of the server.
//
// Concurrency: one connection per object; any number of objects (threads,
// processes, nodes) may share a database. Puts to one thread serialise on
// that thread's row in checkpoint_threads; lock_timeout bounds the wait.
// The connection URL appears in errors with its password replaced by "***".
#pragma once

#include <memory>
#include <string>

#include "runtime/checkpoint/checkpoint_store.hpp"

namespace agentgraph {

class postgres_checkpoint_store final : public checkpoint_store {
 public:
  // Connects to `url` (postgresql://user[:password]@host[:port]/db?...; libpq
  // also accepts key=value strings), creates `schema` and the tables in it if
  // missing (serialised across processes by an advisory lock) and prepares
  // the statements. `schema` is a lowercase SQL identifier; a cluster shares
  // one, tests use one each. Errors: invalid_argument (limits, schema name),
  // io_error naming the redacted URL (connect, permissions), parse_error
  // (tables of another schema version).
  [[nodiscard]] static caf::expected<std::unique_ptr<postgres_checkpoint_store>>
  open(const std::string& url, const checkpoint_limits& limits = {},
       const std::string& schema = "public");

  ~postgres_checkpoint_store() override;
  postgres_checkpoint_store(const postgres_checkpoint_store&) = delete;
  postgres_checkpoint_store& operator=(const postgres_checkpoint_store&) = delete;

  [[nodiscard]] const char* backend() const override { return "postgresql"; }
  [[nodiscard]] const checkpoint_limits& limits() const override { return limits_; }
  [[nodiscard]] caf::expected<uint64_t> put(const checkpoint& c) override;
  [[nodiscard]] caf::expected<checkpoint> latest(const std::string& thread_id) override;
  [[nodiscard]] caf::expected<checkpoint> get(const std::string& thread_id,
                                              uint64_t checkpoint_id) override;
  [[nodiscard]] caf::expected<std::vector<checkpoint>> list(const std::string& thread_id,
                                                            uint32_t limit) override;
  [[nodiscard]] caf::expected<std::vector<std::string>> list_threads(uint32_t limit) override;
  [[nodiscard]] caf::expected<uint64_t> delete_thread(const std::string& thread_id) override;

 private:
  struct impl;
  postgres_checkpoint_store(std::unique_ptr<impl> impl, const checkpoint_limits& limits);

  const checkpoint_limits limits_;
  const std::unique_ptr<impl> impl_;  // the connection (libpqxx keeps its prepared statements)
};

}  // namespace agentgraph
