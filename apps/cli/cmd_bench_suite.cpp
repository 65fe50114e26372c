// `agentgraph bench all` (issue 15): every sub-benchmark as a child process
// of this executable (`bench <sub> --json [--quick]`), one after the other
// so none measures while another loads the machine, each with a wall-time
// bound past which it gets SIGTERM and then SIGKILL and its row says so.
// The children are started and reaped by bench cluster's child_set
// (bench_cluster_procs.cpp: PR_SET_PDEATHSIG, the SIGINT/SIGTERM reaper),
// stdout to a file in the scratch directory, stderr to another. The machine
// is read here at run time; bench_suite.cpp picks the figures and formats
// the summary. Exit 0 when every sub-benchmark ran and exited 0, 1 when one
// failed (named on stderr), 2 on bad usage.
#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <caf/config.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "apps/cli/bench_cluster.hpp"
#include "apps/cli/bench_suite.hpp"
#include "apps/cli/commands.hpp"
#include "runtime/error.hpp"

// apps/CMakeLists.txt sets both for this file only; a build that does not
// (another generator, a hand-made one) says so rather than guessing.
#ifndef AGENTGRAPH_BUILD_TYPE
#define AGENTGRAPH_BUILD_TYPE "unknown"
#endif
#ifndef AGENTGRAPH_CXX_FLAGS
#define AGENTGRAPH_CXX_FLAGS "unknown"
#endif

namespace po = boost::program_options;

