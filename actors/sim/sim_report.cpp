#include "actors/sim/sim_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <fstream>
#include <set>
#include <sstream>

#include "runtime/error.hpp"

namespace agentgraph::sim {

namespace sim_report_detail {

std::string num(double x, int decimals = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

// Nearest rank, as the benchmarks' percentiles.
double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::max<size_t>(rank, 1) - 1];
}

bool gone(const std::string& state) {
  return state == "down" || state == "removed";
}

// -- a small line chart -------------------------------------------------------

struct series {
  std::string name;
  std::string color;
  std::vector<std::pair<double, double>> points;  // (t s, y)
};

struct marker {
  double t_s;
  std::string label;
};

const char* const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

std::string chart(const std::string& title, const std::string& y_label, double t_max,
                  const std::vector<series>& lines, const std::vector<marker>& marks) {
  constexpr double w = 900, h = 360, left = 70, right = 160, top = 40, bottom = 50;
  const double pw = w - left - right, ph = h - top - bottom;
  double y_max = 1;
  for (const auto& s : lines)
    for (const auto& [x, y] : s.points)
      y_max = std::max(y_max, y);
  y_max *= 1.1;
  t_max = std::max(t_max, 1e-3);
  auto px = [&](double t) { return left + pw * t / t_max; };
  auto py = [&](double y) { return top + ph - ph * y / y_max; };
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w << "\" height=\"" << h
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << left << "\" y=\"24\" font-size=\"15\">" << escape(title) << "</text>\n"
    << "<line x1=\"" << left << "\" y1=\"" << top + ph << "\" x2=\"" << left + pw << "\" y2=\""
    << top + ph << "\" stroke=\"black\"/>\n"
    << "<line x1=\"" << left << "\" y1=\"" << top << "\" x2=\"" << left << "\" y2=\"" << top + ph
    << "\" stroke=\"black\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    const double y = y_max * i / 4, t = t_max * i / 4;
    o << "<text x=\"" << left - 6 << "\" y=\"" << num(py(y) + 4, 1)
      << "\" text-anchor=\"end\">" << num(y, y_max < 10 ? 2 : 0) << "</text>\n"
      << "<text x=\"" << num(px(t), 1) << "\" y=\"" << top + ph + 16
      << "\" text-anchor=\"middle\">" << num(t, 1) << "</text>\n";
  }
  o << "<text x=\"" << left + pw / 2 << "\" y=\"" << h - 10
    << "\" text-anchor=\"middle\">simulated time (s)</text>\n"
    << "<text x=\"16\" y=\"" << top + ph / 2 << "\" transform=\"rotate(-90 16 " << top + ph / 2
    << ")\" text-anchor=\"middle\">" << escape(y_label) << "</text>\n";
  for (const auto& m : marks) {
    o << "<line x1=\"" << num(px(m.t_s), 1) << "\" y1=\"" << top << "\" x2=\"" << num(px(m.t_s), 1)
      << "\" y2=\"" << top + ph << "\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>\n"
      << "<text x=\"" << num(px(m.t_s) + 3, 1) << "\" y=\"" << top + 12 << "\" fill=\"#555\">"
      << escape(m.label) << "</text>\n";
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& s = lines[i];
    if (!s.points.empty()) {
      o << "<polyline fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"1.5\" points=\"";
      for (const auto& [x, y] : s.points)
        o << num(px(x), 1) << "," << num(py(y), 1) << " ";
      o << "\"/>\n";
    }
    o << "<rect x=\"" << left + pw + 14 << "\" y=\"" << top + 18 * i << "\" width=\"12\" height=\"12\" fill=\""
      << s.color << "\"/>\n<text x=\"" << left + pw + 32 << "\" y=\"" << top + 18 * i + 10 << "\">"
      << escape(s.name) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

std::vector<marker> fault_marks(const run_record& rec) {
  std::vector<marker> out;
  for (const auto& f : rec.faults) {
    std::string label = std::string{to_string(f.f.kind)};
    for (const auto& n : f.f.nodes)
      label += " " + n;
    if (!f.f.provider.empty())
      label += " " + f.f.provider;
    out.push_back({f.t_ms / 1000.0, label});
  }
  return out;
}

// An outage or 429 storm: detected at the vendor's first refusal from the
// fault on, settled at its first call served after the fault's end (the
// calls the nodes' breakers and backoffs hold back until then are the
// recovery). Without a duration the fault never ends on its own.
fault_timing time_provider_fault(const run_record& rec, const fault_record& f) {
  fault_timing out;
  auto it = rec.llm.find(f.f.provider);
  if (it == rec.llm.end())
    return out;
  const double end = f.t_ms + static_cast<double>(f.f.duration.count());
  for (const auto& [t, served] : it->second.served_changes) {
    if (t < f.t_ms)
      continue;
    if (!served && !out.detection_ms && t < end)
      out.detection_ms = t - f.t_ms;
    if (served && out.detection_ms && f.f.duration.count() > 0 && t >= end) {
      out.settled_ms = t - f.t_ms;
      break;
    }
  }
  return out;
}

}  // namespace sim_report_detail

fault_timing time_fault(const run_record& rec, const fault_record& f) {
  using namespace sim_report_detail;
  fault_timing out;
  const bool on_nodes = f.f.kind == fault_kind::kill || f.f.kind == fault_kind::freeze
                        || f.f.kind == fault_kind::partition;
  // A node back (restart, thaw) is detected when a watcher sees it up and
  // settled when every watcher does; a loss (kill, freeze, partition) when
  // they see it down or removed.
  const bool back = f.f.kind == fault_kind::restart || f.f.kind == fault_kind::thaw;
  if (f.f.kind == fault_kind::outage || f.f.kind == fault_kind::storm)
    return time_provider_fault(rec, f);
  if (!(on_nodes || back) || f.targets.empty())
    return out;
  std::set<std::string> targets;
  for (auto t : f.targets)
    targets.insert("n" + std::to_string(t));
  // Observations count until the next fault that hits one of the same
  // nodes (its effects are its own), from the incarnations that watched
  // when this one struck.
  double until = std::numeric_limits<double>::infinity();
  for (const auto& g : rec.faults)
    if (g.t_ms > f.t_ms)
      for (auto t : g.targets)
        if (targets.count("n" + std::to_string(t)))
          until = std::min(until, g.t_ms);
  std::set<std::pair<size_t, uint32_t>> watchers(f.watchers.begin(), f.watchers.end());
  // (watcher, target) -> first time that watcher saw the target gone (back)
  std::map<std::pair<size_t, std::string>, double> first;
  for (const auto& m : rec.members) {
    const bool seen = back ? m.state == "up" : gone(m.state);
    if (m.t_ms < f.t_ms || m.t_ms >= until || !seen || !targets.count(m.member)
        || !watchers.count({m.observer, m.observer_incarnation}))
      continue;
    if (!out.detection_ms)
      out.detection_ms = m.t_ms - f.t_ms;
    first.emplace(std::make_pair(m.observer, m.member), m.t_ms);
  }
  // Settled: every watcher still live in the same incarnation at the end
  // saw every target gone (back).
  double last = -1;
  for (const auto& [number, incarnation] : watchers) {
    if (number > rec.node_state.size() || rec.node_state[number - 1] != "live"
        || rec.incarnation_at_end[number - 1] != incarnation)
      continue;
    for (const auto& t : targets) {
      auto it = first.find({number, t});
      if (it == first.end())
        return out;
      last = std::max(last, it->second);
    }
  }
  if (last >= 0)
    out.settled_ms = last - f.t_ms;
  return out;
}

nlohmann::json report_json(const run_record& rec) {
  using namespace sim_report_detail;
  nlohmann::json j;
  j["scenario"] = std::filesystem::path{rec.scenario_origin}.filename().string();
  j["seed"] = rec.seed;
  j["nodes"] = rec.nodes;
  j["formed_after_ms"] = rec.formed_at_ms;
  j["duration_ms"] = rec.duration_ms;
  j["simulated_s"] = rec.end_ms / 1000.0;
  uint64_t ok = 0, redispatched = 0, dup = 0, ran_twice = 0, asked_again = 0;
  std::map<std::string, uint64_t> failed, unanswered;
  std::vector<double> lat;
  for (const auto& t : rec.tasks) {
    dup += rec.journaled && t.answers > 1;
    ran_twice += t.executions > 1;
    asked_again += t.attempts > 1;
    if (t.outcome == "ok" || t.outcome == "redispatched_ok") {
      ++(t.outcome == "ok" ? ok : redispatched);
      lat.push_back(*t.ended_ms - t.arrived_ms);
    } else if (t.outcome == "entry_died" || t.outcome == "entry_frozen" || t.outcome == "lost"
               || t.outcome == "unfinished_at_end" || t.outcome == "open_at_end") {
      ++unanswered[t.outcome];
    } else {
      ++failed[t.outcome];
    }
  }
  j["tasks"] = {{"submitted", rec.tasks.size()},
                {"ok", ok},
                {"redispatched_ok", redispatched},
                {"failed", failed},
                {"unanswered", unanswered},
                {"lost", unanswered.count("lost") ? unanswered["lost"] : 0},
                {"answered_twice", dup},
                {"asked_again", asked_again},
                {"executed_twice", ran_twice}};
  j["journal"] = rec.journaled;
  j["latency_ms"] = {{"p50", percentile(lat, 0.5)},
                     {"p90", percentile(lat, 0.9)},
                     {"p99", percentile(lat, 0.99)},
                     {"max", lat.empty() ? 0.0 : *std::max_element(lat.begin(), lat.end())}};
  j["throughput_ok_per_s"] =
    rec.duration_ms > 0 ? static_cast<double>(ok + redispatched) / (rec.end_ms / 1000.0) : 0;
  nlohmann::json llm = nlohmann::json::object();
  double cost = 0;
  for (const auto& [name, f] : rec.llm) {
    llm[name] = {{"calls", f.calls},
                 {"answered", f.answered},
                 {"server_errors", f.errors},
                 {"rate_limited", f.rate_limited},
                 {"unavailable", f.unavailable},
                 {"refused_not_simulated", f.refused},
                 {"prompt_tokens", f.prompt_tokens},
                 {"completion_tokens", f.completion_tokens},
                 {"cost_usd", f.cost_usd},
                 {"calls_by_node", f.calls_by_node}};
    cost += f.cost_usd;
  }
  j["llm"] = llm;
  j["cost_usd"] = cost;
  nlohmann::json faults = nlohmann::json::array();
  for (const auto& f : rec.faults) {
    auto timing = time_fault(rec, f);
    nlohmann::json fj = {{"name", f.f.name},
                         {"kind", to_string(f.f.kind)},
                         {"at_ms", f.t_ms},
                         {"nodes", f.f.nodes},
                         {"provider", f.f.provider}};
    fj["detection_ms"] = timing.detection_ms ? nlohmann::json(*timing.detection_ms) : nlohmann::json();
    fj["settled_ms"] = timing.settled_ms ? nlohmann::json(*timing.settled_ms) : nlohmann::json();
    faults.push_back(fj);
  }
  j["faults"] = faults;
  j["node_state_at_end"] = rec.node_state;
  nlohmann::json pops = nlohmann::json::object();
  for (const auto& [name, counts] : rec.saved_states)
    pops[name] = {{"saved_keys_at_start", counts.first}, {"saved_keys_at_end", counts.second}};
  j["populations"] = pops;
  if (rec.keys.audited) {
    const auto& k = rec.keys;
    j["keys"] = {{"keys", k.keys},
                 {"claims", k.claims},
                 {"claims_moved", k.claims_moved},
                 {"saves", k.saves},
                 {"tasks_reapplied", k.tasks_reapplied},
                 {"saves_superseded", k.saves_superseded},
                 {"saves_stale", k.saves_stale},
                 {"saves_undecodable", k.saves_undecodable},
                 {"tasks_applied_twice", k.tasks_applied_twice},
                 {"violations", k.details}};
  }
  char hash[32];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(rec.trace_hash));
  j["trace"] = {{"lines", rec.trace_lines}, {"fnv1a64", hash}};
  j["network"] = {{"segments_delayed", rec.segments_delayed},
                  {"segments_dropped", rec.segments_dropped}};
  return j;
}

