// A simulation scenario (`agentgraph sim SCENARIO`): which nodes run, what
// tasks arrive, how each simulated LLM behaves, and which faults strike
// when. An INI file under the same schema machinery as node configs
// (runtime/config/), so every key is declared once with its bounds and help
// and `agentgraph sim --schema` prints them. The nodes themselves are a
// normal node config (`[sim] node_config`), loaded once per node with the
// cluster keys set per node: what runs is what a real node runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "runtime/config/config_schema.hpp"

namespace agentgraph::sim {

// A random quantity, drawn with the run's seeded generators
// (runtime/seeded_random.hpp, so a seed means the same draws everywhere).
// Written "fixed X", "uniform A B", "exp MEAN" or "lognormal MEDIAN SIGMA".
struct distribution {
  enum class kind : uint8_t { fixed, uniform, exponential, lognormal };
  kind k = kind::fixed;
  double a = 0;
  double b = 0;
  [[nodiscard]] double draw(std::mt19937_64& rng) const;
};
[[nodiscard]] caf::expected<distribution> parse_distribution(const std::string& text);

struct llm_model {
  std::string name;  // the node config's [provider.<name>] it stands in for
  distribution first_token_ms;     // time to the first token
  distribution per_token_ms;       // per completion token after it
  distribution completion_tokens;  // answer length
  double error_rate = 0;           // share of calls answered 500
  uint32_t requests_per_minute = 0;  // the vendor's limit: 429 beyond it; 0 none
  double input_price_per_mtok = 0;   // USD per million prompt tokens
  double output_price_per_mtok = 0;  // USD per million completion tokens
};

enum class fault_kind : uint8_t {
  kill,       // kill -9 of the nodes
  restart,    // a killed node starts again (new incarnation)
  freeze,     // SIGSTOP; thawed after `duration` if given
  thaw,       // SIGCONT
  partition,  // `nodes` against the rest; healed after `duration` if given
  heal,       // every partition ends
  outage,     // the provider refuses every call (503) for `duration`
  storm,      // the provider answers 429 to every call for `duration`
  slow,       // the provider's latency times `factor` for `duration`
  delay,      // links of `nodes` (every link when none) slower by delay +- jitter
  drop,       // links of `nodes` (every link when none) lose a share of segments
};
[[nodiscard]] const char* to_string(fault_kind k);

struct fault {
  std::string name;
  fault_kind kind = fault_kind::kill;
  std::chrono::milliseconds at{0};
  std::chrono::milliseconds duration{0};  // 0: until another fault undoes it
  std::vector<std::string> nodes;         // node names (n1, n2, ...)
  std::string provider;                   // outage, storm, slow
  double factor = 1;                      // slow
  std::chrono::milliseconds delay{0};     // delay: one way, per segment
  std::chrono::milliseconds jitter{0};    // delay: +- this much
  double drop = 0;                        // drop: share of segments lost (TCP resends them)
};

// A surge on top of the base arrival process.
struct burst {
  std::string name;
  std::chrono::milliseconds at{0};
  std::chrono::milliseconds duration{0};
  double rate = 0;  // extra tasks per second meanwhile
};

struct scenario {
  std::string origin;  // the file, for messages
  // [sim]
  std::string node_config;
  uint32_t nodes = 3;
  uint32_t seeds = 2;
  std::chrono::milliseconds duration{60'000};  // arrivals happen in [0, duration)
  std::chrono::milliseconds drain{30'000};     // then this long for answers
  std::chrono::milliseconds join_wait{30'000};
  std::chrono::milliseconds sample_interval{1'000};
  uint64_t seed = 1;
  uint32_t tasks_max = 1'000'000;
  // Keys k0..k<saved_keys-1> of the population `arrivals.agent` saved in
  // its store before the nodes start (passivated keys: each activates from
  // its saved state on its first task).
  uint64_t saved_keys = 0;
  // The nodes' gateways journal their tasks in one SQLite file they share
  // (the leader adopts a dead member's open tasks); false: unjournaled.
  bool journal = true;
  // [arrivals]
  std::string process = "poisson";  // poisson | uniform | trace
  double rate = 10;
  std::string agent;
  uint32_t keys = 0;  // > 0: agent is a population type; tasks go to keys k0..k<keys-1>
  std::string input = "task {id}";
  std::chrono::milliseconds deadline{60'000};
  std::string entry = "round_robin";  // round_robin | random
  // The client asks again, with the same task id, at another live node
  // when its node gave no answer within client_timeout (or died), at most
  // client_attempts times in all, within `deadline`.
  std::chrono::milliseconds client_timeout{10'000};
  uint32_t client_attempts = 3;
  std::string trace;                  // process = trace: "<ms> [<agent>]" per line
  std::vector<burst> bursts;
  std::vector<llm_model> llms;
  std::vector<fault> faults;
};

[[nodiscard]] const config_schema& scenario_schema();

// The chaos sweep's scenario: `sc` with its faults replaced by `count`
// drawn from `seed` (kill then restart, freeze with a thaw, a partition of
// a minority with a heal, a slow or lossy node's links, a 429 storm when
// the scenario models a vendor),
// each at a uniform time in the first 70 % of the arrivals and lasting
// 2-10 s. The same seed gives the same faults.
[[nodiscard]] scenario with_random_faults(scenario sc, uint64_t seed, uint32_t count);

// Reads and checks a scenario; errors name the file, section and key.
// `overrides` are "section.key=value" strings (the CLI's --set).
[[nodiscard]] caf::expected<scenario> load_scenario(const std::string& path,
                                                    const std::vector<std::string>& overrides);
[[nodiscard]] caf::expected<scenario> parse_scenario(const std::string& text,
                                                     const std::string& origin,
                                                     const std::vector<std::string>& overrides);

}  // namespace agentgraph::sim
