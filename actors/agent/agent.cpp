#include "actors/agent/agent.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/agent/agent_metrics.hpp"
#include "actors/agent/agent_prompt.hpp"
#include "runtime/assert.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

namespace agent_detail {

using clock = std::chrono::steady_clock;

int64_t micros_since(clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start).count();
}

// Everything one task needs while its model and tool calls are in flight.
struct task_run {
  task_request task;
  caf::typed_response_promise<task_result> promise;
  // Callers that sent the same task id while it ran (a cluster node that
  // re-dispatched it after the first caller's node died): they get the
  // same answer. At most task_joiners_max.
  std::vector<caf::typed_response_promise<task_result>> joined;
  std::vector<chat_message> messages;
  task_result result;
  uint32_t tool_rounds = 0;
  clock::time_point started = clock::now();
  // Results of the current tool round, in the order the model asked for them.
  std::vector<std::optional<caf::expected<tool_result>>> round_results;
  size_t round_pending = 0;
  // execute_stream: the caller's sink; every model call streams into it.
  stream_sink_actor sink;
};

using run_ptr = std::shared_ptr<task_run>;

struct agent_state {
  static inline const char* name = "agent";
  // Shared with the builder and every restart: an agent's configuration
  // and dependencies are held once, not once per incarnation and table.
  std::shared_ptr<const agent_config> cfg;
  std::shared_ptr<const agent_dependencies> deps;
  conversation_history history{0};
  std::map<std::string, run_ptr> runs;  // tasks in flight, bounded by tasks_in_flight_max
  clock::time_point started = clock::now();
  uint64_t task_counter = 0;
  uint64_t tasks_completed = 0;
  uint64_t errors = 0;
  uint64_t memory_errors = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t response_time_total_us = 0;
  bool last_task_failed = false;
  // Resolved on the agent's first task, not at spawn: an idle agent holds
  // 8 bytes here instead of the series' pointers, and takes no series of
  // the registry's bounded budget.
  std::unique_ptr<agent_metrics> metrics_;
  // Model, tool and memory calls in flight: their deadlines
  // (cfg->request_timeout each) and monitors on their callees.
  call_watch watch{0};

  agent_metrics& metrics() {
    if (!metrics_)
      metrics_ = std::make_unique<agent_metrics>(make_agent_metrics(deps->metrics, cfg->name));
    return *metrics_;
  }

  // However the incarnation ends (a crash included), it runs no task any
  // more; its successor starts from 0.
  ~agent_state() {
    if (metrics_)
      agentgraph::metrics::set(metrics_->tasks_in_flight, 0);
  }
};

using self_ptr = keyed_agent_actor::stateful_pointer<agent_state>;

// CAF's request errors in our codes (a passed deadline is `timeout`, a
// dependency whose supervisor gave up is `unavailable`), naming what did not
// answer, so callers can decide by our codes alone.
caf::error name_deadline(caf::error err, const agent_state& st, const std::string& what) {
  return from_request_error(std::move(err), "agent '" + st.cfg->name + "': " + what,
                            st.cfg->request_timeout);
}

// Every model, tool and memory call of a task gets request_timeout.
call_watch::clock::time_point call_deadline(self_ptr self) {
  return self->clock().now() + self->state.cfg->request_timeout;
}

void call_model(self_ptr self, run_ptr run);

void finish_run(self_ptr self, const run_ptr& run) {
  auto& st = self->state;
  // A run ends exactly once (fail, or succeed after its store), and it was
  // in the table from on_execute until now.
  AG_ASSERT(st.runs.count(run->task.task_id) == 1);
  AG_ASSERT(st.runs.at(run->task.task_id) == run);
  st.runs.erase(run->task.task_id);
  st.prompt_tokens += run->result.usage.prompt_tokens;
  st.completion_tokens += run->result.usage.completion_tokens;
  auto& m = st.metrics();
  m.tokens.add(run->result.usage);
  metrics::set(m.tasks_in_flight, static_cast<double>(st.runs.size()));
}

void fail(self_ptr self, const run_ptr& run, caf::error err) {
  auto& st = self->state;
  log(log_severity::warn, "agent", "task failed",
      {{"agent", st.cfg->name}, {"task_id", run->task.task_id}, {"error", describe(err)}});
  ++st.errors;
  st.last_task_failed = true;
  st.metrics().tasks.record_since(err, run->started);
  finish_run(self, run);
  for (auto& p : run->joined)
    p.deliver(err);
  run->promise.deliver(std::move(err));
}

