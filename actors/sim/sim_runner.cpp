// The run loop of `agentgraph sim` (sim_runner.hpp): the node lifecycle,
// the schedule and the fault dispatch. The client and its tasks are
// sim_client.cpp's, a node's gateway and end sim_node.cpp's, the setup
// sim_setup.cpp's, the membership views sim_views.cpp's, the key audit
// sim_keys.cpp's. About 700 lines because the loop, the node lifecycle and the fault schedule read
// best together in the one class that owns the world: each piece is short
// and named after what it does.
#include "actors/sim/sim_runner.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <cstdlib>
#include <filesystem>
#include <queue>

#include "actors/host/cluster/cluster_directory.hpp"
#include "actors/host/cluster/cluster_host.hpp"
#include "actors/host/cluster/cluster_messaging.hpp"
#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/sim/sim_client.hpp"
#include "actors/sim/sim_keys.hpp"
#include "actors/sim/sim_llm.hpp"
#include "actors/sim/sim_network.hpp"
#include "actors/sim/sim_setup.hpp"
#include "actors/sim/sim_views.hpp"
#include "net/cluster/cluster_interface.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/seeded_random.hpp"
#include "runtime/virtual_time.hpp"

namespace agentgraph::sim {

using namespace std::chrono_literals;

namespace sim_runner_detail {

constexpr uint16_t node_port = 4242;
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

enum class event_kind : uint8_t { arrival, burst_arrival, fault, undo, sample, progress, client };

// The journal the simulated nodes share, in the run's data directory.
constexpr const char* shared_journal_file = "journal-shared.sqlite";


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
      client_(sc, opts.seed, rec_, sample_, nodes_,
              client_hooks{[this] { return now(); },
                           [this](caf::timespan at, uint64_t task) {
                             events_.push({t0_ + at, ++seq_, event_kind::client, task});
                           },
                           [this](double t, const std::string& what) { line(t, what); }}) {
    rec_.scenario_origin = sc.origin;
    rec_.journaled = sc.journal;
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
      auto dir = make_run_dir();
      if (!dir)
        return dir.error();
      data_dir_ = *dir;
      remove_data_dir_ = true;
    }
    // A journal an earlier run left in a given directory would answer this
    // run's task ids: the run starts with none.
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::error_code ec;
      std::filesystem::remove(data_dir_ + "/" + shared_journal_file + suffix, ec);
    }
    auto shared = shared_store_populations(sc_.node_config);
    if (!shared)
      return shared.error();
    shared_store_populations_ = std::move(*shared);
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
    if (auto err = check_providers(sc_, *cfg))
      return err;
    if (sc_.process == "trace") {
      auto trace = read_trace(sc_);
      if (!trace)
        return trace.error();
      trace_arrivals_ = std::move(*trace);
    }
    // The audit's triggers go in before anything is written, the preloaded
    // states included: they are each key's first state.
    if (!shared_store_populations_.empty())
      if (auto err = start_key_audit(shared_store()))
        return err;
    if (sc_.saved_keys > 0)
      if (auto err = preload_keys(sc_, *cfg, shared_store_populations_, shared_store()))
        return err;
    return count_saved_states(true);
  }

  std::string shared_store() const {
    return "sqlite:" + data_dir_ + "/populations-shared.sqlite";
  }

  caf::error count_saved_states(bool at_start) {
    return sim::count_saved_states(shared_store_populations_, shared_store(), at_start,
                                   rec_.saved_states);
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
    views_.forget(i);
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
    node_gateway_setup setup;
    if (sc_.journal)
      setup.journal = "sqlite:" + data_dir_ + "/" + shared_journal_file;
    setup.executed = client_.execution_observer();
    setup.line = [this](const std::string& what) { line(now_ms(), what); };
    if (auto err = open_gateway(*n, *cfg, setup))
      return err;
    n->started = true;
    line(now_ms(), "node " + name + " started, incarnation " + std::to_string(n->incarnation));
    if (nodes_.size() < i)
      nodes_.resize(i);
    if (nodes_[i - 1])
      retired_.push_back(std::move(nodes_[i - 1]));
    nodes_[i - 1] = std::move(n);
    return {};
  }

  // Every member event node `n` sees, into the trace, the record and the views.
  void observe_members(sim_node& n) {
    const size_t observer = n.number;
    const uint32_t incarnation = n.incarnation;
    observe_node_members(*n.p, n.node, [this, observer, incarnation](const cluster::member_event& e) {
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
      views_.saw(observer, c.member, c.uid, c.state);
      rec_.members.push_back(std::move(c));
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

  bool formed() const { return views_.formed(sc_.nodes); }

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
          client_.arrive(trace_arrivals_[trace_next_].second);
          if (++trace_next_ < trace_arrivals_.size())
            push(std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double, std::milli>(
                   trace_arrivals_[trace_next_].first)),
                 event_kind::arrival);
          break;
        }
        client_.arrive(sc_.agent);
        if (auto next = t + next_gap(sc_.rate);
            next < span_of(sc_.duration) && rec_.tasks.size() < sc_.tasks_max)
          push(next, event_kind::arrival);
        break;
      case event_kind::burst_arrival: {
        const auto& b = sc_.bursts[ev.index];
        if (t >= span_of(b.at)) {
          client_.arrive(sc_.agent);
        }
        if (auto next = t + next_gap(b.rate); next < span_of(b.at + b.duration)
                                              && next < span_of(sc_.duration)
                                              && rec_.tasks.size() < sc_.tasks_max)
          push(next, event_kind::burst_arrival, ev.index);
        break;
      }
      case event_kind::fault:
        strike(ev.index, false);
        client_.after_fault();
        break;
      case event_kind::undo:
        strike(ev.index, true);
        client_.after_fault();
        break;
      case event_kind::client:
        client_.wake(ev.index);
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

  void take_sample(caf::timespan t) {
    sample_.t_ms = ms_of(t);
    sample_.ok_by_entry.resize(nodes_.size());
    sample_.up_seen_by.assign(nodes_.size(), -1);
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i] || nodes_[i]->killed || nodes_[i]->frozen)
        continue;
      sample_.up_seen_by[i] = views_.up_seen_by(i + 1);
    }
    sample_.split_brain = split_brain();
    if (sample_.split_brain)
      line(ms_of(t), "split brain: two live nodes each see the other down");
    rec_.samples.push_back(std::move(sample_));
    sample_ = {};
  }

  // Two live nodes that each see themselves up and the other gone.
  bool split_brain() const {
    std::vector<std::pair<size_t, std::string>> live;
    for (const auto& n : nodes_)
      if (n && !n->killed && !n->frozen)
        live.emplace_back(n->number, n->name());
    return views_.split_brain(live);
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
    for (auto& [name, fig] : rec_.llm)
      for (auto& change : fig.served_changes)
        change.first -= ms_of(t0_);
    rec_.segments_delayed = net_.segments_delayed();
    rec_.segments_dropped = net_.segments_dropped();
    rec_.planet_steps = net_.planet_steps();
    rec_.instants = net_.instants();
    for (auto& n : nodes_) {
      rec_.node_state.push_back(!n ? "absent" : n->killed ? "killed" : n->frozen ? "frozen" : "live");
      rec_.incarnation_at_end.push_back(n ? n->incarnation : 0);
    }
    // A run of `agent` ends by its runner's deadline: the agent's task
    // deadline plus the gateway's grace (gateway_impl.hpp), 1 s.
    auto run_ms = [this](const std::string& agent) {
      const auto& n = nodes_.front();
      const auto run = n && n->rt ? n->rt->task_deadline(agent) : std::chrono::milliseconds{0};
      return ms_of(span_of(run + std::chrono::seconds{1}));
    };
    client_.finish(rec_.end_ms,
                   sc_.journal ? "sqlite:" + data_dir_ + "/" + shared_journal_file : std::string{},
                   run_ms);
    if (!shared_store_populations_.empty())
      audit_keys();
  }

  // Replays the shared store's audit (sim_keys.hpp) once the world stopped.
  void audit_keys() {
    const auto journal = sc_.journal ? "sqlite:" + data_dir_ + "/" + shared_journal_file
                                     : std::string{};
    key_audit_checker checker{task_numbers_of(sc_.input),
                              [this, journal](uint64_t task) {
                                return client_.ran_again(task, journal);
                              }};
    if (auto err = read_key_audit(shared_store(), checker)) {
      line(now_ms(), "the key audit cannot be read: " + error_context(err));
      return;
    }
    rec_.keys = checker.figures();
    const auto& k = rec_.keys;
    line(now_ms(), describe_keys(k));
    for (const auto& d : k.details)
      line(now_ms(), "key audit: " + d);
  }

  void teardown() {
    if (torn_down_)
      return;
    torn_down_ = true;
    // The nodes' last jobs (their runners stopped) answer nobody any more.
    client_.close();
    net_.teardown();
    // Each Runtime shuts down on its own system (virtual time, stepped
    // alone), then its actor system ends.
    for (auto& n : nodes_)
      if (n)
        end_node(*n, teardown_steps_max);
    for (auto& n : retired_)
      end_node(*n, teardown_steps_max);
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
  sim_network net_;
  std::vector<std::unique_ptr<sim_node>> nodes_;
  std::vector<std::unique_ptr<sim_node>> retired_;  // killed incarnations replaced by restarts
  std::map<size_t, uint32_t> incarnations_;
  member_views views_;
  std::priority_queue<event, std::vector<event>, std::greater<event>> events_;
  std::vector<std::pair<double, std::string>> trace_arrivals_;
  size_t trace_next_ = 0;
  uint64_t seq_ = 0;
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
  // Last: it holds references to rec_, sample_ and nodes_.
  sim_client client_;
};

}  // namespace sim_runner_detail

caf::expected<run_record> run_scenario(const scenario& sc, const run_options& opts) {
  sim_runner_detail::runner r{sc, opts};
  return r.run();
}

}  // namespace agentgraph::sim
