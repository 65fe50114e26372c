// `agentgraph bench all`'s pure part (apps/cli/bench_suite.hpp): the path
// selector, the figures picked from each sub-benchmark's JSON (the whole
// output of real `bench <sub> --quick --json` runs, 2026-12-07, -O1 build,
// in tests/data/bench_suite/), missing fields reported as missing, and the
// shape of the JSON and markdown summaries.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "apps/cli/bench_suite.hpp"

using namespace agentgraph::cli;

namespace bench_suite_test {

nlohmann::json sample(const std::string& bench) {
  std::ifstream in{std::string{AGENTGRAPH_SOURCE_DIR} + "/tests/data/bench_suite/" + bench
                   + ".json"};
  REQUIRE(in.good());
  std::stringstream s;
  s << in.rdbuf();
  auto j = nlohmann::json::parse(s.str(), nullptr, false);
  REQUIRE(j.is_object());
  return j;
}

const suite_figure& figure(const std::vector<suite_figure>& figs, const std::string& key) {
  for (const auto& f : figs)
    if (f.key == key)
      return f;
  FAIL("no figure " << key);
  return figs.front();
}

machine_info a_machine() {
  machine_info m;
  m.cpu_model = "Test CPU @ 2.0GHz";
  m.cpus = 2;
  m.ram_gib = 3.8;
  m.kernel = "Linux 6.1.0 x86_64";
  m.compiler = "gcc 12.2.0";
  m.build = "CMAKE_BUILD_TYPE=Release, flags '-O3 -DNDEBUG', optimised";
  m.caf_version = "0.17.6";
  m.date_utc_start = "2026-12-07 14:00:00";
  m.date_utc_end = "2026-12-07 14:05:00";
  m.load_average_start = "0.50 0.40 0.30";
  m.load_average_end = "1.50 0.90 0.50";
  return m;
}

size_t count_lines_starting(const std::string& text, const std::string& prefix) {
  std::stringstream in{text};
  std::string line;
  size_t n = 0;
  while (std::getline(in, line))
    n += line.rfind(prefix, 0) == 0 ? 1 : 0;
  return n;
}

}  // namespace bench_suite_test

using namespace bench_suite_test;

TEST_CASE("bench suite: json_at follows keys and picks array rows by their fields") {
  const auto doc = nlohmann::json::parse(R"({
    "rows": [
      {"name": "agentgraph, agent, SQLite", "graph": "chain3", "concurrency": 1, "v": 1},
      {"name": "LangGraph.js", "graph": "chain3", "concurrency": 32, "v": 2},
      {"name": "LangGraph.js", "graph": "fanout10", "concurrency": 32, "v": 3, "on": true},
      {"name": "LangGraph.js", "graph": "fanout10", "concurrency": 32, "v": 4}
    ],
    "top": {"inner": 7.5, "gone": null}})");
  CHECK(json_at(doc, "top.inner") == nlohmann::json(7.5));
  CHECK(json_at(doc, "rows[name=agentgraph, agent, SQLite].v") == nlohmann::json(1));
  CHECK(json_at(doc, "rows[name=LangGraph.js&graph=fanout10].v") == nlohmann::json(3));  // first
  CHECK(json_at(doc, "rows[concurrency=32].v") == nlohmann::json(2));
  CHECK(json_at(doc, "rows[concurrency=32.0&on=true].v") == nlohmann::json(3));
  CHECK_FALSE(json_at(doc, "top.gone"));             // null is missing
  CHECK_FALSE(json_at(doc, "top.absent"));
  CHECK_FALSE(json_at(doc, "rows[graph=chain9].v"));  // no such row
  CHECK_FALSE(json_at(doc, "rows[concurrency=3x].v"));
  CHECK_FALSE(json_at(doc, "top[inner=1].x"));  // a filter on an object
  CHECK_FALSE(json_at(doc, "rows[name=LangGraph.js"));  // unclosed
  CHECK_FALSE(json_at(doc, "rows[=x].v"));
  CHECK_FALSE(json_at(doc, "top..inner"));
}

TEST_CASE("bench suite: --only selects names in suite order and refuses bad lists") {
  auto all = select_benches("");
  REQUIRE(all.error.empty());
  REQUIRE(all.benches.size() == 7);
  CHECK(all.benches.front().name == "llm");
  CHECK(all.benches.back().name == "cluster");
  auto two = select_benches("cluster,memory");
  REQUIRE(two.error.empty());
  REQUIRE(two.benches.size() == 2);
  CHECK(two.benches[0].name == "memory");
  CHECK(two.benches[1].name == "cluster");
  CHECK(select_benches("llm,nope").error.find("'nope' is not a sub-benchmark")
        != std::string::npos);
  CHECK(select_benches("llm,llm").error.find("named twice") != std::string::npos);
  CHECK(select_benches("llm,").error.find("empty name") != std::string::npos);
  CHECK(select_benches(",llm").error.find("'' is not") != std::string::npos);
  for (const auto& b : all.benches)
    CHECK((b.quick_bound_s > 0 && b.full_bound_s >= b.quick_bound_s));
}