// Stores the run's interaction in the agent's shard, then calls `then`,
// whatever the outcome. The caller hears "completed" only after the store
// was answered: with a shard in commit durability (the default) that is
// after the entry is on disk, so a crash right after a task's answer cannot
// lose its memory. A failed store does not fail the task (memory is an aid
// to later tasks, not part of this answer): it is counted.
void remember(self_ptr self, const run_ptr& run, std::function<void()> then) {
  auto& st = self->state;
  if (!st.deps->memory) {
    then();
    return;
  }
  memory_entry entry;
  entry.text = interaction_memory_text(run->task, run->result.output);
  entry.kind = "interaction";
  entry.importance = 0.5;
  entry.metadata["agent"] = st.cfg->name;
  entry.metadata["task_id"] = run->task.task_id;
  if (!st.cfg->memory_scope.empty())
    entry.metadata[memory_scope_field] = st.cfg->memory_scope;
  watched_request(
    self, st.watch, st.deps->memory.get(), call_deadline(self), [then](uint64_t) { then(); },
    [self, then](caf::error&) {
      ++self->state.memory_errors;
      metrics::inc(self->state.metrics().memory_errors);
      then();
    },
    store_atom::value, std::move(entry));
}

void succeed(self_ptr self, const run_ptr& run, std::string answer) {
  auto& st = self->state;
  run->result.output = std::move(answer);
  run->result.latency_us = micros_since(run->started);
  st.history.add({run->task.input, run->result.output});
  AG_ASSERT(st.history.size() <= st.cfg->history_window);
  ++st.tasks_completed;
  if (log_enabled(log_severity::debug))
    log(log_severity::debug, "agent", "task completed",
        {{"agent", st.cfg->name}, {"task_id", run->task.task_id},
         {"model_calls", std::to_string(run->result.model_calls)},
         {"tool_calls", std::to_string(run->result.tool_calls.size())},
         {"latency_us", std::to_string(run->result.latency_us)}});
  st.response_time_total_us += run->result.latency_us;
  st.last_task_failed = false;
  st.metrics().tasks.record_since(caf::none, run->started);
  remember(self, run, [self, run] {
    finish_run(self, run);
    for (auto& p : run->joined)
      p.deliver(run->result);
    run->promise.deliver(run->result);
  });
}

void complete_tool_round(self_ptr self, const run_ptr& run, const std::vector<tool_call>& calls) {
  AG_ASSERT(calls.size() == run->round_results.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    const auto& outcome = *run->round_results[i];
    chat_message msg;
    msg.role = chat_role::tool;
    msg.tool_call_id = calls[i].id;
    msg.name = calls[i].name;
    msg.content = tool_message_content(outcome);
    run->messages.push_back(std::move(msg));
  }
  run->round_results.clear();
  call_model(self, run);
}

void record_tool_outcome(self_ptr self, const run_ptr& run, const std::vector<tool_call>& calls,
                         size_t index, caf::expected<tool_result> outcome,
                         clock::time_point started) {
  tool_call_record rec;
  rec.tool = calls[index].name;
  rec.arguments = calls[index].arguments;
  rec.ok = static_cast<bool>(outcome);
  rec.error = outcome ? std::string{} : describe(outcome.error());
  rec.from_cache = outcome && outcome->from_cache;
  rec.latency_us = micros_since(started);
  run->result.tool_calls.push_back(std::move(rec));
  // Each call of the round is answered once: by its reply, its error, or
  // inline when the tool is unknown.
  AG_ASSERT(index < run->round_results.size());
  AG_ASSERT(!run->round_results[index].has_value());
  run->round_results[index] = std::move(outcome);
  AG_ASSERT(run->round_pending > 0);
  AG_ASSERT(run->round_pending <= run->round_results.size());
  if (--run->round_pending == 0)
    complete_tool_round(self, run, calls);
}

