// The task journal contract, written once and run against every backend
// (journal_sqlite_test.cpp, journal_postgres_test.cpp). A backend test file
// supplies a factory that makes a fresh, empty journal location per test
// case and expands AGENTGRAPH_JOURNAL_CONTRACT(prefix, factory). The kill -9
// clause lives in journal_contract_kill.hpp.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "runtime/error.hpp"
#include "runtime/journal/task_journal.hpp"

namespace agentgraph::journal_contract {

using journal_ptr = std::unique_ptr<task_journal>;

// A fresh, empty location. `open` may be called many times: each call opens
// another journal object (another connection) on the same data.
struct journal_factory {
  std::function<caf::expected<journal_ptr>(const journal_limits&)> open;
  // Arguments that make tests/journal_writer open the same location.
  std::vector<std::string> writer_args;
  std::shared_ptr<void> cleanup;  // removes the location when the last copy goes
  // Waits until nothing of a killed writer can still change the data (a
  // server may commit a transaction whose COMMIT arrived before the death).
  std::function<void()> settle_after_kill = [] {};
};

inline journal_ptr open_ok(const journal_factory& f, const journal_limits& limits = {}) {
  auto j = f.open(limits);
  REQUIRE_MESSAGE(static_cast<bool>(j), (j ? "" : describe(j.error())));
  return std::move(*j);
}

inline std::vector<uint8_t> bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

inline journal_record make_record(const std::string& id, const std::string& owner = "n1",
                                  uint64_t epoch = 7) {
  journal_record r;
  r.task_id = id;
  r.target = "planner";
  r.payload = bytes("input of " + id);
  r.owner = owner;
  r.owner_epoch = epoch;
  return r;
}

inline accept_outcome accept_ok(task_journal& j, const journal_record& r) {
  auto out = j.accept(r);
  REQUIRE_MESSAGE(static_cast<bool>(out), (out ? "" : describe(out.error())));
  return std::move(*out);
}

inline journal_record complete_ok(task_journal& j, const std::string& id, task_state s,
                                  const std::string& result) {
  auto out = j.complete(id, s, bytes(result));
  REQUIRE_MESSAGE(static_cast<bool>(out), (out ? "" : describe(out.error())));
  return std::move(*out);
}

inline void assign_ok(task_journal& j, const std::string& id, const std::string& member,
                      const std::string& owner = "n1", uint64_t epoch = 7) {
  auto err = j.assign(id, member, owner, epoch);
  REQUIRE_MESSAGE(!err, describe(err));
}

inline journal_record get_ok(task_journal& j, const std::string& id) {
  auto r = j.get(id);
  REQUIRE_MESSAGE(static_cast<bool>(r), (r ? "" : describe(r.error())));
  REQUIRE_MESSAGE(r->has_value(), "no task '" << id << "'");
  return std::move(**r);
}

inline bool absent(task_journal& j, const std::string& id) {
  auto r = j.get(id);
  REQUIRE_MESSAGE(static_cast<bool>(r), (r ? "" : describe(r.error())));
  return !r->has_value();
}

// The error's code, or errc::none for a value (so that a CHECK on it
// fails cleanly instead of reading an error that is not there).
template <class T>
errc code_of(const caf::expected<T>& r) {
  return r ? errc::none : errc_of(r.error()).value_or(errc::none);
}

inline errc code_of(const caf::error& err) {
  return errc_of(err).value_or(errc::none);
}

// The error's text, or "" for a value.
template <class T>
std::string context_of(const caf::expected<T>& r) {
  return r ? std::string{} : error_context(r.error());
}

inline std::vector<std::string> ids_of(const std::vector<journal_record>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs)
    out.push_back(r.task_id);
  return out;
}

inline bool same_record(const journal_record& a, const journal_record& b) {
  return a.task_id == b.task_id && a.target == b.target && a.payload == b.payload
         && a.owner == b.owner && a.owner_epoch == b.owner_epoch && a.state == b.state
         && a.assigned == b.assigned && a.attempts == b.attempts && a.result == b.result;
}

