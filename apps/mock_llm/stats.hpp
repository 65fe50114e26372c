// Counters the admin endpoint GET /_mock/stats reports, so tests can assert
// how many requests, retries and faults reached the server. Safe for
// concurrent use; every key comes from a bounded set (route names, HTTP
// statuses, fault kinds, rule names), so the maps stay small.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace agentgraph::mock_llm {

class stats {
 public:
  // Adds one to counter `key` of `group` ("routes", "faults", "rules", "statuses", ...).
  void add(std::string_view group, std::string_view key);
  void add_connection();
  void add_request();

  // {"requests": N, "connections": C, "routes": {...}, "faults": {...}, ...}
  [[nodiscard]] nlohmann::json to_json() const;
  [[nodiscard]] uint64_t count(std::string_view group, std::string_view key) const;
  // Blocks until counter `key` of `group` reaches `n` or `timeout_max`
  // passes; whether it did. Lets a test act once the server has reached a
  // point (a request inside its latency wait: "waits"/"started") instead of
  // sleeping and hoping.
  [[nodiscard]] bool wait_count(std::string_view group, std::string_view key, uint64_t n,
                                std::chrono::milliseconds timeout_max) const;
  void reset();

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;  // notified by add()
  uint64_t requests_ = 0;     // guarded by mutex_
  uint64_t connections_ = 0;  // guarded by mutex_
  std::map<std::string, std::map<std::string, uint64_t, std::less<>>, std::less<>> groups_;  // guarded by mutex_
};

}  // namespace agentgraph::mock_llm
