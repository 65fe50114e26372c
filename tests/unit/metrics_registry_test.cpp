// The registry: values through family handles, name and shape conflicts,
// the series bound with its overflow series and refusal counter, callback
// families, exact sums under concurrent increments, deterministic order and
// a golden exposition.
#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include <caf/sec.hpp>

#include "runtime/error.hpp"
#include "runtime/metrics/outcome_counters.hpp"
#include "runtime/metrics/registry.hpp"

namespace metrics_registry_test {

using namespace agentgraph;
using namespace agentgraph::metrics;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The family, after checking that registration succeeded.
template <class T>
T* must(caf::expected<T*> e) {
  REQUIRE(e);
  return *e;
}

template <class T>
errc code_of(const caf::expected<T>& e) {
  REQUIRE_FALSE(e);
  return errc_of(e.error()).value_or(errc::none);
}

TEST_CASE("metrics: counter, gauge and histogram values through family handles") {
  registry reg;
  auto* tasks = must(reg.add_counter("tasks_total", "Tasks.", {"agent"}));
  counter& planner = tasks->with({"planner"});
  planner.inc();
  planner.inc(4);
  CHECK(planner.value() == 5);
  CHECK(&tasks->with({"planner"}) == &planner);  // same tuple, same series

  auto* depth = must(reg.add_gauge("queue_depth", "Depth."));
  gauge& g = depth->with({});
  g.set(10);
  g.add(2.5);
  g.dec();
  g.sub(0.5);
  CHECK(g.value() == 11);

  auto* lat = must(reg.add_histogram("lat_seconds", "Latency.", {}, {0.1, 1}));
  lat->with({}).observe(0.05);
  auto text = reg.scrape();
  CHECK(contains(text, "tasks_total{agent=\"planner\"} 5\n"));
  CHECK(contains(text, "queue_depth 11\n"));
  CHECK(contains(text, "lat_seconds_bucket{le=\"0.1\"} 1\n"));
  CHECK(contains(text, "lat_seconds_count 1\n"));
}

TEST_CASE(
    "metrics: bad metric names, label names, counter suffix and bounds are invalid_argument") {
  registry reg;
  CHECK(code_of(reg.add_gauge("1bad", "h")) == errc::invalid_argument);
  CHECK(code_of(reg.add_gauge("bad-name", "h")) == errc::invalid_argument);
  CHECK(code_of(reg.add_gauge("ok", "h", {"__reserved"})) == errc::invalid_argument);
  CHECK(code_of(reg.add_gauge("ok", "h", {"a", "a"})) == errc::invalid_argument);
  CHECK(code_of(reg.add_counter("requests", "h")) == errc::invalid_argument);
  CHECK(code_of(reg.add_histogram("h_seconds", "h", {"le"}, {1})) == errc::invalid_argument);
  CHECK(code_of(reg.add_histogram("h_seconds", "h", {}, {2, 1})) == errc::invalid_argument);
  CHECK(errc_of(reg.add_callback("bad name", "h", {}, callback_type::gauge, [] {
          return std::vector<callback_sample>{};
        })) == errc::invalid_argument);
  CHECK(reg.family_count() == 1);  // only the registry's own refusal counter
}

TEST_CASE("metrics: the same name and shape returns the existing family") {
  registry reg;
  auto* a = must(reg.add_counter("x_total", "first help", {"agent"}));
  auto* b = must(reg.add_counter("x_total", "other help", {"agent"}));
  CHECK(a == b);
  CHECK(b->help() == "first help");
  auto* h1 = must(reg.add_histogram("h_seconds", "h", {}, latency_buckets_seconds()));
  auto* h2 = must(reg.add_histogram("h_seconds", "h", {}, latency_buckets_seconds()));
  CHECK(h1 == h2);
}

TEST_CASE("metrics: the same name with another type, labels or buckets is invalid_argument") {
  registry reg;
  REQUIRE(reg.add_counter("x_total", "h", {"agent"}));
  CHECK(code_of(reg.add_gauge("x_total", "h", {"agent"})) == errc::invalid_argument);
  CHECK(code_of(reg.add_counter("x_total", "h", {"tool"})) == errc::invalid_argument);
  CHECK(code_of(reg.add_counter("x_total", "h")) == errc::invalid_argument);
  REQUIRE(reg.add_histogram("h_seconds", "h", {}, {1, 2}));
  auto other = reg.add_histogram("h_seconds", "h", {}, {1, 3});
  CHECK(code_of(other) == errc::invalid_argument);
  CHECK(contains(error_context(other.error()), "bucket bounds"));
  CHECK(errc_of(reg.add_callback("x_total", "h", {"agent"}, callback_type::counter, [] {
          return std::vector<callback_sample>{};
        })) == errc::invalid_argument);
}

TEST_CASE("metrics: names colliding with a histogram's series are refused in either order") {
  registry reg;
  REQUIRE(reg.add_histogram("lat", "h", {}, {1}));
  CHECK(code_of(reg.add_gauge("lat_sum", "h")) == errc::invalid_argument);
  CHECK(code_of(reg.add_gauge("lat_bucket", "h")) == errc::invalid_argument);
  REQUIRE(reg.add_gauge("size_count", "h"));
  CHECK(code_of(reg.add_histogram("size", "h", {}, {1})) == errc::invalid_argument);
}

TEST_CASE("metrics: the family bound is limit_exceeded and counts the registry's own family") {
  registry reg{registry_limits{.families_max = 3, .series_max = 10}};
  REQUIRE(reg.add_gauge("a", "h"));
  REQUIRE(reg.add_gauge("b", "h"));
  CHECK(code_of(reg.add_gauge("c", "h")) == errc::limit_exceeded);
  CHECK(reg.add_gauge("a", "h"));  // an existing family is still returned
}

TEST_CASE("metrics: past the series bound with() returns the overflow series and counts it") {
  registry reg{registry_limits{.families_max = 8, .series_max = 2}};
  auto* fam = must(reg.add_counter("calls_total", "h", {"agent", "tool"}));
  fam->with({"a", "t"}).inc();
  fam->with({"b", "t"}).inc();
  counter& over1 = fam->with({"c", "t"});
  counter& over2 = fam->with({"d", "t"});
  CHECK(&over1 == &over2);
  over1.inc(3);
  CHECK(&fam->with({"a", "t"}) != &over1);  // existing tuples still resolve
  CHECK(fam->series_count() == 2);
  CHECK(reg.series_refused() == 2);
  auto text = reg.scrape();
  CHECK(contains(text, "calls_total{agent=\"~overflow\",tool=\"~overflow\"} 3\n"));
  CHECK(contains(text, "agentgraph_metrics_series_refused_total{family=\"calls_total\"} 2\n"));
  // Nothing vanished: the total over all series equals every increment.
  uint64_t sum = 0;
  fam->for_each([&](const auto&, const counter& c) { sum += c.value(); });
  CHECK(sum == 5);
}

TEST_CASE("metrics: callback families are collected at scrape and bounded") {
  registry reg{registry_limits{.families_max = 8, .series_max = 2}};
  int calls = 0;
  auto err = reg.add_callback(
      "mailbox_depth", "Queued messages.", {"actor"}, callback_type::gauge, [&calls] {
        ++calls;
        return std::vector<callback_sample>{
            {{"b"}, 2}, {{"a"}, 1}, {{"a"}, 9}, {{"x", "y"}, 5}, {{"c"}, 3}};
      });
  REQUIRE_FALSE(err);
  CHECK(calls == 0);
  auto text = reg.scrape();
  CHECK(calls == 1);
  // Sorted by label values, first of a repeated tuple kept, "c" cut off.
  CHECK(
      text.ends_with("# TYPE mailbox_depth gauge\nmailbox_depth{actor=\"a\"} 1\n"
                     "mailbox_depth{actor=\"b\"} 2\n"));
  // Dropped: the repeated "a", the wrong arity, and "c" beyond series_max.
  CHECK(reg.series_refused() == 3);
  CHECK(code_of(caf::expected<int>{reg.add_callback(
            "mailbox_depth", "h", {"actor"}, callback_type::gauge,
            [] { return std::vector<callback_sample>{}; })}) == errc::invalid_argument);
  REQUIRE_FALSE(reg.add_callback("restarts_total", "h", {}, callback_type::counter, [] {
    return std::vector<callback_sample>{{{}, 7}};
  }));
  CHECK(contains(reg.scrape(), "# TYPE restarts_total counter\nrestarts_total 7\n"));
  CHECK(
      code_of(caf::expected<int>{reg.add_callback("restarts", "h", {}, callback_type::counter, [] {
        return std::vector<callback_sample>{};
      })}) == errc::invalid_argument);
}

TEST_CASE("metrics: concurrent increments from several threads sum exactly") {
  registry reg;
  auto* c = must(reg.add_counter("hits_total", "h", {"worker"}));
  auto* g = must(reg.add_gauge("level", "h"));
  auto* h = must(reg.add_histogram("obs", "h", {}, {0.5}));
  constexpr int threads_n = 4;
  constexpr int per_thread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_n; ++t)
    threads.emplace_back([&, t] {
      counter& shared = c->with({"shared"});
      counter& own = c->with({std::to_string(t)});
      gauge& level = g->with({});
      histogram& obs = h->with({});
      for (int i = 0; i < per_thread; ++i) {
        shared.inc();
        own.inc();
        level.add(1.0);
        obs.observe(i % 2 == 0 ? 0.25 : 1.0);
      }
    });
  for (auto& th : threads)
    th.join();
  CHECK(c->with({"shared"}).value() == uint64_t{threads_n} * per_thread);
  for (int t = 0; t < threads_n; ++t)
    CHECK(c->with({std::to_string(t)}).value() == per_thread);
  CHECK(g->with({}).value() == double{threads_n} * per_thread);  // integers: exact in double
  auto snap = h->with({}).snapshot();
  CHECK(snap.cumulative[0] == uint64_t{threads_n} * per_thread / 2);
  CHECK(snap.count == uint64_t{threads_n} * per_thread);
  CHECK(snap.sum == threads_n * (per_thread / 2) * 1.25);
}

