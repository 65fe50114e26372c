// Writes a realistic /metrics page to stdout for metrics_promtool.sh, which
// feeds it to Prometheus' own linter. It uses every feature that changes the
// output: all three types, a callback family, labels and help text that need
// escaping, NaN and infinities, the default latency buckets, and an
// overflowed family so the refusal counter is exposed too.
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "runtime/metrics/registry.hpp"

namespace metrics_sample {

using namespace agentgraph::metrics;

// Exits with a message when registration fails: the sample itself must be valid.
template <class T>
T* must(caf::expected<T*> e, const char* what) {
  if (!e) {
    std::fprintf(stderr, "metrics_sample: cannot register %s\n", what);
    std::exit(2);
  }
  return *e;
}

void fill(registry& reg) {
  auto* tasks = must(reg.add_counter("agentgraph_tasks_total",
                                     "Tasks accepted, by agent and outcome.\nOne line per "
                                     "\"outcome\"; see C:\\docs.",
                                     {"agent", "outcome"}),
                     "tasks");
  tasks->with({"planner", "ok"}).inc(41);
  tasks->with({"plan\"ner\\two\nlines", "error"}).inc();
  tasks->with({"caf\xc3\xa9", "ok"}).inc(2);  // UTF-8 label value
  auto* inflight =
      must(reg.add_gauge("agentgraph_requests_inflight", "Requests in flight.", {"provider"}),
           "inflight");
  inflight->with({"mock"}).set(3);
  inflight->with({"nan"}).set(std::numeric_limits<double>::quiet_NaN());
  inflight->with({"neg_inf"}).set(-std::numeric_limits<double>::infinity());
  inflight->with({"tiny"}).set(1e-300);
  auto* latency =
      must(reg.add_histogram("agentgraph_llm_request_duration_seconds", "LLM request latency.",
                             {"provider"}, latency_buckets_seconds()),
           "latency");
  for (double v : {0.003, 0.2, 1.5, 45.0, 500.0})
    latency->with({"mock"}).observe(v);
  latency->with({"openai"}).observe(0.75);
  auto* plain = must(
      reg.add_histogram("agentgraph_prompt_tokens", "Prompt size.", {}, {64, 512, 4096}), "tokens");
  plain->with({}).observe(100);
  auto err = reg.add_callback(
      "agentgraph_mailbox_depth", "Messages queued per actor.", {"actor"}, callback_type::gauge,
      [] {
        return std::vector<callback_sample>{{{"agent.planner"}, 4}, {{"tool.http_get"}, 0}};
      });
  if (err) {
    std::fprintf(stderr, "metrics_sample: cannot register the callback family\n");
    std::exit(2);
  }
}

// Past series_max: the overflow series and the refusal counter appear.
void overflow(registry& reg) {
  auto* calls =
      must(reg.add_counter("agentgraph_tool_calls_total", "Tool calls.", {"tool"}), "calls");
  for (int i = 0; i < 5; ++i)
    calls->with({"tool" + std::to_string(i)}).inc();
}

}  // namespace metrics_sample

int main() {
  agentgraph::metrics::registry reg{
      agentgraph::metrics::registry_limits{.families_max = 32, .series_max = 4}};
  metrics_sample::fill(reg);
  metrics_sample::overflow(reg);
  std::string text = reg.scrape();
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}