// Every page of open_of(owner), paging by the last id, `page` at a time,
// until a page is empty.
inline std::vector<journal_record> all_open_of(task_journal& j, const std::string& owner,
                                               uint32_t page) {
  std::vector<journal_record> out;
  std::string after;
  for (int pages = 0; pages < 10'000; ++pages) {  // bound: far above any test's size
    auto next = j.open_of(owner, page, after);
    REQUIRE_MESSAGE(static_cast<bool>(next), (next ? "" : describe(next.error())));
    if (next->empty())
      return out;
    out.insert(out.end(), next->begin(), next->end());
    after = next->back().task_id;
  }
  FAIL("open_of did not end");
  return out;
}

// --- clauses -----------------------------------------------------------------

// A new id is stored open; the same id again, from this or another journal
// object on the same database, returns the stored record and writes nothing.
inline void accept_fresh_and_existing(const journal_factory& f) {
  auto a = open_ok(f);
  auto b = open_ok(f);
  auto r = make_record("t-1");
  CHECK(absent(*a, "t-1"));
  auto first = accept_ok(*a, r);
  CHECK(first.fresh);
  CHECK(same_record(first.record, r));
  CHECK(same_record(get_ok(*b, "t-1"), r));
  auto other = make_record("t-1", "n2", 9);  // another node, another target
  other.target = "writer";
  other.payload = bytes("something else");
  auto again = accept_ok(*b, other);
  CHECK_FALSE(again.fresh);
  CHECK(same_record(again.record, r));
  CHECK(same_record(get_ok(*a, "t-1"), r));
  CHECK(ids_of(a->open_of("n1", 10).value()) == std::vector<std::string>{"t-1"});
  CHECK(b->open_of("n2", 10).value().empty());
  // A finished record is returned too, with its result.
  complete_ok(*a, "t-1", task_state::done, "answer");
  auto finished = accept_ok(*b, r);
  CHECK_FALSE(finished.fresh);
  CHECK(finished.record.state == task_state::done);
  CHECK(finished.record.result == bytes("answer"));
}

// Bytes and numbers round-trip exactly: empty and binary payloads, epochs
// that do not fit a signed 64-bit integer, unicode names.
inline void records_round_trip_exactly(const journal_factory& f) {
  auto j = open_ok(f);
  std::vector<uint8_t> all_bytes;
  for (int i = 0; i < 256; ++i)
    all_bytes.push_back(static_cast<uint8_t>(i));
  auto r = make_record("ünïcödé task 🧪", "nœud-1", UINT64_MAX);
  r.target = "agent ☃";
  r.payload = all_bytes;
  CHECK(accept_ok(*j, r).fresh);
  CHECK(same_record(get_ok(*j, r.task_id), r));
  auto empty = make_record("empty", "n1", uint64_t{1} << 63);
  empty.payload.clear();
  CHECK(accept_ok(*j, empty).fresh);
  CHECK(same_record(get_ok(*j, "empty"), empty));
  assign_ok(*j, r.task_id, "member ☃", r.owner, UINT64_MAX);
  CHECK(j->adopt("nœud-1", UINT64_MAX, "nœud-2", UINT64_MAX - 1).value() == 1);
  assign_ok(*j, r.task_id, "member ☃", "nœud-2", UINT64_MAX - 1);
  auto done = j->complete(r.task_id, task_state::failed, all_bytes).value();
  CHECK(done.result == all_bytes);
  CHECK(done.owner_epoch == UINT64_MAX - 1);
  CHECK(done.attempts == 2);
  CHECK(j->complete("empty", task_state::done, {}).value().result.empty());
  CHECK(get_ok(*j, "empty").state == task_state::done);
}

