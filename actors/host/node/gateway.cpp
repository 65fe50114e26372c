// The gateway's lifecycle and its task routes (see gateway.hpp).
#include "actors/host/node/gateway.hpp"

#include <random>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include <caf/send.hpp>

#include "actors/host/node/gateway_impl.hpp"
#include "runtime/assert.hpp"
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
  o.connections_max = cfg.connections_max;
  o.header_bytes_max = cfg.header_bytes_max;
  o.body_bytes_max = cfg.body_bytes_max;
  o.bodies_bytes_max = cfg.bodies_bytes_max;
  o.header_timeout = cfg.header_timeout;
  o.body_timeout = cfg.body_timeout;
  o.keep_alive_timeout = cfg.keep_alive_timeout;
  o.send_timeout = cfg.send_timeout;
  o.stream_buffer_bytes = cfg.stream_buffer_bytes;
  o.retry_after_s = gateway_retry_after_draining_s;
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

net::server_response gateway::impl::outside_cluster(const std::string& what) const {
  return gateway_detail::with_retry_after(
    net::json_error(503, "unavailable",
                    "this node is not in the cluster (joining, or it downed itself on the "
                    "minority side of a partition); " + what + " on another node"),
    gateway_retry_after_draining_s);
}

std::optional<net::server_response> gateway::impl::refuse_write(const std::string& what) const {
  if (draining.load())
    return gateway_detail::with_retry_after(
      net::json_error(503, "unavailable", "the node is draining; " + what + " elsewhere"),
      gateway_retry_after_draining_s);
  if (!in_cluster->load())
    return outside_cluster(what);
  return std::nullopt;
}

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
  g.connections_max = node.connections_max;
  g.header_bytes_max = node.header_bytes_max;
  g.bodies_bytes_max = node.bodies_bytes_max;
  g.header_timeout = node.header_timeout;
  g.body_timeout = node.body_timeout;
  g.keep_alive_timeout = node.keep_alive_timeout;
  g.send_timeout = node.send_timeout;
  g.stream_buffer_bytes = node.stream_buffer_bytes;
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
    server([&] {
      auto o = gateway_detail::server_options(cfg);
      o.metrics = &runtime.metrics();
      return o;
    }()) {
  *in_cluster = !cfg.cluster_member;
  auto& reg = rt.metrics();
  if (auto fam = reg.add_counter("agentgraph_gateway_responses_total",
                                 "HTTP responses of the node gateway by route and status.",
                                 {"route", "status"}))
    responses = *fam;
  if (auto fam = reg.add_gauge("agentgraph_gateway_tasks_in_flight",
                               "Tasks the node gateway accepted that have not ended."))
    book->in_flight_gauge = &(*fam)->with(std::vector<std::string>{});
}

void route_reply::operator()(net::server_response r) const {
  if (responses != nullptr)
    responses->with({route, std::to_string(r.status)}).inc();
  if (direct)
    return direct(std::move(r));
  AG_ASSERT(responder.has_value());
  responder->send(std::move(r));
}

