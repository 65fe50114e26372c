// `agentgraph bench all`: the pure part (bench_suite.hpp). The table of
// figure specs below is the one place that knows which fields of each
// sub-benchmark's JSON are its headline figures and its baselines; the
// field names are those of each cmd_bench_*.cpp's to_json (samples from real
// runs: tests/data/bench_suite/).
#include "apps/cli/bench_suite.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <utility>

namespace agentgraph::cli {

namespace bench_suite_detail {

// One headline figure: where our figure and the baseline's sit in the
// child's JSON. `baseline_path` null: the child measures no baseline for it.
struct figure_spec {
  std::string_view bench;
  std::string_view key;
  std::string_view label;
  std::string_view unit;
  bool higher_is_better;
  std::string_view path;
  std::string_view baseline_label;
  const char* baseline_path;
};

// The headline figures, per sub-benchmark in suite order. The concurrency
// levels named here are in each sub-benchmark's default levels, which
// --quick keeps (it only shortens the runs).
constexpr figure_spec figure_specs[] = {
  // bench llm: the provider actor (what an agent calls) against raw libcurl
  // with connection reuse, the floor, and against the openai npm SDK.
  {"llm", "req_per_s_c32", "LLM calls/s, provider actor, 32 in flight", "req/s", true,
   "rows[client=agentgraph provider&concurrency=32].requests_per_second",
   "raw libcurl, reuse", "rows[client=raw libcurl, reuse&concurrency=32].requests_per_second"},
  {"llm", "p50_us_c1", "LLM call p50, provider actor, 1 in flight", "us", false,
   "rows[client=agentgraph provider&concurrency=1].p50_ms*1000", "raw libcurl, reuse",
   "rows[client=raw libcurl, reuse&concurrency=1].p50_ms*1000"},
  {"llm", "req_per_s_c32_sdk", "LLM calls/s, provider actor, 32 in flight", "req/s", true,
   "rows[client=agentgraph provider&concurrency=32].requests_per_second",
   "openai npm SDK", "rows[client=openai npm SDK&concurrency=32].requests_per_second"},
  // bench workflow: per-step overhead against the same graphs in LangGraph.js.
  {"workflow", "chain3_step_us", "workflow step p50, 3-node chain of agents, no checkpoints",
   "us", false, "rows[graph=chain3&row=agentgraph, agent, no checkpoints].step_us_p50",
   "LangGraph.js, fake model",
   "rows[graph=chain3&row=LangGraph.js, fake model, no checkpointer].step_us_p50"},
  {"workflow", "fanout10_step_us", "workflow step p50, 10-way fan-out of agents, no checkpoints",
   "us", false, "rows[graph=fanout10&row=agentgraph, agent, no checkpoints].step_us_p50",
   "LangGraph.js, fake model",
   "rows[graph=fanout10&row=LangGraph.js, fake model, no checkpointer].step_us_p50"},
  // bench gateway: the node gateway against the cpp-httplib worker pool it
  // replaced, in the same process.
  {"gateway", "tasks_per_s_c64", "sync tasks/s through the gateway, 64 in flight", "tasks/s",
   true, "tasks[server=agentgraph gateway (Beast)&concurrency=64].tasks_per_second",
   "cpp-httplib, 8 workers",
   "tasks[server=cpp-httplib, 8 workers (before)&concurrency=64].tasks_per_second"},
  // The old server's /health p99 is 0 when it answered nothing, so the
  // probes answered are the comparison and our p99 stands alone.
  {"gateway", "health_answered", "/health probes answered under slow clients", "probes", true,
   "health_under_slow_clients[server=agentgraph gateway (Beast)].answered",
   "cpp-httplib, 8 workers",
   "health_under_slow_clients[server=cpp-httplib, 8 workers (before)].answered"},
  {"gateway", "health_p99_ms", "/health p99 under slow clients", "ms", false,
   "health_under_slow_clients[server=agentgraph gateway (Beast)].p99_ms", "", nullptr},
  // bench memory: durable stores against snapshot durability (its own
  // baseline: the same shard without the fsync before the reply).
  {"memory", "commit_stores_per_s_c64",
   "memory stores/s, durable commit (0 ms window), 64 in flight", "stores/s", true,
   "rows[durability=commit&commit_window_ms=0&concurrency=64].stores_per_second",
   "snapshot durability", "rows[durability=snapshot&concurrency=64].stores_per_second"},
  // bench memory's index rows (issue 13): the top level holds the largest
  // row in which the shard's defaults built HNSW (clustered vectors); its
  // baseline is an exact scan of the same data in the same run. Its
  // recall@10 (against that scan) has no baseline to set it beside, and
  // every figure of the suite has one: it is in the bench's own output.
  {"memory", "index_recall_p50_us", "vector index recall p50 (HNSW, largest index row)", "us",
   false, "recall_p50_us", "exact scan, same data", "exact_p50_us"},
  {"memory", "index_insert_per_s", "vector index inserts/s (HNSW, largest index row)",
   "inserts/s", true, "insert_per_s", "exact scan, same data", "exact_insert_per_s"},
  // bench agents: an agent against a raw CAF actor in the same process.
  // The baseline bench agents calls fair: a chain of two raw hops (caller,
  // relay, worker) with a request timeout on each, as a supervised task has.
  {"agents", "task_us", "sequential task on an agent, p50", "us", false, "task_us",
   "raw CAF, 2 hops with deadlines", "raw_2hop_deadline_us"},
  {"agents", "tasks_per_s_64", "tasks/s, 64 in flight", "tasks/s", true, "tasks_per_s_64",
   "raw CAF, 2 hops with deadlines", "raw_2hop_deadline_per_s_64"},
  {"agents", "bytes_per_agent", "heap bytes per idle agent (10 K)", "bytes", false,
   "bytes_per_agent", "raw CAF actor", "raw_bytes_per_actor"},
  {"agents", "spawn_per_s", "agents spawned/s (10 K)", "1/s", true, "spawn_per_s",
   "raw CAF actors", "raw_spawn_per_s"},
  // bench population: keyed agents against raw CAF actors.
  {"population", "bytes_per_active", "RSS bytes per active key", "bytes", false,
   "bytes_per_active", "raw CAF actor", "raw_caf_bytes_per_actor"},
  {"population", "bytes_per_passivated", "RSS bytes per passivated key", "bytes", false,
   "bytes_per_passivated", "raw CAF actor", "raw_caf_bytes_per_actor"},
  {"population", "activation_p50_us", "activation of a saved key, p50", "us", false,
   "activation_p50_us", "raw CAF spawn", "raw_caf_spawn_us"},
  {"population", "touch_tasks_per_s", "tasks/s, one per key (activate, run, save)", "tasks/s",
   true, "touch_tasks_per_s", "", nullptr},
  // bench cluster: real node processes; the floor is raw CAF remote actors.
  {"cluster", "cross_node_p50_us", "cross-node sync task p50, 1 in flight", "us", false,
   "hops[key=cross_node&concurrency=1].p50_ms*1000", "raw CAF remote actor",
   "hops[key=raw_workers0&concurrency=1].p50_ms*1000"},
  {"cluster", "cross_node_per_s_c32", "cross-node sync tasks/s, 32 in flight", "tasks/s", true,
   "hops[key=cross_node&concurrency=32].per_second", "raw CAF remote actor",
   "hops[key=raw_workers0&concurrency=32].per_second"},
  {"cluster", "nodes3_per_s", "tasks/s through 3 nodes", "tasks/s", true,
   "throughput[key=nodes3].per_second", "1 node", "throughput[key=nodes1].per_second"},
  // Failover has no baseline in the same run: nothing else fails over.
  {"cluster", "kill9_detection_ms", "failover kill -9: detection", "ms", false,
   "failover[fault=kill -9].detection_ms", "", nullptr},
  {"cluster", "kill9_recovery_ms", "failover kill -9: recovery", "ms", false,
   "failover[fault=kill -9].recovery_ms", "", nullptr},
  {"cluster", "sigstop_detection_ms", "failover SIGSTOP: detection", "ms", false,
   "failover[fault=SIGSTOP].detection_ms", "", nullptr},
  {"cluster", "sigstop_recovery_ms", "failover SIGSTOP: recovery", "ms", false,
   "failover[fault=SIGSTOP].recovery_ms", "", nullptr},
};

struct path_step {
  std::string key;
  std::vector<std::pair<std::string, std::string>> where;
};

// Bounded by the path's length: every branch consumes a character.
std::optional<std::vector<path_step>> parse_path(std::string_view path) {
  std::vector<path_step> out;
  size_t i = 0;
  while (true) {
    path_step s;
    while (i < path.size() && path[i] != '.' && path[i] != '[')
      s.key += path[i++];
    if (s.key.empty())
      return std::nullopt;
    if (i < path.size() && path[i] == '[') {
      const auto close = path.find(']', i);
      if (close == std::string_view::npos)
        return std::nullopt;
      auto inner = path.substr(i + 1, close - i - 1);
      while (!inner.empty()) {
        const auto amp = inner.find('&');
        const auto cond = inner.substr(0, amp);
        const auto eq = cond.find('=');
        if (eq == std::string_view::npos || eq == 0)
          return std::nullopt;
        s.where.emplace_back(std::string{cond.substr(0, eq)}, std::string{cond.substr(eq + 1)});
        inner = amp == std::string_view::npos ? std::string_view{} : inner.substr(amp + 1);
      }
      i = close + 1;
    }
    out.push_back(std::move(s));
    if (i == path.size())
      return out;
    if (path[i] != '.')
      return std::nullopt;
    ++i;
  }
}

bool field_matches(const nlohmann::json& f, const std::string& want) {
  if (f.is_string())
    return f.get<std::string>() == want;
  if (f.is_boolean())
    return want == (f.get<bool>() ? "true" : "false");
  if (f.is_number()) {
    char* end = nullptr;
    const double w = std::strtod(want.c_str(), &end);
    return end != want.c_str() && *end == '\0' && f.get<double>() == w;
  }
  return false;
}

// A spec's path may end in "*K": the value scaled by K (ms to us), so the
// table keeps one unit per figure without a second mechanism.
std::optional<double> number_at(const nlohmann::json& doc, std::string_view path) {
  double scale = 1;
  if (const auto star = path.rfind('*'); star != std::string_view::npos) {
    scale = std::strtod(std::string{path.substr(star + 1)}.c_str(), nullptr);
    path = path.substr(0, star);
  }
  auto v = json_at(doc, path);
  if (!v || !v->is_number())
    return std::nullopt;
  return v->get<double>() * scale;
}

// The non-zero `errors` of the array row a path picks ("rows[...].x" ->
// "rows[...].errors"); nothing for a top-level field or a clean row.
std::optional<double> row_errors(const nlohmann::json& doc, std::string_view path) {
  const auto dot = path.rfind('.');
  if (dot == std::string_view::npos || path.substr(0, dot).find('[') == std::string_view::npos)
    return std::nullopt;
  auto e = json_at(doc, std::string{path.substr(0, dot)} + ".errors");
  if (!e || !e->is_number() || e->get<double>() == 0)
    return std::nullopt;
  return e->get<double>();
}

std::string pad(std::string s, size_t width, bool right = false) {
  if (s.size() >= width)
    return s;
  const std::string fill(width - s.size(), ' ');
  return right ? fill + s : s + fill;
}

std::string with_unit(const std::optional<double>& v, const std::string& unit,
                      const std::optional<double>& errors) {
  if (!v)
    return "missing";
  return format_figure(*v) + " " + unit
         + (errors ? " (" + format_figure(*errors) + " errors)" : std::string{});
}

std::string ratio_text(const suite_figure& f) {
  if (!f.ratio)
    return "-";
  // Below 0.1 two significant digits (0.0058x), not "0.01x".
  if (std::fabs(*f.ratio) < 0.1) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2gx", *f.ratio);
    return buf;
  }
  return format_figure(*f.ratio) + "x";
}

std::string baseline_text(const suite_figure& f) {
  if (f.baseline_label.empty())
    return "none in this run";
  return f.baseline_label;
}

std::string figure_label(const suite_figure& f) {
  return f.label + (f.higher_is_better ? " (higher is better)" : " (lower is better)");
}

// The cells of one figure's row, the same in the markdown and the text:
// figure, ours, baseline name, baseline, ratio.
std::array<std::string, 5> row_cells(const suite_figure& f) {
  return {figure_label(f), with_unit(f.value, f.unit, f.errors), baseline_text(f),
          f.baseline_label.empty() ? "-" : with_unit(f.baseline, f.unit, f.baseline_errors),
          ratio_text(f)};
}

std::vector<std::pair<std::string, std::string>> machine_rows(const machine_info& m) {
  return {{"CPU", m.cpu_model + ", " + std::to_string(m.cpus) + " logical CPUs"},
          {"RAM", format_figure(m.ram_gib) + " GiB"},
          {"kernel", m.kernel},
          {"compiler", m.compiler},
          {"build", m.build},
          {"CAF", m.caf_version},
          {"date (UTC)", m.date_utc_start + " to " + m.date_utc_end},
          {"load average (1, 5, 15 min)",
           "start " + m.load_average_start + ", end " + m.load_average_end}};
}

std::vector<std::string> failed_names(const std::vector<suite_result>& results) {
  std::vector<std::string> out;
  for (const auto& r : results)
    if (!r.ok)
      out.push_back(r.name);
  return out;
}

std::string joined(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v)
    out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace bench_suite_detail

const std::vector<suite_bench>& suite_benches() {
  // Bounds: the --quick runs took 1 to 62 s each on the 2-core VM (gateway
  // the longest: its slow clients; apps/cli/BENCHMARKS.md, "The suite"), so
  // 180 s is about three times the slowest and 300 s leaves room for the
  // benches that start processes or grow populations. The full runs took
  // 15 to 147 s each (agents the longest: 1 M agents), so their bounds are
  // six times that or more: a slower machine still fits, a hang does not.
  static const std::vector<suite_bench> all = {
    {"llm", 180, 900},    {"workflow", 180, 900},    {"gateway", 180, 900},
    {"memory", 180, 900}, {"agents", 300, 1800},     {"population", 300, 1800},
    {"cluster", 300, 1200}};
  return all;
}

suite_selection select_benches(std::string_view only) {
  suite_selection out;
  if (only.empty()) {
    out.benches = suite_benches();
    return out;
  }
  std::vector<std::string> names;
  std::stringstream in{std::string{only}};
  std::string name;
  while (std::getline(in, name, ',')) {
    const auto& all = suite_benches();
    if (std::none_of(all.begin(), all.end(), [&](const auto& b) { return b.name == name; })) {
      out.error = "--only: '" + name + "' is not a sub-benchmark (llm, workflow, gateway, memory, "
                  "agents, population, cluster)";
      return out;
    }
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      out.error = "--only: '" + name + "' is named twice";
      return out;
    }
    names.push_back(name);
  }
  if (!only.empty() && only.back() == ',') {
    out.error = "--only: an empty name";
    return out;
  }
  for (const auto& b : suite_benches())
    if (std::find(names.begin(), names.end(), b.name) != names.end())
      out.benches.push_back(b);
  return out;
}