void run_tools(self_ptr self, const run_ptr& run, std::vector<tool_call> calls) {
  // A round starts only after the previous one completed, and
  // on_model_reply refused a reply with more calls than the bound.
  AG_ASSERT(run->round_pending == 0);
  AG_ASSERT(calls.size() <= tool_calls_per_round_max);
  auto shared_calls = std::make_shared<const std::vector<tool_call>>(std::move(calls));
  run->round_results.assign(shared_calls->size(), std::nullopt);
  run->round_pending = shared_calls->size();
  for (size_t i = 0; i < shared_calls->size(); ++i) {
    const auto& call = (*shared_calls)[i];
    auto started = clock::now();
    auto it = self->state.deps->tools.find(call.name);
    if (it == self->state.deps->tools.end()) {
      // The model asked for a tool this agent does not have: tell it so.
      record_tool_outcome(self, run, *shared_calls, i,
                          make_error(errc::not_found, "no tool named '" + call.name + "'"),
                          started);
      continue;
    }
    watched_request(
      self, self->state.watch, it->second.get(), call_deadline(self),
      [self, run, shared_calls, i, started](tool_result& r) {
        record_tool_outcome(self, run, *shared_calls, i, std::move(r), started);
      },
      [self, run, shared_calls, i, started](caf::error& err) {
        auto named = name_deadline(std::move(err), self->state,
                                   "tool '" + (*shared_calls)[i].name + "'");
        record_tool_outcome(self, run, *shared_calls, i, std::move(named), started);
      },
      invoke_atom::value, tool_invocation{call.id, call.arguments});
  }
}

void on_model_reply(self_ptr self, const run_ptr& run, chat_response& reply) {
  run->result.usage.prompt_tokens += reply.usage.prompt_tokens;
  run->result.usage.completion_tokens += reply.usage.completion_tokens;
  ++run->result.model_calls;
  metrics::inc(self->state.metrics().model_calls);
  if (reply.message.tool_calls.empty()) {
    succeed(self, run, std::move(reply.message.content));
    return;
  }
  if (run->tool_rounds >= self->state.cfg->max_tool_iterations) {
    fail(self, run,
         make_error(errc::limit_exceeded,
                    "agent '" + self->state.cfg->name + "' reached max_tool_iterations ("
                      + std::to_string(self->state.cfg->max_tool_iterations) + ") on task "
                      + run->task.task_id));
    return;
  }
  if (reply.message.tool_calls.size() > tool_calls_per_round_max) {
    fail(self, run,
         make_error(errc::limit_exceeded,
                    "agent '" + self->state.cfg->name + "': the model asked for "
                      + std::to_string(reply.message.tool_calls.size())
                      + " tool calls in one reply (tool_calls_per_round_max "
                      + std::to_string(tool_calls_per_round_max) + ")"));
    return;
  }
  ++run->tool_rounds;
  AG_ASSERT(run->tool_rounds <= self->state.cfg->max_tool_iterations);
  auto calls = reply.message.tool_calls;
  reply.message.role = chat_role::assistant;
  run->messages.push_back(std::move(reply.message));
  run_tools(self, run, std::move(calls));
}

void call_model(self_ptr self, run_ptr run) {
  const auto& cfg = *self->state.cfg;
  chat_request req;
  req.request_id = run->task.task_id + "-" + std::to_string(run->result.model_calls + 1);
  req.model = cfg.model;
  req.messages = run->messages;
  req.tools = self->state.deps->tool_definitions;
  req.temperature = cfg.effective_temperature();
  req.max_tokens = cfg.max_tokens;
  auto on_reply = [self, run](chat_response& reply) { on_model_reply(self, run, reply); };
  auto provider = self->state.deps->provider.get();
  auto on_error = [self, run, provider, id = req.request_id](caf::error& err) {
    // Our deadline passed: the provider may still be working on the call
    // (queued, retrying). Tell it, so it frees the slot instead of
    // answering nobody.
    if (err == caf::sec::request_timeout && provider)
      self->send(provider, cancel_atom::value, id);
    fail(self, run,
         name_deadline(std::move(err), self->state, "provider '" + self->state.cfg->provider + "'"));
  };
  // Streamed calls send their tokens straight to the caller's sink: the
  // agent forwards nothing itself, so a token costs one message, not two.
  auto& watch = self->state.watch;
  if (run->sink)
    watched_request(self, watch, provider, call_deadline(self), std::move(on_reply),
                    std::move(on_error), chat_stream_atom::value, std::move(req), run->sink);
  else
    watched_request(self, watch, provider, call_deadline(self), std::move(on_reply),
                    std::move(on_error), chat_atom::value, std::move(req));
}

