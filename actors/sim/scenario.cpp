#include "actors/sim/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "runtime/config/config_binding.hpp"
#include "runtime/config/ini_parser.hpp"
#include "runtime/error.hpp"
#include "runtime/file_open.hpp"
#include "runtime/seeded_random.hpp"

namespace agentgraph::sim {

using namespace std::chrono_literals;

namespace scenario_detail {

constexpr uint64_t scenario_bytes_max = 1 << 20;
constexpr uint32_t nodes_max = 64;
// Rows of the time series one run may have ((duration + drain) /
// sample_interval).
constexpr uint64_t samples_max = 1'000'000;
constexpr double rate_max = 1'000'000;
constexpr double pi = 3.14159265358979323846;
// Every draw is clamped here: a distribution's tail must not stall a run
// (a lognormal with a large sigma reaches 1e30 now and then).
constexpr double draw_max = 1e9;

const char* const fault_words[] = {"kill", "restart", "freeze", "thaw",  "partition", "heal",
                                   "outage", "storm", "slow", "delay", "drop"};

struct sim_fields {
  std::vector<field<scenario>> sim;
  std::vector<field<scenario>> arrivals;
  std::vector<field<llm_model>> llm;
  std::vector<field<fault>> fault_keys;
  std::vector<field<burst>> burst_keys;
};

const sim_fields& fields() {
  static const sim_fields f = [] {
    sim_fields out;
    const scenario d;
    using S = scenario;
    out.sim = {
      bind(required_key(path_key("node_config", "",
                                 "The node config every simulated node runs (a normal "
                                 "`agentgraph node` config with a [cluster] section); the "
                                 "simulator sets node_id, listen, port and seeds per node.")),
           &S::node_config),
      bind(uint_key("nodes", d.nodes, 1, nodes_max, "Nodes n1..nN at the start."), &S::nodes),
      bind(uint_key("seeds", d.seeds, 1, nodes_max,
                    "The first this many nodes are the cluster's seed nodes."),
           &S::seeds),
      bind(duration_key("duration", d.duration, 1ms, 24h * 30,
                        "Simulated time during which tasks arrive."),
           &S::duration),
      bind(duration_key("drain", d.drain, 0ms, 24h,
                        "Simulated time after the last arrival for answers to come."),
           &S::drain),
      bind(duration_key("join_wait", d.join_wait, 1s, 1h,
                        "Simulated time the nodes have to form the cluster before tasks "
                        "arrive; past it the run fails."),
           &S::join_wait),
      bind(duration_key("sample_interval", d.sample_interval, 10ms, 24h,
                        "Width of one row of the report's time series."),
           &S::sample_interval),
      bind(uint_key("seed", d.seed, 0, UINT64_MAX,
                    "Seed of every random draw (arrivals, LLM latencies, jitter); "
                    "--seed overrides it."),
           &S::seed),
      bind(uint_key("tasks_max", d.tasks_max, 1, 100'000'000,
                    "Arrivals beyond this many are not generated (a bound on one run)."),
           &S::tasks_max),
      bind(uint_key("saved_keys", d.saved_keys, 0, 100'000'000,
                    "Keys k0..k<N-1> of the population arrivals.agent saved (passivated) in "
                    "the nodes' shared store before they start; needs arrivals.keys."),
           &S::saved_keys),
      bind(bool_key("journal", d.journal,
                    "The nodes' gateways journal every task in one SQLite file they share "
                    "(<data dir>/journal-shared.sqlite, in place of the node config's "
                    "journal_path or journal_url): a task is stored before it runs, its "
                    "answer once (first writer wins), and the leader adopts a dead "
                    "member's open tasks, so a client that asks again elsewhere gets the "
                    "one answer. false: tasks are not journaled, and one asked again runs "
                    "again."),
           &S::journal),
    };
    out.arrivals = {
      bind(enum_key("process", d.process, {"poisson", "uniform", "trace"},
                    "poisson: exponential gaps at `rate`; uniform: one task every 1/rate s; "
                    "trace: the arrival times of the `trace` file."),
           &S::process),
      bind(double_key("rate", d.rate, 0.001, rate_max, "Tasks per simulated second."), &S::rate),
      bind(required_key(string_key("agent", "",
                                   "The agent, group or population type tasks go to.")),
           &S::agent),
      bind(uint_key("keys", d.keys, 0, 100'000'000,
                    "More than 0: `agent` is a population type and each task goes to a "
                    "key k0..k<keys-1> drawn uniformly."),
           &S::keys),
      bind(string_key("input", d.input, "Task input; {id} becomes the task's number."),
           &S::input),
      bind(duration_key("deadline", d.deadline, 1ms, 24h,
                        "A task not answered within this is counted as timed out."),
           &S::deadline),
      bind(enum_key("entry", d.entry, {"round_robin", "random"},
                    "Which live node a task enters at (a client-side load balancer that "
                    "skips nodes it knows are dead or frozen)."),
           &S::entry),
      bind(duration_key("client_timeout", d.client_timeout, 1ms, 24h,
                        "The client asks again, with the same task id, at another live node "
                        "when its node gave no answer within this (a frozen node); a killed "
                        "node's reset connection makes it ask again at once. Below deadline."),
           &S::client_timeout),
      bind(uint_key("client_attempts", d.client_attempts, 1, 100,
                    "Submissions of one task at most, the first included, all within "
                    "`deadline`; 1: the client never asks again."),
           &S::client_attempts),
      bind(path_key("trace", d.trace,
                    "process = trace: one arrival per line, \"<ms since start> [agent]\"."),
           &S::trace),
    };
    const llm_model m;
    using L = llm_model;
    auto dist_key = [](const char* name, const char* def, const char* help) {
      // Checked and parsed after binding (parse_distribution).
      return field<L>{string_key(name, def, help), [](L&, const config_value&) {}};
    };
    out.llm = {
      dist_key("first_token_ms", "lognormal 400 0.3",
               "Time to the first token, ms: fixed X | uniform A B | exp MEAN | "
               "lognormal MEDIAN SIGMA."),
      dist_key("per_token_ms", "fixed 15", "Time per completion token after the first, ms."),
      dist_key("completion_tokens", "uniform 50 300", "Completion tokens per answer."),
      bind(double_key("error_rate", m.error_rate, 0, 1, "Share of calls answered 500."),
           &L::error_rate),
      bind(uint_key("requests_per_minute", m.requests_per_minute, 0, 100'000'000,
                    "The vendor's limit over the whole cluster: calls beyond it in any "
                    "60 s window are answered 429 with retry-after. 0: none."),
           &L::requests_per_minute),
      bind(double_key("input_price_per_mtok", 0, 0, 1e6, "USD per million prompt tokens."),
           &L::input_price_per_mtok),
      bind(double_key("output_price_per_mtok", 0, 0, 1e6, "USD per million completion tokens."),
           &L::output_price_per_mtok),
    };
    const fault fd;
    using F = fault;
    std::vector<std::string> words(std::begin(fault_words), std::end(fault_words));
    out.fault_keys = {
      bind(required_key(duration_key("at", fd.at, 0ms, 24h * 365, "When it strikes.")), &F::at),
      field<F>{required_key(enum_key("kind", "kill", words,
                                     "kill | restart | freeze | thaw | partition | heal | "
                                     "outage | storm | slow | delay | drop.")),
               [](F& f, const config_value& v) {
                 const auto& w = std::get<std::string>(v);
                 for (size_t i = 0; i < std::size(fault_words); ++i)
                   if (w == fault_words[i])
                     f.kind = static_cast<fault_kind>(i);
               }},
      bind(duration_key("duration", fd.duration, 0ms, 24h * 365,
                        "freeze, partition, outage, storm, slow, delay, drop: undone after "
                        "this; 0: never (or by a later thaw / heal)."),
           &F::duration),
      bind(list_key("nodes", "kill, restart, freeze, thaw: the nodes; partition: one side "
                             "(the other is every other node); delay, drop: the links with "
                             "an end on these nodes (none: every link)."),
           &F::nodes),
      bind(string_key("provider", "", "outage, storm, slow: the [llm.<name>] it hits."),
           &F::provider),
      bind(double_key("factor", fd.factor, 1, 1000, "slow: latency multiplier."), &F::factor),
      bind(duration_key("delay", fd.delay, 0ms, 60s,
                        "delay: added to every segment's one-way trip."),
           &F::delay),
      bind(duration_key("jitter", fd.jitter, 0ms, 60s,
                        "delay: each segment's delay varies uniformly by +- this (order "
                        "on a connection is kept, as TCP keeps it)."),
           &F::jitter),
      bind(double_key("drop", fd.drop, 0, 0.99,
                      "drop: share of segments lost. TCP sends a lost segment again after "
                      "200 ms, doubling per loss, and what follows it waits."),
           &F::drop),
    };
    using B = burst;
    out.burst_keys = {
      bind(required_key(duration_key("at", 0ms, 0ms, 24h * 365, "When the surge starts.")),
           &B::at),
      bind(required_key(duration_key("duration", 0ms, 1ms, 24h * 365, "How long it lasts.")),
           &B::duration),
      bind(required_key(double_key("rate", 0, 0.001, rate_max, "Extra tasks per second.")),
           &B::rate),
    };
    return out;
  }();
  return f;
}

std::vector<key_spec> specs_of(const auto& fs) {
  std::vector<key_spec> out;
  for (const auto& f : fs)
    out.push_back(f.spec);
  return out;
}

caf::error bad(const config_tree& tree, const std::string& section, const std::string& key,
               const std::string& why) {
  const auto* sec = tree.find(section);
  return config_error(errc::invalid_argument, sec ? sec->origin_of(key) : std::string{"scenario"},
                      section, key, why);
}

}  // namespace scenario_detail

double distribution::draw(std::mt19937_64& rng) const {
  using namespace scenario_detail;
  double x = a;
  switch (k) {
    case kind::fixed:
      break;
    case kind::uniform:
      x = a + (b - a) * uniform_unit(rng);
      break;
    case kind::exponential:
      x = -a * std::log(1.0 - uniform_unit(rng));
      break;
    case kind::lognormal: {
      // Box-Muller on two draws: the standard leaves normal_distribution's
      // algorithm to each library.
      const double u1 = 1.0 - uniform_unit(rng);
      const double u2 = uniform_unit(rng);
      const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * pi * u2);
      x = a * std::exp(b * z);
      break;
    }
  }
  return std::clamp(x, 0.0, draw_max);
}

