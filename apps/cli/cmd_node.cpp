// `agentgraph node`: builds the runtime a config declares, serves the HTTP
// gateway, and shuts down gracefully on SIGTERM or SIGINT:
//   1. begin_drain: /ready answers 503, new tasks get 503 + Retry-After;
//   2. wait up to [node] shutdown_deadline for accepted tasks to finish;
//   3. cancel the rest: each caller gets an explicit `cancelled` error;
//   4. in a cluster ([cluster] section): leave it (the node ends `exiting`,
//      then `removed` on the others, never `down`), bounded by join_timeout;
//   5. stop the HTTP server, then Runtime::shutdown (memory snapshots);
//   6. exit 0 (1 if a snapshot failed).
// A second signal during all this exits at once with code 130, without
// snapshots.
//
// Signals: SIGINT and SIGTERM are blocked before any thread starts (CAF's,
// the HTTP server's, curl's), so every thread inherits the mask and only the
// dedicated signal thread receives them, through sigwait. Nothing runs in a
// signal handler, so no CAF call can happen there.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include <boost/program_options.hpp>

#include "actors/agent/agent_metrics.hpp"
#include "actors/host/cluster/cluster_directory.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/journal/journal_actor.hpp"
#include "actors/host/cluster/cluster_host.hpp"
#include "actors/host/cluster/cluster_messaging.hpp"
#include "actors/host/cluster/cluster_metrics.hpp"
#include "actors/host/node/gateway.hpp"
#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "apps/cli/cli_options.hpp"
#include "apps/cli/commands.hpp"
#include "net/http_server/http_server.hpp"
#include "runtime/config/config_options.hpp"
#include "runtime/config/config_resolve.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace po = boost::program_options;