void start_run(self_ptr self, run_ptr run) {
  auto& st = self->state;
  auto begin = [self, run](const std::vector<memory_hit>& hits) {
    run->messages = build_initial_messages(*self->state.cfg, self->state.history, hits, run->task);
    call_model(self, run);
  };
  if (!st.deps->memory || st.cfg->memory_recall_k == 0) {
    begin({});
    return;
  }
  auto on_hits = [begin](std::vector<memory_hit>& hits) { begin(hits); };
  auto on_error = [self, begin](caf::error&) {
    // A task does not fail because its memory is unreachable; it runs
    // without recall and the miss is counted.
    ++self->state.memory_errors;
    metrics::inc(self->state.metrics().memory_errors);
    begin({});
  };
  if (st.cfg->memory_scope.empty()) {
    watched_request(self, st.watch, st.deps->memory.get(), call_deadline(self),
                    std::move(on_hits), std::move(on_error), recall_atom::value,
                    run->task.input, st.cfg->memory_recall_k);
    return;
  }
  // A population's instance: its own scope and the shared ones only.
  std::vector<std::string> scopes{st.cfg->memory_scope};
  scopes.insert(scopes.end(), st.cfg->memory_shared_scopes.begin(),
                st.cfg->memory_shared_scopes.end());
  AG_ASSERT(scopes.size() <= memory_recall_scopes_max);
  watched_request(self, st.watch, st.deps->memory.get(), call_deadline(self),
                  std::move(on_hits), std::move(on_error), recall_scoped_atom::value,
                  run->task.input, st.cfg->memory_recall_k, std::move(scopes));
}

agent_stats make_stats(const agent_state& st) {
  agent_stats s;
  s.name = st.cfg->name;
  s.role = to_string(st.cfg->role);
  s.status = !st.runs.empty() ? agent_status::busy
             : st.last_task_failed ? agent_status::failed
                                   : agent_status::idle;
  s.tasks_completed = st.tasks_completed;
  s.errors = st.errors;
  s.tasks_in_flight = st.runs.size();
  s.prompt_tokens = st.prompt_tokens;
  s.completion_tokens = st.completion_tokens;
  s.total_tokens = st.prompt_tokens + st.completion_tokens;
  s.response_time_avg_us = st.tasks_completed == 0
                             ? 0
                             : st.response_time_total_us
                                 / static_cast<int64_t>(st.tasks_completed);
  s.uptime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - st.started)
                  .count();
  size_t bytes = st.history.heap_bytes();
  for (const auto& [id, run] : st.runs)
    bytes += sizeof(task_run) + id.capacity() + heap_bytes(run->messages);
  s.memory_bytes = bytes;
  s.history_turns = st.history.size();
  return s;
}

// A task refused before it started: counted, then answered with `code`.
caf::error refuse(agent_state& st, errc code, std::string what) {
  st.metrics().tasks.outcomes.failed(code);
  return make_error(code, std::move(what));
}

caf::result<task_result> on_execute(self_ptr self, task_request& task, stream_sink_actor sink) {
  auto& st = self->state;
  if (task.input.empty())
    return refuse(st, errc::invalid_argument, "task input is empty");
  if (task.task_id.empty())
    task.task_id = st.cfg->name + "-" + std::to_string(++st.task_counter);
  if (auto running = st.runs.find(task.task_id); running != st.runs.end()) {
    // The same id again while it runs: one task, one answer for both
    // callers (a journaled task re-run after its accepting node died).
    auto& joined = running->second->joined;
    if (joined.size() >= task_joiners_max)
      return refuse(st, errc::overloaded,
                    "task id '" + task.task_id + "' already has "
                      + std::to_string(task_joiners_max) + " callers waiting on this agent");
    joined.push_back(self->make_response_promise<task_result>());
    return joined.back();
  }
  if (st.runs.size() >= st.cfg->tasks_in_flight_max)
    return refuse(st, errc::overloaded, "agent '" + st.cfg->name + "' has "
                                          + std::to_string(st.runs.size())
                                          + " tasks in flight (tasks_in_flight_max)");
  auto run = std::make_shared<task_run>();
  run->task = std::move(task);
  run->result.task_id = run->task.task_id;
  run->result.agent = st.cfg->name;
  run->promise = self->make_response_promise<task_result>();
  run->sink = std::move(sink);
  st.runs.emplace(run->task.task_id, run);
  AG_ASSERT(st.runs.size() <= st.cfg->tasks_in_flight_max);
  metrics::set(st.metrics().tasks_in_flight, static_cast<double>(st.runs.size()));
  start_run(self, run);
  return run->promise;
}

// The state a population saves (agent_snapshot): the history oldest turn
// first, and the figures of make_stats.
agent_snapshot export_snapshot(const agent_state& st) {
  agent_snapshot snap;
  snap.history.reserve(2 * st.history.size());
  for (size_t i = 0; i < st.history.size(); ++i) {
    snap.history.push_back(st.history.at(i).user);
    snap.history.push_back(st.history.at(i).assistant);
  }
  snap.tasks_completed = st.tasks_completed;
  snap.errors = st.errors;
  snap.prompt_tokens = st.prompt_tokens;
  snap.completion_tokens = st.completion_tokens;
  snap.response_time_total_us = st.response_time_total_us;
  return snap;
}

