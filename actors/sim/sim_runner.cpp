// The run loop of `agentgraph sim` (sim_runner.hpp). Long because the
// loop, the node lifecycle and the fault schedule read best together: each
// piece is short and named after what it does.
#include "actors/sim/sim_runner.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <cstdlib>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <queue>
#include <sstream>

#include "actors/host/cluster/cluster_directory.hpp"
#include "actors/host/cluster/cluster_host.hpp"
#include "actors/host/cluster/cluster_messaging.hpp"
#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/population/population_config.hpp"
#include "actors/population/population_state.hpp"
#include "runtime/population/population_store.hpp"
#include "actors/sim/sim_llm.hpp"
#include "actors/sim/sim_network.hpp"
#include "net/cluster/cluster_interface.hpp"
#include "runtime/config/ini_parser.hpp"
#include "runtime/error.hpp"
#include "runtime/file_open.hpp"
#include "runtime/log.hpp"
#include "runtime/seeded_random.hpp"
#include "runtime/virtual_time.hpp"

namespace agentgraph::sim {

using namespace std::chrono_literals;

namespace sim_runner_detail {

using sim_task_atom = caf::atom_constant<caf::atom("ag_simtask")>;

constexpr uint16_t node_port = 4242;
constexpr uint64_t scenario_bytes_max = 1 << 20;  // a node config read to find its populations
// The shared secret of every simulated cluster; set in this process's
// environment when the node config's secret_env is unset (the node config
// checks read the process environment, as a real node's do).
constexpr const char* sim_secret = "agentgraph-simulated-cluster-secret";
// Wall-clock milliseconds the simulated nodes believe they started at (a
// member's uid carries it): a fixed epoch, so runs replay.
constexpr uint64_t sim_epoch_ms = 1'800'000'000'000;
// Jobs a node's system may run after its shutdown, at most.
constexpr size_t teardown_steps_max = 10'000'000;
// Progress reports per run.
constexpr int progress_steps = 100;
// Trace lines per task arrival at most; bounds the trace file with the tasks.
constexpr size_t trace_file_lines_max = trace_lines_max;

double ms_of(caf::timespan t) {
  return std::chrono::duration<double, std::milli>(t).count();
}

caf::timespan span_of(std::chrono::milliseconds m) {
  return std::chrono::duration_cast<caf::timespan>(m);
}

std::string fmt_ms(double t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", t);
  return buf;
}

std::string outcome_of(const caf::error& err) {
  if (err == caf::sec::request_timeout)
    return "timeout";
  if (auto code = errc_of(err))
    return to_string(*code);
  if (err.category() == caf::atom("system"))
    return "caf_" + caf::to_string(static_cast<caf::sec>(err.code()));
  return "other";
}

// One incarnation of one node.
struct sim_node {
  size_t number = 0;  // n<number>
  uint32_t incarnation = 0;
  std::unique_ptr<Runtime> rt;
  std::shared_ptr<sim_transport> transport;
  planet* p = nullptr;
  cluster::node_actor node;
  caf::actor client;
  bool killed = false;
  bool frozen = false;
  bool started = false;  // start_node went through
  std::string name() const { return "n" + std::to_string(number); }
};

enum class event_kind : uint8_t { arrival, burst_arrival, fault, undo, sample, progress };

struct event {
  caf::timespan at;
  uint64_t seq;
  event_kind kind;
  size_t index;  // fault / burst index; unused otherwise
  bool operator>(const event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

class runner {
 public:
  runner(const scenario& sc, const run_options& opts)
    : sc_(sc), opts_(opts),
      llm_(std::make_shared<llm_service>(sc.llms, opts.seed)),
      arrivals_rng_(derive_seed(opts.seed, "arrivals")),
      keys_rng_(derive_seed(opts.seed, "keys")),
      entry_rng_(derive_seed(opts.seed, "entry")) {
    rec_.scenario_origin = sc.origin;
    rec_.seed = opts.seed;
    rec_.nodes = sc.nodes;
    rec_.duration_ms = ms_of(span_of(sc.duration));
    rec_.end_ms = ms_of(span_of(sc.duration + sc.drain));
  }

  ~runner() { teardown(); }

  caf::expected<run_record> run() {
    if (auto err = prepare())
      return err;
    try {
      world_driver_scope driving{[this] { return net_.step_world(); }};
      net_.seed_links(derive_seed(opts_.seed, "links"));
      virtual_log_stamps stamps{net_};
      for (size_t i = 1; i <= sc_.nodes; ++i)
        if (auto err = start_node(i))
          return err;
      if (auto err = await_formed())
        return err;
      schedule_all();
      loop();
      finish();
    } catch (const sim_failure& e) {
      return make_error(errc::internal, std::string{"simulation: "} + e.what());
    }
    teardown();
    return std::move(rec_);
  }

 private:
  // -- setup ------------------------------------------------------------------

  caf::error prepare() {
    data_dir_ = opts_.data_dir;
    if (data_dir_.empty()) {
      // Memory-backed when the machine has it: the stores' fsyncs cost wall
      // time only (virtual time does not see them), and the run's files go
      // with it.
      std::error_code ec;
      std::filesystem::path base = "/dev/shm";
      if (!std::filesystem::is_directory(base, ec) || ::access(base.c_str(), W_OK) != 0)
        base = std::filesystem::temp_directory_path(ec);
      if (ec)
        return make_error(errc::io_error, "no temporary directory: " + ec.message());
      std::string tmpl = (base / "agentgraph-sim-XXXXXX").string();
      if (::mkdtemp(tmpl.data()) == nullptr)
        return make_error(errc::io_error, "cannot make a temporary directory in " + base.string());
      data_dir_ = tmpl;
      remove_data_dir_ = true;
    }
    // Populations on every node need a store all nodes share (a key moves
    // when its node dies): PostgreSQL in a real cluster. The simulated
    // nodes share one SQLite file instead (they run in one process, one
    // call at a time), unless the config names a store itself.
    {
      auto text = read_regular_file(sc_.node_config, scenario_bytes_max);
      if (!text)
        return text.error();
      auto doc = parse_ini(*text, sc_.node_config);
      if (!doc)
        return doc.error();
      for (const auto& sec : doc->sections) {
        if (sec.name.rfind("population.", 0) != 0)
          continue;
        bool own_store = false;
        for (const auto& e : sec.entries)
          own_store = own_store || e.key == "store_url" || e.key == "store_path"
                      || e.key == "placement";
        if (!own_store)
          shared_store_populations_.push_back(sec.name.substr(std::string{"population."}.size()));
      }
    }
    auto cfg = load_node_config(sc_.node_config, {}, overrides_for(1));
    if (!cfg)
      return cfg.error();
    if (!cfg->cluster)
      return make_error(errc::invalid_argument,
                        sc_.node_config + ": the node config of a simulation needs a [cluster] section");
    const auto& env = cfg->cluster->secret_env;
    if (!env.empty())
      ::setenv(env.c_str(), sim_secret, 0);
    if (const char* s = std::getenv(env.c_str()))
      secret_ = s;
    for (const auto& p : cfg->providers) {
      if (!is_http_kind(p.kind))  // scripted, replay: no HTTP to simulate
        continue;
      bool modelled = false;
      for (const auto& m : sc_.llms)
        modelled = modelled || m.name == p.name;
      if (!modelled)
        return make_error(errc::invalid_argument,
                          sc_.origin + ": [provider." + p.name + "] of " + sc_.node_config
                            + " is an HTTP provider without an [llm." + p.name + "] model");
      if (p.kind != provider_kind::openai && p.kind != provider_kind::openrouter
          && p.kind != provider_kind::openai_compatible)
        return make_error(errc::invalid_argument,
                          "[provider." + p.name + "]: only OpenAI's wire format is simulated yet "
                          "(kinds openai, openrouter, openai_compatible)");
    }
    if (sc_.process == "trace")
      if (auto err = read_trace())
        return err;
    if (auto err = count_saved_states(true))
      return err;
    if (sc_.saved_keys > 0)
      return preload_keys(*cfg);
    return {};
  }

  std::string shared_store() const {
    return "sqlite:" + data_dir_ + "/populations-shared.sqlite";
  }

  // Saves empty states for k0..k<saved_keys-1> of arrivals.agent, claimed
  // by a writer that is no node (setup code: the store blocks, nothing
  // simulated runs yet). A node's first claim of a key takes it over.
  caf::error preload_keys(const node_config& cfg) {
    const bool shared = std::find(shared_store_populations_.begin(), shared_store_populations_.end(),
                                  sc_.agent) != shared_store_populations_.end();
    const bool exists = std::any_of(cfg.populations.begin(), cfg.populations.end(),
                                    [&](const population_config& p) { return p.name == sc_.agent; });
    if (!exists || !shared)
      return make_error(errc::invalid_argument,
                        sc_.origin + ": [sim] saved_keys: '" + sc_.agent
                          + "' is not a population of the node config that uses the nodes' "
                            "shared store (no store_url, store_path or placement of its own)");
    auto store = open_population_store(shared_store());
    if (!store)
      return store.error();
    const auto state = encode_population_state(population_key_state{});
    const uint32_t batch = (*store)->limits().batch_max;
    for (uint64_t first = 0; first < sc_.saved_keys; first += batch) {
      std::vector<std::string> keys;
      std::vector<population_save> saves;
      for (uint64_t k = first; k < std::min<uint64_t>(sc_.saved_keys, first + batch); ++k) {
        keys.push_back("k" + std::to_string(k));
        saves.push_back({keys.back(), state});
      }
      if (auto claimed = (*store)->claim(sc_.agent, keys, "sim-preload", 1); !claimed)
        return claimed.error();
      if (auto fenced = (*store)->save(sc_.agent, "sim-preload", 1, saves); !fenced)
        return fenced.error();
    }
    return count_saved_states(true);
  }

  // Keys with a saved state per population in the shared store.
  caf::error count_saved_states(bool at_start) {
    if (shared_store_populations_.empty())
      return {};
    auto store = open_population_store(shared_store());
    if (!store)
      return store.error();
    for (const auto& p : shared_store_populations_) {
      auto n = (*store)->count(p);
      if (!n)
        return n.error();
      auto& counts = rec_.saved_states[p];
      (at_start ? counts.first : counts.second) = *n;
    }
    return {};
  }

  caf::error read_trace() {
    std::ifstream in{sc_.trace};
    if (!in)
      return make_error(errc::io_error, sc_.trace + ": cannot open the arrivals trace");
    std::string line;
    for (uint32_t n = 1; std::getline(in, line); ++n) {
      if (line.empty() || line[0] == '#')
        continue;
      std::istringstream fields{line};
      double at = -1;
      std::string agent;
      fields >> at >> agent;
      if (!fields.eof() && fields.fail())
        return make_error(errc::parse_error, sc_.trace + ":" + std::to_string(n)
                                               + ": expected \"<ms> [agent]\"");
      if (!(at >= 0) || at > ms_of(span_of(sc_.duration)))
        return make_error(errc::invalid_argument, sc_.trace + ":" + std::to_string(n)
                                                    + ": time outside [0, duration]");
      if (trace_arrivals_.size() >= sc_.tasks_max)
        return make_error(errc::limit_exceeded, sc_.trace + ": more arrivals than tasks_max");
      trace_arrivals_.push_back({at, agent.empty() ? sc_.agent : agent});
    }
    std::stable_sort(trace_arrivals_.begin(), trace_arrivals_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    return {};
  }

  std::vector<std::string> overrides_for(size_t i) const {
    std::string seeds;
    for (size_t s = 1; s <= sc_.seeds; ++s)
      seeds += (s > 1 ? "," : "") + std::string{"n"} + std::to_string(s) + ":"
               + std::to_string(node_port);
    const auto name = "n" + std::to_string(i);
    std::vector<std::string> out{"cluster.node_id=" + name,
                                 "cluster.listen=" + name,
                                 "cluster.port=" + std::to_string(node_port),
                                 "cluster.seeds=" + seeds,
                                 "runtime.data_dir=" + data_dir_ + "/" + name};
    for (const auto& p : shared_store_populations_)
      out.push_back("population." + p + ".store_url=" + shared_store());
    return out;
  }

  caf::error start_node(size_t i) {
    auto n = std::make_unique<sim_node>();
    n->number = i;
    n->incarnation = ++incarnations_[i];
    views_.erase(i);  // a new incarnation's view starts empty
    const auto name = n->name();
    std::error_code ec;
    std::filesystem::create_directories(data_dir_ + "/" + name, ec);
    auto cfg = load_node_config(sc_.node_config, {}, overrides_for(i));
    if (!cfg)
      return cfg.error();
    for (auto& p : cfg->providers)
      if (is_http_kind(p.kind)) {
        p.base_url = llm_base_url(p.name);
        p.api_key = "simulated";
        p.api_key_env.clear();
      }
    const auto& cl = *cfg->cluster;
    n->transport = std::make_shared<sim_transport>(llm_, i);
    const auto run_seed = derive_seed(opts_.seed, name + "#" + std::to_string(n->incarnation));
    auto rt = runtime_builder::from_config(
      *cfg, true, [&](runtime_options& o) {
        auto cluster_transport = o.configure_system;
        o.configure_system = [cluster_transport, cl](caf::actor_system_config& c) {
          if (cluster_transport)
            cluster_transport(c);
          configure_virtual_node(c, std::chrono::duration_cast<caf::timespan>(cl.transport_heartbeat),
                                 std::chrono::duration_cast<caf::timespan>(cl.transport_timeout));
        };
        o.seed = run_seed;
        o.http = n->transport;
        o.wall_ms = [this] {
          return static_cast<int64_t>(sim_epoch_ms) + static_cast<int64_t>(ms_of(net_.elapsed()));
        };
        // The node joins the world as soon as its system exists, so setup
        // code that waits on its actors (blocking_ask) runs the whole world.
        o.on_system = [this, node = n.get(), name](caf::actor_system& sys) {
          planet_options po;
          po.host = name;
          po.port = node_port;
          node->p = &net_.add_planet(po, sys);
        };
        // A start that fails after the node joined the world takes it out
        // again before its system goes.
        o.on_system_end = [this, node = n.get()](caf::actor_system&) {
          if (!node->started && node->p != nullptr && !torn_down_)
            net_.detach(*node->p);
        };
      });
    if (!rt)
      return make_error(errc_of(rt.error()).value_or(errc::internal),
                        name + ": " + error_context(rt.error()));
    n->rt = std::move(*rt);
    n->transport->bind(n->rt->system());
    cluster_start start;
    start.cfg = cl;
    start.secret = secret_;
    start.start_ms = sim_epoch_ms + static_cast<uint64_t>(ms_of(net_.elapsed()));
    start.random_bits = static_cast<uint32_t>(run_seed);
    start.pid = static_cast<int32_t>(i);
    start.url = "http://" + name + ".sim";
    start.figures = std::make_shared<cluster::cluster_figures>();
    auto node = start_cluster_node(n->rt->system(), std::move(start));
    if (!node)
      return make_error(errc_of(node.error()).value_or(errc::internal),
                        name + ": cluster node: " + error_context(node.error()));
    n->node = n->p->track(*node);
    if (auto err = attach_cluster_directory(*n->rt, n->node, cl.heartbeat_interval))
      return err;
    if (auto err = attach_cluster_messaging(*n->rt, n->node))
      return err;
    observe_members(*n);
    n->client = n->p->track(spawn_client(*n));
    n->started = true;
    line(now_ms(), "node " + name + " started, incarnation " + std::to_string(n->incarnation));
    if (nodes_.size() < i)
      nodes_.resize(i);
    if (nodes_[i - 1])
      retired_.push_back(std::move(nodes_[i - 1]));
    nodes_[i - 1] = std::move(n);
    return {};
  }

  void observe_members(sim_node& n) {
    const size_t observer = n.number;
    const uint32_t incarnation = n.incarnation;
    auto sink = n.p->track(n.p->sys().spawn(
      [this, observer, incarnation](cluster::member_event_sink::pointer)
        -> cluster::member_event_sink::behavior_type {
        return {[this, observer, incarnation](cluster::member_event_atom, cluster::member_event& e) {
          member_change c;
          c.t_ms = now_ms();
          c.observer = observer;
          c.observer_incarnation = incarnation;
          c.member = e.record.id.name;
          c.uid = e.record.id.uid;
          c.state = cluster::to_string(e.record.state);
          c.why = e.why;
          line(c.t_ms, "n" + std::to_string(observer) + " sees " + c.member + "#"
                              + std::to_string(c.uid % 100000) + " " + c.state);
          auto& seen = views_[observer][c.member];
          if (c.uid >= seen.first)  // an older incarnation's news changes nothing
            seen = {c.uid, c.state};
          rec_.members.push_back(std::move(c));
        }};
      }));
    // The node takes subscriptions from local senders only.
    caf::send_as(sink, n.node, cluster::member_sub_atom::value, sink);
  }

  caf::actor spawn_client(sim_node& n) {
    const auto deadline = span_of(sc_.deadline);
    const auto node = n.node;
    return n.p->sys().spawn([this, deadline, node](caf::event_based_actor* self) -> caf::behavior {
      // The gateway's rule (actors/host/node/gateway_membership.cpp): a
      // node that is not joined (still joining, or downed itself on a
      // partition's minority side) refuses new work, so two halves never
      // both take it; the refusal is this task's outcome.
      return {[this, self, deadline, node](sim_task_atom, uint64_t idx, agent_actor target,
                                           task_request task) {
        self->request(node, deadline, cluster::cluster_status_atom::value)
          .then(
            [this, self, deadline, idx, target, task,
             started = self->clock().now()](cluster::cluster_status& status) mutable {
              if (!status.joined) {
                answered(idx, "refused_not_member");
                return;
              }
              // One deadline for the task, from its arrival.
              const auto left = deadline - (self->clock().now() - started);
              if (left <= caf::timespan{0}) {
                answered(idx, "timeout");
                return;
              }
              self->request(target, left, execute_atom::value, std::move(task))
                .then([this, idx](task_result&) { answered(idx, "ok"); },
                      [this, idx](caf::error& err) { answered(idx, outcome_of(err)); });
            },
            [this, idx](caf::error& err) { answered(idx, outcome_of(err)); });
      }};
    });
  }

  caf::error await_formed() {
    const auto limit = net_.elapsed() + span_of(sc_.join_wait);
    while (!formed()) {
      if (net_.elapsed() >= limit)
        return make_error(errc::timeout, "the " + std::to_string(sc_.nodes)
                                           + " nodes did not form a cluster within join_wait");
      net_.run_until(net_.elapsed() + 100ms);
    }
    t0_ = net_.elapsed();
    rec_.formed_at_ms = ms_of(t0_);
    formed_ = true;
    for (auto& [t, what] : early_lines_)
      rec_.line(t - rec_.formed_at_ms, what);
    early_lines_.clear();
    for (auto& m : rec_.members)
      m.t_ms -= rec_.formed_at_ms;
    line(0, "cluster formed after " + fmt_ms(ms_of(t0_)) + " ms");
    return {};
  }

  bool formed() const {
    for (size_t i = 1; i <= sc_.nodes; ++i) {
      auto v = views_.find(i);
      if (v == views_.end())
        return false;
      size_t up = 0;
      for (const auto& [member, seen] : v->second)
        up += seen.second == "up";
      if (up != sc_.nodes)
        return false;
    }
    return true;
  }

  // -- the schedule -----------------------------------------------------------

  void push(caf::timespan at, event_kind k, size_t index = 0) {
    events_.push({t0_ + at, ++seq_, k, index});
  }

  void schedule_all() {
    if (sc_.process == "trace") {
      if (!trace_arrivals_.empty())
        push(std::chrono::duration_cast<caf::timespan>(
               std::chrono::duration<double, std::milli>(trace_arrivals_[0].first)),
             event_kind::arrival);
    } else {
      push(next_gap(sc_.rate), event_kind::arrival);
    }
    for (size_t b = 0; b < sc_.bursts.size(); ++b)
      push(span_of(sc_.bursts[b].at), event_kind::burst_arrival, b);
    for (size_t f = 0; f < sc_.faults.size(); ++f)
      push(span_of(sc_.faults[f].at), event_kind::fault, f);
    push(span_of(sc_.sample_interval), event_kind::sample);
    push(end() / progress_steps, event_kind::progress);
    sample_ = {};
  }

  caf::timespan end() const { return span_of(sc_.duration + sc_.drain); }

  caf::timespan next_gap(double rate) {
    const double mean_ms = 1000.0 / rate;
    const double gap = sc_.process == "uniform"
                         ? mean_ms
                         : -mean_ms * std::log(1.0 - uniform_unit(arrivals_rng_));
    return std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double, std::milli>(gap));
  }

  void loop() {
    const auto stop = t0_ + end();
    // Bounded: arrivals by tasks_max, samples and progress by the run's
    // length, faults by the scenario.
    while (!events_.empty()) {
      auto ev = events_.top();
      if (ev.at > stop)
        break;
      events_.pop();
      net_.run_until(ev.at);
      handle(ev);
    }
    net_.run_until(stop);
  }

  void handle(const event& ev) {
    const auto t = ev.at - t0_;
    switch (ev.kind) {
      case event_kind::arrival:
        if (sc_.process == "trace") {
          arrive(trace_arrivals_[trace_next_].second);
          if (++trace_next_ < trace_arrivals_.size())
            push(std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double, std::milli>(
                   trace_arrivals_[trace_next_].first)),
                 event_kind::arrival);
          break;
        }
        arrive(sc_.agent);
        if (auto next = t + next_gap(sc_.rate);
            next < span_of(sc_.duration) && rec_.tasks.size() < sc_.tasks_max)
          push(next, event_kind::arrival);
        break;
      case event_kind::burst_arrival: {
        const auto& b = sc_.bursts[ev.index];
        if (t >= span_of(b.at)) {
          arrive(sc_.agent);
        }
        if (auto next = t + next_gap(b.rate); next < span_of(b.at + b.duration)
                                              && next < span_of(sc_.duration)
                                              && rec_.tasks.size() < sc_.tasks_max)
          push(next, event_kind::burst_arrival, ev.index);
        break;
      }
      case event_kind::fault:
        strike(ev.index, false);
        break;
      case event_kind::undo:
        strike(ev.index, true);
        break;
      case event_kind::sample:
        take_sample(t);
        if (t + span_of(sc_.sample_interval) <= end())
          push(t + span_of(sc_.sample_interval), event_kind::sample);
        break;
      case event_kind::progress:
        if (opts_.progress)
          opts_.progress(ms_of(t) / ms_of(end()), ms_of(t) / 1000.0);
        if (t + end() / progress_steps <= end())
          push(t + end() / progress_steps, event_kind::progress);
        break;
    }
  }

  // -- tasks ------------------------------------------------------------------

  void arrive(const std::string& agent) {
    if (rec_.tasks.size() >= sc_.tasks_max)
      return;
    task_record r;
    r.id = rec_.tasks.size() + 1;
    r.arrived_ms = now_ms();
    r.agent = agent;
    if (sc_.keys > 0)
      r.agent += "/k" + std::to_string(uniform_below(keys_rng_, sc_.keys));
    auto* n = pick_entry();
    ++sample_.arrived;
    if (n == nullptr) {
      r.ended_ms = r.arrived_ms;
      r.outcome = "no_entry";
      ++sample_.failed;
      line(r.arrived_ms, "task " + std::to_string(r.id) + " found no live node");
      rec_.tasks.push_back(std::move(r));
      return;
    }
    r.entry = n->number;
    r.entry_incarnation = n->incarnation;
    auto target = n->rt->agent(r.agent);
    line(r.arrived_ms, "task " + std::to_string(r.id) + " -> " + n->name() + " " + r.agent);
    if (!target) {
      r.ended_ms = r.arrived_ms;
      r.outcome = outcome_of(target.error());
      ++sample_.failed;
      rec_.tasks.push_back(std::move(r));
      return;
    }
    task_request task;
    task.task_id = "sim-" + std::to_string(r.id);
    task.input = sc_.input;
    if (auto pos = task.input.find("{id}"); pos != std::string::npos)
      task.input.replace(pos, 4, std::to_string(r.id));
    const auto idx = r.id;
    rec_.tasks.push_back(std::move(r));
    caf::anon_send(n->client, sim_task_atom::value, idx, *target, std::move(task));
  }

  sim_node* pick_entry() {
    std::vector<sim_node*> live;
    for (auto& n : nodes_)
      if (n && !n->killed && !n->frozen)
        live.push_back(n.get());
    if (live.empty())
      return nullptr;
    if (sc_.entry == "random")
      return live[uniform_below(entry_rng_, live.size())];
    return live[rr_++ % live.size()];
  }

  void answered(uint64_t idx, const std::string& outcome) {
    auto& r = rec_.tasks.at(idx - 1);
    ++r.answers;
    if (r.answers > 1) {
      line(now_ms(), "task " + std::to_string(idx) + " answered again: " + outcome);
      return;
    }
    r.ended_ms = now_ms();
    r.outcome = outcome;
    line(*r.ended_ms, "task " + std::to_string(idx) + " " + outcome + " after "
                             + fmt_ms(*r.ended_ms - r.arrived_ms) + " ms");
    if (outcome == "ok") {
      ++sample_.ok;
      sample_.latencies_ms.push_back(*r.ended_ms - r.arrived_ms);
      if (sample_.ok_by_entry.size() < nodes_.size())
        sample_.ok_by_entry.resize(nodes_.size());
      ++sample_.ok_by_entry[r.entry - 1];
    } else {
      ++sample_.failed;
    }
  }

  void take_sample(caf::timespan t) {
    sample_.t_ms = ms_of(t);
    sample_.ok_by_entry.resize(nodes_.size());
    sample_.up_seen_by.assign(nodes_.size(), -1);
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i] || nodes_[i]->killed || nodes_[i]->frozen)
        continue;
      int64_t up = 0;
      for (const auto& [member, seen] : views_[i + 1])
        up += seen.second == "up";
      sample_.up_seen_by[i] = up;
    }
    sample_.split_brain = split_brain();
    if (sample_.split_brain)
      line(ms_of(t), "split brain: two live nodes each see the other down");
    rec_.samples.push_back(std::move(sample_));
    sample_ = {};
  }