std::string tasks_csv(const run_record& rec) {
  using namespace sim_report_detail;
  std::string out =
    "id,agent,entry,arrived_ms,ended_ms,latency_ms,outcome,answers,attempts,executions\n";
  for (const auto& t : rec.tasks) {
    out += std::to_string(t.id) + "," + t.agent + "," + (t.entry ? "n" + std::to_string(t.entry) : "")
           + "," + num(t.arrived_ms) + "," + (t.ended_ms ? num(*t.ended_ms) : "") + ","
           + (t.ended_ms ? num(*t.ended_ms - t.arrived_ms) : "") + "," + t.outcome + ","
           + std::to_string(t.answers) + "," + std::to_string(t.attempts) + ","
           + std::to_string(t.executions) + "\n";
  }
  return out;
}

std::string timeline_csv(const run_record& rec) {
  using namespace sim_report_detail;
  std::string out = "t_ms,arrived,ok,failed,p50_ms,p99_ms";
  for (size_t i = 1; i <= rec.nodes; ++i)
    out += ",ok_entry_n" + std::to_string(i);
  for (size_t i = 1; i <= rec.nodes; ++i)
    out += ",up_seen_by_n" + std::to_string(i);
  out += "\n";
  for (const auto& s : rec.samples) {
    out += num(s.t_ms) + "," + std::to_string(s.arrived) + "," + std::to_string(s.ok) + ","
           + std::to_string(s.failed) + "," + num(percentile(s.latencies_ms, 0.5)) + ","
           + num(percentile(s.latencies_ms, 0.99));
    for (size_t i = 0; i < rec.nodes; ++i)
      out += "," + std::to_string(i < s.ok_by_entry.size() ? s.ok_by_entry[i] : 0);
    for (size_t i = 0; i < rec.nodes; ++i)
      out += "," + std::to_string(i < s.up_seen_by.size() ? s.up_seen_by[i] : -1);
    out += "\n";
  }
  return out;
}