std::optional<nlohmann::json> json_at(const nlohmann::json& doc, std::string_view path) {
  using namespace bench_suite_detail;
  auto steps = parse_path(path);
  if (!steps)
    return std::nullopt;
  const nlohmann::json* at = &doc;
  for (const auto& s : *steps) {
    if (!at->is_object() || !at->contains(s.key))
      return std::nullopt;
    at = &(*at)[s.key];
    if (s.where.empty())
      continue;
    if (!at->is_array())
      return std::nullopt;
    const nlohmann::json* found = nullptr;
    for (const auto& e : *at) {
      const bool all = std::all_of(s.where.begin(), s.where.end(), [&](const auto& kv) {
        return e.is_object() && e.contains(kv.first) && field_matches(e[kv.first], kv.second);
      });
      if (all) {
        found = &e;
        break;
      }
    }
    if (found == nullptr)
      return std::nullopt;
    at = found;
  }
  if (at->is_null())
    return std::nullopt;
  return *at;
}

std::vector<suite_figure> extract_figures(std::string_view bench, const nlohmann::json& raw) {
  using namespace bench_suite_detail;
  std::vector<suite_figure> out;
  for (const auto& s : figure_specs) {
    if (s.bench != bench)
      continue;
    suite_figure f;
    f.key = s.key;
    f.label = s.label;
    f.unit = s.unit;
    f.higher_is_better = s.higher_is_better;
    f.value = number_at(raw, s.path);
    f.errors = row_errors(raw, s.path);
    if (!f.value)
      f.missing.emplace_back(s.path);
    if (s.baseline_path != nullptr) {
      f.baseline_label = s.baseline_label;
      f.baseline = number_at(raw, s.baseline_path);
      f.baseline_errors = row_errors(raw, s.baseline_path);
      if (!f.baseline)
        f.missing.emplace_back(s.baseline_path);
    }
    if (f.value && f.baseline && *f.baseline != 0)
      f.ratio = *f.value / *f.baseline;
    out.push_back(std::move(f));
  }
  return out;
}