caf::expected<distribution> parse_distribution(const std::string& text) {
  std::istringstream in{text};
  std::string word;
  in >> word;
  std::vector<double> args;
  double v = 0;
  while (args.size() < 3 && in >> v)
    args.push_back(v);
  std::string rest;
  if (!in.eof() && (in.clear(), in >> rest, !rest.empty()))
    return make_error(errc::invalid_argument, "'" + text + "': not a number: " + rest);
  auto need = [&](size_t n) -> caf::error {
    if (args.size() != n)
      return make_error(errc::invalid_argument, "'" + text + "': " + word + " takes "
                                                  + std::to_string(n) + " number(s)");
    for (double x : args)
      if (!std::isfinite(x) || x < 0 || x > scenario_detail::draw_max)
        return make_error(errc::invalid_argument,
                          "'" + text + "': numbers must be in [0, 1e9]");
    return {};
  };
  distribution d;
  if (word == "fixed") {
    d.k = distribution::kind::fixed;
    if (auto err = need(1))
      return err;
  } else if (word == "uniform") {
    d.k = distribution::kind::uniform;
    if (auto err = need(2))
      return err;
    if (args[1] < args[0])
      return make_error(errc::invalid_argument, "'" + text + "': uniform A B needs A <= B");
  } else if (word == "exp") {
    d.k = distribution::kind::exponential;
    if (auto err = need(1))
      return err;
  } else if (word == "lognormal") {
    d.k = distribution::kind::lognormal;
    if (auto err = need(2))
      return err;
    if (args[1] > 5)
      return make_error(errc::invalid_argument, "'" + text + "': lognormal sigma above 5");
  } else {
    return make_error(errc::invalid_argument,
                      "'" + text + "': expected fixed X | uniform A B | exp MEAN | "
                                   "lognormal MEDIAN SIGMA");
  }
  d.a = args[0];
  d.b = args.size() > 1 ? args[1] : 0;
  return d;
}