void gateway::impl::add_routes() {
  auto add = [this](const char* method, const char* pattern, const char* name, auto fn) {
    server.route(method, pattern, [this, name, fn](const net::server_request& req,
                                                   net::responder r) {
      fn(req, route_reply{responses, name, std::move(r)});
    });
  };
  using req_t = const net::server_request&;
  using reply_t = const route_reply&;
  add("GET", "/health", "health",
      [](req_t, reply_t reply) { reply(net::json_response(200, R"({"status":"alive"})")); });
  add("GET", "/ready", "ready", [this](req_t, reply_t reply) { readiness(reply); });
  add("GET", "/metrics", "metrics", [this](req_t, reply_t reply) {
    net::server_response r;
    r.content_type = std::string{metrics::exposition_content_type};
    r.body = rt.metrics().scrape();
    reply(std::move(r));
  });
  add("POST", "/v1/tasks", "tasks_post",
      [this](req_t r, reply_t reply) { post_task(r, reply, {}); });
  // The agent in the path: a configured agent or group, or a population's
  // key (the body's "agent" may be left out).
  add("POST", R"(/v1/agents/([^/]+)/tasks)", "agent_tasks_post",
      [this](req_t r, reply_t reply) { post_task(r, reply, r.params.at(0)); });
  add("POST", R"(/v1/agents/([^/]+)/([^/]+)/tasks)", "key_tasks_post",
      [this](req_t r, reply_t reply) {
        post_task(r, reply, r.params.at(0) + "/" + r.params.at(1));
      });
  add("GET", R"(/v1/tasks/([^/]+))", "task_get",
      [this](req_t r, reply_t reply) { get_task(r, reply); });
  add("GET", R"(/v1/tasks/([^/]+)/events)", "task_events",
      [this](req_t r, reply_t reply) { task_events(r, reply); });
  add("GET", "/v1/agents", "agents", [this](req_t, reply_t reply) { agents(reply); });
  add("POST", R"(/v1/workflows/([^/]+)/runs)", "workflow_run",
      [this](req_t r, reply_t reply) { post_workflow(r, reply, false); });
  add("POST", R"(/v1/workflows/([^/]+)/runs/([^/]+)/resume)", "workflow_resume",
      [this](req_t r, reply_t reply) { post_workflow(r, reply, true); });
  add("GET", "/v1/memory", "memory", [this](req_t, reply_t reply) { memory(reply); });
  add("GET", "/v1/cluster", "cluster", [this](req_t, reply_t reply) { cluster(reply); });
  add("GET", "/v1/cluster/directory", "cluster_directory",
      [this](req_t, reply_t reply) { cluster_directory(reply); });
  add("POST", R"(/v1/topics/([^/]+))", "topic_publish",
      [this](req_t r, reply_t reply) { publish_topic(r, reply); });
  add("GET", "/v1/populations", "populations",
      [this](req_t, reply_t reply) { populations(reply); });
  add("PUT", R"(/v1/agents/([^/]+)/([^/]+)/vars)", "key_vars_put",
      [this](req_t r, reply_t reply) { put_key_vars(r, reply); });
  add("POST", R"(/v1/agents/([^/]+)/broadcast)", "broadcast_post",
      [this](req_t r, reply_t reply) { post_broadcast(r, reply); });
}

void answer_when_finished(const std::shared_ptr<task_entry>& entry,
                          std::chrono::milliseconds deadline, const route_reply& reply) {
  // A caller without HTTP (submit_task) bounds its own wait.
  if (reply.responder)
    reply.responder->deadline(
      deadline, net::json_error(504, "timeout",
                                "task '" + entry->id + "' is still running; GET /v1/tasks/"
                                  + entry->id));
  entry->when_finished([reply](int status, const Value& body) {
    reply(net::json_response(status, body.to_json()));
  });
}

namespace {

// 202 for a background task that runs: where to read it.
net::server_response task_accepted(const std::string& id) {
  Value body = Value::object();
  body["task_id"] = Value{id};
  body["status"] = Value{"running"};
  auto r = net::json_response(202, body.to_json());
  r.headers.emplace_back("Location", "/v1/tasks/" + id);
  return r;
}

}  // namespace

