// `agentgraph bench cluster`: the child processes (bench_cluster.hpp).
// Three guards keep a node from outliving the bench: PR_SET_PDEATHSIG
// (the kernel SIGKILLs the child when this process dies, kill -9
// included), ~child_set on every return path, and a SIGINT/SIGTERM
// handler that SIGKILLs every child listed in a fixed table.
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "apps/cli/bench_cluster.hpp"
#include "runtime/error.hpp"

extern char** environ;

namespace agentgraph::cli {

namespace bench_cluster_procs_detail {

// Every live child of every child_set, for the signal handler: 0 is a free
// slot. Only async-signal-safe operations touch it from the handler.
std::atomic<pid_t> registry[bench_children_max];

void remember(pid_t pid) {
  for (auto& slot : registry) {
    pid_t free = 0;
    if (slot.compare_exchange_strong(free, pid))
      return;
  }
}

void forget(pid_t pid) {
  for (auto& slot : registry) {
    pid_t mine = pid;
    slot.compare_exchange_strong(mine, 0);
  }
}

extern "C" void reap_and_exit(int) {
  for (auto& slot : registry) {
    const pid_t p = slot.load();
    if (p > 0) {
      ::kill(p, SIGCONT);
      ::kill(p, SIGKILL);
    }
  }
  _exit(130);
}

}  // namespace bench_cluster_procs_detail

child_set::child_set() = default;

child_set::~child_set() { kill_all(); }

caf::expected<pid_t> child_set::spawn(const std::vector<std::string>& argv,
                                      const std::string& log_path,
                                      const std::map<std::string, std::string>& env_add,
                                      const std::string& stdout_path) {
  using namespace bench_cluster_procs_detail;
  if (pids_.size() >= bench_children_max)
    return make_error(errc::limit_exceeded, "bench cluster: more than "
                                              + std::to_string(bench_children_max) + " children");
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_text;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv{*e};
    if (!env_add.contains(std::string{kv.substr(0, kv.find('='))}))
      env_text.emplace_back(kv);
  }
  for (const auto& [k, v] : env_add)
    env_text.push_back(k + "=" + v);
  std::vector<char*> env;
  for (auto& kv : env_text)
    env.push_back(kv.data());
  env.push_back(nullptr);
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const int out_fd = stdout_path.empty()
                       ? -1
                       : ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0 || null_fd < 0 || (!stdout_path.empty() && out_fd < 0)) {
    for (int fd : {log_fd, null_fd, out_fd})
      if (fd >= 0)
        ::close(fd);
    return make_error(errc::io_error, "bench: cannot open " + log_path + " or " + stdout_path);
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)  // the parent died before prctl
      _exit(127);
    // The parent blocks no signals, but reset in case a caller did.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(out_fd >= 0 ? out_fd : null_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execve(args[0], args.data(), env.data());
    _exit(127);
  }
  ::close(log_fd);
  ::close(null_fd);
  if (out_fd >= 0)
    ::close(out_fd);
  if (pid < 0)
    return make_error(errc::io_error, "bench cluster: fork failed");
  pids_.push_back(pid);
  remember(pid);
  return pid;
}

bool child_set::signal(pid_t pid, int sig) {
  if (std::find(pids_.begin(), pids_.end(), pid) == pids_.end())
    return false;
  return ::kill(pid, sig) == 0;
}

bool child_set::running(pid_t pid) {
  if (std::find(pids_.begin(), pids_.end(), pid) == pids_.end())
    return false;
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == 0;
}

std::optional<int> child_set::exit_status(pid_t pid) {
  auto it = std::find(pids_.begin(), pids_.end(), pid);
  if (it == pids_.end())
    return std::nullopt;
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) != pid)
    return std::nullopt;
  bench_cluster_procs_detail::forget(pid);
  pids_.erase(it);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void child_set::kill(pid_t pid) {
  auto it = std::find(pids_.begin(), pids_.end(), pid);
  if (it == pids_.end())
    return;
  ::kill(pid, SIGCONT);  // a stopped child dies of SIGKILL too; this only tidies
  ::kill(pid, SIGKILL);
  int status = 0;
  // Bounded: SIGKILL cannot be caught; 5 s of polls, then give up on the reap.
  for (int i = 0; i < 500 && ::waitpid(pid, &status, WNOHANG) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  bench_cluster_procs_detail::forget(pid);
  pids_.erase(it);
}

void child_set::kill_all() {
  while (!pids_.empty())
    kill(pids_.back());
}

void install_child_reaper() {
  struct sigaction sa {};
  sa.sa_handler = bench_cluster_procs_detail::reap_and_exit;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

std::string read_text_file(const std::string& path) {
  std::ifstream in{path};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string self_executable() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string{} : p.string();
}

uint16_t free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0
      && ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds bound,
                std::chrono::milliseconds step) {
  const auto end = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < end) {
    if (pred())
      return true;
    std::this_thread::sleep_for(step);
  }
  return pred();
}

}  // namespace agentgraph::cli
