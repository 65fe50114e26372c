// The task journal contract on the SQLite backend, plus what only SQLite
// has: files that are not a journal, WAL mode on disk, and the location
// strings of open_task_journal.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>

#include <sqlite3.h>
#include <unistd.h>

#include "journal_contract.hpp"
#include "runtime/checkpoint/sqlite_checkpoint_store.hpp"
#include "runtime/journal/sqlite_task_journal.hpp"

namespace agentgraph::journal_sqlite_test {

namespace fs = std::filesystem;
using journal_contract::journal_factory;

// A fresh directory per test case, removed when the factory goes.
inline fs::path fresh_dir() {
  static std::atomic<int> counter{0};
  auto dir = fs::temp_directory_path()
             / ("agentgraph-jn-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + "-"
                + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  return dir;
}

inline journal_factory sqlite_factory() {
  auto dir = fresh_dir();
  auto path = (dir / "sub" / "journal.db").string();  // the journal creates "sub"
  journal_factory f;
  f.open = [path](const journal_limits& limits) { return open_sqlite_task_journal(path, limits); };
  f.writer_args = {"sqlite", path};
  f.cleanup = std::shared_ptr<void>(nullptr, [dir](void*) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  });
  return f;
}

AGENTGRAPH_JOURNAL_CONTRACT("journal sqlite", sqlite_factory)

// The bytes of a file, to show that a refused open left it as it was.
inline std::string file_bytes(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

TEST_CASE("journal sqlite: a file that is not SQLite is a parse_error naming it") {
  auto dir = fresh_dir();
  auto path = (dir / "not.db").string();
  std::ofstream{path} << "this is not an SQLite database, just text that is long enough to fail"
                      << std::string(200, '.');
  auto before = file_bytes(path);
  auto j = open_sqlite_task_journal(path);
  REQUIRE_FALSE(j);
  CHECK(errc_of(j.error()) == errc::parse_error);
  CHECK(error_context(j.error()).find("sqlite '" + path + "'") != std::string::npos);
  CHECK(file_bytes(path) == before);
  fs::remove_all(dir);
}

TEST_CASE("journal sqlite: another program's database is refused and left alone") {
  auto dir = fresh_dir();
  // A checkpoint store's file: valid SQLite, tables, but not a journal's.
  auto path = (dir / "checkpoints.db").string();
  REQUIRE(open_sqlite_checkpoint_store(path));
  auto j = open_sqlite_task_journal(path);
  REQUIRE_FALSE(j);
  CHECK(errc_of(j.error()) == errc::parse_error);
  auto text = error_context(j.error());
  CHECK(text.find("not a task journal") != std::string::npos);
  CHECK(text.find("'checkpoint_schema'") != std::string::npos);
  // No journal table was added to it.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'journal%'",
                             -1, &s, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK(sqlite3_column_int(s, 0) == 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  // An empty file is a new journal.
  auto empty = (dir / "empty.db").string();
  std::ofstream{empty}.close();
  CHECK(open_sqlite_task_journal(empty));
  fs::remove_all(dir);
}

TEST_CASE("journal sqlite: another schema version is a parse_error") {
  auto f = sqlite_factory();
  journal_contract::open_ok(f);
  auto path = f.writer_args.at(1);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "UPDATE journal_schema SET version = 2;", nullptr, nullptr, nullptr)
          == SQLITE_OK);
  sqlite3_close(db);
  auto j = f.open({});
  REQUIRE_FALSE(j);
  CHECK(errc_of(j.error()) == errc::parse_error);
  CHECK(error_context(j.error()).find("schema version") != std::string::npos);
}

TEST_CASE("journal sqlite: a stored state out of range is a parse_error, not a record") {
  auto f = sqlite_factory();
  auto j = journal_contract::open_ok(f);
  journal_contract::accept_ok(*j, journal_contract::make_record("t"));
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(f.writer_args.at(1).c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "UPDATE journal_tasks SET state = 9;", nullptr, nullptr, nullptr)
          == SQLITE_OK);
  sqlite3_close(db);
  auto r = j->get("t");
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::parse_error);
  CHECK(error_context(r.error()).find("task 't'") != std::string::npos);
}

TEST_CASE("journal sqlite: the file is in WAL mode, and open_task_journal picks the backend") {
  auto f = sqlite_factory();
  auto j = journal_contract::open_ok(f);
  journal_contract::accept_ok(*j, journal_contract::make_record("t"));
  auto path = f.writer_args.at(1);
  CHECK(fs::exists(path + "-wal"));  // exists while a connection is open in WAL mode
  auto located = open_task_journal("sqlite:" + path);
  REQUIRE(located);
  CHECK((*located)->backend() == "sqlite");
  CHECK(journal_contract::get_ok(**located, "t").owner == "n1");
  journal_limits bad;
  bad.list_max = 0;
  CHECK(journal_contract::code_of(open_task_journal("sqlite:" + path, bad)) == errc::invalid_argument);
}

TEST_CASE("journal: open_task_journal rejects unknown locations without leaking passwords") {
  for (const char* location : {"mysql://root:hunter2@db/x", "sqlite:", "", "journal.db",
                               "http://user:hunter2@host/"}) {
    auto r = open_task_journal(location);
    REQUIRE_FALSE(r);
    CHECK(errc_of(r.error()) == errc::invalid_argument);
    CHECK(error_context(r.error()).find("hunter2") == std::string::npos);
    CHECK(error_context(r.error()).find("expected sqlite:PATH") != std::string::npos);
  }
}

}  // namespace agentgraph::journal_sqlite_test
