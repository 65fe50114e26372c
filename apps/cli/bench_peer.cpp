// `agentgraph bench llm`, the peer: the official `openai` npm SDK, run as
// `node bench_openai.mjs` in a child process against the same mock. The
// script times its own requests (process.hrtime) with the same closed loop
// and the same percentile rule, and prints one JSON line. If node or the SDK
// is missing the row says so; no figure is ever made up. The child-process
// helpers here (bench_child.hpp) serve `bench workflow` too.
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/cli/bench_child.hpp"
#include "apps/cli/bench_llm.hpp"

extern char** environ;

namespace agentgraph::cli {

bool is_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string find_node() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs{path == nullptr ? "" : path};
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const auto candidate = (dir.empty() ? "." : dir) + "/node";
    if (is_file(candidate) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return {};
}

int run_captured(const std::vector<std::string>& argv, std::string& out) {
  int fds[2];
  if (::pipe(fds) != 0)
    return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return -1;
  }
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    if (out.size() < peer_output_bytes_max)
      out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid)
    return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string peer_skip_reason(const std::string& node, const std::string& peers_dir,
                             const std::string& script, const std::string& package) {
  if (node.empty())
    return "node is not on PATH (tools/setup.sh installs nodejs and npm)";
  if (!is_file(peers_dir + "/" + script))
    return peers_dir + "/" + script + " is missing (see --peers-dir)";
  if (!is_file(peers_dir + "/node_modules/" + package + "/package.json"))
    return package + " is not installed in " + peers_dir + "/node_modules (npm ci --prefix "
           + peers_dir + ")";
  return {};
}

peer_result run_openai_sdk(const std::string& peers_dir, const bench_target& t,
                           uint32_t concurrency, uint64_t warmup, uint64_t count) {
  peer_result r;
  const auto node = find_node();
  r.skipped = peer_skip_reason(node, peers_dir, "bench_openai.mjs", "openai");
  if (!r.skipped.empty())
    return r;
  const auto& last = t.request.messages.back();
  std::string out;
  const int rc = run_captured(
    {node, peers_dir + "/bench_openai.mjs", "--base-url", t.base_url + "/v1", "--key", t.api_key,
     "--model", t.model, "--prompt", last.content, "--max-tokens",
     std::to_string(t.request.max_tokens), "--concurrency", std::to_string(concurrency),
     "--warmup", std::to_string(warmup), "--requests", std::to_string(count)},
    out);
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (rc != 0 || j.is_discarded() || !j.is_object() || !j.contains("requests")) {
    r.failed = "node exited " + std::to_string(rc) + ", output: " + out.substr(0, 300);
    return r;
  }
  row_figures f;
  f.requests = j.value("requests", uint64_t{0});
  f.seconds = j.value("seconds", 0.0);
  f.p50_ms = j.value("p50_ms", 0.0);
  f.p99_ms = j.value("p99_ms", 0.0);
  f.errors = j.value("errors", uint64_t{0});
  f.first_error = j.value("first_error", std::string{});
  r.figures = f;
  return r;
}

}  // namespace agentgraph::cli
