// Decides, per request, which latency and which injected fault it gets. The
// random draws come from the request's own seeded stream (request_rng), so a
// given seed and request order always give the same faults.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "scenario.hpp"
#include "text.hpp"

namespace agentgraph::mock_llm {

struct fault_decision {
  uint32_t latency_ms = 0;
  uint32_t drip_ms = 0;
  std::optional<injection> fault;
};

[[nodiscard]] uint32_t sample_latency_ms(const latency_spec& l, request_rng& rng);

class fault_state {
 public:
  [[nodiscard]] fault_decision decide(const resolved_faults& f, request_rng& rng);
  void reset();

 private:
  std::mutex mutex_;
  // Requests that reached injection (owner rule, index): drives `first`.
  // At most (rules_max + 1) * injections_max entries.
  std::map<std::pair<int, size_t>, uint32_t> reached_;  // guarded by mutex_
};

}  // namespace agentgraph::mock_llm