void gateway::impl::post_task(const net::server_request& req, const route_reply& reply,
                              const std::string& path_agent) {
  using namespace gateway_detail;
  if (auto refused = refuse_write("submit the task"))
    return reply(std::move(*refused));
  auto sub = parse_task_submission(req.body, path_agent);
  if (!sub)
    return reply(task_error(400, sub.error()));
  auto agent = rt.agent(sub->agent);
  if (!agent)
    return reply(task_error(errc_of(agent.error()) == errc::invalid_argument ? 400 : 404,
                            agent.error()));
  std::string id = sub->task_id.empty()
                     ? "t-" + id_prefix + "-" + std::to_string(++task_counter)
                     : sub->task_id;
  auto adm = book->table.admit(id, sub->agent);
  const auto journaling = book->journaling();
  if (adm.outcome == task_table::admit_outcome::duplicate) {
    // With a journal an id is one task: join it, or get its answer.
    auto known = journaling ? book->table.find(id) : nullptr;
    if (!known)
      return reply(net::json_error(409, "conflict", "task_id '" + id + "' is already in use"));
    if (known->status() != task_status::running)
      return reply(net::json_response(known->final_http_status(), known->final_body().to_json()));
    if (sub->mode == task_mode::sync)
      return answer_when_finished(known, rt.task_deadline(sub->agent) + gateway_runner_grace
                                           + gateway_caller_grace, reply);
    return reply(task_accepted(id));
  }
  if (adm.outcome == task_table::admit_outcome::full)
    return reply(with_retry_after(
      net::json_error(429, "overloaded",
                      std::to_string(cfg.tasks_in_flight_max) + " tasks in flight; retry later"),
      gateway_retry_after_full_s));
  if (book->in_flight_gauge != nullptr)
    book->in_flight_gauge->inc();
  auto deadline = rt.task_deadline(sub->agent) + gateway_runner_grace;
  const bool background = sub->mode != task_mode::sync;
  // Journaled: a background task is acknowledged only once it is stored
  // (the runner calls back); a sync caller waits for the answer anyway.
  journal_ack ack;
  if (journaling && background)
    ack = [reply, id](const std::pair<int, Value>* stored) {
      if (stored != nullptr)
        return reply(net::json_response(stored->first, stored->second.to_json()));
      reply(task_accepted(id));
    };
  auto runner = spawn_task_runner(rt.system(), book, adm.entry, *agent,
                                  task_request{id, std::move(sub->input), std::move(sub->context)},
                                  deadline, ack);
  {
    std::lock_guard lock{book->mutex};
    if (adm.entry->status() == task_status::running)
      book->runners.emplace(id, runner);
  }
  log(log_severity::debug, gateway_log_component, "task accepted",
      {{"task_id", id}, {"agent", adm.entry->agent},
       {"mode", sub->mode == task_mode::sync ? "sync" : "background"}});
  if (sub->mode == task_mode::sync)
    return answer_when_finished(adm.entry, deadline + gateway_caller_grace, reply);
  if (ack)
    return;  // the runner acknowledges once the journal stored the task
  reply(task_accepted(id));
}

void gateway::impl::post_workflow(const net::server_request& req, const route_reply& reply,
                                  bool resume) {
  using namespace gateway_detail;
  if (auto refused = refuse_write("start the run"))
    return reply(std::move(*refused));
  const std::string name = req.params.at(0);
  auto graph = rt.workflow(name);
  if (!graph)
    return reply(task_error(404, graph.error()));
  // Body: {"input": {...}, "thread_id": "...", "mode": "sync" | "background"}, all optional.
  Value body = Value::object();
  if (!req.body.empty()) {
    auto parsed = Value::from_json(req.body);
    if (!parsed || !parsed->is_object())
      return reply(net::json_error(400, "invalid_argument", "the body must be a JSON object"));
    body = std::move(*parsed);
  }
  for (const auto& [k, v] : body.as_object())
    if (k != "input" && k != "thread_id" && k != "mode")
      return reply(net::json_error(400, "invalid_argument", "unknown field '" + k + "'"));
  const Value* input = body.find("input");
  if (input != nullptr && !input->is_object())
    return reply(net::json_error(400, "invalid_argument", "input: must be a JSON object"));
  const Value* mode = body.find("mode");
  if (mode != nullptr && (!mode->is_string()
                          || (mode->as_string() != "sync" && mode->as_string() != "background")))
    return reply(
      net::json_error(400, "invalid_argument", "mode: must be \"sync\" or \"background\""));
  const bool sync = mode == nullptr || mode->as_string() == "sync";
  const Value* thread_field = body.find("thread_id");
  if (thread_field != nullptr && (!thread_field->is_string() || thread_field->as_string().empty()))
    return reply(net::json_error(400, "invalid_argument", "thread_id: must be a non-empty string"));
  const std::string id = "w-" + id_prefix + "-" + std::to_string(++task_counter);
  workflow_launch launch{rt, book, cfg.tasks_in_flight_max, name, *graph, id, sync, reply};
  if (!resume) {
    workflow_start start;
    start.thread_id = thread_field != nullptr ? thread_field->as_string() : id;
    if (input != nullptr)
      start.state = *input;
    return launch(std::move(start));
  }
  // Reading the checkpoint blocks (a database read): it runs on a thread
  // of its own, never on the event loop nor on a CAF scheduler thread.
  if (resumes_in_flight->fetch_add(1) >= gateway_resumes_max) {
    resumes_in_flight->fetch_sub(1);
    return reply(with_retry_after(
      net::json_error(429, "overloaded",
                      std::to_string(gateway_resumes_max) + " resumes in progress; retry later"),
      gateway_retry_after_full_s));
  }
  rt.system().spawn<caf::detached>(
    [launch, counter = resumes_in_flight, thread = req.params.at(1),
     merged = input != nullptr ? *input : Value::object()] {
      auto from = runtime_client{launch.rt}.resume_start(*launch.graph, thread, 0, merged);
      counter->fetch_sub(1);
      // A thread that ended or no longer fits the graph is a `conflict` (409).
      if (!from)
        return launch.reply(task_error(http_status_of(from.error()), from.error()));
      launch(std::move(*from));
    });
}