std::string cpu_model_of(std::string_view cpuinfo) {
  std::stringstream in{std::string{cpuinfo}};
  std::string line;
  for (int n = 0; n < 4096 && std::getline(in, line); ++n)
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos)
        return line.substr(line.find_first_not_of(" \t", colon + 1) == std::string::npos
                             ? line.size()
                             : line.find_first_not_of(" \t", colon + 1));
    }
  return "unknown";
}

unsigned cpu_count_of(std::string_view cpuinfo) {
  std::stringstream in{std::string{cpuinfo}};
  std::string line;
  unsigned n = 0;
  for (int i = 0; i < 4096 * 8 && std::getline(in, line); ++i)
    if (line.rfind("processor", 0) == 0 && line.find(':') != std::string::npos)
      ++n;
  return n;
}

double mem_total_gib_of(std::string_view meminfo) {
  std::stringstream in{std::string{meminfo}};
  std::string key;
  std::string rest;
  for (int i = 0; i < 4096 && in >> key; ++i) {
    unsigned long long kib = 0;
    in >> kib;
    std::getline(in, rest);
    if (key == "MemTotal:")
      return static_cast<double>(kib) / (1024.0 * 1024.0);
  }
  return 0;
}

std::string caf_version_of(long encoded) {
  return std::to_string(encoded / 10000) + "." + std::to_string(encoded / 100 % 100) + "."
         + std::to_string(encoded % 100);
}

