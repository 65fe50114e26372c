// A writer child process for the kill -9 clauses of the storage contracts
// (checkpoint_contract.hpp, journal_contract_kill.hpp): it writes in a loop
// and prints one line on stdout after each write returned (durable); the
// test reads the lines, kills it with SIGKILL at a random moment, reads the
// lines already in the pipe, and checks that every reported write is there.
#pragma once

#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace agentgraph_test {

class writer_process {
 public:
  // Starts argv[0] with `args`, its stdout a pipe to us.
  explicit writer_process(std::vector<std::string> args) : name_(args.at(0)) {
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0)
      close(fds[0]);
    REQUIRE_MESSAGE(rc == 0, "cannot start " << name_);
    out_ = fds[0];
  }

  writer_process(const writer_process&) = delete;
  writer_process& operator=(const writer_process&) = delete;

  ~writer_process() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0)
      close(out_);
  }

  // Reads lines until `count` have come (at most 60 s); fails the test case
  // if the writer exits or is too slow. Returns them.
  std::vector<std::string> read_lines(size_t count) {
    std::vector<std::string> lines;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{60};
    while (lines.size() < count && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 1'000) <= 0)
        continue;
      char chunk[256];
      auto n = read(out_, chunk, sizeof chunk);
      REQUIRE_MESSAGE(n > 0, name_ << " exited early (see its stderr)");
      take_lines(std::string_view{chunk, static_cast<size_t>(n)}, lines);
    }
    REQUIRE_MESSAGE(lines.size() >= count, name_ << " reported " << lines.size()
                                                 << " writes in 60 s");
    return lines;
  }

  // Waits up to 20 ms (a random moment inside a write), sends SIGKILL,
  // reaps the writer and returns the lines it printed before it died (they
  // were already in the pipe: those writes returned too).
  std::vector<std::string> kill_9_and_drain(std::mt19937& rng) {
    std::this_thread::sleep_for(std::chrono::microseconds{rng() % 20'000});
    REQUIRE(kill(pid_, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(pid_, &status, 0) == pid_);
    pid_ = -1;
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
    std::vector<std::string> lines;
    char rest[4096];
    for (ssize_t n; (n = read(out_, rest, sizeof rest)) > 0;)
      take_lines(std::string_view{rest, static_cast<size_t>(n)}, lines);
    return lines;
  }

 private:
  // Appends the complete lines of `chunk` (a partial one waits for the next).
  void take_lines(std::string_view chunk, std::vector<std::string>& lines) {
    buffer_.append(chunk);
    for (size_t nl; (nl = buffer_.find('\n')) != std::string::npos; buffer_.erase(0, nl + 1))
      lines.push_back(buffer_.substr(0, nl));
  }

  const std::string name_;
  pid_t pid_ = -1;
  int out_ = -1;  // the read end of the writer's stdout
  std::string buffer_;
};

}  // namespace agentgraph_test