TEST_CASE("bench suite: every sub-benchmark's real JSON gives every figure and baseline") {
  for (const auto& b : suite_benches()) {
    CAPTURE(b.name);
    const auto figs = extract_figures(b.name, sample(std::string{b.name}));
    REQUIRE_FALSE(figs.empty());
    for (const auto& f : figs) {
      CAPTURE(f.key);
      CHECK(f.missing.empty());
      REQUIRE(f.value);
      if (f.baseline_label.empty()) {
        CHECK_FALSE(f.baseline);
        CHECK_FALSE(f.ratio);
        continue;
      }
      REQUIRE(f.baseline);
      if (*f.baseline == 0) {
        CHECK_FALSE(f.ratio);  // the old gateway answered no /health probe: no ratio
        continue;
      }
      REQUIRE(f.ratio);
      CHECK(*f.ratio == doctest::Approx(*f.value / *f.baseline));
    }
  }
}

TEST_CASE("bench suite: figures are the values in the child's rows, scaled to their unit") {
  const auto llm = sample("llm");
  const auto figs = extract_figures("llm", llm);
  double provider = 0, raw = 0, provider_p50_ms = 0;
  for (const auto& r : llm["rows"]) {
    if (r["concurrency"] == 32 && r["client"] == "agentgraph provider")
      provider = r["requests_per_second"].get<double>();
    if (r["concurrency"] == 32 && r["client"] == "raw libcurl, reuse")
      raw = r["requests_per_second"].get<double>();
    if (r["concurrency"] == 1 && r["client"] == "agentgraph provider")
      provider_p50_ms = r["p50_ms"].get<double>();
  }
  REQUIRE(provider > 0);
  REQUIRE(raw > 0);
  const auto& f = figure(figs, "req_per_s_c32");
  CHECK(*f.value == provider);
  CHECK(*f.baseline == raw);
  CHECK(f.baseline_label == "raw libcurl, reuse");
  CHECK(*figure(figs, "p50_us_c1").value == doctest::Approx(provider_p50_ms * 1000));
  CHECK_FALSE(figure(figs, "p50_us_c1").higher_is_better);
}

TEST_CASE("bench suite: the cluster's failover figures have no baseline and say so") {
  const auto cluster = sample("cluster");
  const auto figs = extract_figures("cluster", cluster);
  for (const auto* key : {"kill9_detection_ms", "kill9_recovery_ms", "sigstop_detection_ms",
                          "sigstop_recovery_ms"}) {
    CAPTURE(key);
    const auto& f = figure(figs, key);
    CHECK(f.value);
    CHECK(f.baseline_label.empty());
    CHECK_FALSE(f.ratio);
  }
  double kill9_detection = -1;
  for (const auto& x : cluster["failover"])
    if (x["fault"] == "kill -9")
      kill9_detection = x["detection_ms"].get<double>();
  CHECK(*figure(figs, "kill9_detection_ms").value == kill9_detection);
  const auto md = suite_markdown(a_machine(), "agentgraph bench all --only cluster",
                                 {{"cluster", true, "", 40, cluster, figs}});
  CHECK(md.find("| cluster | failover kill -9: detection (lower is better) | ")
        != std::string::npos);
  CHECK(md.find("| none in this run | - | - |") != std::string::npos);
}

