// Calls into a Runtime from non-actor code: tasks, streaming tasks, stats
// and workflow runs. Every wait is blocking_ask or receive_until_reply
// (runtime/blocking_ask.hpp), or a future a task gate or a run without
// events fulfils; every CAF request error is named through
// from_request_error.
#include "actors/host/runtime_client.hpp"
#include "actors/host/runtime_tables.hpp"

#include <future>

#include <caf/event_based_actor.hpp>

#include "runtime/blocking_ask.hpp"

namespace agentgraph {

namespace {

std::string agent_subject(const std::string& name) {
  return "agent '" + name + "'";
}

template <class Reply, class Handle>
caf::expected<Reply> ask_stats(caf::actor_system& sys, const caf::expected<Handle>& handle,
                               const std::string& subject) {
  if (!handle)
    return handle.error();
  return blocking_ask<Reply>(sys, *handle, runtime_detail::control_timeout, subject,
                             stats_atom::value);
}

// Without events the run hands its outcome to a promise (workflow_start::
// on_done) and this thread waits on the future: one wake-up, and no scoped
// actor to make and end per run (each actor's end also wakes CAF's clock
// thread).
caf::expected<workflow_result> run_workflow_quietly(Runtime& rt,
                                                    std::shared_ptr<const workflow_graph> graph,
                                                    workflow_start start,
                                                    std::chrono::milliseconds deadline) {
  auto outcome = std::make_shared<std::promise<caf::expected<workflow_result>>>();
  auto future = outcome->get_future();
  start.on_done = [outcome](caf::expected<workflow_result> r) { outcome->set_value(std::move(r)); };
  auto run = rt.spawn_workflow(graph, std::move(start), {});
  if (!run)
    return std::move(run.error());
  caf::anon_send(*run, run_workflow_atom::value);
  const auto subject = "workflow '" + graph->name + "' run";
  if (future.wait_until(std::chrono::steady_clock::now() + deadline) != std::future_status::ready) {
    caf::anon_send_exit(*run, caf::exit_reason::user_shutdown);
    return make_error(errc::timeout, "workflow '" + graph->name + "' did not end within "
                                       + std::to_string(deadline.count()) + " ms");
  }
  try {
    auto r = future.get();
    if (!r)
      return from_request_error(std::move(r.error()), subject);
    return r;
  } catch (const std::future_error&) {  // dropped uncalled: the run never started
    return from_request_error(caf::make_error(caf::sec::request_receiver_down), subject);
  }
}

}  // namespace

void runtime_client::submit(const std::string& agent_name, task_request task,
                            std::function<void(caf::expected<task_result>)> done) {
  // One lookup: the handle and the task's deadline. A population's key
  // ("<type>/<key>") resolves to its address (Runtime::agent).
  const auto* entry = rt_->tables_->agents.find_entry(agent_name);
  auto handle = entry ? runtime_detail::current(*entry->handle, "agent")
                : parse_population_address(agent_name)
                  ? rt_->agent(agent_name)
                  : caf::expected<agent_actor>{
                      make_error(errc::not_found, "no agent named '" + agent_name + "'")};
  if (!handle) {
    done(std::move(handle.error()));
    return;
  }
  // The task's one deadline, enforced at the gate; the hops after it are
  // watched by monitors (runtime/call_watch.hpp).
  auto t = std::make_shared<gate_task>();
  t->target = std::move(*handle);
  t->task = std::move(task);
  t->budget = entry ? entry->info.task_deadline : rt_->task_deadline(agent_name);
  t->deadline = std::chrono::steady_clock::now() + t->budget;
  t->agent = agent_name;
  t->done = std::move(done);
  rt_->tables_->gates->submit(std::move(t));
}

std::future<caf::expected<task_result>> runtime_client::submit(const std::string& agent_name,
                                                               task_request task) {
  auto promise = std::make_shared<std::promise<caf::expected<task_result>>>();
  auto future = promise->get_future();
  submit(agent_name, std::move(task),
         [promise](caf::expected<task_result> r) { promise->set_value(std::move(r)); });
  return future;
}

caf::expected<task_result> runtime_client::run(const std::string& agent_name,
                                               task_request task) {
  return submit(agent_name, std::move(task)).get();
}

caf::expected<task_result> runtime_client::run_streaming(
  const std::string& agent_name, task_request task,
  const std::function<void(const stream_chunk&)>& on_chunk) {
  auto handle = rt_->agent(agent_name);
  if (!handle)
    return std::move(handle.error());
  const auto deadline = std::chrono::steady_clock::now() + rt_->task_deadline(agent_name)
                        + runtime_detail::caller_grace;
  // The calling thread is the sink: chunks and the final reply arrive in
  // this scoped actor's mailbox, in the order each sender sent them.
  caf::scoped_actor self{rt_->system()};
  self->send(*handle, execute_stream_atom::value, std::move(task),
             caf::actor_cast<stream_sink_actor>(self));
  auto out = receive_until_reply<stream_chunk, task_result>(self, deadline, on_chunk);
  if (!out)
    return make_error(errc::timeout, agent_subject(agent_name) + " gave no reply in time");
  return std::move(*out);
}

caf::expected<agent_stats> runtime_client::stats(const std::string& name) {
  return ask_stats<agent_stats>(rt_->system(), rt_->agent(name), agent_subject(name));
}
caf::expected<publish_receipt> runtime_client::publish(const std::string& topic, Value message) {
  return blocking_ask<publish_receipt>(rt_->system(), rt_->topics(), runtime_detail::control_timeout,
                                       "the topic actor", topic_publish_atom::value, topic,
                                       std::move(message));
}

caf::expected<topic_stats> runtime_client::stats_of_topics() {
  return blocking_ask<topic_stats>(rt_->system(), rt_->topics(), runtime_detail::control_timeout,
                                   "the topic actor", stats_atom::value);
}

caf::expected<population_broadcast_result> runtime_client::broadcast(
  const std::string& type, population_broadcast b, std::chrono::milliseconds timeout) {
  auto run = rt_->spawn_broadcast(type, std::move(b));
  if (!run)
    return std::move(run.error());
  return blocking_ask<population_broadcast_result>(rt_->system(), *run, timeout,
                                                   "broadcast to '" + type + "'",
                                                   broadcast_run_atom::value);
}

void runtime_client::broadcast(
  const std::string& type, population_broadcast b, std::chrono::milliseconds timeout,
  std::function<void(caf::expected<population_broadcast_result>)> done) {
  auto run = rt_->spawn_broadcast(type, std::move(b));
  if (!run)
    return done(std::move(run.error()));
  rt_->system().spawn([run = *run, timeout, type, done = std::move(done)](
                        caf::event_based_actor* self) {
    self->request(run, timeout, broadcast_run_atom::value)
      .then([done](population_broadcast_result& r) { done(std::move(r)); },
            [done, timeout, type](caf::error& err) {
              done(from_request_error(std::move(err), "broadcast to '" + type + "'", timeout));
            });
  });
}

caf::expected<runtime_client::key_owner> runtime_client::owner_of_key(
  const std::string& agent) const {
  auto address = parse_population_address(agent);
  if (!address)
    return make_error(errc::invalid_argument,
                      "'" + agent + "' is not a population key (<type>/<key>)");
  const auto& tables = *rt_->tables_;
  if (tables.populations.find(address->type) == nullptr
      && tables.remote_population_types.count(address->type) == 0)
    return make_error(errc::not_found, "no population named '" + address->type + "'");
  if (auto problem = population_key_problem(address->key); !problem.empty())
    return make_error(errc::invalid_argument, "'" + agent + "': " + problem);
  // The owner a task to this key goes to (key_address.cpp asks the same).
  auto o = tables.population_nodes_->owner_of(address->type, address->key);
  if (!o)
    return make_error(errc::unavailable, "no node runs population '" + address->type + "' now");
  auto handle = o->handle.get();
  if (!handle)
    return make_error(errc::unavailable, "node '" + o->node + "', owner of '" + agent
                                           + "', is down");
  return key_owner{std::move(handle), std::move(address->key)};
}

void runtime_client::set_key_vars(const std::string& agent,
                                  std::map<std::string, std::string> vars,
                                  std::function<void(caf::error)> done) {
  if (auto problem = population_vars_problem(vars); !problem.empty())
    return done(make_error(errc::invalid_argument, "vars of '" + agent + "': " + problem));
  auto target = owner_of_key(agent);
  if (!target)
    return done(std::move(target.error()));
  const auto deadline = rt_->task_deadline(agent);
  rt_->system().spawn([target = std::move(*target), vars = std::move(vars), deadline, agent,
                       done = std::move(done)](caf::event_based_actor* self) {
    // The first outcome wins: the reply, the owner's end (CAF 0.17 does not
    // fail a request to a node that died, so its monitor does), or the
    // deadline. All run on this actor, one at a time.
    auto finish = [self, done, answered = std::make_shared<bool>(false)](caf::error err) {
      if (*answered)
        return;
      *answered = true;
      done(std::move(err));
      self->quit();
    };
    self->monitor(target.owner);
    self->set_down_handler([finish, agent](caf::down_msg&) {
      finish(make_error(errc::unavailable, "the owner of '" + agent + "' went down"));
    });
    self->request(target.owner, deadline, pop_set_vars_atom::value, target.key, vars)
      .then([finish](bool) { finish(caf::error{}); },
            [finish, deadline, agent](caf::error& err) {
              finish(from_request_error(std::move(err), "vars of '" + agent + "'", deadline));
            });
  });
}

caf::error runtime_client::set_key_vars(const std::string& agent,
                                        std::map<std::string, std::string> vars) {
  auto outcome = std::make_shared<std::promise<caf::error>>();
  auto future = outcome->get_future();
  set_key_vars(agent, std::move(vars),
               [outcome](caf::error err) { outcome->set_value(std::move(err)); });
  // The request's own deadline ends the wait; the grace covers its reply's
  // way back.
  const auto limit = rt_->task_deadline(agent) + runtime_detail::caller_grace;
  if (future.wait_for(limit) != std::future_status::ready)
    return make_error(errc::timeout, "vars of '" + agent + "' gave no answer in time");
  try {
    return future.get();
  } catch (const std::future_error&) {  // dropped uncalled: the system is shutting down
    return from_request_error(caf::make_error(caf::sec::request_receiver_down),
                              "vars of '" + agent + "'");
  }
}

caf::expected<population_stats> runtime_client::stats_of_population(const std::string& type) {
  return ask_stats<population_stats>(rt_->system(), rt_->population(type),
                                     "population '" + type + "'");
}

caf::expected<memory_stats> runtime_client::stats_of_memory(const std::string& name) {
  return ask_stats<memory_stats>(rt_->system(), rt_->memory(name),
                                 "memory shard '" + name + "'");
}
caf::expected<tool_stats> runtime_client::stats_of_tool(const std::string& name) {
  return ask_stats<tool_stats>(rt_->system(), rt_->tool(name), "tool '" + name + "'");
}
caf::expected<provider_stats> runtime_client::stats_of_provider(const std::string& name) {
  auto h = rt_->provider(name);
  if (!h)
    return std::move(h.error());
  auto out = blocking_ask<provider_stats>(rt_->system(), *h, runtime_detail::control_timeout,
                                          "provider '" + name + "'",
                                          stats_atom::value);
  if (out && out->name.empty())
    out->name = name;
  return out;
}

caf::expected<workflow_result> runtime_client::run_workflow(
  const workflow_graph& graph, workflow_start start,
  const std::function<void(const workflow_event&)>& on_event, std::chrono::milliseconds deadline) {
  // A graph given by value is a new graph: checked in full (plan_workflow).
  return run_workflow(std::make_shared<const workflow_graph>(graph), std::move(start), on_event,
                      deadline);
}

caf::expected<workflow_result> runtime_client::run_workflow(
  std::shared_ptr<const workflow_graph> graph, workflow_start start,
  const std::function<void(const workflow_event&)>& on_event, std::chrono::milliseconds deadline) {
  if (!graph)
    return make_error(errc::invalid_argument, "no workflow graph");
  if (!on_event)
    return run_workflow_quietly(*rt_, std::move(graph), std::move(start), deadline);
  // The calling thread is the event sink, as in run_streaming: events, then
  // the outcome (posted by on_done after the last event, so in order)
  // arrive in a scoped actor's mailbox. on_done also reports a run that
  // dies, at once.
  caf::scoped_actor self{rt_->system()};
  start.on_done = [me = caf::actor_cast<caf::actor>(self)](caf::expected<workflow_result> r) {
    if (r)
      caf::anon_send(me, std::move(*r));
    else
      caf::anon_send(me, std::move(r.error()));
  };
  auto run = rt_->spawn_workflow(graph, std::move(start), caf::actor_cast<workflow_event_sink>(self));
  if (!run)
    return std::move(run.error());
  caf::anon_send(*run, run_workflow_atom::value);
  auto out = receive_until_reply<workflow_event, workflow_result>(
    self, std::chrono::steady_clock::now() + deadline,
    [&](const workflow_event& ev) { on_event(ev); });
  if (!out) {
    caf::anon_send_exit(*run, caf::exit_reason::user_shutdown);
    return make_error(errc::timeout, "workflow '" + graph->name + "' did not end within "
                                       + std::to_string(deadline.count()) + " ms");
  }
  if (!*out)
    return from_request_error(std::move(out->error()), "workflow '" + graph->name + "' run");
  return std::move(*out);
}

caf::expected<workflow_start> runtime_client::resume_start(const workflow_graph& graph,
                                                           const std::string& thread_id,
                                                           uint64_t checkpoint_id,
                                                           const Value& input) {
  auto store = rt_->checkpoints();
  if (!store)
    return make_error(errc::invalid_argument,
                      "resume needs a checkpoint store ([runtime] checkpoint_path or checkpoint_url)");
  const std::string subject = "the checkpoint store";
  auto saved = checkpoint_id == 0
                 ? blocking_ask<checkpoint>(rt_->system(), store, runtime_detail::control_timeout,
                                            subject, checkpoint_latest_atom::value, thread_id)
                 : blocking_ask<checkpoint>(rt_->system(), store, runtime_detail::control_timeout,
                                            subject, checkpoint_get_atom::value, thread_id,
                                            checkpoint_id);
  if (!saved)
    return std::move(saved.error());
  auto owner = saved->metadata.is_object() ? saved->metadata.get_string("workflow") : "";
  if (owner != graph.name)
    return make_error(errc::conflict, "thread '" + thread_id + "' belongs to workflow '" + owner
                                        + "', not '" + graph.name + "'");
  return checkpoint_to_start(graph, *saved, input);
}

caf::expected<workflow_result> runtime_client::resume_workflow(
  const workflow_graph& graph, const std::string& thread_id, uint64_t checkpoint_id,
  const Value& input, const std::function<void(const workflow_event&)>& on_event,
  std::chrono::milliseconds deadline) {
  auto start = resume_start(graph, thread_id, checkpoint_id, input);
  if (!start)
    return std::move(start.error());
  return run_workflow(graph, std::move(*start), on_event, deadline);
}

}  // namespace agentgraph