// open_max bounds each owner's open records: a fresh accept beyond it is
// overloaded and writes nothing; finishing or adopting frees room.
inline void overloaded_at_open_max(const journal_factory& f) {
  journal_limits limits;
  limits.open_max = 3;
  auto j = open_ok(f, limits);
  for (const char* id : {"a1", "a2", "a3"})
    CHECK(accept_ok(*j, make_record(id, "a")).fresh);
  auto refused = j->accept(make_record("a4", "a"));
  CHECK(code_of(refused) == errc::overloaded);
  CHECK(context_of(refused).find("open_max 3") != std::string::npos);
  CHECK(absent(*j, "a4"));
  CHECK(accept_ok(*j, make_record("b1", "b")).fresh);      // other owners are not affected
  CHECK_FALSE(accept_ok(*j, make_record("a2", "a")).fresh);  // an existing id is not refused
  // Another object on the same data counts the same records.
  auto other = open_ok(f, limits);
  CHECK(code_of(other->accept(make_record("a4", "a"))) == errc::overloaded);
  complete_ok(*j, "a1", task_state::done, "r");
  CHECK(accept_ok(*other, make_record("a4", "a")).fresh);
  CHECK(code_of(j->accept(make_record("a5", "a"))) == errc::overloaded);
  // adopt ignores the bound and moves the counts: b now has 4 open, a none.
  CHECK(j->adopt("a", 0, "b", 3).value() == 3);
  CHECK(code_of(j->accept(make_record("b2", "b"))) == errc::overloaded);
  for (const char* id : {"a5", "a6", "a7"})
    CHECK(accept_ok(*j, make_record(id, "a")).fresh);
  CHECK(code_of(j->accept(make_record("a8", "a"))) == errc::overloaded);
}

// assign records the member and counts attempts, only for the owner and
// epoch that hold the record, and only while it is open.
inline void assign_counts_attempts_and_refuses(const journal_factory& f) {
  auto j = open_ok(f);
  accept_ok(*j, make_record("t"));
  assign_ok(*j, "t", "n2");
  auto r = get_ok(*j, "t");
  CHECK(r.assigned == "n2");
  CHECK(r.attempts == 1);
  CHECK(r.state == task_state::open);
  assign_ok(*j, "t", "n3");
  CHECK(get_ok(*j, "t").attempts == 2);
  auto wrong_epoch = j->assign("t", "n4", "n1", 8);
  CHECK(code_of(wrong_epoch) == errc::conflict);
  CHECK(error_context(wrong_epoch).find("fenced") != std::string::npos);
  auto wrong_owner = j->assign("t", "n4", "n2", 7);
  CHECK(code_of(wrong_owner) == errc::conflict);
  CHECK(error_context(wrong_owner).find("fenced") != std::string::npos);
  CHECK(code_of(j->assign("nobody", "n4", "n1", 7)) == errc::not_found);
  complete_ok(*j, "t", task_state::done, "ok");
  auto finished = j->assign("t", "n4", "n1", 7);
  CHECK(code_of(finished) == errc::conflict);
  CHECK(error_context(finished).find("finished") != std::string::npos);
  CHECK(error_context(finished).find("fenced") == std::string::npos);
  r = get_ok(*j, "t");  // the refused assigns changed nothing
  CHECK(r.assigned == "n3");
  CHECK(r.attempts == 2);
}

// adopt moves the open records of (from, epoch) in one call; the old owner
// and epoch are fenced from then on; finished records stay where they are.
inline void adopt_fences_the_old_owner(const journal_factory& f) {
  auto j = open_ok(f);
  for (const char* id : {"x1", "x2", "x3", "x4"})
    accept_ok(*j, make_record(id, "n1", 7));
  accept_ok(*j, make_record("old", "n1", 5));  // an earlier incarnation's task
  accept_ok(*j, make_record("mine", "n2", 2));
  assign_ok(*j, "x2", "n3");
  complete_ok(*j, "x4", task_state::done, "kept");
  CHECK(j->adopt("n1", 7, "n2", 2).value() == 3);
  auto fenced = j->assign("x1", "n3", "n1", 7);
  CHECK(code_of(fenced) == errc::conflict);
  CHECK(error_context(fenced).find("fenced") != std::string::npos);
  assign_ok(*j, "x1", "n3", "n2", 2);
  auto moved = get_ok(*j, "x2");
  CHECK(moved.owner == "n2");
  CHECK(moved.owner_epoch == 2);
  CHECK(moved.assigned == "n3");  // where it ran is kept, for re-dispatch
  CHECK(moved.attempts == 1);
  CHECK(get_ok(*j, "x4").owner == "n1");
  CHECK(ids_of(j->open_of("n2", 10).value())
        == std::vector<std::string>{"x1", "x2", "x3", "mine"});
  CHECK(ids_of(j->open_of("n1", 10).value()) == std::vector<std::string>{"old"});
  CHECK(j->adopt("n1", 0, "n2", 2).value() == 1);  // epoch 0: any epoch of n1
  CHECK(j->adopt("n1", 0, "n2", 2).value() == 0);
  CHECK(j->adopt("nobody", 0, "n2", 2).value() == 0);
  // A restarted node takes its own tasks under its new epoch.
  CHECK(j->adopt("n2", 0, "n2", 3).value() == 5);
  CHECK(code_of(j->assign("mine", "n3", "n2", 2)) == errc::conflict);
  assign_ok(*j, "mine", "n3", "n2", 3);
  // A second object sees the fence at once.
  auto other = open_ok(f);
  CHECK(code_of(other->assign("x3", "n3", "n1", 7)) == errc::conflict);
}