  // Two live nodes that each see themselves up and the other gone.
  bool split_brain() {
    // What `observer` holds about `member`'s incarnation `uid`: a stale
    // view of an older incarnation (a thawed node's) is not a verdict on
    // the current one.
    auto state_in = [&](size_t observer, const std::string& member, uint64_t uid) -> std::string {
      auto v = views_.find(observer);
      if (v == views_.end())
        return {};
      auto it = v->second.find(member);
      return it == v->second.end() || it->second.first != uid ? std::string{} : it->second.second;
    };
    auto uid_of = [&](size_t number, const std::string& name) -> uint64_t {
      auto v = views_.find(number);
      if (v == views_.end())
        return 0;
      auto it = v->second.find(name);
      return it == v->second.end() ? 0 : it->second.first;
    };
    for (size_t a = 0; a < nodes_.size(); ++a)
      for (size_t b = a + 1; b < nodes_.size(); ++b) {
        auto* x = nodes_[a].get();
        auto* y = nodes_[b].get();
        if (!x || !y || x->killed || x->frozen || y->killed || y->frozen)
          continue;
        const auto xn = x->name(), yn = y->name();
        auto gone = [](const std::string& st) { return st == "down" || st == "removed"; };
        const auto xu = uid_of(x->number, xn), yu = uid_of(y->number, yn);
        if (state_in(x->number, xn, xu) == "up" && state_in(y->number, yn, yu) == "up"
            && gone(state_in(x->number, yn, yu)) && gone(state_in(y->number, xn, xu)))
          return true;
      }
    return false;
  }

