// The mock LLM server: OpenAI, Anthropic, Gemini and OpenRouter wire formats
// over real HTTP on 127.0.0.1, answering from a scenario, with seeded fault
// injection and an admin endpoint (GET /_mock/stats, POST /_mock/reset).
//
// C++ tests start one in-process on a free port:
//   auto s = mock_llm::server::start({scenario}, &error);   // null on failure
//   httplib::Client c{"127.0.0.1", s->port()};  ...  s->stop();
// start() and stop() are called from one thread; the server itself serves
// from its own bounded pool of worker threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "scenario.hpp"

namespace agentgraph::mock_llm {

struct server_options {
  std::shared_ptr<const scenario> scn;
  std::optional<uint64_t> seed;  // overrides the scenario's seed
  uint16_t port = 0;             // 0: the kernel picks a free port
};

class server {
 public:
  struct impl;

  // Binds 127.0.0.1 (never another interface: the mock has no auth worth
  // the name) and serves on a background thread. Returns null and fills
  // *error when the port cannot be bound or the scenario is missing.
  [[nodiscard]] static std::unique_ptr<server> start(server_options opts, std::string* error);

  explicit server(std::unique_ptr<impl> p);
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  ~server();  // stops

  [[nodiscard]] uint16_t port() const;
  [[nodiscard]] std::string base_url() const;  // "http://127.0.0.1:PORT"
  [[nodiscard]] nlohmann::json stats_json() const;
  // stats::wait_count on this server's counters (stats.hpp).
  [[nodiscard]] bool wait_stat(std::string_view group, std::string_view key, uint64_t n,
                               std::chrono::milliseconds timeout_max) const;

  // Stops accepting, interrupts latency waits and drips, joins every thread.
  // Idempotent.
  void stop();

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace agentgraph::mock_llm