std::string latency_svg(const run_record& rec) {
  using namespace sim_report_detail;
  series p50{"p50", palette[0], {}}, p99{"p99", palette[1], {}};
  for (const auto& s : rec.samples) {
    if (s.latencies_ms.empty())
      continue;
    p50.points.emplace_back(s.t_ms / 1000, percentile(s.latencies_ms, 0.5));
    p99.points.emplace_back(s.t_ms / 1000, percentile(s.latencies_ms, 0.99));
  }
  return chart("Task latency over time (answered ok)", "latency (ms)", rec.end_ms / 1000,
               {p50, p99}, fault_marks(rec));
}

std::string throughput_svg(const run_record& rec) {
  using namespace sim_report_detail;
  std::vector<series> lines;
  for (size_t i = 0; i < rec.nodes; ++i) {
    series s{"n" + std::to_string(i + 1), palette[i % std::size(palette)], {}};
    double prev = 0;
    for (const auto& row : rec.samples) {
      const double width_s = (row.t_ms - prev) / 1000;
      prev = row.t_ms;
      if (width_s <= 0)
        continue;
      const double ok = i < row.ok_by_entry.size() ? static_cast<double>(row.ok_by_entry[i]) : 0;
      s.points.emplace_back(row.t_ms / 1000, ok / width_s);
    }
    lines.push_back(std::move(s));
  }
  return chart("Tasks answered ok per second, by entry node", "tasks/s", rec.end_ms / 1000, lines,
               fault_marks(rec));
}

