// The task journal contract on the PostgreSQL backend, against the
// throwaway server that tools/test.sh starts (tools/test-services.sh).
// Every case here is named "postgres ..." and labelled `postgres` in ctest;
// without AGENTGRAPH_TEST_POSTGRES_URL they FAIL, never skip (`ctest -LE
// postgres` leaves them out of a plain dev run on purpose).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include <unistd.h>

#include <pqxx/pqxx>

#include "journal_contract.hpp"
#include "runtime/journal/postgres_task_journal.hpp"

namespace agentgraph::journal_postgres_test {

using journal_contract::journal_factory;

inline std::string test_url() {
  const char* url = std::getenv("AGENTGRAPH_TEST_POSTGRES_URL");
  REQUIRE_MESSAGE(url != nullptr,
                  "AGENTGRAPH_TEST_POSTGRES_URL is not set: run tools/test.sh, or "
                  "`tools/test-services.sh run ctest --test-dir build`, or leave these tests "
                  "out with `ctest -LE postgres`");
  return url;
}

// A fresh schema per test case (cases run in parallel processes against one
// database), dropped when the factory goes.
inline journal_factory postgres_factory() {
  static std::atomic<int> counter{0};
  auto url = test_url();
  auto schema = "jn_" + std::to_string(getpid()) + "_" + std::to_string(++counter) + "_"
                + std::to_string(std::random_device{}() % 100'000);
  journal_factory f;
  f.open = [url, schema](const journal_limits& limits) {
    return open_postgres_task_journal(url, limits, schema);
  };
  // The writer's sessions carry the schema as application_name, so that the
  // kill -9 clause can wait for the server to end them.
  f.writer_args = {"postgres", url + "?application_name=" + schema, schema};
  f.settle_after_kill = [url, schema] {
    pqxx::connection conn{url};
    for (int i = 0; i < 1'000; ++i) {
      pqxx::nontransaction tx{conn};
      auto r = tx.exec("SELECT 1 FROM pg_stat_activity WHERE application_name = "
                       + tx.quote(schema));
      if (r.empty())
        return;
      tx.abort();
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    FAIL("the killed writer's session is still open after 10 s");
  };
  f.cleanup = std::shared_ptr<void>(nullptr, [url, schema](void*) {
    try {
      pqxx::connection conn{url};
      pqxx::nontransaction tx{conn};
      tx.exec("DROP SCHEMA IF EXISTS " + tx.quote_name(schema) + " CASCADE");
    } catch (const std::exception&) {
      // Best effort: the server is thrown away after the run anyway.
    }
  });
  return f;
}

AGENTGRAPH_JOURNAL_CONTRACT("postgres journal", postgres_factory)

TEST_CASE("postgres journal: a failed connection is io_error without the password") {
  // Port 1 (tcpmux): nothing listens there, the connection is refused at once.
  auto r = open_task_journal("postgresql://agentgraph:s3cret-pw@127.0.0.1:1/x");
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::io_error);
  auto text = error_context(r.error());
  CHECK(text.find("s3cret-pw") == std::string::npos);
  CHECK(text.find("postgresql://agentgraph:***@127.0.0.1:1/x") != std::string::npos);
  CHECK_FALSE(test_url().empty());  // the suite still requires the server
}

TEST_CASE("postgres journal: a schema name that is not an identifier is invalid_argument") {
  auto r = open_postgres_task_journal(test_url(), {}, "x; DROP TABLE journal_tasks");
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::invalid_argument);
}

TEST_CASE("postgres journal: two journals opening one schema at once create it once") {
  auto f = postgres_factory();
  caf::expected<journal_contract::journal_ptr> a{nullptr};
  std::thread t{[&] { a = f.open({}); }};  // no doctest assertion off the main thread
  auto b = journal_contract::open_ok(f);
  t.join();
  REQUIRE_MESSAGE(static_cast<bool>(a), (a ? "" : describe(a.error())));
  CHECK(journal_contract::accept_ok(**a, journal_contract::make_record("t")).fresh);
  CHECK_FALSE(journal_contract::accept_ok(*b, journal_contract::make_record("t")).fresh);
  CHECK((*a)->backend() == "postgresql");
}

TEST_CASE("postgres journal: a lost connection fails one call, the next reconnects") {
  auto f = postgres_factory();
  auto url = f.writer_args.at(1);  // with application_name = schema
  auto schema = f.writer_args.at(2);
  auto j = open_postgres_task_journal(url, {}, schema);
  REQUIRE_MESSAGE(static_cast<bool>(j), (j ? "" : describe(j.error())));
  journal_contract::accept_ok(**j, journal_contract::make_record("t1"));
  {
    pqxx::connection admin{test_url()};
    pqxx::nontransaction tx{admin};
    auto r = tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                     "application_name = " + tx.quote(schema));
    REQUIRE(r.size() == 1);
  }
  auto first = (*j)->get("t1");
  REQUIRE_FALSE(first);
  CHECK(errc_of(first.error()) == errc::io_error);
  CHECK(error_context(first.error()).find("connection lost") != std::string::npos);
  CHECK(journal_contract::accept_ok(**j, journal_contract::make_record("t2")).fresh);
  CHECK(journal_contract::ids_of((*j)->open_of("n1", 10).value()) == std::vector<std::string>{"t1", "t2"});
}

// A frozen node resumes after the majority adopted its tasks: its assigns
// racing the adopt either happened before it (and moved with the task) or
// are fenced; none lands on a task the adopter owns.
TEST_CASE("postgres journal: assigns racing an adopt are fenced once it committed") {
  auto f = postgres_factory();
  auto old_owner = journal_contract::open_ok(f);
  auto adopter = journal_contract::open_ok(f);
  constexpr int tasks = 200;
  for (int i = 0; i < tasks; ++i)
    journal_contract::accept_ok(*old_owner, journal_contract::make_record("t" + std::to_string(i)));
  std::vector<int> outcome(tasks, -1);  // 0 assigned, 1 fenced, 2 other error
  std::thread racer{[&] {
    for (int i = 0; i < tasks; ++i) {
      auto err = old_owner->assign("t" + std::to_string(i), "n1", "n1", 7);
      outcome[i] = !err ? 0 : (errc_of(err) == errc::conflict ? 1 : 2);
    }
  }};
  std::this_thread::sleep_for(std::chrono::milliseconds{5});
  auto moved = adopter->adopt("n1", 7, "n2", 8);
  racer.join();
  REQUIRE_MESSAGE(static_cast<bool>(moved), (moved ? "" : describe(moved.error())));
  CHECK(*moved == tasks);
  for (int i = 0; i < tasks; ++i) {
    auto r = journal_contract::get_ok(*adopter, "t" + std::to_string(i));
    CHECK(r.owner == "n2");
    CHECK(outcome[i] != 2);
    // An assign that succeeded happened before the adopt: it moved with the task.
    CHECK(r.attempts == (outcome[i] == 0 ? 1u : 0u));
  }
  // Once one assign was fenced, every later one was too.
  auto first_fenced = std::find(outcome.begin(), outcome.end(), 1);
  CHECK(std::find(first_fenced, outcome.end(), 0) == outcome.end());
}

}  // namespace agentgraph::journal_postgres_test
