// The per-task runner actor of the gateway (see gateway_impl.hpp).
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "actors/node/gateway_impl.hpp"
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

void finish_task(task_book& book, const std::shared_ptr<task_entry>& entry,
                 caf::expected<task_result> outcome) {
  bool first = false;
  if (outcome) {
    first = entry->finish(task_status::completed, result_json(*outcome), 200);
  } else {
    auto err = normalize_task_error(std::move(outcome.error()), entry->agent);
    log(log_severity::info, gateway_log_component, "task failed",
        {{"task_id", entry->id}, {"agent", entry->agent}, {"error", describe(err)}});
    first = entry->finish(task_status::failed,
                          failure_json(entry->id, entry->agent, task_status::failed, err),
                          http_status_of(err));
  }
  if (first) {
    book.table.on_finished(entry);
    if (book.in_flight_gauge != nullptr)
      book.in_flight_gauge->dec();
  }
  std::lock_guard lock{book.mutex};
  book.runners.erase(entry->id);
}

caf::actor spawn_task_runner(caf::actor_system& sys, std::shared_ptr<task_book> book,
                             std::shared_ptr<task_entry> entry, agent_actor agent,
                             task_request task, std::chrono::milliseconds deadline) {
  return sys.spawn([book, entry, agent, task = std::move(task),
                    deadline](caf::event_based_actor* self) mutable -> caf::behavior {
    auto sink = caf::actor_cast<stream_sink_actor>(self);
    self->request(agent, deadline, execute_stream_atom::value, std::move(task), sink)
      .then(
        [self, book, entry](task_result& r) {
          finish_task(*book, entry, std::move(r));
          self->quit();
        },
        [self, book, entry](caf::error& err) {
          finish_task(*book, entry, std::move(err));
          self->quit();
        });
    return {
      [entry](stream_chunk& chunk) { gateway_runner_detail::forward_chunk(*entry, chunk); },
    };
  });
}

}  // namespace agentgraph