TEST_CASE("metrics: scrapes run concurrently with series creation and overflow") {
  registry reg{registry_limits{.families_max = 8, .series_max = 50}};
  auto* fam = must(reg.add_counter("made_total", "h", {"k"}));
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i)  // the last 150 tuples overflow
      fam->with({std::to_string(i)}).inc();
  });
  std::thread scraper([&] {
    for (int i = 0; i < 50; ++i)
      CHECK(reg.scrape().size() < 100000);
  });
  writer.join();
  scraper.join();
  CHECK(fam->series_count() == 50);
  CHECK(reg.series_refused() == 150);
  CHECK(contains(reg.scrape(), "made_total{k=\"~overflow\"} 150\n"));
}

TEST_CASE("metrics: output is ordered by family name, then by label values") {
  registry reg;
  auto* z = must(reg.add_gauge("zeta", "h", {"k"}));
  auto* a = must(reg.add_gauge("alpha", "h", {"k"}));
  for (const char* v : {"c", "a", "b"}) {
    z->with({v}).set(1);
    a->with({v}).set(1);
  }
  auto text = reg.scrape();
  auto pos = [&](const std::string& s) { return text.find(s); };
  CHECK(pos("# HELP alpha") < pos("# HELP zeta"));
  CHECK(pos("alpha{k=\"a\"}") < pos("alpha{k=\"b\"}"));
  CHECK(pos("alpha{k=\"b\"}") < pos("alpha{k=\"c\"}"));
  CHECK(pos("zeta{k=\"a\"}") < pos("zeta{k=\"c\"}"));
  CHECK(text == reg.scrape());  // and stable from scrape to scrape
}

