// `agentgraph bench workflow` (bench_workflow.hpp says what it measures):
// builds a Runtime in-process per row from config text (one scripted
// provider answering every request at once, one agent), runs each graph
// `runs` times after `warmup` runs and times every run with steady_clock:
// most rows from this thread, blocked in run_workflow as an embedding app
// is; the "from an actor" rows from an event-based actor that starts each
// run when the previous one answered, so no thread blocks. Then it runs the
// LangGraph.js rows and prints one table per graph, or one JSON object.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <iostream>
#include <thread>

#include <boost/program_options.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/defaults.hpp>
#include <caf/event_based_actor.hpp>

#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/host/runtime_client.hpp"
#include "actors/workflow/workflow_builder.hpp"
#include "apps/cli/bench_llm.hpp"
#include "apps/cli/bench_workflow.hpp"
#include "runtime/checkpoint/postgres_checkpoint_store.hpp"
#include "runtime/assert.hpp"
#include "runtime/checkpoint/sqlite_checkpoint_store.hpp"
#include "runtime/error.hpp"

namespace po = boost::program_options;

namespace agentgraph::cli {

namespace cmd_bench_workflow_detail {

// One run's deadline; an instant graph that takes this long is broken.
constexpr auto run_deadline = std::chrono::seconds{60};
// Every graph here takes this many super-steps.
constexpr uint32_t graph_steps = 3;
// The PostgreSQL schema the bench writes to (created if missing; every run
// is its own thread, pruned to keep_last checkpoints like any thread).
constexpr const char* postgres_schema = "agentgraph_bench";

// The defaults warm every row up with 200 runs because LangGraph.js needs
// them: V8's JIT took its chain3 per-step figure from about 900 us after 20
// warm-up runs to about 500 us after 200 (ours moved by a few us).
struct bench_options {
  uint64_t runs = 1000;
  uint64_t warmup = 200;
  std::string peers_dir = AGENTGRAPH_PEERS_DIR;
  std::string rules = AGENTGRAPH_BENCH_DIR "/workflow.rules.json";
  std::string postgres_url;  // empty: the PostgreSQL row is skipped
  bool json = false;
  std::string only;  // non-empty: only rows whose name contains it run (for profiling one row)
};

// Returns the exit code when parsing ends the command (help, bad usage).
std::optional<int> parse(const args& argv, bench_options& out) {
  po::options_description desc{"agentgraph bench workflow"};
  desc.add_options()("help", "print this help")(
    "runs", po::value(&out.runs), "measured runs per row (default 1000)")(
    "warmup", po::value(&out.warmup), "warm-up runs per row, not measured (default 200)")(
    "quick", "small counts for a smoke test: 20 runs, 2 warm-up (unless given)")(
    "postgres-url", po::value(&out.postgres_url),
    "PostgreSQL for the checkpointed row (default: $AGENTGRAPH_TEST_POSTGRES_URL)")(
    "rules", po::value(&out.rules), "the scripted provider's rules (default configs/bench/workflow.rules.json)")(
    "peers-dir", po::value(&out.peers_dir),
    "where bench_langgraph.mjs and node_modules/@langchain/langgraph live (default: tools/peers)")(
    "json", "print every row as one JSON object instead of the tables")(
    "only", po::value(&out.only),
    "run only the rows whose name contains this text (the others say skipped), e.g. to profile one");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "agentgraph bench workflow: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (vm.count("quick")) {
    out.runs = vm.count("runs") ? out.runs : 20;
    out.warmup = vm.count("warmup") ? out.warmup : 2;
  }
  out.json = vm.count("json") > 0;
  if (out.runs < 1 || out.runs > bench_workflow_runs_max || out.warmup > bench_workflow_runs_max) {
    std::cerr << "agentgraph bench workflow: --runs must be in [1, " << bench_workflow_runs_max
              << "] and --warmup at most that\n";
    return 2;
  }
  // The bench is a program, not a test, so it reads the test harness's
  // variable itself; the config loader ignores AGENTGRAPH_TEST_* on purpose.
  if (const char* url = std::getenv("AGENTGRAPH_TEST_POSTGRES_URL");
      out.postgres_url.empty() && url != nullptr)
    out.postgres_url = url;
  return std::nullopt;
}

// A graph's shape: its nodes in order and how they connect.
struct graph_shape {
  std::string name;                 // chain3 | fanout10
  std::vector<std::string> nodes;   // each writes "<node>_out"
  bool fan_out = false;             // first -> the middle ones -> last (a join)
};

graph_shape chain3() { return {"chain3", {"n1", "n2", "n3"}, false}; }

graph_shape fanout10() {
  graph_shape s{"fanout10", {"first"}, true};
  for (int i = 0; i < 10; ++i)
    s.nodes.push_back("b" + std::to_string(i));
  s.nodes.push_back("last");
  return s;
}

// agent_nodes: every node asks agent "bench"; else every node is the
// function "bench_<node>". Built once per row and shared by its runs, as an
// app that runs one graph many times holds it.
caf::expected<std::shared_ptr<const workflow_graph>> build_graph(const graph_shape& s,
                                                                 bool agent_nodes) {
  workflow_builder b{s.name};
  for (const auto& n : s.nodes) {
    if (agent_nodes)
      b.agent(n, "bench", "Say pong about {{topic}}.", n + "_out");
    else
      b.function(n, "bench_" + n);
  }
  if (s.fan_out) {
    const std::vector<std::string> middle(s.nodes.begin() + 1, s.nodes.end() - 1);
    b.edge(s.nodes.front(), middle).join(middle, s.nodes.back());
  } else {
    for (size_t i = 0; i + 1 < s.nodes.size(); ++i)
      b.edge(s.nodes[i], {s.nodes[i + 1]});
  }
  auto g = b.edge(s.nodes.back(), {"END"}).entry(s.nodes.front()).build();
  if (!g)
    return std::move(g.error());
  return std::make_shared<const workflow_graph>(std::move(*g));
}

using store_opener = std::function<caf::expected<std::unique_ptr<checkpoint_store>>()>;

// The runtime of one row: the scripted provider, agent "bench", a function
// per node of both graphs, and the row's checkpoint store (null opener: none).
caf::expected<std::unique_ptr<Runtime>> make_runtime(const bench_options& o,
                                                     const store_opener& open) {
  auto cfg = parse_node_config("[provider.scripted]\nrules = " + o.rules + "\n[agent.bench]\n",
                               "bench-workflow.ini", {}, {});
  if (!cfg)
    return cfg.error();
  auto rt = runtime_builder::from_config(*cfg);
  if (!rt)
    return rt.error();
  runtime_builder build{**rt};
  if (open) {
    auto store = open();
    if (!store)
      return store.error();
    if (auto err = build.use_checkpoints(std::move(*store)))
      return err;
  }
  for (const auto& shape : {chain3(), fanout10()})
    for (const auto& n : shape.nodes) {
      const std::string key = n + "_out";
      auto err = build.register_workflow_function("bench_" + n, [key](const Value&) {
        return caf::expected<Value>{Value{Value::Object{{key, Value{"pong"}}}}};
      });
      if (err)
        return err;
    }
  return std::move(*rt);
}

// How a row's runs are started and what their caller takes.
enum class caller : uint8_t {
  blocked,         // run_workflow on this thread, no events
  blocked_events,  // the same, with every event delivered to this thread
  actor,           // an event-based actor, one run after the other
};

// Thread ids unique across processes: a PostgreSQL schema outlives a run.
std::string thread_prefix(const graph_shape& s) {
  return s.name + "-" + std::to_string(::getpid()) + "-"
         + std::to_string(bench_clock::now().time_since_epoch().count()) + "-";
}

workflow_start make_start(const std::string& thread_id) {
  workflow_start start;
  start.thread_id = thread_id;
  start.state = Value{Value::Object{{"topic", Value{"workflows"}}}};
  return start;
}

// A run that did not complete in graph_steps steps with every node's
// output "pong" fails the row.
caf::error check_run(const workflow_result& r, const graph_shape& s) {
  if (r.status != workflow_status::completed || r.steps != graph_steps)
    return make_error(errc::internal, "run " + r.thread_id + " ended " + to_string(r.status)
                                        + " after " + std::to_string(r.steps) + " steps: " + r.error);
  for (const auto& n : s.nodes)
    if (r.state.get_string(n + "_out") != "pong")
      return make_error(errc::internal, "run " + r.thread_id + ": node " + n + " wrote "
                                          + r.state.to_json());
  return {};
}

workflow_figures figures_of(loop_result lr) {
  const auto f = summarize(std::move(lr));
  return workflow_figures{f.requests, graph_steps, f.p50_ms, f.p99_ms};
}

void ignore_event(const workflow_event&) {}

// Times warmup + runs runs of `g` from this thread, each a blocking
// run_workflow call.
caf::expected<workflow_figures> time_blocking_runs(Runtime& rt,
                                                   const std::shared_ptr<const workflow_graph>& g,
                                                   const graph_shape& s, const bench_options& o,
                                                   bool events) {
  const auto prefix = thread_prefix(s);
  const std::function<void(const workflow_event&)> on_event
    = events ? std::function<void(const workflow_event&)>{ignore_event} : nullptr;
  loop_result lr;
  const auto t0 = bench_clock::now();
  for (uint64_t i = 0; i < o.warmup + o.runs; ++i) {
    auto start = make_start(prefix + std::to_string(i));
    const auto begin = bench_clock::now();
    auto r = runtime_client{rt}.run_workflow(g, std::move(start), on_event, run_deadline);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(bench_clock::now() - begin);
    if (!r)
      return r.error();
    if (auto err = check_run(*r, s))
      return err;
    if (i >= o.warmup)
      lr.latency_ns.push_back(ns.count());
  }
  lr.seconds = std::chrono::duration<double>(bench_clock::now() - t0).count();
  return figures_of(std::move(lr));
}

// The actor loop's state, shared with the thread that waits for it.
struct actor_loop {
  Runtime* rt = nullptr;
  std::shared_ptr<const workflow_graph> graph;
  graph_shape shape;
  uint64_t warmup = 0;
  uint64_t total = 0;
  std::string prefix;
  uint64_t next = 0;
  loop_result lr;
  caf::error error;
  std::promise<void> done;
};

// Starts run `loop->next` (timed from spawning it to its reply), or ends
// the loop. Each reply starts the next run on the same actor: no thread
// waits between runs and nothing leaves the CAF scheduler.
void start_run(caf::event_based_actor* self, std::shared_ptr<actor_loop> loop) {
  if (loop->next == loop->total) {
    loop->done.set_value();
    self->quit();
    return;
  }
  auto start = make_start(loop->prefix + std::to_string(loop->next));
  const auto begin = bench_clock::now();
  auto run = loop->rt->spawn_workflow(loop->graph, std::move(start), {});
  if (!run) {
    loop->error = std::move(run.error());
    loop->next = loop->total;
    return start_run(self, loop);
  }
  // No timeout per run: CAF 0.17 keeps every request timeout in its clock
  // thread until it fires (toolchain.md §9.21), which would add a clock
  // wake-up per run to a row meant to show the engine; the loop's one
  // deadline is the wait in time_actor_runs.
  self->request(*run, caf::infinite, run_workflow_atom::value)
    .then(
      [self, loop, begin](workflow_result& r) {
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(bench_clock::now()
                                                                             - begin);
        if (loop->next >= loop->warmup)
          loop->lr.latency_ns.push_back(ns.count());
        if (auto err = check_run(r, loop->shape)) {
          loop->error = std::move(err);
          loop->next = loop->total;
        } else {
          ++loop->next;
        }
        start_run(self, loop);
      },
      [self, loop](caf::error& err) {
        loop->error = from_request_error(std::move(err), "workflow run");
        loop->next = loop->total;
        start_run(self, loop);
      });
}

// Times warmup + runs runs of `g` started one after the other by an
// event-based actor: the engine and CAF without the blocking hand-off.
// This thread waits once, for the whole loop, at most run_deadline per run.
caf::expected<workflow_figures> time_actor_runs(Runtime& rt,
                                                const std::shared_ptr<const workflow_graph>& g,
                                                const graph_shape& s, const bench_options& o) {
  auto loop = std::make_shared<actor_loop>();
  loop->rt = &rt;
  loop->graph = g;
  loop->shape = s;
  loop->warmup = o.warmup;
  loop->total = o.warmup + o.runs;
  loop->prefix = thread_prefix(s);
  loop->lr.latency_ns.reserve(o.runs);
  auto done = loop->done.get_future();
  const auto t0 = bench_clock::now();
  rt.system().spawn([loop](caf::event_based_actor* self) { start_run(self, loop); });
  // Bounded: every run answers or fails within run_deadline.
  if (done.wait_for(run_deadline * (loop->total + 1)) != std::future_status::ready)
    return make_error(errc::timeout, "the actor loop did not end");
  loop->lr.seconds = std::chrono::duration<double>(bench_clock::now() - t0).count();
  if (loop->error)
    return loop->error;
  return figures_of(std::move(loop->lr));
}

// False, with the row's note saying why, when --only leaves it out.
bool selected(const bench_options& o, workflow_row& row) {
  if (row.name.find(o.only) != std::string::npos)
    return true;
  row.note = "skipped: not selected (--only " + o.only + ")";
  return false;
}

// One agentgraph row: a fresh runtime with `open`'s store, `s` built with
// agent or function nodes, run by `who`.
workflow_row agentgraph_row(std::string name, const bench_options& o, const graph_shape& s,
                            bool agent_nodes, const store_opener& open, caller who = caller::blocked) {
  workflow_row row;
  row.name = std::move(name);
  if (!selected(o, row))
    return row;
  auto g = build_graph(s, agent_nodes);
  auto rt = g ? make_runtime(o, open) : caf::expected<std::unique_ptr<Runtime>>{g.error()};
  auto f = !rt                  ? caf::expected<workflow_figures>{rt.error()}
           : who == caller::actor ? time_actor_runs(**rt, *g, s, o)
                                  : time_blocking_runs(**rt, *g, s, o, who == caller::blocked_events);
  if (f)
    row.figures = *f;
  else
    row.note = "failed: " + describe(f.error());
  return row;
}

size_t row_index(const workflow_table& t, const std::string& name) {
  for (size_t i = 0; i < t.rows.size(); ++i)
    if (t.rows[i].name == name)
      return i;
  AG_ASSERT(false && "a compared row is in the table");
  return 0;
}

// The rows of one graph, in table order; reference = LangGraph.js with
// fake-model nodes and no checkpointer.
workflow_table graph_table(const bench_options& o, const graph_shape& s,
                           const std::filesystem::path& sqlite_dir) {
  workflow_table t;
  t.graph = s.name;
  t.title = s.name == "chain3"
              ? "graph chain3: n1 -> n2 -> n3 (3 super-steps, 3 node calls per run)"
              : "graph fanout10: first -> b0..b9 -> last, a join (3 super-steps, 12 node calls per run)";
  const auto sqlite_path = sqlite_dir / (s.name + ".db");
  std::filesystem::remove(sqlite_path);
  t.rows.push_back(agentgraph_row("agentgraph, agent, no checkpoints", o, s, true, {}));
  t.rows.push_back(agentgraph_row("agentgraph, agent, SQLite", o, s, true, [&] {
    return open_sqlite_checkpoint_store(sqlite_path.string());
  }));
  workflow_row pg{"agentgraph, agent, PostgreSQL", std::nullopt, ""};
  if (!selected(o, pg))
    ;  // its note says so
  else if (o.postgres_url.empty())
    pg.note = "skipped: no --postgres-url and no AGENTGRAPH_TEST_POSTGRES_URL "
              "(tools/test-services.sh run agentgraph bench workflow)";
  else
    pg = agentgraph_row(pg.name, o, s, true, [&] {
      return open_postgres_checkpoint_store(o.postgres_url, {}, postgres_schema);
    });
  t.rows.push_back(std::move(pg));
  t.rows.push_back(agentgraph_row("agentgraph, function, no checkpoints", o, s, false, {}));
  t.rows.push_back(agentgraph_row("agentgraph, function, events to caller", o, s, false, {},
                                  caller::blocked_events));
  t.rows.push_back(agentgraph_row("agentgraph, agent, from an actor", o, s, true, {}, caller::actor));
  t.rows.push_back(
    agentgraph_row("agentgraph, function, from an actor", o, s, false, {}, caller::actor));
  std::filesystem::remove(sqlite_path);
  for (const char* suffix : {"-wal", "-shm"})
    std::filesystem::remove(sqlite_path.string() + suffix);
  const auto lg = [&](std::string name, const char* nodes, const char* cp) {
    workflow_row row{name, std::nullopt, ""};
    if (!selected(o, row))
      return row;
    return run_langgraph(o.peers_dir, std::move(name), {s.name, nodes, cp, o.warmup, o.runs});
  };
  t.reference = t.rows.size();
  t.rows.push_back(lg("LangGraph.js, fake model, no checkpointer", "model", "none"));
  t.rows.push_back(lg("LangGraph.js, fake model, MemorySaver", "model", "memory"));
  t.rows.push_back(lg("LangGraph.js, function, no checkpointer", "function", "none"));
  t.compare = {{row_index(t, "agentgraph, agent, no checkpoints"),
                row_index(t, "LangGraph.js, fake model, no checkpointer")},
               {row_index(t, "agentgraph, function, no checkpoints"),
                row_index(t, "LangGraph.js, function, no checkpointer")}};
  return t;
}

bool has_failure(const workflow_table& t) {
  for (const auto& r : t.rows)
    if (!r.figures && r.note.rfind("failed:", 0) == 0)
      return true;
  return false;
}

// What the figures were measured on; the scheduler settings decide what a
// blocking hand-off costs (a napping worker thread), so they are printed.
workflow_bench_info bench_info(const bench_options& o) {
  workflow_bench_info info;
  info.runs = o.runs;
  info.warmup = o.warmup;
#ifdef __OPTIMIZE__
  info.optimized = true;
#endif
  info.hardware_threads = std::thread::hardware_concurrency();
  auto rt = make_runtime(o, {});
  if (rt) {
    const auto& cfg = (*rt)->system().config();
    info.scheduler_policy
      = to_string(caf::get_or(cfg, "scheduler.policy", caf::defaults::scheduler::policy));
    info.scheduler_threads
      = caf::get_or(cfg, "scheduler.max-threads", caf::defaults::scheduler::max_threads);
  }
  return info;
}

void print_preamble(const bench_options& o, const workflow_bench_info& info) {
  std::cout << "agentgraph bench workflow: each row " << o.warmup << " warm-up + " << o.runs
            << " measured runs, one after the other; " << info.hardware_threads
            << " hardware threads; build "
            << (info.optimized ? "optimized" : "NOT optimized (-O0): these figures say little")
            << "; CAF scheduler " << info.scheduler_policy << ", " << info.scheduler_threads
            << " threads\n"
            << "agent: agent nodes over the scripted provider (" << o.rules << "), answered at once;\n"
            << "function: registered C++ function nodes (the engine's floor);\n"
            << "rows without a caller named: this thread calls run_workflow, blocks, asks for no events;\n"
            << "events to caller: the same, taking every event on this thread;\n"
            << "from an actor: an event-based actor starts each run when the last answered (no thread blocks);\n"
            << "SQLite: a temp file, synchronous=FULL (an fsync per super-step dominates);\n"
            << "LangGraph.js: @langchain/langgraph in node; fake model = FakeListChatModel, no sleep;\n"
            << "step us p50: the median run's wall time / its super-steps; "
               "vs LG: that over LangGraph.js's fake-model row without checkpointer\n\n";
}

}  // namespace cmd_bench_workflow_detail

int bench_workflow(const args& argv) {
  using namespace cmd_bench_workflow_detail;
  bench_options o;
  if (auto code = parse(argv, o))
    return *code;
  std::error_code ec;
  const auto dir = std::filesystem::temp_directory_path(ec)
                   / ("agentgraph-bench-wf-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::cerr << "agentgraph bench workflow: temp directory " << dir << ": " << ec.message() << "\n";
    return 1;
  }
  const auto info = bench_info(o);
  if (!o.json)
    print_preamble(o, info);
  bool failed = false;
  std::vector<workflow_table> tables;
  for (const auto& shape : {chain3(), fanout10()}) {
    tables.push_back(graph_table(o, shape, dir));
    if (!o.json)
      std::cout << format_workflow_table(tables.back()) << "\n" << std::flush;
    failed = failed || has_failure(tables.back());
  }
  std::filesystem::remove_all(dir, ec);
  if (o.json)
    std::cout << format_workflow_json(tables, info) << "\n";
  if (failed)
    std::cerr << "agentgraph bench workflow: some rows failed (see failed: above)\n";
  return failed ? 1 : 0;
}

}  // namespace agentgraph::cli