  // -- faults -----------------------------------------------------------------

  void strike(size_t index, bool undo) {
    const auto& f = sc_.faults[index];
    fault_record fr;
    fr.f = f;
    fr.t_ms = now_ms();
    std::vector<sim_node*> targets;
    for (const auto& name : f.nodes) {
      const auto i = std::strtoul(name.c_str() + 1, nullptr, 10);
      if (i >= 1 && i <= nodes_.size() && nodes_[i - 1]) {
        targets.push_back(nodes_[i - 1].get());
        fr.targets.push_back(i);
      }
    }
    std::string what = std::string{undo ? "undo " : "fault "} + f.name + " " + to_string(f.kind);
    for (const auto& n : f.nodes)
      what += " " + n;
    if (!f.provider.empty())
      what += " " + f.provider;
    line(fr.t_ms, what);
    for (auto& n : nodes_)
      if (n && !n->killed && !n->frozen
          && std::find(fr.targets.begin(), fr.targets.end(), n->number) == fr.targets.end())
        fr.watchers.emplace_back(n->number, n->incarnation);
    if (!undo)
      rec_.faults.push_back(fr);
    const bool timed = f.duration.count() > 0;
    switch (f.kind) {
      case fault_kind::kill:
        for (auto* n : targets)
          if (!n->killed) {
            net_.kill(*n->p);
            n->killed = true;
          }
        break;
      case fault_kind::restart:
        for (auto* n : targets) {
          if (!n->killed) {
            net_.kill(*n->p);
            n->killed = true;
          }
          if (auto err = start_node(n->number))
            line(now_ms(), "restart of n" + std::to_string(n->number)
                                  + " failed: " + error_context(err));
        }
        apply_partitions();
        break;
      case fault_kind::freeze:
        if (undo)
          return thaw(targets);
        for (auto* n : targets)
          if (!n->killed && !n->frozen) {
            net_.freeze(*n->p);
            n->frozen = true;
          }
        if (timed)
          push(now() + span_of(f.duration), event_kind::undo, index);
        break;
      case fault_kind::thaw:
        thaw(targets);
        break;
      case fault_kind::partition:
        if (undo) {
          partitions_.erase(index);
        } else {
          partitions_[index] = fr.targets;
          if (timed)
            push(now() + span_of(f.duration), event_kind::undo, index);
        }
        apply_partitions();
        break;
      case fault_kind::heal:
        partitions_.clear();
        apply_partitions();
        break;
      case fault_kind::outage:
        llm_->set_outage(f.provider, !undo);
        if (!undo && timed)
          push(now() + span_of(f.duration), event_kind::undo, index);
        break;
      case fault_kind::storm:
        llm_->set_storm(f.provider, !undo);
        if (!undo && timed)
          push(now() + span_of(f.duration), event_kind::undo, index);
        break;
      case fault_kind::slow:
        llm_->set_slow(f.provider, undo ? 1.0 : f.factor);
        if (!undo && timed)
          push(now() + span_of(f.duration), event_kind::undo, index);
        break;
      case fault_kind::delay:
      case fault_kind::drop:
        if (undo) {
          link_faults_.erase(index);
        } else {
          link_rule r;
          r.delay = span_of(f.delay);
          r.jitter = span_of(f.jitter);
          r.drop = f.drop;
          link_faults_[index] = link_fault{f.nodes, r};
          if (timed)
            push(now() + span_of(f.duration), event_kind::undo, index);
        }
        apply_link_faults();
        break;
    }
  }

