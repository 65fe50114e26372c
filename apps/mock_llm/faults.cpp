#include "faults.hpp"

#include <algorithm>
#include <cmath>

namespace agentgraph::mock_llm {

uint32_t sample_latency_ms(const latency_spec& l, request_rng& rng) {
  double ms = l.a_ms;
  if (l.kind == latency_kind::uniform) {
    ms = l.a_ms + (l.b_ms - l.a_ms) * rng.uniform01();
  } else if (l.kind == latency_kind::normal) {
    // Box-Muller; 1 - u keeps the logarithm's argument in (0, 1].
    const double u1 = 1.0 - rng.uniform01();
    const double u2 = rng.uniform01();
    ms = l.a_ms + l.b_ms * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }
  return static_cast<uint32_t>(std::clamp(ms, 0.0, static_cast<double>(latency_ms_max)));
}

fault_decision fault_state::decide(const resolved_faults& f, request_rng& rng) {
  fault_decision d;
  d.latency_ms = sample_latency_ms(f.latency, rng);
  d.drip_ms = f.drip_ms;
  std::lock_guard lock{mutex_};
  for (size_t i = 0; i < f.inject.size(); ++i) {
    const injection& in = f.inject[i];
    const uint32_t reached = ++reached_[{f.inject_owner, i}];
    // Draw even when `first` decides, so later draws do not shift with it.
    const double u = rng.uniform01();
    if (reached <= in.first || u < in.rate) {
      d.fault = in;
      break;
    }
  }
  return d;
}

void fault_state::reset() {
  std::lock_guard lock{mutex_};
  reached_.clear();
}

}  // namespace agentgraph::mock_llm
