// Shared by the cache_*_test.cpp files: a virtual clock (TTL tests never
// sleep), exact counter reads, a lookup driven to completion from a plain
// thread, and real Redis servers: the one tools/test.sh starts for
// the run (AGENTGRAPH_TEST_REDIS_URL) and private ones a test may kill.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include "runtime/cache/multi_level_cache.hpp"
#include "runtime/metrics/series_ref.hpp"

extern char** environ;

namespace cache_test_support {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Read on whichever thread calls the cache, moved by the test.
struct virtual_clock {
  std::shared_ptr<std::atomic<int64_t>> ms = std::make_shared<std::atomic<int64_t>>(0);
  [[nodiscard]] std::function<clock_type::time_point()> fn() const {
    return [ms = ms] { return clock_type::time_point{} + std::chrono::milliseconds{ms->load()}; };
  }
  void advance(std::chrono::milliseconds d) const { *ms += d.count(); }
};

// The value of agentgraph_cache_requests_total and friends; 0 when absent.
inline uint64_t counter(agentgraph::metrics::registry& reg, const std::string& name,
                        std::vector<std::string> labels, std::vector<std::string> values) {
  auto* c = agentgraph::metrics::counter_of(&reg, name, "test read", std::move(labels),
                                            std::move(values));
  return c == nullptr ? 0 : c->value();
}

inline uint64_t requests(agentgraph::metrics::registry& reg, const char* level,
                         const char* outcome, const char* user = "tool") {
  return counter(reg, "agentgraph_cache_requests_total", {"user", "level", "outcome"},
                 {user, level, outcome});
}

inline uint64_t fills(agentgraph::metrics::registry& reg, const char* level) {
  return counter(reg, "agentgraph_cache_fills_total", {"user", "level"}, {"tool", level});
}

// A lookup that may go to L3, completed on this thread: what an actor does
// with its message, without an actor.
inline std::optional<std::string> lookup_sync(agentgraph::cache::multi_level_cache& c,
                                              const std::string& key) {
  auto done = std::make_shared<std::promise<agentgraph::cache::l3_reply>>();
  auto reply = done->get_future();
  auto r = c.lookup(key, [done](agentgraph::cache::l3_reply rep) { done->set_value(std::move(rep)); });
  if (r.state == agentgraph::cache::found::hit)
    return r.value;
  if (r.state == agentgraph::cache::found::miss)
    return std::nullopt;
  REQUIRE(reply.wait_for(10s) == std::future_status::ready);
  return c.complete(key, reply.get());
}

// A put to L3 waited for: true when Redis stored it.
inline bool redis_put_sync(agentgraph::cache::redis_cache& l3, const std::string& key,
                           const std::string& value, std::chrono::milliseconds ttl) {
  auto done = std::make_shared<std::promise<bool>>();
  auto written = done->get_future();
  if (!l3.put(key, value, ttl, [done](bool ok) { done->set_value(ok); }))
    return false;
  REQUIRE(written.wait_for(10s) == std::future_status::ready);
  return written.get();
}

// The run's Redis (tools/test.sh). A test that needs it fails, loudly,
// when it is missing: it is never skipped silently.
inline std::string shared_redis_url() {
  const char* url = std::getenv("AGENTGRAPH_TEST_REDIS_URL");
  REQUIRE_MESSAGE((url != nullptr && *url != '\0'),
                  "AGENTGRAPH_TEST_REDIS_URL is not set: run the tests through tools/test.sh "
                  "(it starts a throwaway redis-server) or export "
                  "AGENTGRAPH_TEST_REDIS_URL=redis://127.0.0.1:PORT");
  return url;
}

// Keys unique to this process and test, so runs sharing a server never meet.
inline std::string unique_prefix(const std::string& test) {
  return "agentgraph-test:" + std::to_string(::getpid()) + ":" + test + ":";
}

// A port free right now on 127.0.0.1 (the kernel picks it).
inline uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline bool port_accepts(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// A TCP listener that never accepts nor answers: connects succeed (the
// kernel's backlog takes them) and every command waits for its timeout.
class silent_listener {
 public:
  silent_listener() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(fd_, 64) == 0);
    socklen_t len = sizeof(addr);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
  }
  ~silent_listener() { ::close(fd_); }
  silent_listener(const silent_listener&) = delete;
  silent_listener& operator=(const silent_listener&) = delete;

  [[nodiscard]] std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_;
  uint16_t port_ = 0;
};

// A redis-server of this test's own, so the test may kill it. Started with
// the same flags as tools/test.sh: loopback, no persistence.
class private_redis {
 public:
  private_redis() : port_(free_port()) { start(); }
  ~private_redis() { stop(); }
  private_redis(const private_redis&) = delete;
  private_redis& operator=(const private_redis&) = delete;

  void start() {
    REQUIRE(pid_ == 0);
    const std::string port = std::to_string(port_);
    const char* argv[] = {"redis-server", "--port", port.c_str(), "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "no", "--daemonize", "no",
                          "--loglevel", "warning", "--logfile", "/dev/null", nullptr};
    int rc = ::posix_spawnp(&pid_, "redis-server", nullptr, nullptr, const_cast<char**>(argv),
                            environ);
    REQUIRE_MESSAGE(rc == 0, "cannot start redis-server (is it installed? tools/setup.sh)");
    for (int i = 0; i < 200 && !port_accepts(port_); ++i)  // up to 2 s
      std::this_thread::sleep_for(10ms);
    REQUIRE_MESSAGE(port_accepts(port_), "redis-server did not listen on " << port_);
  }

  void stop() {
    if (pid_ == 0)
      return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }

  [[nodiscard]] std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

 private:
  uint16_t port_;
  pid_t pid_ = 0;
};

}  // namespace cache_test_support