// The first complete wins; later ones return the stored record unchanged.
inline void complete_first_writer_wins(const journal_factory& f) {
  auto j = open_ok(f);
  accept_ok(*j, make_record("t"));
  assign_ok(*j, "t", "n2");
  auto first = complete_ok(*j, "t", task_state::done, "first");
  CHECK(first.state == task_state::done);
  CHECK(first.result == bytes("first"));
  CHECK(first.attempts == 1);
  CHECK(first.assigned == "n2");
  auto second = complete_ok(*j, "t", task_state::failed, "second");
  CHECK(same_record(second, first));
  CHECK(same_record(get_ok(*j, "t"), first));
  CHECK(j->open_of("n1", 10).value().empty());
  CHECK(code_of(j->complete("nobody", task_state::done, {})) == errc::not_found);
  accept_ok(*j, make_record("u"));
  CHECK(code_of(j->complete("u", task_state::open, {})) == errc::invalid_argument);
  CHECK(get_ok(*j, "u").state == task_state::open);
}

// Two objects in two threads race to accept and to complete the same ids:
// one record per id, exactly one accept is fresh, one result is kept and
// both completes return it.
inline void two_objects_race(const journal_factory& f) {
  constexpr int ids = 40;
  std::vector<journal_ptr> js;
  js.push_back(open_ok(f));
  js.push_back(open_ok(f));
  struct outcome {
    std::vector<int> fresh;
    std::vector<std::vector<uint8_t>> results;
    std::vector<std::string> failures;
  } out[2];
  auto run = [&](int w) {
    for (int i = 0; i < ids; ++i) {
      auto r = make_record("race-" + std::to_string(i), "n" + std::to_string(w));
      auto a = js[w]->accept(r);
      if (!a) {
        out[w].failures.push_back(describe(a.error()));
        continue;
      }
      out[w].fresh.push_back(a->fresh ? 1 : 0);
    }
    for (int i = 0; i < ids; ++i) {
      auto c = js[w]->complete("race-" + std::to_string(i), task_state::done,
                               bytes("by writer " + std::to_string(w)));
      if (!c)
        out[w].failures.push_back(describe(c.error()));
      else
        out[w].results.push_back(c->result);
    }
  };
  std::thread other{run, 1};  // no doctest assertion off the main thread
  run(0);
  other.join();
  for (const auto& o : out) {
    CHECK_MESSAGE(o.failures.empty(), (o.failures.empty() ? "" : o.failures.front()));
    REQUIRE(o.fresh.size() == ids);
    REQUIRE(o.results.size() == ids);
  }
  for (int i = 0; i < ids; ++i) {
    CHECK(out[0].fresh[i] + out[1].fresh[i] == 1);
    CHECK(out[0].results[i] == out[1].results[i]);
    auto stored = get_ok(*js[0], "race-" + std::to_string(i));
    CHECK(stored.result == out[0].results[i]);
    CHECK(stored.owner == (out[0].fresh[i] ? "n0" : "n1"));  // the fresh accept's record
  }
  CHECK(js[1]->open_of("n0", 100).value().empty());
  CHECK(js[1]->open_of("n1", 100).value().empty());
}

