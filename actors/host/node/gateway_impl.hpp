// Private to the gateway: its state, shared by gateway.cpp (lifecycle and
// tasks), gateway_routes.cpp (the read-only routes) and gateway_runner.cpp
// (the per-task runner actor).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/agent/agent_interface.hpp"
#include "actors/host/node/gateway.hpp"
#include "actors/host/node/task_table.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_client.hpp"
#include "net/cluster/cluster_interface.hpp"
#include "net/http_server/http_server.hpp"
#include "actors/host/node/task_journal_codec.hpp"
#include "runtime/journal/journal_actor.hpp"
#include "runtime/metrics/registry.hpp"

namespace agentgraph {

// Log component of every gateway line.
constexpr const char* gateway_log_component = "node/gateway";

// Seconds a client is told to wait (Retry-After) when the gateway is full
// and when it is draining (by then another node should take the task).
constexpr int gateway_retry_after_full_s = 1;
constexpr int gateway_retry_after_draining_s = 5;
// Extra time a sync caller waits beyond the runner's own deadline, so the
// runner's named timeout error arrives before the caller gives up.
constexpr auto gateway_caller_grace = std::chrono::seconds{2};
// A runner waits for the agent this much longer than the agent's task
// deadline, so the agent's supervisor answers with its own timeout first.
constexpr auto gateway_runner_grace = std::chrono::seconds{1};
// Workflow resumes reading their checkpoint at once; one more gets 429.
constexpr uint32_t gateway_resumes_max = 16;
// Broadcasts (POST /v1/agents/<type>/broadcast) running at once; one more
// gets 429. Each holds up to its `concurrency` tasks in flight, so this
// bounds what HTTP callers can put on the providers this way.
constexpr uint32_t gateway_broadcasts_max = 4;
// How long a broadcast's caller waits for its result; past it the caller
// gets 504 and the broadcast runs on to its end (runtime_client::broadcast).
constexpr auto gateway_broadcast_deadline = std::chrono::milliseconds{std::chrono::minutes{10}};

// The task journal of a cluster node's gateway (gateway::set_journal).
struct task_journaling {
  journal_actor journal;
  std::string owner;   // this node's member name: the journal's owner
  uint64_t epoch = 0;  // this incarnation's uid (fencing)
  // How long a runner waits for one journal call (the actor's own
  // call_timeout answers first).
  std::chrono::milliseconds call_timeout{35'000};
};

// What the runners share with the gateway. Held by shared_ptr so a runner
// finishing after the gateway is gone still has a valid table.
struct task_book {
  task_book(size_t in_flight_max, size_t kept_max, size_t events_max)
    : table(in_flight_max, kept_max, events_max) {}
  task_table table;  // provides its own synchronization
  std::mutex mutex;
  std::unordered_map<std::string, caf::actor> runners;  // guarded by mutex; running tasks only
  metrics::gauge* in_flight_gauge = nullptr;            // set once before any task
  // gateway::on_task_executed's observer; set once before any task, may be empty.
  std::function<void(const std::string& task_id)> executed;
  // False once the gateway drains or stops: a run admitted later (a
  // resume that was reading its checkpoint) is refused with 503.
  std::atomic<bool> accepting{true};

  // Null until a cluster node sets its journal; tasks admitted before are
  // not journaled (the node is not ready until it joined, anyway).
  [[nodiscard]] std::shared_ptr<const task_journaling> journaling() const {
    std::lock_guard lock{journal_mutex};
    return journal;
  }
  void set_journaling(std::shared_ptr<const task_journaling> j) {
    std::lock_guard lock{journal_mutex};
    journal = std::move(j);
  }

