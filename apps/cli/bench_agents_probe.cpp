// `agentgraph bench agents`: what the process holds and burns (heap, RSS,
// CPU, the machine's free memory), and the growth loop every population
// shares (bench_agents.hpp).
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <thread>

#include "apps/cli/bench_agents.hpp"

namespace agentgraph::cli {

namespace bench_agents_probe_detail {

// A growth prints a progress line to stderr this often.
constexpr auto progress_every = std::chrono::seconds{5};
// The time cap is checked every this many units (a clock read per unit
// would be a measurable part of a raw actor's spawn).
constexpr uint64_t time_check_every = 64;
// Checkpoints per growth (the first and last 10 % are read from them).
constexpr uint64_t checkpoints_per_growth = 100;

double seconds_between(bench_clock::time_point a, bench_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace bench_agents_probe_detail

process_sample sample_process() {
  process_sample s;
  const struct mallinfo2 mi = ::mallinfo2();
  s.heap_bytes = static_cast<int64_t>(mi.uordblks + mi.hblkhd);
  long pages_total = 0;
  long pages_resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2)
      pages_resident = 0;
    std::fclose(f);
  }
  s.rss_bytes = static_cast<int64_t>(pages_resident) * ::sysconf(_SC_PAGESIZE);
  return s;
}

double process_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

uint64_t mem_available_bytes() {
  std::ifstream in{"/proc/meminfo"};
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  // Bounded: /proc/meminfo has a few dozen lines.
  for (int line = 0; line < 200 && in >> key >> kib; ++line) {
    std::getline(in, unit);
    if (key == "MemAvailable:")
      return kib * 1024;
  }
  return std::numeric_limits<uint64_t>::max();
}

double load_average_1m() {
  double load = -1;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1)
      load = -1;
    std::fclose(f);
  }
  return load;
}

double idle_cpu_pct(std::chrono::milliseconds window) {
  using namespace bench_agents_probe_detail;
  const double cpu0 = process_cpu_seconds();
  const auto t0 = bench_clock::now();
  std::this_thread::sleep_for(window);
  const double cpu1 = process_cpu_seconds();
  const double wall = seconds_between(t0, bench_clock::now());
  return wall > 0 ? 100.0 * (cpu1 - cpu0) / wall : 0;
}

void trim_heap() {
  (void)::malloc_trim(0);
}

int64_t peak_rss_bytes() {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  // Bounded: /proc/self/status has about 60 lines.
  for (int n = 0; n < 200 && std::getline(in, line); ++n)
    if (line.rfind("VmHWM:", 0) == 0)
      return std::strtoll(line.c_str() + 6, nullptr, 10) * 1024;
  return 0;
}

bool reset_peak_rss() {
  std::ofstream out{"/proc/self/clear_refs"};
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

// --- growth_figures ---

double growth_figures::first_10pct_per_second() const {
  // The first checkpoint at or past a tenth of what was reached.
  for (const auto& [count, secs] : checkpoints)
    if (count * 10 >= reached && secs > 0)
      return count / secs;
  return 0;
}

double growth_figures::last_10pct_per_second() const {
  // From the last checkpoint at or before nine tenths of what was reached.
  if (checkpoints.empty())
    return 0;
  std::pair<uint64_t, double> from{0, 0};
  for (const auto& cp : checkpoints)
    if (cp.first * 10 <= reached * 9)
      from = cp;
  const auto& end = checkpoints.back();
  const double secs = end.second - from.second;
  return secs > 0 ? (end.first - from.first) / secs : 0;
}

double growth_figures::heap_bytes_per_unit() const {
  return reached > 0 ? static_cast<double>(after.heap_bytes - before.heap_bytes) / reached : 0;
}

double growth_figures::rss_bytes_per_unit() const {
  return reached > 0 ? static_cast<double>(after.rss_bytes - before.rss_bytes) / reached : 0;
}

// --- growth_loop ---

growth_loop::growth_loop(growth_figures& out, std::chrono::seconds time_cap, std::string what)
  : out_(out), time_cap_(time_cap), what_(std::move(what)) {
  using namespace bench_agents_probe_detail;
  checkpoint_every_ = std::max<uint64_t>(1, out_.target / checkpoints_per_growth);
  out_.checkpoints.reserve(checkpoints_per_growth + 2);
  start_ = last_progress_ = bench_clock::now();
}

bool growth_loop::step(uint64_t count) {
  using namespace bench_agents_probe_detail;
  out_.reached = count;
  const bool checkpoint = count % checkpoint_every_ == 0;
  if (!checkpoint && count % time_check_every != 0)
    return true;
  const auto now = bench_clock::now();
  if (checkpoint) {
    out_.checkpoints.emplace_back(count, seconds_between(start_, now));
    if (mem_available_bytes() < bench_agents_mem_available_min) {
      out_.stopped_by = "memory: the machine's MemAvailable fell below "
                        + std::to_string(bench_agents_mem_available_min >> 30) + " GiB";
      return false;
    }
  }
  if (count < out_.target && now - start_ >= time_cap_) {
    out_.stopped_by = "time cap: " + std::to_string(time_cap_.count()) + " s";
    return false;
  }
  if (now - last_progress_ >= progress_every) {
    const double rate = (count - last_progress_count_) / seconds_between(last_progress_, now);
    std::fprintf(stderr, "bench agents: %" PRIu64 " of %" PRIu64 " %s, %.0f/s over the last %.0f s\n",
                 count, out_.target, what_.c_str(), rate, seconds_between(last_progress_, now));
    last_progress_ = now;
    last_progress_count_ = count;
  }
  return true;
}

void growth_loop::finish() {
  using namespace bench_agents_probe_detail;
  out_.seconds = seconds_between(start_, bench_clock::now());
  if (out_.checkpoints.empty() || out_.checkpoints.back().first != out_.reached)
    out_.checkpoints.emplace_back(out_.reached, out_.seconds);
}

}  // namespace agentgraph::cli