const char* to_string(fault_kind k) {
  return scenario_detail::fault_words[static_cast<size_t>(k)];
}

const config_schema& scenario_schema() {
  using namespace scenario_detail;
  static const config_schema schema = [] {
    config_schema s;
    const auto& f = fields();
    s.add_section({"sim", false, "The simulated cluster and the run's length.", specs_of(f.sim)});
    s.add_section({"arrivals", false, "The tasks that arrive.", specs_of(f.arrivals)});
    s.add_section({"burst", true, "A surge of extra arrivals.", specs_of(f.burst_keys)});
    s.add_section({"llm", true,
                   "A simulated LLM endpoint standing in for [provider.<name>] of the node "
                   "config (an HTTP provider kind; the request goes through the real provider "
                   "pipeline and only the HTTP exchange is simulated).",
                   specs_of(f.llm)});
    s.add_section({"fault", true, "A fault injected at `at`.", specs_of(f.fault_keys)});
    return s;
  }();
  return schema;
}

caf::expected<scenario> parse_scenario(const std::string& text, const std::string& origin,
                                       const std::vector<std::string>& overrides) {
  using namespace scenario_detail;
  auto doc = parse_ini(text, origin);
  if (!doc)
    return std::move(doc.error());
  const auto dir = std::filesystem::path{origin}.parent_path().string();
  // No environment: a scenario means the same run on every machine.
  auto tree = resolve_config(scenario_schema(), *doc, {}, overrides, dir);
  if (!tree)
    return std::move(tree.error());
  const auto& f = fields();
  scenario out;
  out.origin = origin;
  if (const auto* s = tree->find("sim"))
    bind_section(*s, f.sim, out);
  if (const auto* s = tree->find("arrivals"))
    bind_section(*s, f.arrivals, out);
  out.bursts = bind_family(*tree, "burst", f.burst_keys);
  out.faults = bind_family(*tree, "fault", f.fault_keys);
  for (const auto* sec : tree->family("llm")) {
    llm_model m;
    bind_section(*sec, f.llm, m);
    m.name = sec->instance;
    struct dist_slot {
      const char* key;
      distribution* out;
    };
    for (auto slot : {dist_slot{"first_token_ms", &m.first_token_ms},
                      dist_slot{"per_token_ms", &m.per_token_ms},
                      dist_slot{"completion_tokens", &m.completion_tokens}}) {
      const auto* e = sec->find(slot.key);
      auto d = parse_distribution(e ? std::get<std::string>(e->value) : std::string{});
      if (!d)
        return bad(*tree, sec->name, slot.key, error_context(d.error()));
      *slot.out = *d;
    }
    out.llms.push_back(std::move(m));
  }
  // Cross-checks: every key set must have an effect.
  auto set_here = [&](const std::string& section, const char* key) {
    const auto* sec = tree->find(section);
    const auto* e = sec ? sec->find(key) : nullptr;
    return e != nullptr && !e->is_default();
  };
  if (out.seeds > out.nodes)
    return bad(*tree, "sim", "seeds", "more seeds than nodes");
  if ((out.duration + out.drain) / out.sample_interval > samples_max)
    return bad(*tree, "sim", "sample_interval",
               "more than " + std::to_string(samples_max) + " samples over duration + drain");
  if (out.saved_keys > 0 && out.keys == 0)
    return bad(*tree, "sim", "saved_keys", "needs arrivals.keys (tasks to a population's keys)");
  if (set_here("arrivals", "client_timeout") && out.client_timeout >= out.deadline)
    return bad(*tree, "arrivals", "client_timeout",
               "at or above deadline: the client would give up before it asks again");
  if (set_here("arrivals", "client_timeout") && out.client_attempts == 1)
    return bad(*tree, "arrivals", "client_timeout", "client_attempts = 1 never asks again");
  if (out.process == "trace" && out.trace.empty())
    return bad(*tree, "arrivals", "trace", "process = trace needs a trace file");
  if (out.process != "trace" && set_here("arrivals", "trace"))
    return bad(*tree, "arrivals", "trace", "only read with process = trace");
  if (out.process == "trace" && set_here("arrivals", "rate"))
    return bad(*tree, "arrivals", "rate", "process = trace takes its times from the trace file");
  for (const auto& b : out.bursts)
    if (b.at >= out.duration)
      return bad(*tree, "burst." + b.name, "at", "at or after the end of arrivals (duration)");
  auto known_node = [&](const std::string& n) {
    if (n.size() < 2 || n[0] != 'n')
      return false;
    const auto i = std::strtoul(n.c_str() + 1, nullptr, 10);
    return i >= 1 && i <= nodes_max && n == "n" + std::to_string(i);
  };
  for (const auto& fl : out.faults) {
    const auto section = "fault." + fl.name;
    const bool on_nodes = fl.kind == fault_kind::kill || fl.kind == fault_kind::restart
                          || fl.kind == fault_kind::freeze || fl.kind == fault_kind::thaw
                          || fl.kind == fault_kind::partition;
    const bool on_llm = fl.kind == fault_kind::outage || fl.kind == fault_kind::storm
                        || fl.kind == fault_kind::slow;
    const bool on_links = fl.kind == fault_kind::delay || fl.kind == fault_kind::drop;
    const bool timed = fl.kind == fault_kind::freeze || fl.kind == fault_kind::partition || on_llm
                       || on_links;
    const std::string kind = to_string(fl.kind);
    if (on_nodes && fl.nodes.empty())
      return bad(*tree, section, "nodes", kind + " needs nodes");
    if (!on_nodes && !on_links && set_here(section, "nodes"))
      return bad(*tree, section, "nodes", kind + " takes no nodes");
    for (const char* key : {"delay", "jitter"})
      if (fl.kind != fault_kind::delay && set_here(section, key))
        return bad(*tree, section, key, std::string{"only delay takes "} + key);
    if (fl.kind == fault_kind::delay && fl.delay.count() == 0 && fl.jitter.count() == 0)
      return bad(*tree, section, "delay", "delay needs a delay or a jitter above 0");
    if (fl.kind != fault_kind::drop && set_here(section, "drop"))
      return bad(*tree, section, "drop", "only drop takes a drop share");
    if (fl.kind == fault_kind::drop && fl.drop <= 0)
      return bad(*tree, section, "drop", "drop needs a share above 0");
    if (!on_llm && set_here(section, "provider"))
      return bad(*tree, section, "provider", kind + " takes no provider");
    if (fl.kind != fault_kind::slow && set_here(section, "factor"))
      return bad(*tree, section, "factor", "only slow takes a factor");
    if (!timed && set_here(section, "duration"))
      return bad(*tree, section, "duration", kind + " has no duration");
    for (const auto& n : fl.nodes) {
      if (!known_node(n))
        return bad(*tree, section, "nodes", "'" + n + "' is not a node name (n1..n64)");
      if (std::strtoul(n.c_str() + 1, nullptr, 10) > out.nodes)
        return bad(*tree, section, "nodes",
                   "'" + n + "': the scenario has " + std::to_string(out.nodes) + " nodes");
    }
    if (on_llm) {
      bool found = false;
      for (const auto& m : out.llms)
        found = found || m.name == fl.provider;
      if (!found)
        return bad(*tree, section, "provider",
                   "'" + fl.provider + "' names no [llm.<name>] section");
    }
    if (fl.at >= out.duration + out.drain)
      return bad(*tree, section, "at", "after the run ends (duration + drain)");
  }
  return out;
}