// open_of pages through one owner's open records, oldest accepted first.
inline void open_of_pages_by_owner(const journal_factory& f) {
  journal_limits limits;
  limits.list_max = 7;
  auto j = open_ok(f, limits);
  std::vector<std::string> expected;
  // Ids in an order unlike their accept order: the order is the accept order.
  for (int i = 0; i < 25; ++i) {
    auto id = "t" + std::to_string((i * 7) % 25);
    accept_ok(*j, make_record(id, "n1", i % 2 == 0 ? 7 : 6));  // any epoch
    if (i % 5 != 3)
      expected.push_back(id);
    if (i % 3 == 0)
      accept_ok(*j, make_record("other-" + std::to_string(i), "n2"));
  }
  for (int i = 3; i < 25; i += 5)
    complete_ok(*j, "t" + std::to_string((i * 7) % 25), task_state::done, "r");
  CHECK(ids_of(all_open_of(*j, "n1", 7)) == expected);
  CHECK(ids_of(all_open_of(*j, "n1", 1)) == expected);
  CHECK(all_open_of(*j, "n2", 7).size() == 9);
  CHECK(j->open_of("nobody", 7).value().empty());
  // A cursor that finished meanwhile still pages on from its place.
  auto page = j->open_of("n1", 3).value();
  REQUIRE(page.size() == 3);
  complete_ok(*j, page.back().task_id, task_state::failed, "gone");
  auto next = j->open_of("n1", 2, page.back().task_id).value();
  CHECK(ids_of(next) == std::vector<std::string>{expected[3], expected[4]});
  CHECK(code_of(j->open_of("n1", 3, "unknown")) == errc::not_found);
  CHECK(code_of(j->open_of("n1", 0)) == errc::invalid_argument);
  CHECK(code_of(j->open_of("n1", 8)) == errc::invalid_argument);
}

// A page ends early rather than pass page_bytes_max bytes of payloads, but
// holds at least one record.
inline void open_of_pages_by_bytes(const journal_factory& f) {
  journal_limits limits;
  limits.page_bytes_max = 100;
  auto j = open_ok(f, limits);
  const size_t sizes[] = {40, 40, 40, 500, 10, 0};
  for (size_t i = 0; i < std::size(sizes); ++i) {
    auto r = make_record("b" + std::to_string(i), "big");
    r.payload.assign(sizes[i], static_cast<uint8_t>(i));
    accept_ok(*j, r);
  }
  std::vector<std::vector<std::string>> pages;
  std::string after;
  for (int i = 0; i < 10; ++i) {
    auto page = ids_of(j->open_of("big", 7, after).value());
    if (page.empty())
      break;
    pages.push_back(page);
    after = page.back();
  }
  std::vector<std::vector<std::string>> expected{
    {"b0", "b1"}, {"b2"}, {"b3"}, {"b4", "b5"}};  // 80, 40 (+500 > 100), 500 alone, 10
  CHECK(pages == expected);
  CHECK(all_open_of(*j, "big", 1).size() == std::size(sizes));
}

// A complete beyond results_kept deletes the oldest finished records (in
// finishing order), never an open one.
inline void results_kept_prunes_oldest_finished(const journal_factory& f) {
  journal_limits limits;
  limits.results_kept = 4;
  auto j = open_ok(f, limits);
  accept_ok(*j, make_record("open-first"));
  for (int i = 0; i < 10; ++i)
    accept_ok(*j, make_record("t" + std::to_string(i)));
  // Finish in an order unlike the accept order.
  const int order[] = {9, 2, 5, 0, 7, 1, 8, 3, 6, 4};
  for (int n = 0; n < 10; ++n) {
    complete_ok(*j, "t" + std::to_string(order[n]), task_state::done, "r");
    int kept = 0;
    for (int i = 0; i < 10; ++i)
      kept += absent(*j, "t" + std::to_string(i)) ? 0 : 1;
    CHECK(kept == 10 - std::max(0, n + 1 - 4));  // open ones plus the newest 4 finished
  }
  for (int n = 0; n < 6; ++n)
    CHECK(absent(*j, "t" + std::to_string(order[n])));
  for (int n = 6; n < 10; ++n)
    CHECK(get_ok(*j, "t" + std::to_string(order[n])).state == task_state::done);
  CHECK(get_ok(*j, "open-first").state == task_state::open);
  // A pruned id is forgotten: accepting it again is a new task.
  CHECK(accept_ok(*j, make_record("t9")).fresh);
}

