// The simulated LLM vendors of a run. Every HTTP provider of a simulated
// node keeps its real pipeline (admission, rate limiter, breaker, retries,
// codec); only the HTTP exchange below it is replaced (net::http_transport),
// and the answer arrives after a latency drawn from the scenario's model,
// as a delayed message on the node's virtual clock.
//
// llm_service is the vendors' side, shared by every node of the run (a
// vendor's rate limit counts the whole cluster's calls): latency and token
// draws, 500s at error_rate, 429s past requests_per_minute, and the fault
// windows (outage: 503; storm: 429; slow: latency times a factor). One
// seeded generator per model, drawn in event order, so a run replays.
//
// Not simulated yet, and refused with a clear error: streamed calls,
// embeddings, tool calls in answers, wire formats other than OpenAI's
// (the request must come from an openai, openrouter or openai_compatible
// provider).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/sec.hpp>

#include "actors/sim/scenario.hpp"
#include "net/http_client.hpp"

namespace agentgraph::sim {

// The URL host a simulated provider is pointed at: <provider>.llm.sim.
[[nodiscard]] std::string llm_base_url(const std::string& provider);

struct llm_figures {
  uint64_t calls = 0;
  uint64_t answered = 0;      // 200 delivered to the node (tokens and cost count these)
  uint64_t errors = 0;        // 500 at error_rate
  uint64_t rate_limited = 0;  // 429: requests_per_minute or a storm
  uint64_t unavailable = 0;   // 503: an outage
  uint64_t refused = 0;       // not simulated (streams, embeddings, unknown provider)
  // Prompt tokens are estimated as the request body's bytes / 4 (JSON
  // included), as providers estimate before the usage comes back.
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  double cost_usd = 0;
  std::vector<uint64_t> calls_by_node;  // index: node number - 1
  // Each time the vendor went from serving calls to refusing them (429 or
  // 503) or back, in ms of world time (the runner moves them to the run's
  // time): when a provider fault was felt and when it was over
  // (sim_report's time_fault). A 500 at error_rate still counts as served.
  // At most served_changes_max; past it changes_cut.
  std::vector<std::pair<double, bool>> served_changes;
  bool changes_cut = false;
};

constexpr size_t served_changes_max = 10'000;

// Completion tokens one simulated answer has at most (a draw beyond it is
// cut): the per-token latency is summed token by token.
constexpr uint64_t completion_tokens_max = 100'000;

// What one call gets: the response or a transport failure, and when.
struct llm_answer {
  caf::timespan after{0};
  net::http_result result{caf::make_error(caf::sec::runtime_error), net::transport_error::other};
  // What the vendor bills once the answer reaches the node (a call to a
  // node killed meanwhile, or cancelled, is never billed).
  std::string provider;
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  double cost_usd = 0;
  // A streamed request: the response's body goes to on_data (the whole
  // stream at once, when the answer is complete), as a real stream's would.
  bool streamed = false;
};

class llm_service {
 public:
  llm_service(std::vector<llm_model> models, uint64_t seed);

  // A call made at world time `now` by node `node` (1-based).
  llm_answer call(const net::http_request& req, caf::timespan now, size_t node);

  void set_outage(const std::string& provider, bool on);
  void set_storm(const std::string& provider, bool on);
  void set_slow(const std::string& provider, double factor);
  // Bills a 200 answer that reached its node.
  void delivered(const llm_answer& a);

  [[nodiscard]] const std::map<std::string, llm_figures>& figures() const { return figures_; }

 private:
  struct vendor {
    llm_model model;
    std::mt19937_64 rng;
    std::deque<caf::timespan> window;  // call times within the last minute
    bool outage = false;
    bool storm = false;
    double slow = 1;
  };
  std::map<std::string, vendor> vendors_;
  std::map<std::string, llm_figures> figures_;
};

// One node's HTTP transport onto the service. bind() once the node's actor
// system exists, before its first call.
class sim_transport final : public net::http_transport {
 public:
  sim_transport(std::shared_ptr<llm_service> service, size_t node);
  ~sim_transport() override;

  void bind(caf::actor_system& sys);
  // Completes every open call with `cancelled` (the contract: each
  // accepted call completes once) and stops the endpoint, while the node's
  // actor system still runs (before its Runtime goes; providers may hold
  // the transport longer). Later submits are refused.
  void unbind();

  caf::expected<net::request_id> submit(net::http_request req, net::http_handlers h) override;
  void cancel(net::request_id id) override;

  // Calls not completed yet (a frozen node's stay).
  [[nodiscard]] size_t pending() const;

  struct state;

 private:
  std::shared_ptr<state> st_;
};

}  // namespace agentgraph::sim