void workflow_launch::operator()(workflow_start start) const {
  using namespace gateway_detail;
  if (!book->accepting.load())
    return reply(with_retry_after(
      net::json_error(503, "unavailable", "the node is draining; start the run elsewhere"),
      gateway_retry_after_draining_s));
  auto adm = book->table.admit(id, "workflow:" + name);
  if (adm.outcome == task_table::admit_outcome::full)
    return reply(with_retry_after(
      net::json_error(429, "overloaded",
                      std::to_string(tasks_in_flight_max) + " tasks in flight; retry later"),
      gateway_retry_after_full_s));
  if (adm.outcome == task_table::admit_outcome::duplicate)
    return reply(net::json_error(409, "conflict", "task id '" + id + "' is already in use"));
  if (book->in_flight_gauge != nullptr)
    book->in_flight_gauge->inc();
  const std::string thread = start.thread_id;
  // The runner is the event sink: spawn it first, then the run pointing at it.
  const auto deadline = std::chrono::milliseconds{std::chrono::hours{1}};
  auto runner = spawn_workflow_runner(rt.system(), book, adm.entry, deadline);
  auto run = rt.spawn_workflow(graph, std::move(start), caf::actor_cast<workflow_event_sink>(runner));
  if (!run) {
    // Ended before its runner stops, so the runner's exit finds it ended.
    end_task(*book, adm.entry, task_status::failed,
             failure_json(id, "workflow:" + name, task_status::failed, run.error()),
             http_status_of(run.error()));
    caf::anon_send_exit(runner, caf::exit_reason::user_shutdown);
    return reply(task_error(http_status_of(run.error()), run.error()));
  }
  caf::anon_send(runner, *run);
  {
    std::lock_guard lock{book->mutex};
    if (adm.entry->status() == task_status::running)
      book->runners.emplace(id, runner);
  }
  if (sync)
    return answer_when_finished(adm.entry, deadline + gateway_caller_grace, reply);
  Value accepted = Value::object();
  accepted["task_id"] = Value{id};
  accepted["thread_id"] = Value{thread};
  accepted["status"] = Value{"running"};
  auto r = net::json_response(202, accepted.to_json());
  r.headers.emplace_back("Location", "/v1/tasks/" + id);
  reply(std::move(r));
}

void gateway::impl::get_task(const net::server_request& req, const route_reply& reply) {
  const auto id = req.params.at(0);
  auto entry = book->table.find(id);
  if (entry)
    return reply(net::json_response(200, entry->status_json().to_json()));
  auto j = book->journaling();
  if (!j)
    return reply(net::json_error(404, "not_found", "no task '" + id + "'"));
  // Forgotten by the table (tasks_kept) or from an earlier run: the journal.
  rt.system().spawn([j, id, reply](caf::event_based_actor* self) {
    self->request(j->journal, j->call_timeout, journal_get_atom::value, id)
      .then(
        [id, reply](journal_record& r) {
          Value body = Value::object();
          body["task_id"] = Value{id};
          body["agent"] = Value{r.target};
          if (r.state == task_state::open) {
            body["status"] = Value{"running"};
            return reply(net::json_response(200, body.to_json()));
          }
          auto answer = journal_answer_of(r);
          if (!answer)
            return reply(net::json_error(500, "internal", describe(answer.error())));
          body["status"] = Value{r.state == task_state::done ? "completed" : "failed"};
          body["result"] = answer->second;
          reply(net::json_response(200, body.to_json()));
        },
        [id, reply](caf::error& err) {
          if (errc_of(err) == errc::not_found)
            return reply(net::json_error(404, "not_found", "no task '" + id + "'"));
          reply(net::json_error(503, "unavailable", "task journal: " + describe(err)));
        });
  });
}