// Every bound and every malformed argument is invalid_argument naming the
// backend, and writes nothing. Values at the bound are accepted.
inline void bounds_and_errors(const journal_factory& f) {
  for (auto bad : {&journal_limits::task_id_bytes_max, &journal_limits::target_bytes_max,
                   &journal_limits::owner_bytes_max, &journal_limits::open_max,
                   &journal_limits::list_max}) {
    journal_limits l;
    l.*bad = 0;
    CHECK(code_of(f.open(l)) == errc::invalid_argument);
  }
  for (auto bad : {&journal_limits::payload_bytes_max, &journal_limits::result_bytes_max,
                   &journal_limits::results_kept, &journal_limits::page_bytes_max}) {
    journal_limits l;
    l.*bad = 0;
    CHECK(code_of(f.open(l)) == errc::invalid_argument);
  }
  journal_limits huge;
  huge.payload_bytes_max = journal_blob_bytes_max + 1;
  CHECK(code_of(f.open(huge)) == errc::invalid_argument);
  journal_limits limits;
  limits.task_id_bytes_max = 8;
  limits.target_bytes_max = 6;
  limits.owner_bytes_max = 4;
  limits.payload_bytes_max = 16;
  limits.result_bytes_max = 10;
  auto j = open_ok(f, limits);
  auto invalid = [&](journal_record r, const char* what) {
    auto out = j->accept(r);
    CHECK_MESSAGE(code_of(out) == errc::invalid_argument, what);
    CHECK(context_of(out).find(j->backend()) != std::string::npos);
    if (r.task_id == "t1")
      CHECK(absent(*j, "t1"));
  };
  auto r = make_record("12345678", "abcd");
  r.target = "123456";
  r.payload = std::vector<uint8_t>(16, 1);
  CHECK(accept_ok(*j, r).fresh);  // every value at its bound
  auto with = [](journal_record x, auto change) {
    change(x);
    return x;
  };
  invalid(with(r, [](auto& x) { x.task_id = ""; }), "empty id");
  invalid(with(r, [](auto& x) { x.task_id = "123456789"; }), "long id");
  invalid(with(r, [](auto& x) { x.task_id = std::string("a\0b", 3); }), "NUL in id");
  invalid(with(r, [](auto& x) { x.task_id = "a\tb"; }), "control character in id");
  invalid(with(r, [](auto& x) { x.task_id = "a\xff"; }), "invalid UTF-8 id");
  invalid(with(r, [](auto& x) { x.task_id = "t1"; x.target = "1234567"; }), "long target");
  invalid(with(r, [](auto& x) { x.task_id = "t1"; x.target = ""; }), "empty target");
  invalid(with(r, [](auto& x) { x.task_id = "t1"; x.owner = "abcde"; }), "long owner");
  invalid(with(r, [](auto& x) { x.task_id = "t1"; x.owner = ""; }), "empty owner");
  invalid(with(r, [](auto& x) { x.task_id = "t1"; x.payload.push_back(0); }), "big payload");
  invalid(with(r, [](auto& x) { x.task_id = "t1"; x.owner_epoch = 0; }), "epoch 0");
  invalid(with(r, [](auto& x) { x.task_id = "t1"; x.state = task_state::done; }), "done");
  invalid(with(r, [](auto& x) { x.task_id = "t1"; x.state = task_state{7}; }), "state 7");
  invalid(with(r, [](auto& x) { x.task_id = "t1"; x.assigned = "n2"; }), "assigned");
  invalid(with(r, [](auto& x) { x.task_id = "t1"; x.attempts = 1; }), "attempts");
  invalid(with(r, [](auto& x) { x.task_id = "t1"; x.result = {1}; }), "result");
  auto bad = [](const auto& r) { return code_of(r) == errc::invalid_argument; };
  CHECK(bad(j->assign("12345678", "abcde", "abcd", 7)));  // member bounded as an owner
  CHECK(bad(j->assign("12345678", "n2", "", 7)));
  CHECK(bad(j->assign("123456789", "n2", "abcd", 7)));
  CHECK(bad(j->complete("12345678", task_state{7}, {})));
  CHECK(bad(j->complete("12345678", task_state::done, std::vector<uint8_t>(11, 0))));
  CHECK(bad(j->open_of("abcde", 1)));
  CHECK(bad(j->open_of("abcd", 1, "a\nb")));
  CHECK(bad(j->adopt("abcde", 0, "abcd", 1)));
  CHECK(bad(j->adopt("abcd", 0, "", 1)));
  CHECK(bad(j->adopt("abcd", 0, "efgh", 0)));
  CHECK(bad(j->get("")));
  // Nothing of the above changed the record; a result at its bound is kept.
  auto stored = get_ok(*j, "12345678");
  CHECK(stored.state == task_state::open);
  CHECK(stored.attempts == 0);
  CHECK(j->complete("12345678", task_state::done, std::vector<uint8_t>(10, 2)).value().result
        == std::vector<uint8_t>(10, 2));
}

