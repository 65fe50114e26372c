// The node's HTTP gateway over a Runtime: tasks (sync, background, their
// status and their event streams), the agents' figures, the memory shards'
// sizes, Prometheus metrics, liveness and readiness. `agentgraph node`
// runs one; an embedding app may run its own.
//
// Routes (JSON bodies; every error body is {"error":{"code","message"}}):
//   GET  /health                200 {"status":"alive"} (no auth)
//   GET  /ready                 200/503 {"ready","reason"} (no auth)
//   GET  /metrics               the runtime's registry, Prometheus text 0.0.4
//   POST /v1/tasks              sync: 200 result; background: 202 + Location
//   GET  /v1/tasks/<id>         {"task_id","agent","status", "result"|"error"}
//   GET  /v1/tasks/<id>/events  SSE: token, tool_call, truncated, then
//                               completed or failed
//   GET  /v1/agents             per-agent counters and figures
//   GET  /v1/memory             per-shard entries and bytes
//   GET  /v1/cluster            members as this node sees them (404 when the
//                               node is not in a cluster)
//   GET  /v1/cluster/directory  every directory entry this node knows:
//                               kind, name, node (404 as above)
//   POST /v1/topics/<topic>     {"message": any}: published to every
//                               subscriber on every node; 202 receipt
// Statuses: 400 bad body (the message names the field), 401 bad token,
// 404 unknown agent/task/route, 409 task_id in use, 413 body too large,
// 414 target too long, 429 tasks_in_flight_max reached (Retry-After), 431
// headers too large, 501 a transfer coding other than chunked, 503
// draining, stopping or connections_max open (Retry-After); headers or a
// body that miss their deadline close the connection;
// a failed sync task gets http_status_of(error) (task_json.hpp).
// `agent` names one agent; agent groups (routing) are a later issue.
//
// Tasks run through the Runtime's agents without blocking a CAF scheduler
// thread: each task has a small event-based runner actor that asks the
// agent to execute_stream and is itself the stream sink, forwarding chunks
// into the task's bounded event buffer. Nothing waits on a thread: the HTTP
// server (net/http_server) is event driven, a sync caller's answer is a
// callback on the task's end (with a deadline), an event stream is a
// subscription that queues into its connection's bounded buffer, and the
// probes of /ready, /v1/agents and /v1/memory are small actors. Only a
// workflow resume, which reads its checkpoint, runs on a thread of its own
// (a detached actor, at most gateway_resumes_max at once).
//
// Thread-safe: every public method may be called from any non-actor thread.
// The Runtime must outlive the gateway.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include <caf/actor.hpp>

#include "actors/host/node_config.hpp"