std::string membership_svg(const run_record& rec) {
  using namespace sim_report_detail;
  std::vector<series> lines;
  for (size_t i = 0; i < rec.nodes; ++i) {
    series s{"seen by n" + std::to_string(i + 1), palette[i % std::size(palette)], {}};
    for (const auto& row : rec.samples)
      if (i < row.up_seen_by.size() && row.up_seen_by[i] >= 0)
        s.points.emplace_back(row.t_ms / 1000, static_cast<double>(row.up_seen_by[i]));
    lines.push_back(std::move(s));
  }
  return chart("Members up, as each live node sees them", "members up", rec.end_ms / 1000, lines,
               fault_marks(rec));
}

caf::error write_report(const run_record& rec, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return make_error(errc::io_error, dir + ": " + ec.message());
  std::string trace;
  for (const auto& l : rec.trace)
    trace += l + "\n";
  const std::pair<const char*, std::string> files[] = {
    {"report.json", report_json(rec).dump(2) + "\n"},
    {"tasks.csv", tasks_csv(rec)},
    {"timeline.csv", timeline_csv(rec)},
    {"trace.log", trace},
    {"latency.svg", latency_svg(rec)},
    {"throughput.svg", throughput_svg(rec)},
    {"membership.svg", membership_svg(rec)},
  };
  for (const auto& [name, text] : files) {
    const auto path = dir + "/" + name;
    std::ofstream out{path, std::ios::binary | std::ios::trunc};
    out << text;
    if (!out)
      return make_error(errc::io_error, path + ": cannot write");
  }
  return {};
}

