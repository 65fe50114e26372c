// `agentgraph bench gateway`: the node's HTTP gateway (net::http_server on
// Boost.Beast, event driven) next to the server design it replaced
// (cpp-httplib with a pool of 8 worker threads, one connection per worker,
// each sync request waiting on its worker), both in front of the same
// Runtime and the same instant scripted agent, measured in the same run.
//
// Two measures:
//   1. sync tasks/s and p50/p99 of POST /v1/tasks, closed loop of N clients
//      (raw libcurl with kept-alive connections, the load generator of
//      `bench llm`), at each --concurrency level;
//   2. GET /health latency while --slow-clients connections trickle their
//      headers a byte at a time (as a slowloris client does): sequential
//      probes with a --health-timeout each; the answered count and p50/p99 of
//      the answered ones.
// The baseline is a faithful reduction of the old server, not a copy of it:
// same library, same worker count (the old http_threads default), the same
// blocking wait per sync request; it has no auth, no event streams.
// Nothing here is a hard-coded figure; --json prints the same figures as
// one JSON object.
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include <boost/program_options.hpp>
#include <curl/curl.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/host/node/gateway.hpp"
#include "actors/host/node/task_json.hpp"
#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/host/runtime_client.hpp"
#include "apps/cli/bench_llm.hpp"
#include "apps/cli/commands.hpp"
#include "net/curl_global.hpp"
#include "net/http_server/http_server.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace po = boost::program_options;