namespace agentgraph {

class Runtime;

struct gateway_config {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: the OS picks (see gateway::port())
  std::string auth_token;  // empty: no auth; never logged
  uint32_t http_threads = 2;  // the HTTP server's event-loop threads
  uint32_t connections_max = 10'000;
  uint32_t tasks_in_flight_max = 256;
  uint32_t tasks_kept = 1024;  // finished tasks kept for GET
  uint32_t task_events_max = 1024;  // stream events buffered per task
  uint32_t header_bytes_max = 16 * 1024;
  uint64_t body_bytes_max = 1 << 20;
  uint64_t bodies_bytes_max = 256ull << 20;  // all bodies being read at once
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds keep_alive_timeout{5'000};
  std::chrono::milliseconds send_timeout{30'000};
  uint64_t stream_buffer_bytes = 1 << 20;  // per event-stream subscriber
  std::chrono::milliseconds health_ping_timeout{1000};
  // A cluster node's gateway: new tasks and runs get 503 from the start
  // until set_cluster's node has joined, so none is taken before the task
  // journal is set (set_journal comes first) and the node is in the cluster.
  bool cluster_member = false;
};

// The gateway settings of a [node] section. The token is read from the
// environment variable auth_token_env names. Errors: invalid_argument when
// that variable is missing or empty (naming the variable, never the value).
[[nodiscard]] caf::expected<gateway_config> gateway_config_from(
  const node_settings& node, const std::map<std::string, std::string>& env);

class gateway {
 public:
  // Binds and serves. Starts not ready (see set_ready). Errors: io_error
  // (cannot bind), invalid_argument (bad config).
  [[nodiscard]] static caf::expected<std::unique_ptr<gateway>> start(Runtime& rt,
                                                                     gateway_config cfg);
  // The same gateway without its HTTP server: no socket is opened and no
  // thread started, so it runs under virtual time (`agentgraph sim` builds
  // one per simulated node). Tasks enter through submit_task; set_cluster,
  // set_journal, resume_journaled, adopt_orphans, the drain and stop are
  // those of start's gateway. Errors: invalid_argument (bad config).
  [[nodiscard]] static caf::expected<std::unique_ptr<gateway>> start_core(Runtime& rt,
                                                                          gateway_config cfg);
  ~gateway();
  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  [[nodiscard]] uint16_t port() const;
  // /ready answers 200 only when ready, not draining and every provider and
  // memory shard answers within health_ping_timeout.
  void set_ready(bool ready);
  // The node's cluster actor (a cluster::node_actor, net/cluster/; untyped
  // here so the public header stays free of the cluster's types), for
  // /v1/cluster and /ready; unset: not in a cluster.
  void set_cluster(caf::actor node);
  // The node's task journal (a journal_actor, runtime/journal/; untyped
  // here like set_cluster's node) with this node's member name and uid:
  // from now on a task is stored before it is acknowledged (202, or run
  // for a sync caller), its answer is stored once (first writer wins) and
  // answered from the store, a finished id submitted again gets its stored
  // answer, and GET /v1/tasks/<id> finds finished tasks the table forgot.
  void set_journal(caf::actor journal, std::string owner, uint64_t epoch);
  // Runs again every open task this node's journal holds under `owner`
  // (any earlier uid): the tasks of a run that died. First waits, at most
  // `wait_for_remote`, until every component placed on another node is
  // offered, so such a task is not failed before the cluster's directory
  // reached this node. Blocking: setup code, after set_journal. Returns
  // how many; errors: the journal's.
  caf::expected<size_t> resume_journaled(std::chrono::milliseconds wait_for_remote);
  // For a journal the cluster shares (PostgreSQL; after set_journal): from
  // now until the drain, whenever `node` (a cluster::node_actor) sees this
  // node as the leader and a member down or removed, that member's open
  // tasks move to this node in one journal statement (adopt, fenced by the
  // dead incarnation's uid) and run here; again every `sweep`, so a new
  // leader adopts what an old one did not. When this node rejoins as a new
  // incarnation, its own tasks move to the new uid. Errors:
  // invalid_argument (no journal, no node, sweep <= 0).
  caf::error adopt_orphans(caf::actor node, std::chrono::milliseconds sweep);
  // What POST /v1/tasks answers: its HTTP status and JSON body.
  using task_answer = std::function<void(int http_status, const std::string& body)>;
  // POST /v1/tasks without HTTP: `body` is the request body and `agent` the
  // path's agent ("" to take the body's), handled by the code the route
  // calls (the membership gate, the task table, the runner, the journal).
  // `answer` runs once: at once on this thread, or on the thread that ends
  // the task (a runner's: it must only record or queue, never block). A
  // sync task's caller bounds its own wait: without HTTP there is no
  // responder deadline.
  void submit_task(const std::string& body, const std::string& agent, task_answer answer);
  // `fn(task_id)` each time a runner's agent call ends with a result on
  // this node: a journaled task adopted while its first run went on may
  // run twice and is still answered once, and the simulator checks exactly
  // that by counting runs per id. Set before the first task; called on the
  // runner's thread (it must not block).
  void on_task_executed(std::function<void(const std::string& task_id)> fn);
  // Not ready from now on; POST /v1/tasks gets 503 with Retry-After. Tasks
  // already accepted keep running and can still be read and streamed.
  void begin_drain();
  [[nodiscard]] size_t tasks_in_flight() const;
  // True when every accepted task finished before `deadline` passed.
  bool wait_idle(std::chrono::milliseconds deadline);
  // Every unfinished task ends `cancelled` with `reason`: its sync caller
  // gets 409 {"error":{"code":"cancelled"}}, its subscribers a `failed`
  // event. With a journal it ends 503 `unavailable` instead: the task
  // stays open in the journal and is answered later (a restart, or the
  // leader that adopts it), so its caller asks again. Returns how many were cancelled. The agent's own work is not
  // interrupted (agents have no cancel message yet); its late result is
  // dropped.
  size_t cancel_in_flight(const std::string& reason);
  // Stops the HTTP server: requests it has read get their answer (a task
  // that ended, a cancelled task's 409) or 503 with Retry-After, event
  // streams end after their buffered events, nothing is reset. Idempotent.
  void stop();

  struct impl;

 private:
  explicit gateway(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace agentgraph
