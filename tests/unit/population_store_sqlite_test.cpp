// The population store contract on the SQLite backend, plus what only
// SQLite has: a file that is not a store, the schema version, WAL mode, the
// synchronous setting of claims and saves, and the location strings of
// open_population_store.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>

#include <sqlite3.h>
#include <unistd.h>

#include "population_store_contract.hpp"
#include "runtime/population/sqlite_population_store.hpp"

namespace agentgraph::population_store_sqlite_test {

namespace fs = std::filesystem;
namespace contract = population_store_contract;
using contract::store_factory;

// A fresh directory per test case, removed when the factory goes.
inline fs::path fresh_dir() {
  static std::atomic<int> counter{0};
  auto dir = fs::temp_directory_path()
             / ("agentgraph-ps-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + "-"
                + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  return dir;
}

inline store_factory sqlite_factory() {
  auto dir = fresh_dir();
  auto path = (dir / "sub" / "population.db").string();  // the store creates "sub"
  store_factory f;
  f.open = [path](const population_store_limits& limits) {
    return open_sqlite_population_store(path, limits);
  };
  f.writer_args = {"sqlite", path};
  f.cleanup = std::shared_ptr<void>(nullptr, [dir](void*) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  });
  return f;
}

AGENTGRAPH_POPULATION_STORE_CONTRACT("population store sqlite", sqlite_factory)

TEST_CASE("population store sqlite: a file that is not SQLite is a parse_error naming it") {
  auto dir = fresh_dir();
  auto path = (dir / "not.db").string();
  std::ofstream{path} << "this is not an SQLite database, just text that is long enough to fail"
                      << std::string(200, '.');
  auto s = open_sqlite_population_store(path);
  REQUIRE_FALSE(s);
  CHECK(errc_of(s.error()) == errc::parse_error);
  CHECK(error_context(s.error()).find("population store sqlite '" + path + "'")
        != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("population store sqlite: another schema version is a parse_error") {
  auto f = sqlite_factory();
  contract::open_ok(f);
  auto path = f.writer_args.at(1);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "UPDATE population_schema SET version = 2;", nullptr, nullptr, nullptr)
          == SQLITE_OK);
  sqlite3_close(db);
  auto s = f.open({});
  REQUIRE_FALSE(s);
  CHECK(errc_of(s.error()) == errc::parse_error);
  CHECK(error_context(s.error()).find("schema version") != std::string::npos);
}

// A save holds the write lock of the file for its transaction: a writer on
// another connection waits up to the busy timeout, then fails with io_error
// and writes nothing; the store's next call works.
TEST_CASE("population store sqlite: a lock held past the timeout is io_error, then it works") {
  auto f = sqlite_factory();
  auto s = contract::open_ok(f);
  contract::claim_ok(*s, "p", {"k"});
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(f.writer_args.at(1).c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE;", nullptr, nullptr, nullptr) == SQLITE_OK);
  auto blocked = s->save("p", "n1", 7, {{"k", contract::bytes("v")}});
  CHECK(contract::code_of(blocked) == errc::io_error);
  REQUIRE(sqlite3_exec(db, "ROLLBACK;", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  CHECK_FALSE(contract::peek(*s, "p", "k").existed);
  contract::claim_ok(*s, "p", {"k"});
  CHECK(contract::save_ok(*s, "p", {{"k", contract::bytes("v")}}).empty());
}

TEST_CASE("population store sqlite: WAL on disk, and open_population_store picks the backend") {
  auto f = sqlite_factory();
  auto s = contract::open_ok(f);
  contract::claim_ok(*s, "p", {"k"});
  CHECK(contract::save_ok(*s, "p", {{"k", contract::bytes("v")}}).empty());
  auto path = f.writer_args.at(1);
  CHECK(fs::exists(path + "-wal"));  // exists while a connection is open in WAL mode
  auto located = open_population_store("sqlite:" + path);
  REQUIRE(located);
  CHECK((*located)->backend() == "sqlite");
  CHECK(contract::value_ok((*located)->count("p")) == 1);
  population_store_limits bad;
  bad.batch_max = 0;
  CHECK(contract::code_of(open_population_store("sqlite:" + path, bad))
        == errc::invalid_argument);
}

TEST_CASE("population store: open_population_store rejects unknown locations, hides passwords") {
  for (const char* location : {"mysql://root:hunter2@db/x", "sqlite:", "", "population.db",
                               "http://user:hunter2@host/"}) {
    auto r = open_population_store(location);
    REQUIRE_FALSE(r);
    CHECK(errc_of(r.error()) == errc::invalid_argument);
    CHECK(error_context(r.error()).find("hunter2") == std::string::npos);
    CHECK(error_context(r.error()).find("expected sqlite:PATH") != std::string::npos);
  }
}

}  // namespace agentgraph::population_store_sqlite_test