  // Every delay and drop fault in force (they add up on a shared link).
  void apply_link_faults() {
    std::vector<link_fault> all;
    for (const auto& [index, lf] : link_faults_)
      all.push_back(lf);
    net_.set_link_faults(std::move(all));
  }

  // Every partition in force, on the nodes' current incarnations (a node
  // restarted during a partition is still cut off: cuts go by node number).
  void apply_partitions() {
    net_.heal();
    for (const auto& [index, side] : partitions_) {
      std::vector<planet*> side_a;
      std::vector<planet*> side_b;
      for (auto& n : nodes_) {
        if (!n)
          continue;
        const bool in_a = std::find(side.begin(), side.end(), n->number) != side.end();
        (in_a ? side_a : side_b).push_back(n->p);
      }
      net_.partition(side_a, side_b);
    }
  }

  void thaw(const std::vector<sim_node*>& targets) {
    for (auto* n : targets)
      if (!n->killed && n->frozen) {
        net_.thaw(*n->p);
        n->frozen = false;
      }
  }

  // -- the end ----------------------------------------------------------------

  void finish() {
    if (auto err = count_saved_states(false))
      line(now_ms(), "counting the saved states failed: " + error_context(err));
    // The last interval, unless the sample schedule just closed it.
    if (rec_.samples.empty() || rec_.samples.back().t_ms < ms_of(net_.elapsed() - t0_))
      take_sample(net_.elapsed() - t0_);
    rec_.llm = llm_->figures();
    rec_.segments_delayed = net_.segments_delayed();
    rec_.segments_dropped = net_.segments_dropped();
    for (auto& n : nodes_) {
      rec_.node_state.push_back(!n ? "absent" : n->killed ? "killed" : n->frozen ? "frozen" : "live");
      rec_.incarnation_at_end.push_back(n ? n->incarnation : 0);
    }
    for (auto& r : rec_.tasks) {
      if (r.ended_ms)
        continue;
      // Never answered: its client died with a killed entry node, waits on
      // a frozen one, or the answer was lost (a bug).
      const auto& n = nodes_[r.entry - 1];
      const bool entry_gone = !n || n->killed || n->incarnation != r.entry_incarnation;
      // Its deadline not passed by the end: still running, not lost.
      const bool unfinished = r.arrived_ms + ms_of(span_of(sc_.deadline)) > rec_.end_ms;
      r.outcome = entry_gone     ? "entry_died"
                  : n->frozen    ? "entry_frozen"
                  : unfinished   ? "unfinished_at_end"
                                 : "lost";
      line(rec_.end_ms, "task " + std::to_string(r.id) + " unanswered: " + r.outcome);
    }
  }

