// Writes the /metrics page of a REAL runtime to stdout for
// metrics_promtool.sh: it builds the Runtime the main job's config declares
// (argv[1], normally a copy of configs/examples/research.ini), runs the main
// job's task on the file's first agent, shuts the runtime down (so the memory
// snapshot and every actor's last figures are in) and prints the scrape.
// Unlike metrics_sample, nothing here is synthetic: the page is what an
// operator's Prometheus would read after that task.
#include <cstdio>
#include <string>

#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/host/runtime_client.hpp"
#include "runtime/error.hpp"

namespace metrics_runtime_sample {

constexpr const char* task = "How many widgets fit in the crate? Use the spec file.";

int run(const std::string& config_path) {
  using namespace agentgraph;
  auto cfg = load_node_config(config_path, {}, {});
  if (!cfg) {
    std::fprintf(stderr, "metrics_runtime_sample: %s\n", describe(cfg.error()).c_str());
    return 2;
  }
  auto rt = runtime_builder::from_config(*cfg);
  if (!rt) {
    std::fprintf(stderr, "metrics_runtime_sample: %s\n", describe(rt.error()).c_str());
    return 2;
  }
  auto registry = (*rt)->metrics_ptr();
  // The first agent of the file gets the task, as with `agentgraph run`.
  auto result = runtime_client{**rt}.run(cfg->agents.front().name, {"promtool-1", task, {}});
  if (!result) {
    std::fprintf(stderr, "metrics_runtime_sample: task failed: %s\n",
                 describe(result.error()).c_str());
    return 1;
  }
  rt->reset();  // shuts down: every actor has stopped and recorded its last figures
  std::fputs(registry->scrape().c_str(), stdout);
  return 0;
}

}  // namespace metrics_runtime_sample

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: metrics_runtime_sample CONFIG\n");
    return 2;
  }
  return metrics_runtime_sample::run(argv[1]);
}