namespace agentgraph::cli {

namespace cmd_bench_suite_detail {

// A child's JSON is a few KB; past this something is wrong and the row fails.
constexpr std::uintmax_t child_json_bytes_max = 16 * 1024 * 1024;
// After SIGTERM at the bound, this long for the child's own clean-up
// (bench cluster SIGKILLs its nodes) before SIGKILL.
constexpr auto term_grace = std::chrono::seconds{3};
constexpr auto poll_step = std::chrono::milliseconds{50};
constexpr int bound_s_max = 24 * 3600;

struct suite_options {
  bool quick = false;
  bool json = false;
  std::string only;
  std::string markdown_path;
  std::string out_dir;
  int bound_s = 0;  // 0: each sub-benchmark's own bound (bench_suite.cpp)
};

std::optional<int> parse(const args& argv, suite_options& o) {
  po::options_description desc{"agentgraph bench all"};
  desc.add_options()("help", "print this help")(
    "quick", "run each sub-benchmark with --quick (small counts)")(
    "only", po::value(&o.only),
    "comma-separated sub-benchmarks to run (llm, workflow, gateway, memory, agents, population, "
    "cluster; default all)")("json", "print one JSON object instead of the table")(
    "markdown", po::value(&o.markdown_path), "also write the summary as markdown to FILE")(
    "out", po::value(&o.out_dir),
    "keep each child's JSON and stderr, suite.json and suite.md in DIR (created)")(
    "bound-s", po::value(&o.bound_s),
    "wall-time bound of every sub-benchmark in seconds (default: each one's own)");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "agentgraph bench all: " << e.what() << "\n" << desc;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  o.quick = vm.count("quick") > 0;
  o.json = vm.count("json") > 0;
  if (vm.count("only") && o.only.empty()) {
    std::cerr << "agentgraph bench all: --only needs at least one name\n";
    return 2;
  }
  if (vm.count("bound-s") && (o.bound_s < 1 || o.bound_s > bound_s_max)) {
    std::cerr << "agentgraph bench all: --bound-s must be in [1, " << bound_s_max << "]\n";
    return 2;
  }
  return std::nullopt;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string load_average() {
  std::stringstream in{read_text_file("/proc/loadavg")};
  std::string a, b, c;
  in >> a >> b >> c;
  return a.empty() ? "unknown" : a + " " + b + " " + c;
}

std::string compiler() {
#if defined(__clang__)
  return std::string{"clang "} + __clang_version__;
#elif defined(__GNUC__)
  return std::string{"gcc "} + __VERSION__;
#else
  return __VERSION__;
#endif
}

std::string build_text() {
  const std::string type = AGENTGRAPH_BUILD_TYPE;
#ifdef __OPTIMIZE__
  const char* opt = "optimised";
#else
  const char* opt = "NOT optimised (-O0): the figures say little";
#endif
  return "CMAKE_BUILD_TYPE=" + (type.empty() ? std::string{"(none)"} : type) + ", flags '"
         + AGENTGRAPH_CXX_FLAGS + "', " + opt;
}

machine_info machine_at_start() {
  machine_info m;
  const auto cpuinfo = read_text_file("/proc/cpuinfo");
  m.cpu_model = cpu_model_of(cpuinfo);
  m.cpus = cpu_count_of(cpuinfo);
  m.ram_gib = mem_total_gib_of(read_text_file("/proc/meminfo"));
  utsname u{};
  if (::uname(&u) == 0)
    m.kernel = std::string{u.sysname} + " " + u.release + " " + u.machine;
  m.compiler = compiler();
  m.build = build_text();
  m.caf_version = caf_version_of(CAF_VERSION);
  m.date_utc_start = utc_now();
  m.load_average_start = load_average();
  return m;
}

// "; stderr: " and the last non-empty line of a child's stderr, for the
// row's reason; empty when the child wrote nothing there.
std::string stderr_tail(const std::string& path) {
  auto text = read_text_file(path);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  const auto nl = text.rfind('\n');
  auto line = nl == std::string::npos ? text : text.substr(nl + 1);
  if (line.empty())
    return {};
  return "; stderr: " + (line.size() > 300 ? line.substr(0, 300) + "..." : line);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Waits (bounded by `until`) for the child to exit; its status, or nothing.
std::optional<int> wait_exit(child_set& children, pid_t pid,
                             std::chrono::steady_clock::time_point until) {
  while (true) {
    if (auto st = children.exit_status(pid))
      return st;
    if (std::chrono::steady_clock::now() >= until)
      return std::nullopt;
    std::this_thread::sleep_for(poll_step);
  }
}

// Reads the child's stdout into r.raw and its figures; the reason if it is
// not one JSON object.
void read_child_json(suite_result& r, const std::string& out_path, const std::string& err_path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(out_path, ec);
  if (ec || size > child_json_bytes_max) {
    r.reason = ec ? "no output file" : "output past " + std::to_string(child_json_bytes_max)
                                         + " bytes";
    return;
  }
  auto j = nlohmann::json::parse(read_text_file(out_path), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    r.reason = "stdout is not one JSON object" + stderr_tail(err_path);
    return;
  }
  r.raw = std::move(j);
  r.figures = extract_figures(r.name, r.raw);
}

suite_result run_child(const suite_bench& b, const suite_options& o, const std::string& dir) {
  suite_result r;
  r.name = b.name;
  const int bound_s = o.bound_s > 0 ? o.bound_s : (o.quick ? b.quick_bound_s : b.full_bound_s);
  std::vector<std::string> argv{self_executable(), "bench", r.name, "--json"};
  if (o.quick)
    argv.emplace_back("--quick");
  const auto out_path = dir + "/" + r.name + ".json";
  const auto err_path = dir + "/" + r.name + ".stderr";
  child_set children;
  const auto t0 = std::chrono::steady_clock::now();
  auto pid = children.spawn(argv, err_path, {}, out_path);
  if (!pid) {
    r.reason = "could not start: " + describe(pid.error());
    return r;
  }
  auto status = wait_exit(children, *pid, t0 + std::chrono::seconds{bound_s});
  if (!status) {
    // SIGTERM first: bench cluster's handler kills its nodes; the others
    // take the default action. ~child_set SIGKILLs whatever is left.
    children.signal(*pid, SIGTERM);
    if (!wait_exit(children, *pid, std::chrono::steady_clock::now() + term_grace))
      children.kill(*pid);
    r.seconds = seconds_since(t0);
    r.reason = "killed at its wall-time bound of " + std::to_string(bound_s)
               + " s (--bound-s sets it)" + stderr_tail(err_path);
    return r;
  }
  r.seconds = seconds_since(t0);
  read_child_json(r, out_path, err_path);
  if (*status != 0 && r.reason.empty())
    r.reason = "exited " + std::to_string(*status) + stderr_tail(err_path);
  r.ok = *status == 0 && r.reason.empty();
  return r;
}

std::string shell_quoted(const std::string& s) {
  if (!s.empty() && s.find_first_of(" \t'\"$\\`*?;&|<>()") == std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return out + "'";
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream f{path, std::ios::trunc};
  f << text;
  f.close();
  if (!f) {
    std::cerr << "agentgraph bench all: cannot write " << path << "\n";
    return false;
  }
  return true;
}

// The scratch directory: --out, or a fresh one under /tmp. Empty on failure.
std::string make_dir(const suite_options& o) {
  if (!o.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.out_dir, ec);
    return ec ? std::string{} : std::filesystem::absolute(o.out_dir).string();
  }
  char tmpl[] = "/tmp/agentgraph-bench-all-XXXXXX";
  return ::mkdtemp(tmpl) == nullptr ? std::string{} : std::string{tmpl};
}

std::vector<suite_result> run_all(const std::vector<suite_bench>& benches, const suite_options& o,
                                  const std::string& dir) {
  std::vector<suite_result> results;
  for (const auto& b : benches) {
    std::cerr << "agentgraph bench all: " << b.name << " ..." << std::flush;
    results.push_back(run_child(b, o, dir));
    const auto& r = results.back();
    std::cerr << (r.ok ? " ok, " : " FAILED, ") << format_figure(r.seconds) << " s"
              << (r.ok ? "" : ": " + r.reason) << "\n";
  }
  return results;
}

}  // namespace cmd_bench_suite_detail

int bench_suite(const args& argv) {
  using namespace cmd_bench_suite_detail;
  suite_options o;
  if (auto code = parse(argv, o))
    return *code;
  const auto selection = select_benches(o.only);
  if (!selection.error.empty()) {
    std::cerr << "agentgraph bench all: " << selection.error << "\n";
    return 2;
  }
  std::string command = "agentgraph bench all";
  for (const auto& a : argv)
    command += " " + shell_quoted(a);
  const auto dir = make_dir(o);
  if (dir.empty()) {
    std::cerr << "agentgraph bench all: cannot make the output directory\n";
    return 1;
  }
  install_child_reaper();
  auto machine = machine_at_start();
  const auto results = run_all(selection.benches, o, dir);
  machine.date_utc_end = utc_now();
  machine.load_average_end = load_average();
  const auto json = suite_json(machine, command, results);
  const auto markdown = suite_markdown(machine, command, results);
  std::cout << (o.json ? json.dump(2) + "\n" : suite_text(machine, command, results)) << std::flush;
  bool ok = true;
  if (!o.markdown_path.empty())
    ok = write_file(o.markdown_path, markdown) && ok;
  const auto failed = json["failed"].get<std::vector<std::string>>();
  if (!o.out_dir.empty()) {
    ok = write_file(dir + "/suite.json", json.dump(2) + "\n") && ok;
    ok = write_file(dir + "/suite.md", markdown) && ok;
  } else if (failed.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  } else {
    std::cerr << "agentgraph bench all: the children's output is kept in " << dir << "\n";
  }
  if (!failed.empty()) {
    std::string names;
    for (const auto& n : failed)
      names += (names.empty() ? "" : ", ") + n;
    std::cerr << "agentgraph bench all: failed: " << names << "\n";
  }
  return failed.empty() && ok ? 0 : 1;
}

}  // namespace agentgraph::cli