  void teardown() {
    if (torn_down_)
      return;
    torn_down_ = true;
    net_.teardown();
    // Each Runtime shuts down on its own system (virtual time, stepped
    // alone), then its actor system ends.
    auto end_node = [](sim_node& n) {
      if (n.transport)
        n.transport->unbind();
      // A killed node never shuts down: no passivation into the store its
      // next incarnation uses, no snapshots.
      if (!n.rt)
        return;
      if (n.killed)
        n.rt->abandon();
      // Stepped alone (no world driver any more): its waits run its own
      // jobs and timers.
      (void)n.rt->shutdown();
      auto& sys = n.rt->system();
      auto* sched = virtual_scheduler(sys);
      for (size_t i = 0; i < teardown_steps_max && sched->try_run_once(); ++i) {
      }
      // What still runs would make ~actor_system wait forever on a
      // scheduler nobody steps.
      if (const auto running = sys.registry().running(); running > 0) {
        log(log_severity::warn, "sim", "actors still running at a node's end",
            {{"node", n.name()}, {"running", std::to_string(running)}});
        sys.await_actors_before_shutdown(false);
      }
      n.rt.reset();
    };
    for (auto& n : nodes_)
      if (n)
        end_node(*n);
    for (auto& n : retired_)
      end_node(*n);
    nodes_.clear();
    retired_.clear();
    if (remove_data_dir_) {
      std::error_code ec;
      std::filesystem::remove_all(data_dir_, ec);
    }
  }