inline void reopen_sees_everything(const journal_factory& f) {
  {
    auto j = open_ok(f);
    for (int i = 0; i < 5; ++i)
      accept_ok(*j, make_record("t" + std::to_string(i)));
    assign_ok(*j, "t1", "n2");
    complete_ok(*j, "t2", task_state::failed, "error text");
  }  // closed: the destructor closes the connection
  auto j = open_ok(f);
  CHECK(ids_of(j->open_of("n1", 10).value())
        == std::vector<std::string>{"t0", "t1", "t3", "t4"});
  CHECK(get_ok(*j, "t1").attempts == 1);
  CHECK(get_ok(*j, "t2").result == bytes("error text"));
  CHECK(get_ok(*j, "t2").state == task_state::failed);
  CHECK_FALSE(accept_ok(*j, make_record("t3")).fresh);
}

}  // namespace agentgraph::journal_contract

#include "journal_contract_kill.hpp"

// Expands to one doctest case per contract clause, named "PREFIX: clause".
#define AGENTGRAPH_JOURNAL_CONTRACT(PREFIX, FACTORY)                                        \
  TEST_CASE(PREFIX ": accept stores a new id once, the same id again returns it") {         \
    agentgraph::journal_contract::accept_fresh_and_existing(FACTORY());                     \
  }                                                                                         \
  TEST_CASE(PREFIX ": records round-trip exactly (bytes, unicode, 64-bit epochs)") {        \
    agentgraph::journal_contract::records_round_trip_exactly(FACTORY());                    \
  }                                                                                         \
  TEST_CASE(PREFIX ": accept beyond open_max is overloaded and writes nothing") {           \
    agentgraph::journal_contract::overloaded_at_open_max(FACTORY());                        \
  }                                                                                         \
  TEST_CASE(PREFIX ": assign counts attempts, refuses finished and fenced tasks") {         \
    agentgraph::journal_contract::assign_counts_attempts_and_refuses(FACTORY());            \
  }                                                                                         \
  TEST_CASE(PREFIX ": adopt moves open tasks and fences the old owner") {                   \
    agentgraph::journal_contract::adopt_fences_the_old_owner(FACTORY());                    \
  }                                                                                         \
  TEST_CASE(PREFIX ": complete keeps the first result") {                                   \
    agentgraph::journal_contract::complete_first_writer_wins(FACTORY());                    \
  }                                                                                         \
  TEST_CASE(PREFIX ": two objects racing keep one record and one result per id") {          \
    agentgraph::journal_contract::two_objects_race(FACTORY());                              \
  }                                                                                         \
  TEST_CASE(PREFIX ": open_of pages through one owner's open tasks, oldest first") {        \
    agentgraph::journal_contract::open_of_pages_by_owner(FACTORY());                        \
  }                                                                                         \
  TEST_CASE(PREFIX ": open_of ends a page before page_bytes_max") {                        \
    agentgraph::journal_contract::open_of_pages_by_bytes(FACTORY());                        \
  }                                                                                         \
  TEST_CASE(PREFIX ": results_kept prunes the oldest finished tasks") {                     \
    agentgraph::journal_contract::results_kept_prunes_oldest_finished(FACTORY());           \
  }                                                                                         \
  TEST_CASE(PREFIX ": bounds and errors") {                                                 \
    agentgraph::journal_contract::bounds_and_errors(FACTORY());                             \
  }                                                                                         \
  TEST_CASE(PREFIX ": a reopened journal sees everything") {                                \
    agentgraph::journal_contract::reopen_sees_everything(FACTORY());                        \
  }                                                                                         \
  TEST_CASE(PREFIX ": kill -9 of a writer loses no acknowledged task") {                    \
    agentgraph::journal_contract::kill_9_loses_no_acknowledged_task(FACTORY());             \
  }