TEST_CASE("bench suite: a field the JSON lacks or holds as null is reported missing") {
  auto cluster = sample("cluster");
  for (auto& x : cluster["failover"])
    if (x["fault"] == "SIGSTOP")
      x["detection_ms"] = nullptr;  // what bench cluster writes when it saw none
  auto& hops = cluster["hops"];
  for (auto it = hops.begin(); it != hops.end();)
    it = (*it)["key"] == "raw_workers0" ? hops.erase(it) : it + 1;
  const auto figs = extract_figures("cluster", cluster);
  const auto& stop = figure(figs, "sigstop_detection_ms");
  CHECK_FALSE(stop.value);
  REQUIRE(stop.missing.size() == 1);
  CHECK(stop.missing[0] == "failover[fault=SIGSTOP].detection_ms");
  const auto& hop = figure(figs, "cross_node_p50_us");
  CHECK(hop.value);  // ours is there
  CHECK_FALSE(hop.baseline);
  CHECK_FALSE(hop.ratio);
  CHECK(hop.baseline_label == "raw CAF remote actor");
  REQUIRE(hop.missing.size() == 1);
  CHECK(hop.missing[0].find("raw_workers0") != std::string::npos);

  const std::vector<suite_result> results{{"cluster", true, "", 40, cluster, figs}};
  const auto md = suite_markdown(a_machine(), "agentgraph bench all", results);
  const auto missing_at = md.find("\nMissing: cluster cross_node_p50_us: `hops[key=raw_workers0");
  CHECK(missing_at != std::string::npos);
  CHECK(md.find("; cluster sigstop_detection_ms: `failover[fault=SIGSTOP].detection_ms` is not in "
                "the bench's JSON")
        > missing_at);
  const auto j = suite_json(a_machine(), "agentgraph bench all", results);
  CHECK(j["benchmarks"]["cluster"]["ratio"]["cross_node_p50_us"].is_null());
  CHECK(j["benchmarks"]["cluster"]["headline"]["sigstop_detection_ms"]["value"].is_null());
  CHECK(j["benchmarks"]["cluster"]["missing"].size() == 3);  // two baselines and one figure

  // An empty object (a bench whose JSON changed shape): every figure missing, none made up.
  for (const auto& f : extract_figures("agents", nlohmann::json::object())) {
    CHECK_FALSE(f.value);
    CHECK_FALSE(f.baseline);
    CHECK_FALSE(f.missing.empty());
  }
  CHECK(extract_figures("no-such-bench", cluster).empty());
}

TEST_CASE("bench suite: the JSON summary has the machine, the command and one entry per bench") {
  const auto memory = sample("memory");
  const std::vector<suite_result> results{
    {"memory", true, "", 12.5, memory, extract_figures("memory", memory)},
    {"gateway", false, "killed at its wall-time bound of 1 s", 4.0, nullptr, {}}};
  const auto j = suite_json(a_machine(), "agentgraph bench all --only memory,gateway", results);
  for (const auto* k : {"cpu_model", "cpus", "ram_gib", "kernel", "compiler", "build",
                        "caf_version", "date_utc_start", "date_utc_end", "load_average_start",
                        "load_average_end"})
    CHECK_MESSAGE(j["machine"].contains(k), k);
  CHECK(j["command"] == "agentgraph bench all --only memory,gateway");
  CHECK(j["failed"] == nlohmann::json::array({"gateway"}));
  const auto& m = j["benchmarks"]["memory"];
  CHECK(m["status"] == "ok");
  CHECK(m["seconds"] == 12.5);
  CHECK(m["raw"] == memory);
  CHECK_FALSE(m.contains("reason"));
  const auto& h = m["headline"]["commit_stores_per_s_c64"];
  CHECK(h["unit"] == "stores/s");
  CHECK(h["value"].get<double>() > 0);
  CHECK(m["baseline"]["commit_stores_per_s_c64"]["against"] == "snapshot durability");
  CHECK(m["ratio"]["commit_stores_per_s_c64"].get<double>()
        == doctest::Approx(h["value"].get<double>()
                           / m["baseline"]["commit_stores_per_s_c64"]["value"].get<double>()));
  const auto& g = j["benchmarks"]["gateway"];
  CHECK(g["status"] == "failed");
  CHECK(g["reason"] == "killed at its wall-time bound of 1 s");
  CHECK(g["raw"].is_null());
  CHECK(g["headline"].empty());
}