  caf::timespan now() const { return net_.elapsed() - t0_; }
  // Before the cluster formed, times are the world's; they become
  // negative (relative to the formation) when it forms (await_formed).
  double now_ms() const { return ms_of(net_.elapsed() - t0_); }

  void line(double t_ms, const std::string& what) {
    if (!formed_) {
      early_lines_.emplace_back(t_ms, what);
      return;
    }
    rec_.line(t_ms, what);
  }

  const scenario& sc_;
  run_options opts_;
  std::shared_ptr<llm_service> llm_;
  std::mt19937_64 arrivals_rng_;
  std::mt19937_64 keys_rng_;
  std::mt19937_64 entry_rng_;
  sim_network net_;
  std::vector<std::unique_ptr<sim_node>> nodes_;
  std::vector<std::unique_ptr<sim_node>> retired_;  // killed incarnations replaced by restarts
  std::map<size_t, uint32_t> incarnations_;
  // observer node -> member name -> (uid, state) of the newest incarnation seen
  std::map<size_t, std::map<std::string, std::pair<uint64_t, std::string>>> views_;
  std::priority_queue<event, std::vector<event>, std::greater<event>> events_;
  std::vector<std::pair<double, std::string>> trace_arrivals_;
  size_t trace_next_ = 0;
  uint64_t seq_ = 0;
  size_t rr_ = 0;
  caf::timespan t0_{0};
  sample_row sample_;
  run_record rec_;
  bool formed_ = false;
  std::vector<std::pair<double, std::string>> early_lines_;
  // Partitions in force: fault index -> the node numbers of its side.
  std::map<size_t, std::vector<size_t>> partitions_;
  std::map<size_t, link_fault> link_faults_;  // by fault index
  std::string secret_;
  std::vector<std::string> shared_store_populations_;
  std::string data_dir_;
  bool remove_data_dir_ = false;
  bool torn_down_ = false;
};

}  // namespace sim_runner_detail

