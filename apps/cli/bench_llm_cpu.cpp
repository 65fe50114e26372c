// `agentgraph bench llm`: the CPU time the client under test spends, apart
// from the mock server that shares the process. Every client's work runs on
// threads we can name: the calling (main) thread (the raw libcurl loop),
// the http_client's I/O threads ("ag-http-io") and CAF's scheduler threads
// ("caf.*": workers and the clock). The mock's threads (cpp-httplib's
// listener and pool) inherit the main thread's name but not its id, so they
// are left out. The figure is each thread's scheduler run time
// (/proc/self/task/TID/schedstat, nanoseconds), falling back to utime +
// stime (clock ticks) where schedstat is missing, and how many times the
// scheduler ran it (schedstat's third field: each is a wake-up or a
// preemption, so it counts the thread hand-offs that cost a context
// switch; 0 without schedstat). A thread that exits
// between two samples takes its time with it, so callers sample while the
// client's threads are alive.
#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "apps/cli/bench_llm.hpp"

namespace agentgraph::cli {

namespace bench_llm_cpu_detail {

std::string read_line(const std::string& path) {
  std::ifstream in{path};
  std::string line;
  std::getline(in, line);
  return line;
}

bool is_client_thread(long tid, const std::string& comm) {
  return tid == static_cast<long>(::getpid()) || comm.rfind("caf.", 0) == 0
         || comm == "ag-http-io";
}

// Run time of one thread in ns (-1 if it is gone) and its time slices.
client_cpu thread_cpu(const std::string& dir) {
  const auto sched = read_line(dir + "/schedstat");
  long long run_ns = 0;
  long long wait_ns = 0;
  long long slices = 0;
  if (std::sscanf(sched.c_str(), "%lld %lld %lld", &run_ns, &wait_ns, &slices) == 3)
    return {run_ns, slices};
  // /proc/TID/stat: fields 14 and 15 (utime, stime) come after the ")" that
  // closes the name, which may itself hold spaces.
  const auto stat = read_line(dir + "/stat");
  const auto close = stat.rfind(')');
  if (close == std::string::npos)
    return {-1, 0};
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  if (std::sscanf(stat.c_str() + close + 1,
                  " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime)
      != 2)
    return {-1, 0};
  return {static_cast<int64_t>((utime + stime) * (1'000'000'000ull / ::sysconf(_SC_CLK_TCK))), 0};
}

}  // namespace bench_llm_cpu_detail

client_cpu client_cpu_now() {
  using namespace bench_llm_cpu_detail;
  DIR* tasks = ::opendir("/proc/self/task");
  if (tasks == nullptr)
    return {-1, 0};
  client_cpu total;
  // Bounded by the process's threads: a few dozen.
  while (const dirent* e = ::readdir(tasks)) {
    if (e->d_name[0] == '.')
      continue;
    const std::string dir = std::string{"/proc/self/task/"} + e->d_name;
    if (!is_client_thread(std::strtol(e->d_name, nullptr, 10), read_line(dir + "/comm")))
      continue;
    if (const auto t = thread_cpu(dir); t.ns > 0) {
      total.ns += t.ns;
      total.slices += t.slices;
    }
  }
  ::closedir(tasks);
  return total;
}

void client_cpu::end(const client_cpu& begin, loop_result& out) {
  if (begin.ns < 0 || ns < begin.ns)
    return;
  out.cpu_ns = ns - begin.ns;
  out.cpu_slices = slices - begin.slices;
}

}  // namespace agentgraph::cli