namespace agentgraph::cli {

namespace cmd_bench_gateway_detail {

// Bounds of the options.
constexpr uint32_t slow_clients_max = 20'000;
constexpr uint32_t health_requests_max = 100'000;
// Workers of the baseline: the old server's http_threads default.
constexpr size_t baseline_workers = 8;
// /health probes missed in a row after which a server counts as not
// answering (the rest are not sent).
constexpr uint32_t probe_misses_max = 10;
// How often each slow client sends its next header byte.
constexpr auto trickle_every = std::chrono::milliseconds{500};

struct bench_options {
  uint64_t requests = 5000;
  uint64_t warmup = 500;
  std::vector<uint32_t> levels{1, 64};
  uint32_t slow_clients = 1000;
  uint32_t health_requests = 200;
  std::chrono::milliseconds health_timeout{2000};
  bool json = false;
};

std::optional<int> parse(const args& argv, bench_options& o) {
  po::options_description desc{"agentgraph bench gateway"};
  std::string levels = "1,64";
  uint32_t health_timeout_ms = 2000;
  desc.add_options()("help", "print this help")(
    "requests", po::value(&o.requests), "measured sync tasks per row and level (default 5000)")(
    "warmup", po::value(&o.warmup), "warm-up tasks per row and level (default 500)")(
    "concurrency", po::value(&levels), "clients in flight, comma-separated (default 1,64)")(
    "slow-clients", po::value(&o.slow_clients),
    "connections trickling their headers during the /health probe (default 1000)")(
    "health-requests", po::value(&o.health_requests), "sequential /health probes (default 200)")(
    "health-timeout-ms", po::value(&health_timeout_ms),
    "one /health probe gives up after this (default 2000)")(
    "quick", "small counts for a smoke test")("json", "print one JSON object instead of tables");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "agentgraph bench gateway: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (vm.count("quick")) {
    o.requests = vm.count("requests") ? o.requests : 200;
    o.warmup = vm.count("warmup") ? o.warmup : 20;
    o.slow_clients = vm.count("slow-clients") ? o.slow_clients : 100;
    o.health_requests = vm.count("health-requests") ? o.health_requests : 10;
  }
  o.json = vm.count("json") > 0;
  auto parsed = parse_levels(levels);
  if (!parsed) {
    std::cerr << "agentgraph bench gateway: " << describe(parsed.error()) << "\n";
    return 2;
  }
  o.levels = std::move(*parsed);
  if (o.levels.empty() || o.requests < 1 || o.requests > bench_requests_max
      || o.warmup > bench_requests_max || o.slow_clients > slow_clients_max
      || o.health_requests < 1 || o.health_requests > health_requests_max
      || health_timeout_ms < 1 || health_timeout_ms > 60'000) {
    std::cerr << "agentgraph bench gateway: an option is out of its bounds (see --help)\n";
    return 2;
  }
  o.health_timeout = std::chrono::milliseconds{health_timeout_ms};
  return std::nullopt;
}

// The Runtime both servers front: one agent on the scripted provider with
// an instant reply, so the figures are the servers' and the task path's.
caf::expected<std::unique_ptr<Runtime>> make_runtime(const std::filesystem::path& dir) {
  std::ofstream{dir / "rules.json"} << R"({"rules":[{"name":"pong","when":{"last_role":"user"},"reply":"pong"}]})";
  std::ofstream{dir / "bench.ini"} << "[runtime]\nlog_level = error\n"
                                      "[provider.scripted]\nkind = scripted\nrules = rules.json\n"
                                      "[agent.bench]\nprovider = scripted\n"
                                      "tasks_in_flight_max = 1024\n";
  auto cfg = load_node_config((dir / "bench.ini").string(), {}, {});
  if (!cfg)
    return cfg.error();
  return runtime_builder::from_config(*cfg);
}

// The server design the gateway replaced: cpp-httplib, a fixed pool of
// workers, the sync task awaited on the worker.
class baseline_server {
 public:
  explicit baseline_server(Runtime& rt) {
    http_.new_task_queue = [] { return new httplib::ThreadPool(baseline_workers); };
    http_.set_tcp_nodelay(true);
    http_.Get("/health", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"status":"alive"})", "application/json");
    });
    http_.Post("/v1/tasks", [&rt, this](const httplib::Request& req, httplib::Response& res) {
      auto sub = parse_task_submission(req.body);
      if (!sub) {
        res.status = 400;
        return;
      }
      auto id = "b-" + std::to_string(++ids_);
      auto r = runtime_client{rt}.submit(sub->agent, task_request{id, std::move(sub->input), {}}).get();
      res.status = r ? 200 : http_status_of(r.error());
      res.set_content(r ? result_json(*r).to_json() : describe(r.error()), "application/json");
    });
    port_ = http_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { http_.listen_after_bind(); });
    for (int i = 0; i < 5000 && !http_.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  ~baseline_server() {
    http_.stop();
    if (thread_.joinable())
      thread_.join();
  }
  int port() const { return port_; }

 private:
  httplib::Server http_;
  std::atomic<uint64_t> ids_{0};
  int port_ = -1;
  std::thread thread_;
};

bench_target task_target(int port) {
  bench_target t;
  t.base_url = "http://127.0.0.1:" + std::to_string(port);
  t.http.method = "POST";
  t.http.url = t.base_url + "/v1/tasks";
  t.http.headers = {{"Content-Type", "application/json"}};
  t.http.body = R"({"agent":"bench","input":"ping"})";
  return t;
}

// Connections that send a request's first bytes and then one more header
// byte every trickle_every, never finishing: each holds a thread of a
// thread-per-connection server until its read timeout, which the trickle
// keeps resetting.
class slow_clients {
 public:
  slow_clients(int port, uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      if (fd < 0)
        break;
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(port));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        break;
      }
      const char head[] = "GET /health HTTP/1.1\r\nX-Slow: ";
      (void)::send(fd, head, sizeof head - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      fds_.push_back(fd);
    }
    trickler_ = std::thread([this] {
      while (!stop_.load()) {
        for (int fd : fds_)
          (void)::send(fd, "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        for (int i = 0; i < 10 && !stop_.load(); ++i)
          std::this_thread::sleep_for(trickle_every / 10);
      }
    });
  }
  ~slow_clients() {
    stop_ = true;
    trickler_.join();
    for (int fd : fds_)
      ::close(fd);
  }
  size_t connected() const { return fds_.size(); }

 private:
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::thread trickler_;
};

