// `agentgraph bench llm`: percentiles, the per-level table and its ratios.
// Pure but for print_versus_row (stdout): no clocks.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "apps/cli/bench_llm.hpp"
#include "runtime/error.hpp"
#include "runtime/assert.hpp"

namespace agentgraph::cli {

namespace bench_table_detail {

// Nearest rank: the smallest sample with at least p of all samples at or
// below it. bench_openai.mjs uses the same rule.
double percentile_ms(const std::vector<int64_t>& sorted_ns, double p) {
  if (sorted_ns.empty())
    return 0;
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted_ns.size())));
  return static_cast<double>(sorted_ns[std::max<size_t>(rank, 1) - 1]) / 1e6;
}

std::string printf_string(const char* fmt, auto... values) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, values...);
  return buf;
}

const row_figures* figures_of(const std::vector<bench_row>& rows, bench_row_id id) {
  const auto& r = rows[static_cast<size_t>(id)];
  return r.figures ? &*r.figures : nullptr;
}

// "0.42x req/s, +123 us p50", or "n/a".
std::string format_versus(const std::optional<bench_versus>& v) {
  if (!v)
    return "n/a";
  return printf_string("%.2fx req/s, %+.0f us p50", v->per_second_ratio, v->p50_added_us);
}

std::string format_row(const bench_row& row, const row_figures* floor) {
  if (!row.figures)
    return printf_string("%-32s %s\n", row.name.c_str(), row.note.c_str());
  const auto& f = *row.figures;
  std::string ratio = "-";
  std::string added = "-";
  if (auto v = compare_rows(&f, floor)) {
    ratio = printf_string("%.2fx", v->per_second_ratio);
    added = printf_string("%+.0f", v->p50_added_us);
  }
  auto line = printf_string("%-32s %9.0f %8.3f %8.3f %6llu %9s %9s", row.name.c_str(),
                            f.per_second(), f.p50_ms, f.p99_ms,
                            static_cast<unsigned long long>(row.connections), ratio.c_str(),
                            added.c_str());
  if (f.errors > 0)
    line += printf_string("  ERRORS: %llu (first: %s)", static_cast<unsigned long long>(f.errors),
                          f.first_error.substr(0, 160).c_str());
  return line + "\n";
}

}  // namespace bench_table_detail

std::optional<bench_versus> compare_rows(const row_figures* a, const row_figures* b) {
  if (a == nullptr || b == nullptr || b->per_second() <= 0)
    return std::nullopt;
  return bench_versus{a->per_second() / b->per_second(), (a->p50_ms - b->p50_ms) * 1000.0};
}

std::vector<bench_ratio> bench_ratios(const std::vector<bench_row>& rows) {
  using bench_table_detail::figures_of;
  AG_ASSERT(rows.size() == bench_row_count);
  struct line {
    const char* key;
    const char* label;
    const char* suffix;
    bench_row_id a, b;
  };
  using id = bench_row_id;
  static constexpr line lines[] = {
      {"provider_vs_raw", "agentgraph provider vs raw libcurl:  ", "", id::provider,
       id::raw_reuse},
      {"sdk_vs_raw", "openai npm SDK vs raw libcurl:       ", "", id::sdk, id::raw_reuse},
      {"provider_vs_sdk", "agentgraph provider vs openai SDK:   ", "", id::provider, id::sdk},
      {"reuse_raw_libcurl", "connection reuse, raw libcurl:       ", " (reuse vs none)",
       id::raw_reuse, id::raw_close},
      {"reuse_http_client", "connection reuse, http_client:       ",
       " (reuse vs Connection: close)", id::client_reuse, id::client_close},
  };
  std::vector<bench_ratio> out;
  for (const auto& l : lines)
    out.push_back({l.key, l.label, l.suffix,
                   compare_rows(figures_of(rows, l.a), figures_of(rows, l.b))});
  return out;
}

caf::expected<std::vector<uint32_t>> parse_levels(const std::string& text) {
  std::vector<uint32_t> out;
  std::stringstream in{text};
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    const unsigned long n = std::strtoul(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || n < 1 || n > bench_concurrency_max)
      return make_error(errc::invalid_argument, "--concurrency: '" + item + "' is not in [1, "
                                                  + std::to_string(bench_concurrency_max) + "]");
    out.push_back(static_cast<uint32_t>(n));
  }
  if (out.empty())
    return make_error(errc::invalid_argument, "--concurrency: no level given");
  return out;
}

row_figures summarize(loop_result r) {
  std::sort(r.latency_ns.begin(), r.latency_ns.end());
  row_figures f;
  f.requests = r.latency_ns.size();
  f.seconds = r.seconds;
  f.p50_ms = bench_table_detail::percentile_ms(r.latency_ns, 0.50);
  f.p99_ms = bench_table_detail::percentile_ms(r.latency_ns, 0.99);
  f.errors = r.errors;
  f.first_error = std::move(r.first_error);
  return f;
}

std::string format_fixed(double v, int decimals) {
  return bench_table_detail::printf_string("%.*f", decimals, v);
}

std::string format_ratio(double ours, double raw) {
  return raw > 0 ? format_fixed(ours / raw, 2) + "x" : "n/a";
}

void print_versus_row(const std::string& name, const std::string& ours, const std::string& raw,
                      const std::string& ratio, const std::string& note) {
  std::printf("%-40s %15s %15s %9s  %s\n", name.c_str(), ours.c_str(), raw.c_str(), ratio.c_str(),
              note.c_str());
}

std::string format_bench_table(uint32_t concurrency, const std::vector<bench_row>& rows) {
  using namespace bench_table_detail;
  AG_ASSERT(rows.size() == bench_row_count);
  const auto* floor = figures_of(rows, bench_row_id::raw_reuse);
  std::string out = printf_string("concurrency %u\n", concurrency);
  out += printf_string("%-32s %9s %8s %8s %6s %9s %9s\n", "client", "req/s", "p50 ms", "p99 ms",
                       "conns", "vs raw", "+p50 us");
  for (const auto& row : rows)
    out += format_row(row, floor);
  for (const auto& r : bench_ratios(rows))
    out += std::string{"  "} + r.label + format_versus(r.versus) + r.suffix + "\n";
  return out;
}

}  // namespace agentgraph::cli
