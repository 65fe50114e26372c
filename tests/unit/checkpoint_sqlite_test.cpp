// The checkpoint contract on the SQLite backend, plus what only SQLite has:
// a file that is not a checkpoint database, WAL mode on disk.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

#include "checkpoint_contract.hpp"
#include "runtime/checkpoint/sqlite_checkpoint_store.hpp"

namespace agentgraph::checkpoint_sqlite_test {

namespace fs = std::filesystem;
using checkpoint_contract::store_factory;

// A fresh directory per test case, removed when the factory goes.
inline fs::path fresh_dir() {
  static std::atomic<int> counter{0};
  auto dir = fs::temp_directory_path()
             / ("agentgraph-cp-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + "-"
                + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  return dir;
}

inline store_factory sqlite_factory() {
  auto dir = fresh_dir();
  auto path = (dir / "sub" / "checkpoints.db").string();  // the store creates "sub"
  store_factory f;
  f.open = [path](const checkpoint_limits& limits) {
    return open_sqlite_checkpoint_store(path, limits);
  };
  f.writer_args = {"sqlite", path};
  f.cleanup = std::shared_ptr<void>(nullptr, [dir](void*) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  });
  return f;
}

AGENTGRAPH_CHECKPOINT_CONTRACT("checkpoint sqlite", sqlite_factory)

TEST_CASE("checkpoint sqlite: a file that is not SQLite is a parse_error naming it") {
  auto dir = fresh_dir();
  auto path = (dir / "not.db").string();
  std::ofstream{path} << "this is not an SQLite database, just text that is long enough to fail"
                      << std::string(200, '.');
  auto s = open_sqlite_checkpoint_store(path);
  REQUIRE_FALSE(s);
  CHECK(errc_of(s.error()) == errc::parse_error);
  CHECK(error_context(s.error()).find("sqlite '" + path + "'") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("checkpoint sqlite: the database is in WAL mode with a schema version") {
  auto f = sqlite_factory();
  auto s = checkpoint_contract::open_ok(f);
  checkpoint_contract::put_ok(*s, checkpoint_contract::make_checkpoint("t", 1));
  auto path = f.writer_args.at(1);
  // The -wal file exists while a connection is open in WAL mode.
  CHECK(fs::exists(path + "-wal"));
  auto location = open_checkpoint_store("sqlite:" + path);
  REQUIRE(location);
  CHECK(std::string{(*location)->backend()} == "sqlite");
  CHECK((*location)->latest("t").value().step == 1);
}

TEST_CASE("checkpoint: open_checkpoint_store rejects unknown locations without leaking passwords") {
  auto r = open_checkpoint_store("mysql://root:hunter2@db/x");
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::invalid_argument);
  CHECK(error_context(r.error()).find("hunter2") == std::string::npos);
}

}  // namespace agentgraph::checkpoint_sqlite_test
