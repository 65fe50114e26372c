// `agentgraph bench llm`: the CPU time the client under test spends, apart
// from the mock server that shares the process. Every client's work runs on
// threads we can name: the calling (main) thread (the raw libcurl loop),
// the http_client's I/O threads ("ag-http-io") and CAF's scheduler threads
// ("caf.*": workers and the clock). The mock's threads (cpp-httplib's
// listener and pool) inherit the main thread's name but not its id, so they
// are left out. The figure is each thread's scheduler run time
// (/proc/self/task/TID/schedstat, nanoseconds), falling back to utime +
// stime (clock ticks) where schedstat is missing. A thread that exits
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

// Run time of one thread in ns; -1 if it is gone.
int64_t thread_cpu_ns(const std::string& dir) {
  const auto sched = read_line(dir + "/schedstat");
  if (!sched.empty())
    return std::strtoll(sched.c_str(), nullptr, 10);
  // /proc/TID/stat: fields 14 and 15 (utime, stime) come after the ")" that
  // closes the name, which may itself hold spaces.
  const auto stat = read_line(dir + "/stat");
  const auto close = stat.rfind(')');
  if (close == std::string::npos)
    return -1;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  if (std::sscanf(stat.c_str() + close + 1,
                  " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime)
      != 2)
    return -1;
  return static_cast<int64_t>((utime + stime) * (1'000'000'000ull / ::sysconf(_SC_CLK_TCK)));
}

}  // namespace bench_llm_cpu_detail

int64_t client_cpu_ns() {
  using namespace bench_llm_cpu_detail;
  DIR* tasks = ::opendir("/proc/self/task");
  if (tasks == nullptr)
    return -1;
  int64_t total = 0;
  // Bounded by the process's threads: a few dozen.
  while (const dirent* e = ::readdir(tasks)) {
    if (e->d_name[0] == '.')
      continue;
    const std::string dir = std::string{"/proc/self/task/"} + e->d_name;
    if (!is_client_thread(std::strtol(e->d_name, nullptr, 10), read_line(dir + "/comm")))
      continue;
    if (const auto ns = thread_cpu_ns(dir); ns > 0)
      total += ns;
  }
  ::closedir(tasks);
  return total;
}

}  // namespace agentgraph::cli