scenario with_random_faults(scenario sc, uint64_t seed, uint32_t count) {
  std::mt19937_64 rng{derive_seed(seed, "chaos")};
  sc.faults.clear();
  const auto span = static_cast<uint64_t>(sc.duration.count()) * 7 / 10;
  const uint32_t kinds = sc.llms.empty() ? 5 : 6;
  for (uint32_t i = 0; i < count; ++i) {
    fault f;
    f.name = "chaos" + std::to_string(i + 1);
    f.at = std::chrono::milliseconds{span == 0 ? 0 : uniform_below(rng, span)};
    f.duration = std::chrono::milliseconds{2'000 + uniform_below(rng, 8'001)};
    const auto node = "n" + std::to_string(1 + uniform_below(rng, sc.nodes));
    switch (uniform_below(rng, kinds)) {
      case 0: {
        f.kind = fault_kind::kill;
        f.nodes = {node};
        auto back = f;
        back.name += "_restart";
        back.kind = fault_kind::restart;
        back.at = f.at + f.duration;
        back.duration = {};
        sc.faults.push_back(f);
        if (back.at < sc.duration + sc.drain)
          sc.faults.push_back(back);
        continue;
      }
      case 1:
        f.kind = fault_kind::freeze;
        f.nodes = {node};
        break;
      case 2: {
        f.kind = fault_kind::partition;
        // A minority: at most (nodes - 1) / 2 nodes, at least one.
        const uint32_t size = 1 + static_cast<uint32_t>(uniform_below(rng, std::max<uint32_t>(1, (sc.nodes - 1) / 2)));
        for (uint32_t k = 0; k < size && k + 1 < sc.nodes; ++k) {
          auto n = "n" + std::to_string(1 + uniform_below(rng, sc.nodes));
          if (std::find(f.nodes.begin(), f.nodes.end(), n) == f.nodes.end())
            f.nodes.push_back(n);
        }
        if (f.nodes.empty())
          f.nodes = {node};
        break;
      }
      case 3:
        f.kind = fault_kind::delay;
        f.nodes = {node};
        f.delay = std::chrono::milliseconds{20 + uniform_below(rng, 481)};
        f.jitter = std::chrono::milliseconds{uniform_below(rng, static_cast<uint64_t>(f.delay.count()) / 2 + 1)};
        break;
      case 4:
        f.kind = fault_kind::drop;
        f.nodes = {node};
        f.drop = 0.01 * static_cast<double>(1 + uniform_below(rng, 30));
        break;
      default:
        f.kind = fault_kind::storm;
        f.provider = sc.llms[uniform_below(rng, sc.llms.size())].name;
        break;
    }
    sc.faults.push_back(f);
  }
  std::stable_sort(sc.faults.begin(), sc.faults.end(),
                   [](const fault& a, const fault& b) { return a.at < b.at; });
  return sc;
}

caf::expected<scenario> load_scenario(const std::string& path,
                                      const std::vector<std::string>& overrides) {
  auto text = read_regular_file(path, scenario_detail::scenario_bytes_max);
  if (!text)
    return std::move(text.error());
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  if (ec)
    return make_error(errc::io_error, path + ": cannot resolve its directory: " + ec.message());
  return parse_scenario(*text, abs.string(), overrides);
}

}  // namespace agentgraph::sim