std::string format_figure(double v) {
  char buf[64];
  const double a = std::fabs(v);
  if (std::round(a) >= 1000) {  // 999.6 is "1,000", not "1000"
    std::snprintf(buf, sizeof buf, "%.0f", std::fabs(std::round(v)));
    std::string digits = buf;
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
      if (i > 0 && (digits.size() - i) % 3 == 0)
        out += ',';
      out += digits[i];
    }
    return (v < 0 ? "-" : "") + out;
  }
  // Counts (probes answered, 0 of them) print as counts.
  const bool whole = v == std::round(v);
  const char* f = whole || a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f";
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

nlohmann::json suite_json(const machine_info& m, const std::string& command,
                          const std::vector<suite_result>& results) {
  using namespace bench_suite_detail;
  nlohmann::json out = {{"machine",
                         {{"cpu_model", m.cpu_model},
                          {"cpus", m.cpus},
                          {"ram_gib", m.ram_gib},
                          {"kernel", m.kernel},
                          {"compiler", m.compiler},
                          {"build", m.build},
                          {"caf_version", m.caf_version},
                          {"date_utc_start", m.date_utc_start},
                          {"date_utc_end", m.date_utc_end},
                          {"load_average_start", m.load_average_start},
                          {"load_average_end", m.load_average_end}}},
                        {"command", command},
                        {"benchmarks", nlohmann::json::object()},
                        {"failed", failed_names(results)}};
  for (const auto& r : results) {
    nlohmann::json b = {{"status", r.ok ? "ok" : "failed"},
                        {"seconds", r.seconds},
                        {"headline", nlohmann::json::object()},
                        {"baseline", nlohmann::json::object()},
                        {"ratio", nlohmann::json::object()},
                        {"missing", nlohmann::json::array()},
                        {"raw", r.raw}};
    if (!r.ok)
      b["reason"] = r.reason;
    for (const auto& f : r.figures) {
      b["headline"][f.key] = {{"label", f.label},
                              {"unit", f.unit},
                              {"higher_is_better", f.higher_is_better},
                              {"value", f.value ? nlohmann::json(*f.value) : nullptr},
                              {"errors", f.errors.value_or(0)}};
      b["baseline"][f.key]
        = {{"against", f.baseline_label.empty() ? nlohmann::json(nullptr)
                                                : nlohmann::json(f.baseline_label)},
           {"value", f.baseline ? nlohmann::json(*f.baseline) : nullptr},
           {"errors", f.baseline_errors.value_or(0)}};
      b["ratio"][f.key] = f.ratio ? nlohmann::json(*f.ratio) : nullptr;
      for (const auto& p : f.missing)
        b["missing"].push_back(f.key + ": " + p);
    }
    out["benchmarks"][r.name] = std::move(b);
  }
  return out;
}