 private:
  mutable std::mutex journal_mutex;
  std::shared_ptr<const task_journaling> journal;
};



// Ends `entry` (first call only: true) and moves it to the table's
// finished tasks before its waiters and subscribers hear of the end.
bool end_task(task_book& book, const std::shared_ptr<task_entry>& entry, task_status status,
              Value body, int http_status);

// Ends `entry` with the runner's outcome (once) and forgets its runner.
void finish_task(task_book& book, const std::shared_ptr<task_entry>& entry,
                 caf::expected<task_result> outcome);

// What a runner's outcome makes of its entry: status, body, HTTP status.
struct task_end {
  task_status status;
  Value body;
  int http_status;
};
[[nodiscard]] task_end end_of(const std::shared_ptr<task_entry>& entry,
                              caf::expected<task_result> outcome);

// Called once by a journaled runner when the journal answered its accept:
// `stored` is null when the task runs (fresh, or open: a restart's
// replay), else the answer stored for this id (status, body), or the
// journal's error as one.
using journal_ack = std::function<void(const std::pair<int, Value>* stored)>;

// Spawns the runner of one task: it asks `agent` to execute_stream with
// itself as the sink, forwards chunks to the entry's event buffer, then
// calls finish_task. With the book's journal it first stores the task
// (accept; `ack` hears the outcome) and stores the answer before it ends
// the entry with the stored one (first writer wins). Never blocks a
// scheduler thread.
// What run_journaled made of one journal record.
enum class journaled_run : uint8_t { started, in_use, full, not_offered };
// What run_journaled does with a record whose agent this node does not
// have: end it failed (a restart's resume, after waiting for the cluster)
// or leave it open (adoption: the agent's node may come back; retried).
enum class journaled_unknown : uint8_t { fail, keep_open };

// New tasks of this node are journaled under incarnation `uid` from now on
// (a no-op without a journal or when it is the current one).
void follow_incarnation(task_book& book, uint64_t uid);

// Runs one open journal record (a dead run's, or one adopted from a dead
// member) as a task of this gateway: admitted to the table (not when its id
// is in use there, or the table is full), then a runner, which accepts it
// again (the stored record: it runs) and stores its answer. A record whose
// payload does not decode or whose agent is unknown ends failed, in the
// journal too. Never blocks: callable from an actor.
journaled_run run_journaled(Runtime& rt, const std::shared_ptr<task_book>& book,
                            const journal_record& r,
                            journaled_unknown unknown = journaled_unknown::fail);

// Spawns the actor that adopts dead members' open tasks from a journal the
// cluster shares (journal_adopter.cpp; gateway::adopt_orphans says when).
caf::actor spawn_journal_adopter(Runtime& rt, std::shared_ptr<task_book> book,
                                 cluster::node_actor node, std::chrono::milliseconds sweep);

caf::actor spawn_task_runner(caf::actor_system& sys, std::shared_ptr<task_book> book,
                             std::shared_ptr<task_entry> entry, agent_actor agent,
                             task_request task, std::chrono::milliseconds deadline,
                             journal_ack ack = {});

// The runner of one workflow run: spawned first (it is the run's event
// sink), then sent the run's handle; it sends the run run_workflow_atom,
// turns its events into the entry's SSE events (named after the event
// kind) and its result into the entry's end (completed and interrupted
// runs are answers; failed runs end `failed`).
caf::actor spawn_workflow_runner(caf::actor_system& sys, std::shared_ptr<task_book> book,
                                 std::shared_ptr<task_entry> entry,
                                 std::chrono::milliseconds deadline);

// Answers one request of a route and counts the answer in
// agentgraph_gateway_responses_total{route,status}. Cheap to copy; may be
// called from any thread (a runner's callback, a probe actor).
struct route_reply {
  metrics::counter_family* responses;  // the runtime's registry; may be null
  const char* route;
  // An HTTP request's responder; none for a caller without HTTP
  // (gateway::submit_task), who gets the answer through `direct`.
  std::optional<net::responder> responder;
  std::function<void(net::server_response)> direct = {};
  void operator()(net::server_response r) const;
};

// A sync caller's answer: the task's final body when it ends, or 504 after
// `deadline` (the runner's own deadline ends it first; this is the net).
void answer_when_finished(const std::shared_ptr<task_entry>& entry,
                          std::chrono::milliseconds deadline, const route_reply& reply);

// Admits and starts a workflow run from `start` and answers (sync: when it
// ends; background: 202 at once). Never blocks; called on an event-loop
// thread, or on a resume's own thread after it read its checkpoint, so it
// touches only what outlives the gateway (the runtime and the book).
struct workflow_launch {
  Runtime& rt;
  std::shared_ptr<task_book> book;
  size_t tasks_in_flight_max;
  std::string name;
  std::shared_ptr<const workflow_graph> graph;
  std::string id;
  bool sync;
  route_reply reply;

