// The Runtime's workflow side: registered functions and reducers, runs,
// checkpoints and resume (actors/workflow/, runtime/checkpoint/).
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_tables.hpp"

namespace agentgraph {

caf::error Runtime::register_workflow_function(std::string name, node_function fn) {
  return tables_->workflow_functions->add(std::move(name), std::move(fn));
}

caf::error Runtime::register_workflow_reducer(std::string name, reducer_fn fn) {
  return tables_->workflow_reducers->add(std::move(name), std::move(fn));
}

caf::expected<std::shared_ptr<const workflow_graph>> Runtime::workflow(
  const std::string& name) const {
  auto it = tables_->workflows.find(name);
  if (it == tables_->workflows.end())
    return make_error(errc::not_found, "no workflow named '" + name + "'");
  return it->second;
}

caf::expected<workflow_run_actor> Runtime::spawn_workflow(
  std::shared_ptr<const workflow_graph> graph, workflow_start start, workflow_event_sink events) {
  workflow_deps deps;
  for (const auto& a : tables_->agents)
    deps.agents[a.name] = a.handle;
  for (const auto& name : tables_->tool_order)
    deps.tools[name] = tables_->tools.find(name)->handle;
  deps.functions = tables_->workflow_functions;
  deps.reducers = tables_->workflow_reducers;
  deps.cache = tables_->cache;
  if (!start.checkpoints)
    start.checkpoints = tables_->checkpoints;
  return spawn_workflow_run(*system_, std::move(graph), std::move(deps), std::move(start),
                            std::move(events));
}

caf::expected<workflow_result> Runtime::run_workflow(
  const workflow_graph& graph, workflow_start start,
  const std::function<void(const workflow_event&)>& on_event, std::chrono::milliseconds deadline) {
  // The calling thread is the event sink, as in run_streaming.
  caf::scoped_actor self{*system_};
  auto run = spawn_workflow(std::make_shared<const workflow_graph>(graph), std::move(start),
                            caf::actor_cast<workflow_event_sink>(self));
  if (!run)
    return std::move(run.error());
  self->send(*run, run_workflow_atom::value);
  const auto until = std::chrono::steady_clock::now() + deadline;
  caf::expected<workflow_result> out = make_error(errc::internal, "no reply");
  bool done = false;
  while (!done) {  // bounded by `deadline`
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      until - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      caf::anon_send_exit(*run, caf::exit_reason::user_shutdown);
      return make_error(errc::timeout, "workflow '" + graph.name + "' did not end within "
                                         + std::to_string(deadline.count()) + " ms");
    }
    self->receive([&](workflow_event& ev) { on_event(ev); },
                  [&](workflow_result& r) {
                    out = std::move(r);
                    done = true;
                  },
                  [&](caf::error& err) {
                    out = std::move(err);
                    done = true;
                  },
                  caf::after(left) >> [] {});
  }
  // Events the run sent before its reply are already in this mailbox.
  for (size_t i = 0; i < 100'000; ++i) {
    bool more = false;
    self->receive([&](workflow_event& ev) {
                    on_event(ev);
                    more = true;
                  },
                  caf::after(std::chrono::milliseconds{0}) >> [] {});
    if (!more)
      break;
  }
  return out;
}

caf::error Runtime::use_checkpoints(std::unique_ptr<checkpoint_store> store) {
  if (!store)
    return make_error(errc::invalid_argument, "no checkpoint store");
  if (tables_->checkpoints)
    return make_error(errc::invalid_argument, "this runtime already has a checkpoint store");
  log(log_severity::debug, "runtime", "checkpoint store", {{"backend", store->backend()}});
  tables_->checkpoints = spawn_checkpoint_actor(*system_, std::move(store));
  return {};
}

bool Runtime::has_checkpoints() const {
  return static_cast<bool>(tables_->checkpoints);
}

caf::expected<workflow_start> Runtime::resume_start(const workflow_graph& graph,
                                                    const std::string& thread_id,
                                                    uint64_t checkpoint_id, const Value& input) {
  if (!tables_->checkpoints)
    return make_error(errc::invalid_argument,
                      "resume needs a checkpoint store ([runtime] checkpoint_path or checkpoint_url)");
  caf::expected<checkpoint> saved = make_error(errc::internal, "no reply");
  {
    caf::scoped_actor self{*system_};
    auto on_ok = [&](checkpoint& c) { saved = std::move(c); };
    auto on_err = [&](caf::error& e) { saved = std::move(e); };
    if (checkpoint_id == 0)
      self->request(tables_->checkpoints, runtime_detail::control_timeout,
                    checkpoint_latest_atom::value, thread_id)
        .receive(on_ok, on_err);
    else
      self->request(tables_->checkpoints, runtime_detail::control_timeout,
                    checkpoint_get_atom::value, thread_id, checkpoint_id)
        .receive(on_ok, on_err);
  }
  if (!saved)
    return std::move(saved.error());
  auto owner = saved->metadata.is_object() ? saved->metadata.get_string("workflow") : "";
  if (owner != graph.name)
    return make_error(errc::conflict, "thread '" + thread_id + "' belongs to workflow '" + owner
                                        + "', not '" + graph.name + "'");
  return checkpoint_to_start(graph, *saved, input);
}

caf::expected<workflow_result> Runtime::resume_workflow(
  const workflow_graph& graph, const std::string& thread_id, uint64_t checkpoint_id,
  const Value& input, const std::function<void(const workflow_event&)>& on_event,
  std::chrono::milliseconds deadline) {
  auto start = resume_start(graph, thread_id, checkpoint_id, input);
  if (!start)
    return std::move(start.error());
  return run_workflow(graph, std::move(*start), on_event, deadline);
}

}  // namespace agentgraph
