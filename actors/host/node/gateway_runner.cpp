// The per-task runner actor of the gateway (see gateway_impl.hpp).
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "actors/host/node/gateway_impl.hpp"
#include "runtime/error.hpp"
#include "runtime/journal/journal_actor.hpp"
#include "runtime/log.hpp"

namespace agentgraph {

namespace gateway_runner_detail {

// A streamed chunk as SSE events: its text as one `token`, then one
// `tool_call` per call the model finished.
void forward_chunk(task_entry& entry, const stream_chunk& chunk) {
  if (!chunk.delta_text.empty()) {
    Value token = Value::object();
    token["request_id"] = Value{chunk.request_id};
    token["text"] = Value{chunk.delta_text};
    entry.push_event("token", std::move(token));
  }
  for (const auto& call : chunk.tool_calls) {
    Value ev = Value::object();
    ev["request_id"] = Value{chunk.request_id};
    ev["id"] = Value{call.id};
    ev["tool"] = Value{call.name};
    ev["arguments"] = call.arguments;
    entry.push_event("tool_call", std::move(ev));
  }
}

}  // namespace gateway_runner_detail

bool end_task(task_book& book, const std::shared_ptr<task_entry>& entry, task_status status,
              Value body, int http_status) {
  return entry->finish(status, std::move(body), http_status, [&book, &entry] {
    book.table.on_finished(entry);
    if (book.in_flight_gauge != nullptr)
      book.in_flight_gauge->dec();
  });
}

task_end end_of(const std::shared_ptr<task_entry>& entry, caf::expected<task_result> outcome) {
  if (outcome)
    return {task_status::completed, result_json(*outcome), 200};
  auto err = from_request_error(std::move(outcome.error()), "agent '" + entry->agent + "'");
  log(log_severity::info, gateway_log_component, "task failed",
      {{"task_id", entry->id}, {"agent", entry->agent}, {"error", describe(err)}});
  return {task_status::failed, failure_json(entry->id, entry->agent, task_status::failed, err),
          http_status_of(err)};
}

void finish_task(task_book& book, const std::shared_ptr<task_entry>& entry,
                 caf::expected<task_result> outcome) {
  auto end = end_of(entry, std::move(outcome));
  end_task(book, entry, end.status, std::move(end.body), end.http_status);
  std::lock_guard lock{book.mutex};
  book.runners.erase(entry->id);
}

namespace gateway_runner_detail {

// Ends the entry with a stored answer (its status from the HTTP status).
void end_stored(task_book& book, const std::shared_ptr<task_entry>& entry,
                const std::pair<int, Value>& stored) {
  const auto status = stored.first == 200 ? task_status::completed : task_status::failed;
  end_task(book, entry, status, stored.second, stored.first);
  std::lock_guard lock{book.mutex};
  book.runners.erase(entry->id);
}

// Ends the entry with an answer the journal does NOT hold (a journal
// error, a wait for another node's answer that timed out) and forgets it
// at once: the id is the journal's, so asking again must reach the journal
// (its stored answer, or the task still open), not this answer.
void end_unstored(task_book& book, const std::shared_ptr<task_entry>& entry,
                  const std::pair<int, Value>& answer) {
  end_stored(book, entry, answer);
  book.table.forget(entry->id);
}

using journal_retry_atom = caf::atom_constant<caf::atom("ag_jretry")>;

// Tries to store an answer: the first try, then journal_complete_retries
// more, each after a longer pause (100 ms, 400 ms, 1.6 s), since a journal
// that failed once (PostgreSQL restarting, the actor's queue full) often
// takes the next try. complete is first-writer-wins, so a retry is safe.
constexpr int journal_complete_retries = 3;

// Stores the outcome in the journal, then ends the entry with what the
// journal kept (another run's answer, when one came first). When every try
// failed, ends it with the outcome itself, unstored (the task stays open
// in the journal and may run again). Calls `done` after. `retry` is the
// runner's slot for the pending retry, which its journal_retry_atom
// handler runs.
void complete_journaled(caf::event_based_actor* self, std::shared_ptr<task_book> book,
                        std::shared_ptr<task_entry> entry,
                        std::shared_ptr<const task_journaling> j,
                        caf::expected<task_result> outcome, std::function<void()> done,
                        std::shared_ptr<std::function<void()>> retry) {
  auto end = std::make_shared<task_end>(end_of(entry, std::move(outcome)));
  const auto state =
    end->status == task_status::completed ? task_state::done : task_state::failed;
  // The closure holds itself only weakly; the pending reply's handlers hold
  // it strongly, so it lives exactly as long as a try is in flight or due.
  auto attempt = std::make_shared<std::function<void(int)>>();
  *attempt = [self, book, entry, j, end, state, done, retry,
              weak = std::weak_ptr<std::function<void(int)>>(attempt)](int tries) {
    auto again = weak.lock();
    if (!again)
      return;
    self->request(j->journal, j->call_timeout, journal_complete_atom::value, entry->id, state,
                  journal_answer(end->http_status, end->body))
      .then(
        [book, entry, end, done](journal_record& stored) {
          auto answer = journal_answer_of(stored);
          if (answer)
            end_stored(*book, entry, *answer);
          else
            end_stored(*book, entry, {end->http_status, end->body});
          done();
        },
        [self, book, entry, end, done, retry, again, tries](caf::error& err) {
          if (tries < journal_complete_retries) {
            *retry = [again, tries] { (*again)(tries + 1); };
            self->delayed_send(self, std::chrono::milliseconds{100} * (1 << (2 * tries)),
                               journal_retry_atom::value);
            return;
          }
          log(log_severity::warn, gateway_log_component,
              "task answer not journaled; answered anyway",
              {{"task_id", entry->id}, {"error", describe(err)},
               {"tries", std::to_string(tries + 1)}});
          end_unstored(*book, entry, {end->http_status, end->body});
          done();
        });
  };
  (*attempt)(0);
}

using journal_wait_atom = caf::atom_constant<caf::atom("ag_jwait")>;

// A runner waiting for the answer of a task another node owns.
struct journal_wait {
  task_request task;               // run here if the task is adopted by this node
  std::chrono::milliseconds left;  // of the runner's deadline
  std::chrono::milliseconds interval{50};
  static constexpr std::chrono::milliseconds interval_max{1000};
};

// One poll: the stored answer ends the task; the task adopted by this node
// runs here; otherwise poll again (the interval doubling up to a second)
// until the deadline, which ends the task here, unanswered and NOT stored:
// the owner still runs it, and asking again later gets its answer.
void poll_owner(caf::event_based_actor* self, std::shared_ptr<task_book> book,
                std::shared_ptr<task_entry> entry, std::shared_ptr<const task_journaling> j,
                std::shared_ptr<journal_wait> wait,
                const std::function<void(task_request)>& run) {
  wait->left -= std::min(wait->left, wait->interval);
  self->request(j->journal, j->call_timeout, journal_get_atom::value, entry->id)
    .then(
      [self, book, entry, j, wait, run](journal_record& r) {
        if (r.state != task_state::open) {
          auto stored = journal_answer_of(r);
          end_stored(*book, entry,
                     stored ? *stored
                            : std::pair<int, Value>{500, failure_json(entry->id, entry->agent,
                                                                      task_status::failed,
                                                                      stored.error())});
          self->quit();
          return;
        }
        if (r.owner == j->owner) {
          run(std::move(wait->task));
          return;
        }
        if (wait->left.count() <= 0) {
          auto err = make_error(errc::timeout, "task '" + entry->id + "' runs on node '" +
                                                 r.owner + "' and was not answered within its "
                                                 "deadline; ask again later for its answer");
          end_unstored(*book, entry,
                     {http_status_of(err),
                      failure_json(entry->id, entry->agent, task_status::failed, err)});
          self->quit();
          return;
        }
        wait->interval = std::min(2 * wait->interval, journal_wait::interval_max);
        self->delayed_send(self, wait->interval, journal_wait_atom::value);
      },
      [self, book, entry](caf::error& err) {
        auto e = make_error(errc::unavailable, "task journal: " + describe(err));
        end_unstored(*book, entry,
                   {http_status_of(e), failure_json(entry->id, entry->agent, task_status::failed, e)});
        self->quit();
      });
}

}  // namespace gateway_runner_detail

namespace gateway_runner_detail {

// A runner that stops without ending its task (an exception, a kill) must
// not leave it `running` forever: its callers and subscribers get an
// `internal` failure and its in-flight slot is freed. A runner that ended
// its task first makes this a no-op.
void end_task_on_exit(const caf::actor& runner, std::shared_ptr<task_book> book,
                      std::shared_ptr<task_entry> entry) {
  runner->attach_functor([book, entry](const caf::error& reason) {
    auto err = make_error(errc::internal, "the task's runner stopped: " + describe(reason));
    end_task(*book, entry, task_status::failed,
             failure_json(entry->id, entry->agent, task_status::failed, err), 500);
    std::lock_guard lock{book->mutex};
    book->runners.erase(entry->id);
  });
}

}  // namespace gateway_runner_detail

caf::actor spawn_task_runner(caf::actor_system& sys, std::shared_ptr<task_book> book,
                             std::shared_ptr<task_entry> entry, agent_actor agent,
                             task_request task, std::chrono::milliseconds deadline,
                             journal_ack ack) {
  auto j = book->journaling();
  auto runner = sys.spawn([book, entry, agent, task = std::move(task), deadline, j,
                           ack](caf::event_based_actor* self) mutable -> caf::behavior {
    using namespace gateway_runner_detail;
    auto sink = caf::actor_cast<stream_sink_actor>(self);
    // Ends the task with the agent's outcome: through the journal when
    // there is one (the stored answer wins), then the runner quits.
    auto retry = std::make_shared<std::function<void()>>();  // complete_journaled's next try
    auto finish = [self, book, entry, j, retry](caf::expected<task_result> outcome) {
      if (!j) {
        finish_task(*book, entry, std::move(outcome));
        self->quit();
        return;
      }
      complete_journaled(self, book, entry, j, std::move(outcome), [self] { self->quit(); },
                         retry);
    };
    auto run = [self, book, entry, agent, deadline, sink, finish](task_request task) {
      // Supervisors relay nothing (ARCHITECTURE §6): an agent that dies with
      // the task is seen by this monitor at once, not at the deadline. A CAF
      // request timeout, not a call_watch: see spawn_workflow_runner.
      if (agent)  // never monitor an invalid handle: CAF 0.17 segfaults
        self->monitor(agent);
      self->set_down_handler([finish, entry](caf::down_msg&) {
        finish(from_request_error(caf::make_error(caf::sec::request_receiver_down),
                                  "agent '" + entry->agent + "'"));
      });
      self->request(agent, deadline, execute_stream_atom::value, std::move(task), sink)
        .then(
          [book, entry, finish](task_result& r) {
            if (book->executed)
              book->executed(entry->id);
            finish(std::move(r));
          },
              [finish](caf::error& err) { finish(std::move(err)); });
    };
    // A task another node owns: polled in the journal until it is answered,
    // moves to this node (adopted: it runs here), or the deadline passes.
    auto wait = std::make_shared<journal_wait>();
    if (!j) {
      run(std::move(task));
    } else {
      // Stored before it is acknowledged (ack) or run: a node that dies
      // after the 202 runs it again when it restarts.
      journal_record rec;
      rec.task_id = task.task_id;
      rec.target = entry->agent;
      rec.payload = journal_payload(entry->agent, task);
      rec.owner = j->owner;
      rec.owner_epoch = j->epoch;
      self->request(j->journal, j->call_timeout, journal_accept_atom::value, std::move(rec))
        .then(
          [self, book, entry, ack, run, task, j, deadline, wait](accept_outcome& o) mutable {
            if (!o.fresh && o.record.state == task_state::open && o.record.owner != j->owner) {
              // Another node accepted it (a journal the cluster shares): it
              // runs there, or moves here if that node dies. Wait for its
              // answer rather than run it a second time.
              if (ack)
                ack(nullptr);
              wait->task = std::move(task);
              wait->left = deadline;
              self->delayed_send(self, wait->interval, journal_wait_atom::value);
              return;
            }
            if (o.fresh || o.record.state == task_state::open) {
              if (ack)
                ack(nullptr);
              run(std::move(task));
              return;
            }
            auto stored = journal_answer_of(o.record);
            std::pair<int, Value> answer =
              stored ? *stored
                     : std::pair<int, Value>{500, failure_json(entry->id, entry->agent,
                                                               task_status::failed,
                                                               stored.error())};
            end_stored(*book, entry, answer);
            if (ack)
              ack(&answer);
            self->quit();
          },
          [self, book, entry, ack](caf::error& err) {
            auto e = make_error(errc_of(err) == errc::overloaded ? errc::overloaded
                                                                 : errc::unavailable,
                                "task journal: " + describe(err));
            std::pair<int, Value> answer{
              http_status_of(e), failure_json(entry->id, entry->agent, task_status::failed, e)};
            end_unstored(*book, entry, answer);
            if (ack)
              ack(&answer);
            self->quit();
          });
    }
    return {
      [entry](stream_chunk& chunk) { gateway_runner_detail::forward_chunk(*entry, chunk); },
      [retry](gateway_runner_detail::journal_retry_atom) {
        if (*retry)
          std::exchange(*retry, nullptr)();
      },
      [self, book, entry, j, wait, run](journal_wait_atom) {
        poll_owner(self, book, entry, j, wait, run);
      },
    };
  });
  gateway_runner_detail::end_task_on_exit(runner, book, entry);
  return runner;
}

caf::actor spawn_workflow_runner(caf::actor_system& sys, std::shared_ptr<task_book> book,
                                 std::shared_ptr<task_entry> entry,
                                 std::chrono::milliseconds deadline) {
  auto end = [book, entry](task_status status, Value body, int http_status) {
    end_task(*book, entry, status, std::move(body), http_status);
    std::lock_guard lock{book->mutex};
    book->runners.erase(entry->id);
  };
  auto runner = sys.spawn([deadline, end, entry](caf::event_based_actor* self) -> caf::behavior {
    // The run is spawned with this runner as its event sink, then handed
    // over: events cannot arrive before the runner exists.
    auto failed = [self, end, entry](caf::error reply_err) {
      auto err = from_request_error(std::move(reply_err), "workflow run");
      Value body = Value::object();
      body["task_id"] = Value{entry->id};
      body["status"] = Value{"failed"};
      body["error"] = Value{describe(err)};
      end(task_status::failed, std::move(body), http_status_of(err));
      self->quit();
    };
    // A run that dies (a node function that throws ends its actor) ends
    // the task at once through this monitor, not at the deadline. The
    // runner stays on a CAF request timeout rather than a call_watch: it
    // makes one call and exits, and CAF drops an exiting actor's request
    // timeouts, while a call_watch tick (a delayed message, never
    // cancelled) would keep the finished runner allocated until the
    // deadline, an hour here.
    self->set_down_handler([failed](caf::down_msg&) {
      failed(caf::make_error(caf::sec::request_receiver_down));
    });
    auto start = [self, deadline, end, entry, failed](const workflow_run_actor& run) {
    if (run)  // never monitor an invalid handle: CAF 0.17 segfaults
      self->monitor(run);
    self->request(run, deadline, run_workflow_atom::value)
      .then(
        [self, end, entry](workflow_result& r) {
          Value body = Value::object();
          body["task_id"] = Value{entry->id};
          body["thread_id"] = Value{r.thread_id};
          body["status"] = Value{to_string(r.status)};
          body["steps"] = Value{static_cast<int64_t>(r.steps)};
          body["state"] = std::move(r.state);
          Value next = Value::array();
          for (auto& n : r.next)
            next.as_array().emplace_back(std::move(n));
          body["next"] = std::move(next);
          if (r.status == workflow_status::failed) {
            body["error"] = Value{r.error};
            end(task_status::failed, std::move(body), 502);
          } else {
            end(task_status::completed, std::move(body), 200);
          }
          self->quit();
        },
        [failed](caf::error& reply_err) { failed(std::move(reply_err)); });
    };
    return {
      [start](workflow_run_actor& run) { start(run); },
      [entry](workflow_event& ev) {
        Value data = Value::object();
        data["step"] = Value{static_cast<int64_t>(ev.step)};
        if (!ev.node.empty())
          data["node"] = Value{ev.node};
        if (!ev.data.is_null())
          data["data"] = std::move(ev.data);
        if (!ev.text.empty())
          data["text"] = Value{ev.text};
        entry->push_event(to_string(ev.kind), std::move(data));
      },
    };
  });
  gateway_runner_detail::end_task_on_exit(runner, book, entry);
  return runner;
}

}  // namespace agentgraph