std::string summary_text(const run_record& rec) {
  using namespace sim_report_detail;
  auto j = report_json(rec);
  std::ostringstream o;
  o << "scenario " << j["scenario"].get<std::string>() << ", seed " << rec.seed << ", "
    << rec.nodes << " nodes, formed after " << num(rec.formed_at_ms, 0) << " ms\n"
    << "tasks: " << j["tasks"]["submitted"] << " submitted, " << j["tasks"]["ok"] << " ok, "
    << j["tasks"]["redispatched_ok"] << " ok after asking again, failed "
    << j["tasks"]["failed"].dump() << ", unanswered " << j["tasks"]["unanswered"].dump()
    << ", answered twice " << j["tasks"]["answered_twice"] << ", executed twice "
    << j["tasks"]["executed_twice"] << (rec.journaled ? "" : " (no journal)") << "\n"
    << "latency ms: p50 " << num(j["latency_ms"]["p50"].get<double>(), 1) << ", p99 "
    << num(j["latency_ms"]["p99"].get<double>(), 1) << ", max "
    << num(j["latency_ms"]["max"].get<double>(), 1) << "\n";
  for (const auto& f : j["faults"])
    o << "fault " << f["name"].get<std::string>() << " (" << f["kind"].get<std::string>()
      << ") at " << num(f["at_ms"].get<double>(), 0) << " ms: detected "
      << (f["detection_ms"].is_null() ? std::string{"-"} : num(f["detection_ms"].get<double>(), 0) + " ms")
      << ", settled "
      << (f["settled_ms"].is_null() ? std::string{"-"} : num(f["settled_ms"].get<double>(), 0) + " ms")
      << "\n";
  for (const auto& [name, f] : j["llm"].items())
    o << "llm " << name << ": " << f["calls"] << " calls, " << f["rate_limited"] << " rate limited, "
      << f["server_errors"] << " errors, " << f["prompt_tokens"] << "+" << f["completion_tokens"]
      << " tokens, $" << num(f["cost_usd"].get<double>(), 4) << "\n";
  if (rec.keys.audited)
    o << describe_keys(rec.keys) << "\n";
  o << "trace: " << rec.trace_lines << " events, fnv1a64 " << j["trace"]["fnv1a64"].get<std::string>()
    << "\n";
  return o.str();
}

}  // namespace agentgraph::sim