  void operator()(workflow_start start) const;
};

// /ready's second half: every provider and memory shard answers within
// `timeout`; calls `answer` once.
void ready_components(Runtime& rt, std::chrono::milliseconds timeout,
                      const std::function<void(bool, const std::string&)>& answer);

namespace gateway_detail {
// `status` with {"error": {"code","message"}} of `err`.
[[nodiscard]] net::server_response task_error(int status, const caf::error& err);
// `r` with a Retry-After of `seconds`.
[[nodiscard]] net::server_response with_retry_after(net::server_response r, int seconds);
}  // namespace gateway_detail

struct gateway::impl {
  impl(Runtime& runtime, gateway_config c);

  Runtime& rt;
  const gateway_config cfg;
  const std::shared_ptr<task_book> book;
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
  std::atomic<bool> stopping{false};
  std::mutex stop_mutex;  // stop() callers return only once it is done
  std::atomic<uint64_t> task_counter{0};
  // Resumes read their checkpoint on a thread of their own; at most
  // gateway_resumes_max at once.
  std::shared_ptr<std::atomic<uint32_t>> resumes_in_flight =
    std::make_shared<std::atomic<uint32_t>>(0);
  // Broadcasts waiting for their result; at most gateway_broadcasts_max.
  std::shared_ptr<std::atomic<uint32_t>> broadcasts_in_flight =
    std::make_shared<std::atomic<uint32_t>>(0);
  const std::string id_prefix;  // random per gateway, so ids differ across restarts
  metrics::counter_family* responses = nullptr;  // set by the constructor, const after
  // Last, so it stops (closing every connection) before the members above
  // are destroyed.
  net::http_server server;  // provides its own synchronization

  void add_routes();
  // POST /v1/tasks, or /v1/agents/{agent}/tasks with the agent from the
  // path (`path_agent`, "" for /v1/tasks).
  void post_task(const net::server_request& req, const route_reply& reply,
                 const std::string& path_agent);
  // POST /v1/workflows/{name}/runs and .../runs/{thread}/resume.
  void post_workflow(const net::server_request& req, const route_reply& reply, bool resume);
  void get_task(const net::server_request& req, const route_reply& reply);
  void task_events(const net::server_request& req, const route_reply& reply);
  void readiness(const route_reply& reply);
  void agents(const route_reply& reply);
  void memory(const route_reply& reply);
  void cluster(const route_reply& reply);
  void cluster_directory(const route_reply& reply);
  // GET /v1/populations: each of this node's populations' figures.
  void populations(const route_reply& reply);
  // PUT /v1/agents/<type>/<key>/vars (gateway_population.cpp).
  void put_key_vars(const net::server_request& req, const route_reply& reply);
  // POST /v1/agents/<type>/broadcast (gateway_population.cpp).
  void post_broadcast(const net::server_request& req, const route_reply& reply);
  // The 503 of a write while draining or outside the cluster ("submit the
  // task"), or nothing when the node takes it.
  [[nodiscard]] std::optional<net::server_response> refuse_write(const std::string& what) const;
  // POST /v1/topics/<topic> {"message": any}: 202 with the publish receipt.
  void publish_topic(const net::server_request& req, const route_reply& reply);
  // The node actor, or a 404 answered and an invalid handle.
  cluster::node_actor cluster_or_404(const route_reply& reply);

  std::mutex cluster_mutex;
  cluster::node_actor cluster_node;  // guarded by cluster_mutex
  caf::actor adopter;                // guarded by cluster_mutex; stopped by drain and stop
  void stop_adopter();
  // False while a cluster node is set and not in the cluster (joining, or
  // downed itself on the minority side): new tasks and runs get 503, so a
  // minority never takes cluster work. Kept by membership_watch
  // (gateway_membership.cpp) from the node's events.
  // Shared: the watcher may run once more after the gateway is gone.
  const std::shared_ptr<std::atomic<bool>> in_cluster = std::make_shared<std::atomic<bool>>(true);
  caf::actor membership_watch;  // guarded by cluster_mutex; stopped by stop
  // The 503 a POST gets while in_cluster is false ("submit the task").
  [[nodiscard]] net::server_response outside_cluster(const std::string& what) const;
};

}  // namespace agentgraph