struct health_figures {
  size_t slow_connected = 0;
  uint32_t probes = 0;
  uint32_t answered = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

size_t discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

health_figures probe_health(int port, const bench_options& o) {
  health_figures out;
  slow_clients slow{port, o.slow_clients};
  out.slow_connected = slow.connected();
  // Let the server take them in before the first probe.
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  net::ensure_curl_initialized();
  loop_result lat;
  uint32_t consecutive_misses = 0;
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/health";
  for (uint32_t i = 0; i < o.health_requests; ++i) {
    CURL* c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(o.health_timeout.count()));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &discard);
    const auto t0 = bench_clock::now();
    const CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    ++out.probes;
    if (rc != CURLE_OK || status != 200) {
      // A server that missed this many in a row will miss the rest: stop
      // rather than wait out every timeout.
      if (++consecutive_misses == probe_misses_max)
        break;
      continue;
    }
    consecutive_misses = 0;
    {
      ++out.answered;
      lat.latency_ns.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(bench_clock::now() - t0).count());
    }
  }
  if (!lat.latency_ns.empty()) {
    auto f = summarize(std::move(lat));
    out.p50_ms = f.p50_ms;
    out.p99_ms = f.p99_ms;
  }
  return out;
}

struct task_row {
  std::string server;
  uint32_t concurrency = 0;
  row_figures figures;
};

void print_tables(const std::vector<task_row>& rows, const std::vector<std::pair<std::string,
                  health_figures>>& health, const bench_options& o) {
  std::printf("sync tasks: POST /v1/tasks, closed loop, %llu warm-up + %llu measured per row\n",
              static_cast<unsigned long long>(o.warmup),
              static_cast<unsigned long long>(o.requests));
  std::printf("%-34s %5s %10s %9s %9s %7s\n", "server", "conc", "tasks/s", "p50 ms", "p99 ms",
              "errors");
  for (const auto& r : rows)
    std::printf("%-34s %5u %10.0f %9.3f %9.3f %7llu\n", r.server.c_str(), r.concurrency,
                r.figures.per_second(), r.figures.p50_ms, r.figures.p99_ms,
                static_cast<unsigned long long>(r.figures.errors));
  for (size_t i = 0; i + 1 < rows.size(); i += 2)
    if (rows[i].figures.per_second() > 0)
      std::printf("  concurrency %u: gateway vs baseline %.2fx tasks/s, %+.0f us p50, %+.0f us p99\n",
                  rows[i].concurrency, rows[i + 1].figures.per_second() / rows[i].figures.per_second(),
                  (rows[i + 1].figures.p50_ms - rows[i].figures.p50_ms) * 1000.0,
                  (rows[i + 1].figures.p99_ms - rows[i].figures.p99_ms) * 1000.0);
  std::printf("\nGET /health while slow clients trickle their headers (%u probes, %lld ms timeout each)\n",
              o.health_requests, static_cast<long long>(o.health_timeout.count()));
  std::printf("%-34s %6s %9s %9s %9s\n", "server", "slow", "answered", "p50 ms", "p99 ms");
  for (const auto& [name, h] : health)
    std::printf("%-34s %6zu %5u/%-3u %9.3f %9.3f\n", name.c_str(), h.slow_connected, h.answered,
                h.probes, h.p50_ms, h.p99_ms);
}

nlohmann::json to_json(const std::vector<task_row>& rows,
                       const std::vector<std::pair<std::string, health_figures>>& health,
                       const bench_options& o) {
  nlohmann::json j = {{"bench", "gateway"}, {"requests", o.requests}, {"warmup", o.warmup}};
  for (const auto& r : rows)
    j["tasks"].push_back({{"server", r.server}, {"concurrency", r.concurrency},
                          {"tasks_per_second", r.figures.per_second()},
                          {"p50_ms", r.figures.p50_ms}, {"p99_ms", r.figures.p99_ms},
                          {"errors", r.figures.errors}});
  for (size_t i = 0; i + 1 < rows.size(); i += 2)
    if (rows[i].figures.per_second() > 0)
      j["ratios"].push_back({{"concurrency", rows[i].concurrency},
                             {"tasks_per_second_vs_baseline",
                              rows[i + 1].figures.per_second() / rows[i].figures.per_second()},
                             {"p50_us_vs_baseline",
                              (rows[i + 1].figures.p50_ms - rows[i].figures.p50_ms) * 1000.0}});
  for (const auto& [name, h] : health)
    j["health_under_slow_clients"].push_back(
      {{"server", name}, {"slow_clients", h.slow_connected}, {"probes", h.probes},
       {"answered", h.answered}, {"p50_ms", h.p50_ms}, {"p99_ms", h.p99_ms},
       {"timeout_ms", o.health_timeout.count()}});
  return j;
}