namespace agentgraph::cli {

namespace cmd_node_detail {

// Exit code of a second signal during shutdown: 128 + SIGINT, what shells
// report for an interrupted program.
constexpr int forced_exit_code = 130;

struct node_options {
  config_args cfg;
  std::string port_file;
};

std::optional<int> parse(const args& argv, node_options& out) {
  po::options_description desc{"agentgraph node"};
  desc.add_options()("help", "print this help")(
    "port-file", po::value(&out.port_file),
    "write the gateway's port to this file (atomically) once it listens");
  po::variables_map vm;
  if (auto code = parse_config_command(argv, "node", desc, vm, out.cfg))
    return code;
  if (out.cfg.config.empty()) {
    std::cerr << "agentgraph node: --config (or AGENTGRAPH_CONFIG) is required\n";
    return 2;
  }
  return std::nullopt;
}

// Written to a temporary name and renamed, so a reader never sees half.
bool write_port_file(const std::string& path, uint16_t port) {
  auto tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out{tmp, std::ios::trunc};
    out << port << "\n";
    if (!out.flush())
      return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

// The first signal wakes the main thread; a second one ends the process.
class signal_watch {
 public:
  explicit signal_watch(sigset_t set) : set_(set) {
    thread_ = std::thread([this] { run(); });
    thread_.detach();  // blocked in sigwait for the life of the process
  }

  int wait_first() {
    std::unique_lock lock{mutex_};
    first_.wait(lock, [this] { return signal_ != 0; });
    return signal_;
  }

 private:
  void run() {
    for (;;) {
      int sig = 0;
      if (sigwait(&set_, &sig) != 0)
        continue;
      std::lock_guard lock{mutex_};
      if (signal_ == 0) {
        signal_ = sig;
        first_.notify_all();
        continue;
      }
      log(log_severity::warn, "node", "second signal: exiting now, without snapshots",
          {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"},
           {"exit_code", std::to_string(forced_exit_code)}});
      std::fflush(nullptr);
      std::_Exit(forced_exit_code);
    }
  }

  sigset_t set_;
  std::mutex mutex_;
  std::condition_variable first_;
  int signal_ = 0;  // guarded by mutex_; the first signal
  std::thread thread_;
};

// The node's load for the node actor's heartbeats, read on the node
// actor's thread. The node actor may outlive the runtime's use here by a
// few heartbeats (it stops asynchronously), so the runtime is detached from
// it under the mutex before the gateway and the runtime go.
struct load_source {
  std::mutex mutex;
  Runtime* rt = nullptr;  // guarded by mutex

  // Tasks this node's agents run now, whoever sent them (this gateway, a
  // workflow, a group router on another node).
  uint32_t read() {
    std::lock_guard lock{mutex};
    if (rt == nullptr)
      return 0;
    return static_cast<uint32_t>(
      std::min<uint64_t>(agent_tasks_in_flight_total(rt->metrics()), UINT32_MAX));
  }
  void detach() {
    std::lock_guard lock{mutex};
    rt = nullptr;
  }
};

// Joins the cluster of `cfg`: the node actor is published and starts to
// join through the seeds; the gateway serves /v1/cluster from now on. The
// first incarnation's uid takes the wall clock here, the only place that
// reads it (the cluster code reads none).
// The node's task journal ([cluster] journal_path, or journal_url for one
// the cluster shares): opened here (setup code may block), run by a journal
// actor, given to the gateway with this incarnation's member name and uid;
// the tasks a dead run left open run again. A shared journal also makes
// this node adopt dead members' open tasks whenever it leads. Nothing to do
// without either key.
caf::error open_journal(Runtime& rt, gateway& gw, const cluster::cluster_config& cfg,
                        const cluster::node_actor& node, uint32_t tasks_in_flight_max) {
  const bool shared = !cfg.journal_url.empty();
  if (!shared && cfg.journal_path.empty())
    return {};
  const std::string key = shared ? "[cluster] journal_url: " : "[cluster] journal_path: ";
  auto store = open_task_journal(shared ? cfg.journal_url : "sqlite:" + cfg.journal_path);
  if (!store)
    return make_error(errc_of(store.error()).value_or(errc::io_error),
                      key + describe(store.error()));
  journal_actor_config jc;
  // A task makes two journal calls (accept, complete), each gateway slot at most.
  jc.pending_max = std::max<uint32_t>(64, 2 * tasks_in_flight_max);
  auto journal = spawn_journal_actor(rt.system(), std::move(*store), jc);
  auto self = blocking_ask<cluster::cluster_status>(rt.system(), node, std::chrono::seconds{10},
                                                    "cluster node", cluster::cluster_status_atom::value);
  if (!self) {
    caf::anon_send_exit(journal, caf::exit_reason::user_shutdown);
    return std::move(self.error());
  }
  gw.set_journal(caf::actor_cast<caf::actor>(journal), self->self.name, self->self.uid);
  // Joining and a first directory exchange fit in two join timeouts.
  auto resumed = gw.resume_journaled(2 * cfg.join_timeout);
  if (!resumed)
    return make_error(errc::io_error, key + describe(resumed.error()));
  if (shared) {
    // Member events drive adoption; the sweep is the fallback for a leader
    // that changed without one (a few heartbeats, at least a second).
    const auto sweep = std::max<std::chrono::milliseconds>(std::chrono::seconds{1},
                                                           4 * cfg.heartbeat_interval);
    if (auto err = gw.adopt_orphans(caf::actor_cast<caf::actor>(node), sweep))
      return err;
  }
  log(log_severity::info, "node", "task journal open",
      {{"journal", shared ? "postgresql (shared)" : cfg.journal_path},
       {"resumed", std::to_string(*resumed)}});
  return {};
}

caf::expected<cluster::node_actor> join_cluster(Runtime& rt, gateway& gw,
                                                const cluster::cluster_config& cfg,
                                                const std::string& url,
                                                const std::shared_ptr<load_source>& load,
                                                uint32_t tasks_in_flight_max) {
  const char* secret = std::getenv(cfg.secret_env.c_str());
  cluster_start start;
  start.cfg = cfg;
  start.secret = secret ? secret : "";
  start.start_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  start.random_bits = std::random_device{}();
  start.pid = static_cast<int32_t>(::getpid());
  start.url = url;
  start.figures = std::make_shared<cluster::cluster_figures>();
  load->rt = &rt;  // before any other thread can read it
  start.load_probe = [load] { return load->read(); };
  if (auto err = add_cluster_metrics(rt.metrics(), start.figures))
    return err;
  auto node = start_cluster_node(rt.system(), std::move(start));
  if (!node)
    return node;
  if (auto err = attach_cluster_directory(rt, *node, cfg.heartbeat_interval);
      err || (err = attach_cluster_messaging(rt, *node))) {
    // A published node actor would hold ~actor_system forever.
    caf::anon_send_exit(*node, caf::exit_reason::user_shutdown);
    return err;
  }
  if (auto err = open_journal(rt, gw, cfg, *node, tasks_in_flight_max)) {
    caf::anon_send_exit(*node, caf::exit_reason::user_shutdown);
    return err;
  }
  gw.set_cluster(caf::actor_cast<caf::actor>(*node));
  return node;
}

int drain_and_stop(gateway& gw, Runtime& rt, const node_settings& node,
                   const std::optional<cluster::cluster_config>& cluster_cfg,
                   const cluster::node_actor& cluster_node, int sig) {
  log(log_severity::info, "node", "shutting down",
      {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"},
       {"tasks_in_flight", std::to_string(gw.tasks_in_flight())},
       {"deadline_ms", std::to_string(node.shutdown_deadline.count())}});
  gw.begin_drain();
  bool idle = gw.wait_idle(node.shutdown_deadline);
  size_t cancelled = idle ? 0 : gw.cancel_in_flight("node shutting down");
  if (cluster_node) {
    auto left = leave_cluster(rt.system(), cluster_node, cluster_cfg->join_timeout);
    log(left ? log_severity::info : log_severity::warn, "node", "left the cluster",
        {{"state", left ? cluster::to_string(*left) : describe(left.error())}});
  }
  gw.stop();
  auto err = rt.shutdown();
  log(log_severity::info, "node", "stopped",
      {{"drained", idle ? "true" : "false"}, {"cancelled", std::to_string(cancelled)},
       {"snapshots", err ? describe(err) : "ok"}});
  return err ? 1 : 0;
}

}  // namespace cmd_node_detail

int node_command(const args& argv) {
  using namespace cmd_node_detail;
  node_options opts;
  if (auto code = parse(argv, opts))
    return *code;
  // Before any thread exists: every thread inherits the blocked set.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  auto env = process_environment();
  env.erase("AGENTGRAPH_CONFIG");
  auto cfg = load_node_config(opts.cfg.config, env, opts.cfg.overrides);
  if (!cfg) {
    std::cerr << "agentgraph node: " << describe(cfg.error()) << "\n";
    return 2;
  }
  set_log_level(cfg->runtime.log_level);
  // process_environment() holds only AGENTGRAPH_* variables; the token's
  // variable is named by the config.
  std::map<std::string, std::string> token_env;
  if (!cfg->node.auth_token_env.empty())
    if (const char* v = std::getenv(cfg->node.auth_token_env.c_str()))
      token_env.emplace(cfg->node.auth_token_env, v);
  auto gw_cfg = gateway_config_from(cfg->node, token_env);
  if (gw_cfg)
    gw_cfg->cluster_member = cfg->cluster.has_value();
  if (!gw_cfg) {
    std::cerr << "agentgraph node: " << describe(gw_cfg.error()) << "\n";
    return 2;
  }
  auto rt = runtime_builder::from_config(*cfg);
  if (!rt) {
    std::cerr << "agentgraph node: " << describe(rt.error()) << "\n";
    return 2;
  }
  // Leaked on purpose: its detached thread waits in sigwait until the
  // process ends and must never see it destroyed.
  auto& signals = *new signal_watch{set};
  auto gw = gateway::start(**rt, *gw_cfg);
  if (!gw) {
    std::cerr << "agentgraph node: " << describe(gw.error()) << "\n";
    return 1;
  }
  std::cout << "listening on " << net::http_url(gw_cfg->host, (*gw)->port()) << std::endl;
  if (!opts.port_file.empty() && !write_port_file(opts.port_file, (*gw)->port())) {
    std::cerr << "agentgraph node: cannot write --port-file " << opts.port_file << "\n";
    return 1;
  }
  cluster::node_actor cluster_node;
  auto load = std::make_shared<load_source>();
  if (cfg->cluster) {
    auto node = join_cluster(**rt, **gw, *cfg->cluster,
                             net::http_url(gw_cfg->host, (*gw)->port()), load,
                             cfg->node.tasks_in_flight_max);
    if (!node) {
      load->detach();
      std::cerr << "agentgraph node: cluster: " << describe(node.error()) << "\n";
      return 1;
    }
    cluster_node = *node;
  }
  (*gw)->set_ready(true);
  int sig = signals.wait_first();
  int code = drain_and_stop(**gw, **rt, cfg->node, cfg->cluster, cluster_node, sig);
  load->detach();
  gw->reset();
  if (cfg->cluster) {
    // A connector stuck in connect() on a peer that drops SYNs holds the
    // actor system's destructor for up to the kernel's SYN retries (about
    // 2 minutes; net/cluster/DESIGN.md §6 item 4). Everything durable is
    // written by now, so the process ends here.
    std::fflush(nullptr);
    std::_Exit(code);
  }
  return code;
}

}  // namespace agentgraph::cli
