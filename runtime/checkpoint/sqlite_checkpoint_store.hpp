// The embedded checkpoint backend: one SQLite file in WAL mode.
//
// Durability: synchronous=FULL. Under WAL, NORMAL would already survive
// kill -9 of the process (a committed transaction is in the WAL file, which
// lives in the OS page cache, not in our process), but it may lose the last
// commits on power loss or an OS crash. A workflow acts on the world after a
// checkpoint (it calls tools, answers callers), so "put returned" must mean
// "on disk": FULL fsyncs the WAL at every commit, one fsync per super-step
// (figures in runtime/README.md).
//
// Concurrency: one connection per object; objects in several threads or
// processes may open the same file. SQLite's file locks serialise writers
// (BEGIN IMMEDIATE) and a busy timeout of checkpoint_lock_timeout_ms makes a
// writer wait for another instead of failing at once; WAL readers never block.
#pragma once

#include <memory>
#include <string>

#include "runtime/checkpoint/checkpoint_store.hpp"

namespace agentgraph {

class sqlite_checkpoint_store final : public checkpoint_store {
 public:
  // Opens or creates the database at `path` (and its directory) and creates
  // the tables if missing. Errors: invalid_argument (limits), io_error
  // naming the file, parse_error when the file is not SQLite or holds
  // another schema version.
  [[nodiscard]] static caf::expected<std::unique_ptr<sqlite_checkpoint_store>>
  open(const std::string& path, const checkpoint_limits& limits = {});

  ~sqlite_checkpoint_store() override;
  sqlite_checkpoint_store(const sqlite_checkpoint_store&) = delete;
  sqlite_checkpoint_store& operator=(const sqlite_checkpoint_store&) = delete;

  [[nodiscard]] const char* backend() const override { return "sqlite"; }
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
  sqlite_checkpoint_store(std::unique_ptr<impl> impl, const checkpoint_limits& limits);

  const checkpoint_limits limits_;
  const std::unique_ptr<impl> impl_;  // the connection and its prepared statements
};

}  // namespace agentgraph