int run(const bench_options& o) {
  // Room for the slow clients and both servers' ends of them.
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, 4 * static_cast<rlim_t>(o.slow_clients) + 1024);
  ::setrlimit(RLIMIT_NOFILE, &lim);
  set_log_level(log_severity::error);
  auto dir = std::filesystem::temp_directory_path()
             / ("agentgraph-bench-gateway-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  struct cleanup {
    std::filesystem::path p;
    ~cleanup() { std::filesystem::remove_all(p); }
  } rm{dir};
  auto rt = make_runtime(dir);
  if (!rt) {
    std::cerr << "agentgraph bench gateway: " << describe(rt.error()) << "\n";
    return 1;
  }
  gateway_config gc;
  gc.port = 0;
  gc.tasks_in_flight_max = 4096;
  gc.connections_max = std::max<uint32_t>(10'000, 2 * o.slow_clients);
  auto gw = gateway::start(**rt, gc);
  if (!gw) {
    std::cerr << "agentgraph bench gateway: " << describe(gw.error()) << "\n";
    return 1;
  }
  (*gw)->set_ready(true);
  baseline_server base{**rt};
  if (base.port() <= 0) {
    std::cerr << "agentgraph bench gateway: the baseline server cannot listen\n";
    return 1;
  }
  const std::string base_name = "cpp-httplib, 8 workers (before)";
  const std::string ours_name = "agentgraph gateway (Beast)";
  if (!o.json) {
#ifdef __OPTIMIZE__
    const char* build = "optimized";
#else
    const char* build = "NOT optimized (-O0): these figures say little";
#endif
    std::printf("agentgraph bench gateway: both servers in this process, one scripted agent "
                "(instant reply), raw libcurl clients; %u hardware threads; build %s\n\n",
                std::thread::hardware_concurrency(), build);
  }
  std::vector<task_row> rows;
  bool failed = false;
  for (uint32_t n : o.levels) {
    for (auto [name, port] : {std::pair{base_name, base.port()},
                              std::pair{ours_name, static_cast<int>((*gw)->port())}}) {
      auto t = task_target(port);
      task_row r{name, n, summarize(run_raw_curl(t, n, o.warmup, o.requests, true))};
      // The baseline's errors are a finding (its clients time out), ours a
      // failure of the command.
      if (name == ours_name)
        failed = failed || r.figures.errors > 0;
      if (r.figures.errors > 0)
        std::cerr << name << ": " << r.figures.errors << " errors, first: "
                  << r.figures.first_error << "\n";
      rows.push_back(std::move(r));
    }
  }
  std::vector<std::pair<std::string, health_figures>> health;
  health.emplace_back(base_name, probe_health(base.port(), o));
  health.emplace_back(ours_name, probe_health((*gw)->port(), o));
  if (o.json)
    std::cout << to_json(rows, health, o).dump(2) << "\n";
  else
    print_tables(rows, health, o);
  (*gw)->stop();
  return failed ? 1 : 0;
}

}  // namespace cmd_bench_gateway_detail

int bench_gateway(const args& argv) {
  cmd_bench_gateway_detail::bench_options o;
  if (auto code = cmd_bench_gateway_detail::parse(argv, o))
    return *code;
  return cmd_bench_gateway_detail::run(o);
}

}  // namespace agentgraph::cli