TEST_CASE("bench suite: the markdown is the command, the machine table and one row per figure") {
  std::vector<suite_result> results;
  size_t figures = 0;
  for (const auto& b : suite_benches()) {
    const auto raw = sample(std::string{b.name});
    results.push_back({std::string{b.name}, true, "", 10, raw, extract_figures(b.name, raw)});
    figures += results.back().figures.size();
  }
  results[1].ok = false;
  results[1].reason = "exited 1; stderr: some rows failed";
  const auto md = suite_markdown(a_machine(), "agentgraph bench all --quick", results);
  CHECK(md.rfind("Command: `agentgraph bench all --quick`\n\n| machine | |\n|---|---|\n", 0) == 0);
  CHECK(md.find("| CPU | Test CPU @ 2.0GHz, 2 logical CPUs |") != std::string::npos);
  CHECK(md.find("| RAM | 3.80 GiB |") != std::string::npos);
  CHECK(md.find("| CAF | 0.17.6 |") != std::string::npos);
  CHECK(md.find("| load average (1, 5, 15 min) | start 0.50 0.40 0.30, end 1.50 0.90 0.50 |")
        != std::string::npos);
  CHECK(md.find("| bench | figure | agentgraph | baseline (same run) | baseline | agentgraph / "
                "baseline |\n|---|---|---:|---|---:|---:|\n")
        != std::string::npos);
  CHECK(md.find("| workflow | **FAILED**: exited 1; stderr: some rows failed | | | | |")
        != std::string::npos);
  // One row per figure, one per failed bench; every row has six cells.
  size_t rows = 0;
  for (const auto& b : suite_benches())
    rows += count_lines_starting(md, "| " + std::string{b.name} + " | ");
  CHECK(rows == figures + 1);
  std::stringstream in{md};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("| llm | ", 0) == 0 || line.rfind("| cluster | ", 0) == 0) {
      CAPTURE(line);
      CHECK(std::count(line.begin(), line.end(), '|') == 7);
      CHECK(line.find("missing") == std::string::npos);
    }
  CHECK(md.find("Missing:") == std::string::npos);
  const auto text = suite_text(a_machine(), "agentgraph bench all --quick", results);
  CHECK(text.find("failed: workflow") != std::string::npos);
  CHECK(text.find("FAILED (10 s): exited 1") != std::string::npos);
}

TEST_CASE("bench suite: a rate whose row had errors is shown with them, small ratios keep digits") {
  // The real quick run: the old gateway timed out 11 of its tasks at 64 in flight.
  const auto gateway = sample("gateway");
  const auto figs = extract_figures("gateway", gateway);
  const auto& t = figure(figs, "tasks_per_s_c64");
  REQUIRE(t.baseline_errors);
  CHECK(*t.baseline_errors == 11);
  CHECK_FALSE(t.errors);  // ours had none
  CHECK_FALSE(figure(figs, "health_answered").errors);  // no errors field in that row
  const std::vector<suite_result> results{{"gateway", true, "", 60, gateway, figs}};
  const auto md = suite_markdown(a_machine(), "agentgraph bench all", results);
  CHECK(md.find(" tasks/s (11 errors) | ") != std::string::npos);
  CHECK(md.find("| /health probes answered under slow clients (higher is better) | 10 probes | "
                "cpp-httplib, 8 workers | 0 probes | - |")
        != std::string::npos);  // a baseline of 0: no ratio
  const auto j = suite_json(a_machine(), "agentgraph bench all", results);
  CHECK(j["benchmarks"]["gateway"]["baseline"]["tasks_per_s_c64"]["errors"] == 11.0);
  CHECK(j["benchmarks"]["gateway"]["headline"]["tasks_per_s_c64"]["errors"] == 0.0);
  const auto wf = extract_figures("workflow", sample("workflow"));
  const auto& chain = figure(wf, "chain3_step_us");
  REQUIRE(chain.ratio);
  REQUIRE(*chain.ratio < 0.1);
  const auto wmd = suite_markdown(a_machine(), "c", {{"workflow", true, "", 8, nullptr, wf}});
  char want[32];
  std::snprintf(want, sizeof want, "| %.2gx |", *chain.ratio);
  CHECK(wmd.find(want) != std::string::npos);
}

TEST_CASE("bench suite: figures for people and the machine's /proc text") {
  CHECK(format_figure(1234567.4) == "1,234,567");
  CHECK(format_figure(1000) == "1,000");
  CHECK(format_figure(999.6) == "1,000");
  CHECK(format_figure(123.4) == "123");
  CHECK(format_figure(12.34) == "12.3");
  CHECK(format_figure(1.234) == "1.23");
  CHECK(format_figure(0.1234) == "0.123");
  CHECK(format_figure(-2500) == "-2,500");
  CHECK(format_figure(10) == "10");  // a count
  CHECK(format_figure(0) == "0");
  const std::string cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) "
                              "Xeon(R) CPU @ 2.20GHz\n\nprocessor\t: 1\nmodel name\t: Intel(R) "
                              "Xeon(R) CPU @ 2.20GHz\n";
  CHECK(cpu_model_of(cpuinfo) == "Intel(R) Xeon(R) CPU @ 2.20GHz");
  CHECK(cpu_count_of(cpuinfo) == 2);
  CHECK(cpu_model_of("processor : 0\n") == "unknown");
  CHECK(mem_total_gib_of("MemTotal:        4019456 kB\nMemFree:  100 kB\n")
        == doctest::Approx(3.833).epsilon(0.001));
  CHECK(mem_total_gib_of("MemFree: 100 kB\n") == 0);
  CHECK(caf_version_of(1706) == "0.17.6");
  CHECK(caf_version_of(10203) == "1.2.3");
}
