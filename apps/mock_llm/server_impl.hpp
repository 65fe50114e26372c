// Private to the server: its state and the request pipeline, split from
// server.cpp (lifecycle, threads, routes) into handlers.cpp (one exchange).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <httplib.h>

#include "exchange.hpp"
#include "faults.hpp"
#include "scenario.hpp"
#include "server.hpp"
#include "stats.hpp"
#include "wire.hpp"

namespace agentgraph::mock_llm {

struct server::impl {
  impl(std::shared_ptr<const scenario> s, uint64_t seed_value) : scn(std::move(s)), seed(seed_value) {}

  const std::shared_ptr<const scenario> scn;
  const uint64_t seed;
  httplib::Server http;  // provides its own synchronization
  std::thread listener;
  uint16_t port = 0;
  int listen_fd = -1;  // the listening socket, set by start() before the listener runs
  mock_llm::stats counters;   // provides its own synchronization
  fault_state faults;         // provides its own synchronization
  std::atomic<uint64_t> next_seq{0};

  std::mutex stop_mutex;
  std::condition_variable stop_cv;
  bool stopping = false;  // guarded by stop_mutex

  // Sleeps `ms` unless the server stops first; false if it is stopping.
  // A condition variable rather than sleep_for, so stop() never waits out a
  // long latency or drip.
  bool wait_ms(uint32_t ms);

  void handle_chat(const chat_wire& wire, const std::string& route, const url_info& url,
                   const httplib::Request& req, httplib::Response& res);
  void handle_embeddings(const chat_wire& wire, embed_route format, const std::string& route, const url_info& url,
                         const httplib::Request& req, httplib::Response& res);
};

}  // namespace agentgraph::mock_llm
