// The gateway's lifecycle and its task routes (see gateway.hpp).
#include "actors/node/gateway.hpp"

#include <random>

#include <caf/send.hpp>

#include "actors/node/gateway_impl.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph {

namespace gateway_detail {

std::string random_prefix() {
  std::random_device rd;
  std::mt19937_64 gen{(static_cast<uint64_t>(rd()) << 32) ^ rd()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  auto bits = gen();
  for (int i = 0; i < 8; ++i, bits >>= 4)
    out += hex[bits & 0xf];
  return out;
}

net::http_server_options server_options(const gateway_config& cfg) {
  net::http_server_options o;
  o.host = cfg.host;
  o.port = cfg.port;
  o.threads = cfg.http_threads;
  o.body_bytes_max = cfg.body_bytes_max;
  o.auth_token = cfg.auth_token;
  // Probes (load balancers, kubelets) rarely carry tokens, and these two
  // routes reveal nothing but liveness.
  o.open_paths = {"/health", "/ready"};
  o.log_component = gateway_log_component;
  return o;
}

net::server_response with_retry_after(net::server_response r, int seconds) {
  r.headers.emplace_back("Retry-After", std::to_string(seconds));
  return r;
}

net::server_response task_error(int status, const caf::error& err) {
  auto obj = error_object(err);
  return net::json_error(status, obj["code"].as_string(), obj["message"].as_string());
}

}  // namespace gateway_detail

caf::expected<gateway_config> gateway_config_from(const node_settings& node,
                                                  const std::map<std::string, std::string>& env) {
  gateway_config g;
  g.host = node.listen;
  g.port = static_cast<uint16_t>(node.port);
  g.http_threads = node.http_threads;
  g.tasks_in_flight_max = node.tasks_in_flight_max;
  g.tasks_kept = node.tasks_kept;
  g.task_events_max = node.task_events_max;
  g.body_bytes_max = node.body_bytes_max;
  g.health_ping_timeout = node.health_ping_timeout;
  if (!node.auth_token_env.empty()) {
    auto it = env.find(node.auth_token_env);
    if (it == env.end() || it->second.empty())
      return make_error(errc::invalid_argument,
                        "[node] auth_token_env: environment variable " + node.auth_token_env
                          + " is not set or empty");
    g.auth_token = it->second;
  }
  return g;
}

gateway::impl::impl(Runtime& runtime, gateway_config c)
  : rt(runtime),
    cfg(std::move(c)),
    book(std::make_shared<task_book>(cfg.tasks_in_flight_max, cfg.tasks_kept,
                                     cfg.task_events_max)),
    id_prefix(gateway_detail::random_prefix()),
    server(gateway_detail::server_options(cfg)) {
  auto& reg = rt.metrics();
  if (auto fam = reg.add_counter("agentgraph_gateway_responses_total",
                                 "HTTP responses of the node gateway by route and status.",
                                 {"route", "status"}))
    responses = *fam;
  if (auto fam = reg.add_gauge("agentgraph_gateway_tasks_in_flight",
                               "Tasks the node gateway accepted that have not ended."))
    book->in_flight_gauge = &(*fam)->with(std::vector<std::string>{});
}

net::server_response gateway::impl::counted(const char* route, net::server_response r) {
  if (responses != nullptr)
    responses->with({route, std::to_string(r.status)}).inc();
  return r;
}

void gateway::impl::add_routes() {
  auto add = [this](const char* method, const char* pattern, const char* name, auto fn) {
    server.route(method, pattern, [this, name, fn](const net::server_request& req) {
      return counted(name, fn(req));
    });
  };
  add("GET", "/health", "health", [this](const net::server_request&) { return health(); });
  add("GET", "/ready", "ready", [this](const net::server_request&) { return readiness(); });
  add("GET", "/metrics", "metrics", [this](const net::server_request&) { return metrics_text(); });
  add("POST", "/v1/tasks", "tasks_post", [this](const net::server_request& r) { return post_task(r); });
  add("GET", R"(/v1/tasks/([^/]+))", "task_get",
      [this](const net::server_request& r) { return get_task(r); });
  add("GET", R"(/v1/tasks/([^/]+)/events)", "task_events",
      [this](const net::server_request& r) { return task_events(r); });
  add("GET", "/v1/agents", "agents", [this](const net::server_request&) { return agents(); });
  add("POST", R"(/v1/workflows/([^/]+)/runs)", "workflow_run",
      [this](const net::server_request& r) { return post_workflow(r, false); });
  add("POST", R"(/v1/workflows/([^/]+)/runs/([^/]+)/resume)", "workflow_resume",
      [this](const net::server_request& r) { return post_workflow(r, true); });
  add("GET", "/v1/memory", "memory", [this](const net::server_request&) { return memory(); });
}

net::server_response gateway::impl::post_task(const net::server_request& req) {
  using namespace gateway_detail;
  if (draining.load())
    return with_retry_after(
      net::json_error(503, "unavailable", "the node is draining; submit the task elsewhere"),
      gateway_retry_after_draining_s);
  auto sub = parse_task_submission(req.body);
  if (!sub)
    return task_error(400, sub.error());
  auto agent = rt.agent(sub->agent);
  if (!agent)
    return task_error(404, agent.error());
  std::string id = sub->task_id.empty()
                     ? "t-" + id_prefix + "-" + std::to_string(++task_counter)
                     : sub->task_id;
  auto adm = book->table.admit(id, sub->agent);
  if (adm.outcome == task_table::admit_outcome::duplicate)
    return net::json_error(409, "conflict", "task_id '" + id + "' is already in use");
  if (adm.outcome == task_table::admit_outcome::full)
    return with_retry_after(
      net::json_error(429, "overloaded",
                      std::to_string(cfg.tasks_in_flight_max) + " tasks in flight; retry later"),
      gateway_retry_after_full_s);
  if (book->in_flight_gauge != nullptr)
    book->in_flight_gauge->inc();
  auto deadline = rt.task_deadline(sub->agent) + gateway_runner_grace;
  auto runner = spawn_task_runner(rt.system(), book, adm.entry, *agent,
                                  task_request{id, std::move(sub->input), std::move(sub->context)},
                                  deadline);
  {
    std::lock_guard lock{book->mutex};
    if (adm.entry->status() == task_status::running)
      book->runners.emplace(id, runner);
  }
  log(log_severity::debug, gateway_log_component, "task accepted",
      {{"task_id", id}, {"agent", adm.entry->agent},
       {"mode", sub->mode == task_mode::sync ? "sync" : "background"}});
  if (sub->mode == task_mode::sync)
    return wait_sync(adm.entry, deadline + gateway_caller_grace);
  Value body = Value::object();
  body["task_id"] = Value{id};
  body["status"] = Value{"running"};
  auto r = net::json_response(202, body.to_json());
  r.headers.emplace_back("Location", "/v1/tasks/" + id);
  return r;
}

net::server_response gateway::impl::post_workflow(const net::server_request& req, bool resume) {
  using namespace gateway_detail;
  if (draining.load())
    return with_retry_after(
      net::json_error(503, "unavailable", "the node is draining; start the run elsewhere"),
      gateway_retry_after_draining_s);
  const std::string name = req.params.at(0);
  auto graph = rt.workflow(name);
  if (!graph)
    return task_error(404, graph.error());
  // Body: {"input": {...}, "thread_id": "...", "mode": "sync" | "background"}, all optional.
  Value body = Value::object();
  if (!req.body.empty()) {
    auto parsed = Value::from_json(req.body);
    if (!parsed || !parsed->is_object())
      return net::json_error(400, "invalid_argument", "the body must be a JSON object");
    body = std::move(*parsed);
  }
  for (const auto& [k, v] : body.as_object())
    if (k != "input" && k != "thread_id" && k != "mode")
      return net::json_error(400, "invalid_argument", "unknown field '" + k + "'");
  const Value* input = body.find("input");
  if (input != nullptr && !input->is_object())
    return net::json_error(400, "invalid_argument", "input: must be a JSON object");
  const Value* mode = body.find("mode");
  if (mode != nullptr && (!mode->is_string()
                          || (mode->as_string() != "sync" && mode->as_string() != "background")))
    return net::json_error(400, "invalid_argument", "mode: must be \"sync\" or \"background\"");
  const bool sync = mode == nullptr || mode->as_string() == "sync";
  const Value* thread_field = body.find("thread_id");
  if (thread_field != nullptr && (!thread_field->is_string() || thread_field->as_string().empty()))
    return net::json_error(400, "invalid_argument", "thread_id: must be a non-empty string");
  const std::string id = "w-" + id_prefix + "-" + std::to_string(++task_counter);
  workflow_start start;
  if (resume) {
    auto from = rt.resume_start(**graph, req.params.at(1), 0,
                                input != nullptr ? *input : Value::object());
    if (!from)
      return task_error(http_status_of(from.error()), from.error());
    if (from->next.empty())
      return net::json_error(409, "conflict", "thread '" + req.params.at(1) + "' has already ended");
    start = std::move(*from);
  } else {
    start.thread_id = thread_field != nullptr ? thread_field->as_string() : id;
    if (input != nullptr)
      start.state = *input;
  }
  auto adm = book->table.admit(id, "workflow:" + name);
  if (adm.outcome == task_table::admit_outcome::full)
    return with_retry_after(
      net::json_error(429, "overloaded",
                      std::to_string(cfg.tasks_in_flight_max) + " tasks in flight; retry later"),
      gateway_retry_after_full_s);
  if (adm.outcome == task_table::admit_outcome::duplicate)
    return net::json_error(409, "conflict", "task id '" + id + "' is already in use");
  if (book->in_flight_gauge != nullptr)
    book->in_flight_gauge->inc();
  const std::string thread = start.thread_id;
  // The runner is the event sink: spawn it first, then the run pointing at it.
  const auto deadline = std::chrono::milliseconds{std::chrono::hours{1}};
  auto runner = spawn_workflow_runner(rt.system(), book, adm.entry, deadline);
  auto run = rt.spawn_workflow(*graph, std::move(start), caf::actor_cast<workflow_event_sink>(runner));
  if (!run) {
    caf::anon_send_exit(runner, caf::exit_reason::user_shutdown);
    adm.entry->finish(task_status::failed,
                      failure_json(id, "workflow:" + name, task_status::failed, run.error()),
                      http_status_of(run.error()));
    book->table.on_finished(adm.entry);
    if (book->in_flight_gauge != nullptr)
      book->in_flight_gauge->dec();
    return task_error(http_status_of(run.error()), run.error());
  }
  caf::anon_send(runner, *run);
  {
    std::lock_guard lock{book->mutex};
    if (adm.entry->status() == task_status::running)
      book->runners.emplace(id, runner);
  }
  if (sync)
    return wait_sync(adm.entry, deadline + gateway_caller_grace);
  Value accepted = Value::object();
  accepted["task_id"] = Value{id};
  accepted["thread_id"] = Value{thread};
  accepted["status"] = Value{"running"};
  auto r = net::json_response(202, accepted.to_json());
  r.headers.emplace_back("Location", "/v1/tasks/" + id);
  return r;
}

net::server_response gateway::impl::wait_sync(const std::shared_ptr<task_entry>& entry,
                                            std::chrono::milliseconds deadline) {
  if (entry->wait_finished(std::chrono::steady_clock::now() + deadline, stopping))
    return net::json_response(entry->final_http_status(), entry->final_body().to_json());
  if (stopping.load())
    return net::json_error(503, "unavailable", "the gateway is stopping");
  return net::json_error(504, "timeout",
                         "task '" + entry->id + "' is still running; GET /v1/tasks/" + entry->id);
}

net::server_response gateway::impl::get_task(const net::server_request& req) {
  auto entry = book->table.find(req.params.at(0));
  if (!entry)
    return net::json_error(404, "not_found", "no task '" + req.params.at(0) + "'");
  return net::json_response(200, entry->status_json().to_json());
}

net::server_response gateway::impl::task_events(const net::server_request& req) {
  auto entry = book->table.find(req.params.at(0));
  if (!entry)
    return net::json_error(404, "not_found", "no task '" + req.params.at(0) + "'");
  // Counts the stream as open for as long as the server holds its producer.
  struct open_stream {
    explicit open_stream(impl& g) : self(g) {
      std::lock_guard lock{self.streams_mutex};
      ++self.streams_open;
    }
    ~open_stream() {
      {
        std::lock_guard lock{self.streams_mutex};
        --self.streams_open;
      }
      self.streams_closed.notify_all();
    }
    impl& self;
    task_entry::cursor cursor;
  };
  net::server_response r;
  r.content_type = "text/event-stream";
  auto st = std::make_shared<open_stream>(*this);
  r.stream = [entry, st](std::chrono::milliseconds wait) { return entry->read(st->cursor, wait); };
  return r;
}

net::server_response gateway::impl::health() const {
  return net::json_response(200, R"({"status":"alive"})");
}

net::server_response gateway::impl::metrics_text() {
  net::server_response r;
  r.content_type = std::string{metrics::exposition_content_type};
  r.body = rt.metrics().scrape();
  return r;
}

caf::expected<std::unique_ptr<gateway>> gateway::start(Runtime& rt, gateway_config cfg) {
  if (cfg.http_threads == 0 || cfg.tasks_in_flight_max == 0 || cfg.task_events_max == 0)
    return make_error(errc::invalid_argument,
                      "gateway: http_threads, tasks_in_flight_max and task_events_max must be "
                      "at least 1");
  auto p = std::make_unique<impl>(rt, std::move(cfg));
  p->add_routes();
  if (auto err = p->server.start())
    return err;
  log(log_severity::info, gateway_log_component, "gateway listening",
      {{"host", p->cfg.host}, {"port", std::to_string(p->server.port())},
       {"auth", p->cfg.auth_token.empty() ? "off" : "bearer"}});
  return std::unique_ptr<gateway>(new gateway(std::move(p)));
}

gateway::gateway(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

gateway::~gateway() {
  stop();
  // Runners still running would finish into a table nobody reads; stop them.
  std::lock_guard lock{impl_->book->mutex};
  for (auto& [id, runner] : impl_->book->runners)
    caf::anon_send_exit(runner, caf::exit_reason::user_shutdown);
}

uint16_t gateway::port() const {
  return impl_->server.port();
}

void gateway::set_ready(bool ready) {
  impl_->ready = ready;
}

void gateway::begin_drain() {
  if (!impl_->draining.exchange(true))
    log(log_severity::info, gateway_log_component, "draining",
        {{"tasks_in_flight", std::to_string(tasks_in_flight())}});
}

size_t gateway::tasks_in_flight() const {
  return impl_->book->table.in_flight();
}

bool gateway::wait_idle(std::chrono::milliseconds deadline) {
  return impl_->book->table.wait_idle(std::chrono::steady_clock::now() + deadline);
}

size_t gateway::cancel_in_flight(const std::string& reason) {
  auto& book = *impl_->book;
  size_t cancelled = 0;
  for (const auto& entry : book.table.running()) {
    auto err = make_error(errc::cancelled, reason);
    if (!entry->finish(task_status::cancelled,
                       failure_json(entry->id, entry->agent, task_status::cancelled, err),
                       http_status_of(err)))
      continue;  // it ended on its own meanwhile
    ++cancelled;
    book.table.on_finished(entry);
    if (book.in_flight_gauge != nullptr)
      book.in_flight_gauge->dec();
    std::lock_guard lock{book.mutex};
    if (auto it = book.runners.find(entry->id); it != book.runners.end()) {
      caf::anon_send_exit(it->second, caf::exit_reason::user_shutdown);
      book.runners.erase(it);
    }
  }
  if (cancelled > 0)
    log(log_severity::warn, gateway_log_component, "tasks cancelled",
        {{"count", std::to_string(cancelled)}, {"reason", reason}});
  return cancelled;
}

void gateway::stop() {
  auto& p = *impl_;
  if (p.stopping.exchange(true))
    return;
  p.ready = false;
  // Sync callers still waiting get 503 now rather than holding a worker
  // that stop() would have to wait for.
  for (const auto& entry : p.book->table.running())
    entry->wake();
  {
    std::unique_lock lock{p.streams_mutex};
    p.streams_closed.wait_for(lock, gateway_stream_drain_max, [&p] { return p.streams_open == 0; });
  }
  p.server.stop();
  log(log_severity::info, gateway_log_component, "gateway stopped", {});
}

}  // namespace agentgraph