TEST_CASE("metrics: golden exposition of all three types with escaping") {
  registry reg;
  auto* tasks = must(reg.add_counter("agentgraph_tasks_total",
                                     "Tasks accepted, by agent.\nSee \\docs.", {"agent"}));
  auto* inflight = must(reg.add_gauge("agentgraph_inflight", "Requests in flight."));
  auto* lat = must(
      reg.add_histogram("agentgraph_llm_seconds", "LLM call latency.", {"provider"}, {0.5, 2}));
  tasks->with({"plan\"ner\\\n"}).inc(3);
  tasks->with({"coder"}).inc();
  inflight->with({}).set(-1.5);
  auto& mock = lat->with({"mock"});
  mock.observe(0.25);
  mock.observe(1);
  mock.observe(30);
  const std::string golden =
      "# HELP agentgraph_inflight Requests in flight.\n"
      "# TYPE agentgraph_inflight gauge\n"
      "agentgraph_inflight -1.5\n"
      "# HELP agentgraph_llm_seconds LLM call latency.\n"
      "# TYPE agentgraph_llm_seconds histogram\n"
      "agentgraph_llm_seconds_bucket{provider=\"mock\",le=\"0.5\"} 1\n"
      "agentgraph_llm_seconds_bucket{provider=\"mock\",le=\"2\"} 2\n"
      "agentgraph_llm_seconds_bucket{provider=\"mock\",le=\"+Inf\"} 3\n"
      "agentgraph_llm_seconds_sum{provider=\"mock\"} 31.25\n"
      "agentgraph_llm_seconds_count{provider=\"mock\"} 3\n"
      "# HELP agentgraph_tasks_total Tasks accepted, by agent.\\nSee \\\\docs.\n"
      "# TYPE agentgraph_tasks_total counter\n"
      "agentgraph_tasks_total{agent=\"coder\"} 1\n"
      "agentgraph_tasks_total{agent=\"plan\\\"ner\\\\\\n\"} 3\n";
  CHECK(reg.scrape() == golden);
}

}  // namespace metrics_registry_test

namespace metrics_registry_test {

TEST_CASE("metrics: outcome counters name every error code, the last ones appended included") {
  auto reg = std::make_shared<registry>();
  auto outcomes = make_outcome_counters(reg, "answers_total", "Answers.", "agent", "a");
  // Every code from the first error to the last appended one has its own
  // outcome label; none falls into `other`.
  for (auto c = static_cast<int>(errc::timeout); c <= static_cast<int>(errc_last); ++c)
    outcomes.failed(static_cast<errc>(c));
  outcomes.failed(caf::make_error(caf::sec::runtime_error));
  auto text = reg->scrape();
  CHECK(contains(text, "answers_total{agent=\"a\",outcome=\"conflict\"} 1\n"));
  CHECK(contains(text, "answers_total{agent=\"a\",outcome=\"unauthorized\"} 1\n"));
  CHECK(contains(text, "answers_total{agent=\"a\",outcome=\"other\"} 1\n"));
}

}  // namespace metrics_registry_test