// A reactivated agent goes on from its saved state. A history longer than
// this agent's window keeps its newest turns (conversation_history drops
// the oldest); an odd trailing entry (a damaged state) is ignored.
void restore_snapshot(agent_state& st, const agent_snapshot& snap) {
  for (size_t i = 0; i + 1 < snap.history.size(); i += 2)
    st.history.add({snap.history[i], snap.history[i + 1]});
  st.tasks_completed = snap.tasks_completed;
  st.errors = snap.errors;
  st.prompt_tokens = snap.prompt_tokens;
  st.completion_tokens = snap.completion_tokens;
  st.response_time_total_us = snap.response_time_total_us;
}

keyed_agent_actor::behavior_type agent_behavior(self_ptr self,
                                                std::shared_ptr<const agent_config> cfg,
                                                std::shared_ptr<const agent_dependencies> deps,
                                                std::shared_ptr<const agent_snapshot> initial) {
  auto& st = self->state;
  st.history = conversation_history{cfg->history_window};
  if (initial)
    restore_snapshot(st, *initial);
  // A run waits on at most one model call, one memory call or one round of
  // tool calls at a time.
  st.watch = call_watch{static_cast<size_t>(cfg->tasks_in_flight_max) * tool_calls_per_round_max};
  st.cfg = std::move(cfg);
  st.deps = std::move(deps);
  // A provider, tool or shard that dies fails the calls waiting on it now,
  // not at their deadline.
  route_to_watch(self, &agent_state::watch);
  return {
    [self](execute_atom, task_request& task) { return on_execute(self, task, {}); },
    [self](execute_stream_atom, task_request& task,
           stream_sink_actor& sink) -> caf::result<task_result> {
      if (!sink)
        return make_error(errc::invalid_argument, "execute_stream needs a valid stream sink");
      return on_execute(self, task, std::move(sink));
    },
    [self](stats_atom) { return make_stats(self->state); },
    [self](agent_export_atom) { return export_snapshot(self->state); },
    [](ping_atom) { return pong_atom::value; },
  };
}

}  // namespace agent_detail

caf::error validate_agent(const agent_config& cfg, const agent_dependencies& deps) {
  auto bad = [&](const std::string& what) {
    return make_error(errc::invalid_argument, "agent '" + cfg.name + "': " + what);
  };
  if (cfg.name.empty())
    return make_error(errc::invalid_argument, "agent has no name");
  if (!deps.provider)
    return bad("no provider handle for '" + cfg.provider + "'");
  for (const auto& tool : cfg.tools) {
    if (deps.tools.count(tool) == 0)
      return bad("tool '" + tool + "' has no handle");
    bool described = false;
    for (const auto& def : deps.tool_definitions)
      described = described || def.name == tool;
    if (!described)
      return bad("tool '" + tool + "' has no definition");
  }
  if (!cfg.memory.empty() && !deps.memory)
    return bad("memory '" + cfg.memory + "' has no handle");
  if (cfg.request_timeout.count() <= 0)
    return bad("request_timeout must be positive");
  if (cfg.tasks_in_flight_max == 0)
    return bad("tasks_in_flight_max must be at least 1");
  if (cfg.max_tokens <= 0)
    return bad("max_tokens must be positive");
  double t = cfg.effective_temperature();
  if (t < 0.0 || t > 2.0)
    return bad("temperature must be within [0, 2]");
  return caf::none;
}

agent_actor spawn_agent(caf::actor_system& sys, std::shared_ptr<const agent_config> cfg,
                        std::shared_ptr<const agent_dependencies> deps) {
  return spawn_keyed_agent(sys, std::move(cfg), std::move(deps), nullptr);
}

keyed_agent_actor spawn_keyed_agent(caf::actor_system& sys,
                                    std::shared_ptr<const agent_config> cfg,
                                    std::shared_ptr<const agent_dependencies> deps,
                                    std::shared_ptr<const agent_snapshot> initial) {
  AG_ASSERT(cfg && deps && !validate_agent(*cfg, *deps));
  return sys.spawn(agent_detail::agent_behavior, std::move(cfg), std::move(deps),
                   std::move(initial));
}

agent_actor spawn_agent(caf::actor_system& sys, agent_config cfg, agent_dependencies deps) {
  return spawn_agent(sys, std::make_shared<const agent_config>(std::move(cfg)),
                     std::make_shared<const agent_dependencies>(std::move(deps)));
}

}  // namespace agentgraph
