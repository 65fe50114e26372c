// The task journal contract on the PostgreSQL backend, against the
// throwaway server that tools/test.sh starts (tools/test-services.sh).
// Every case here is named "postgres ..." and labelled `postgres` in ctest;
// without AGENTGRAPH_TEST_POSTGRES_URL they FAIL, never skip (`ctest -LE
// postgres` leaves them out of a plain dev run on purpose).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "journal_contract.hpp"
#include "postgres_test_support.hpp"
#include "runtime/journal/postgres_task_journal.hpp"

namespace agentgraph::journal_postgres_test {

using journal_contract::journal_factory;

using agentgraph_test::test_postgres_url;

// A fresh schema per test case (cases run in parallel processes against one
// database), dropped when the factory goes.
inline journal_factory postgres_factory() {
  return agentgraph_test::postgres_contract_factory<journal_factory>(
    "jn", [](const std::string& url, const auto& limits, const std::string& schema) {
      return open_postgres_task_journal(url, limits, schema);
    });
}

AGENTGRAPH_JOURNAL_CONTRACT("postgres journal", postgres_factory)

TEST_CASE("postgres journal: a failed connection is io_error without the password") {
  agentgraph_test::check_refused_connection_hides_password(
    [](const std::string& url) { return open_task_journal(url); });
}

TEST_CASE("postgres journal: a schema name that is not an identifier is invalid_argument") {
  auto r = open_postgres_task_journal(test_postgres_url(), {}, "x; DROP TABLE journal_tasks");
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
  REQUIRE(agentgraph_test::terminate_sessions(schema) == 1);
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