void gateway::impl::task_events(const net::server_request& req, const route_reply& reply) {
  auto entry = book->table.find(req.params.at(0));
  if (!entry)
    return reply(net::json_error(404, "not_found", "no task '" + req.params.at(0) + "'"));
  AG_ASSERT(reply.responder.has_value());  // an HTTP route only
  auto stream = reply.responder->stream();
  if (!stream)
    return;  // the client is gone
  if (responses != nullptr)
    responses->with({reply.route, "200"}).inc();
  // The subscription queues into the stream's bounded buffer; a client that
  // stops reading is dropped by the server, and its close unsubscribes.
  const uint64_t sub = entry->subscribe([stream](net::sse_step step) {
    if (stream->send(step.events) && step.finished)
      stream->finish();
  });
  if (sub != 0)
    stream->on_close([entry, sub] { entry->unsubscribe(sub); });
}

caf::expected<std::unique_ptr<gateway>> gateway::start(Runtime& rt, gateway_config cfg) {
  if (cfg.http_threads == 0 || cfg.tasks_in_flight_max == 0 || cfg.task_events_max == 0
      || cfg.connections_max == 0)
    return make_error(errc::invalid_argument,
                      "gateway: http_threads, connections_max, tasks_in_flight_max and "
                      "task_events_max must be at least 1");
  auto p = std::make_unique<impl>(rt, std::move(cfg));
  p->add_routes();
  if (auto err = p->server.start())
    return err;
  log(log_severity::info, gateway_log_component, "gateway listening",
      {{"host", p->cfg.host}, {"port", std::to_string(p->server.port())},
       {"auth", p->cfg.auth_token.empty() ? "off" : "bearer"}});
  return std::unique_ptr<gateway>(new gateway(std::move(p)));
}

caf::expected<std::unique_ptr<gateway>> gateway::start_core(Runtime& rt, gateway_config cfg) {
  if (cfg.tasks_in_flight_max == 0 || cfg.task_events_max == 0)
    return make_error(errc::invalid_argument,
                      "gateway: tasks_in_flight_max and task_events_max must be at least 1");
  // The server is built (the impl owns one) but never started: no socket,
  // no event-loop thread.
  return std::unique_ptr<gateway>(new gateway(std::make_unique<impl>(rt, std::move(cfg))));
}

void gateway::submit_task(const std::string& body, const std::string& agent, task_answer answer) {
  net::server_request req;
  req.method = "POST";
  req.path = agent.empty() ? "/v1/tasks" : "/v1/agents/" + agent + "/tasks";
  req.body = body;
  impl_->post_task(req,
                   route_reply{impl_->responses, "tasks_submit", std::nullopt,
                               [answer = std::move(answer)](net::server_response r) {
                                 answer(r.status, r.body);
                               }},
                   agent);
}

void gateway::on_task_executed(std::function<void(const std::string& task_id)> fn) {
  impl_->book->executed = std::move(fn);
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
  impl_->book->accepting = false;
  // A leaving node adopts nothing more: the next leader takes its tasks.
  impl_->stop_adopter();
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
  // Journaled tasks stay open in the journal (the runner is stopped before
  // it stores anything): they run again at a restart or on the leader that
  // adopts them, so their callers get 503 and ask again, not a final answer.
  const bool journaled = book.journaling() != nullptr;
  for (const auto& entry : book.table.running()) {
    auto err = journaled ? make_error(errc::unavailable,
                                      reason + "; the task stays journaled and will be "
                                               "answered: ask again for its id")
                         : make_error(errc::cancelled, reason);
    if (!end_task(book, entry, journaled ? task_status::failed : task_status::cancelled,
                  failure_json(entry->id, entry->agent,
                               journaled ? task_status::failed : task_status::cancelled, err),
                  http_status_of(err)))
      continue;  // it ended on its own meanwhile
    ++cancelled;
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
  std::lock_guard lock{p.stop_mutex};
  if (p.stopping.exchange(true))
    return;
  p.ready = false;
  p.book->accepting = false;
  p.stop_adopter();
  {
    std::lock_guard cluster_lock{p.cluster_mutex};
    if (p.membership_watch)
      caf::anon_send_exit(p.membership_watch, caf::exit_reason::user_shutdown);
    p.membership_watch = caf::actor{};
  }
  // The server answers what it has read: handlers' answers within its stop
  // grace (a cancelled task's 409, an event stream's last events), 503 with
  // Retry-After for the rest; then it closes every connection.
  p.server.stop();
  log(log_severity::info, gateway_log_component, "gateway stopped", {});
}

}  // namespace agentgraph