void run_record::line(double t_ms, const std::string& what) {
  auto text = sim_runner_detail::fmt_ms(t_ms) + " " + what;
  for (unsigned char c : text) {
    trace_hash ^= c;
    trace_hash *= 0x100000001b3ull;
  }
  trace_hash ^= '\n';
  trace_hash *= 0x100000001b3ull;
  ++trace_lines;
  if (trace.size() < sim_runner_detail::trace_file_lines_max)
    trace.push_back(std::move(text));
}

std::vector<std::string> violations(const run_record& rec) {
  std::vector<std::string> out;
  uint64_t lost = 0, twice = 0, split = 0;
  for (const auto& t : rec.tasks) {
    lost += t.outcome == "lost";
    twice += t.answers > 1;
  }
  for (const auto& s : rec.samples)
    split += s.split_brain;
  if (lost > 0)
    out.push_back(std::to_string(lost) + " task(s) lost");
  if (twice > 0)
    out.push_back(std::to_string(twice) + " task(s) answered twice");
  if (split > 0)
    out.push_back("split brain in " + std::to_string(split) + " sample(s)");
  return out;
}

caf::expected<run_record> run_scenario(const scenario& sc, const run_options& opts) {
  sim_runner_detail::runner r{sc, opts};
  return r.run();
}

}  // namespace agentgraph::sim