std::string suite_markdown(const machine_info& m, const std::string& command,
                           const std::vector<suite_result>& results) {
  using namespace bench_suite_detail;
  std::string out = "Command: `" + command + "`\n\n| machine | |\n|---|---|\n";
  for (const auto& [k, v] : machine_rows(m))
    out += "| " + k + " | " + v + " |\n";
  out += "\n| bench | figure | agentgraph | baseline (same run) | baseline | agentgraph / baseline "
         "|\n|---|---|---:|---|---:|---:|\n";
  std::vector<std::string> notes;
  for (const auto& r : results) {
    if (!r.ok)
      out += "| " + r.name + " | **FAILED**: " + r.reason + " | | | | |\n";
    for (const auto& f : r.figures) {
      out += "| " + r.name;
      for (const auto& cell : row_cells(f))
        out += " | " + cell;
      out += " |\n";
      for (const auto& p : f.missing)
        notes.push_back(r.name + " " + f.key + ": `" + p + "` is not in the bench's JSON");
    }
  }
  if (!notes.empty())
    out += "\nMissing: " + joined(notes, "; ") + ".\n";
  return out;
}

std::string suite_text(const machine_info& m, const std::string& command,
                       const std::vector<suite_result>& results) {
  using namespace bench_suite_detail;
  std::string out = "agentgraph bench all: " + command + "\n";
  for (const auto& [k, v] : machine_rows(m))
    out += "  " + pad(k + ":", 30) + v + "\n";
  out += "\n" + pad("bench", 11) + pad("figure", 70) + pad("agentgraph", 16, true) + "  "
         + pad("baseline (same run)", 22) + pad("baseline", 16, true) + pad("ratio", 9, true)
         + "\n";
  for (const auto& r : results) {
    if (!r.ok)
      out += pad(r.name, 11) + "FAILED (" + format_figure(r.seconds) + " s): " + r.reason + "\n";
    for (const auto& f : r.figures) {
      const auto c = row_cells(f);
      out += pad(r.name, 11) + pad(c[0], 70) + pad(c[1], 16, true) + "  " + pad(c[2], 22)
             + pad(c[3], 16, true) + pad(c[4], 9, true) + "\n";
      for (const auto& p : f.missing)
        out += pad("", 11) + "  missing: " + p + "\n";
    }
  }
  const auto failed = failed_names(results);
  if (!failed.empty())
    out += "\nfailed: " + joined(failed, ", ") + "\n";
  return out;
}

}  // namespace agentgraph::cli
