#include "actors/population/key_address.hpp"

#include <algorithm>
#include <set>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "actors/population/population_config.hpp"
#include "runtime/actor_timer.hpp"
#include "runtime/assert.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph {

namespace {

// How long a task waits before it goes again to the node whose stale
// instance just answered `conflict`, when that node is still the owner
// this node's placement names: either it is the owner again (it claims the
// key back from the store) or the nodes' placements disagree for a moment
// (a membership change not seen everywhere yet), and claiming the key back
// at once would fence the other node's instance and its running tasks in
// turn, which would send them back here: a ping-pong of LLM turns seen in
// chaos runs of configs/sim/keys.ini. The wait lets the placement catch up.
constexpr auto key_address_fence_backoff = std::chrono::milliseconds{500};

// One task on its way to the key's owner.
struct key_call {
  task_request task;
  stream_sink_actor sink;  // null for execute_atom
  caf::typed_response_promise<task_result> promise;
  caf::actor_clock::time_point deadline;  // for waiting on the next owner only
  caf::actor_addr at;                     // the owner it was sent to last
  uint32_t attempt = 0;                   // replies to an earlier attempt are dropped
  std::vector<caf::actor_addr> gone;      // owners that went down with it, <= moves_max
  uint32_t fenced = 0;                    // owners that answered `conflict`, <= fenced_max
};

struct address_state {
  static inline const char* name = "population_key";
  // Not the first member: CAF builds a state from the self pointer when it can.
  std::string key;
  std::string type;
  std::shared_ptr<const population_nodes> nodes;
  std::chrono::milliseconds task_deadline{0};
  // Tasks not answered yet (sent, or waiting for the next owner), and the
  // owners monitored for them. No CAF timer per call: the clock would hold
  // the address alive until the timer fired, long after its caller let go.
  std::vector<std::shared_ptr<key_call>> calls;
  std::set<caf::actor_addr> monitored;
  bool hears_node_downs = false;

  // The owner's population actor now, or why there is none.
  caf::expected<population_actor> owner() const {
    auto o = nodes->owner_of(type, key);
    if (!o)
      return make_error(errc::unavailable, "no node runs population '" + type + "' now");
    if (auto h = o->handle.get())
      return h;
    return make_error(errc::unavailable, "population '" + type + "' on node '" + o->node
                                           + "', owner of key '" + key + "', is down");
  }
};

using address_actor = agent_actor::stateful_pointer<address_state>;

void answer(address_actor self, const std::shared_ptr<key_call>& c,
            caf::expected<task_result> outcome) {
  auto& calls = self->state.calls;
  auto it = std::find(calls.begin(), calls.end(), c);
  AG_ASSERT(it != calls.end());
  calls.erase(it);
  ++c->attempt;  // a late reply to the last attempt finds nothing to answer
  if (outcome)
    c->promise.deliver(std::move(*outcome));
  else
    c->promise.deliver(std::move(outcome.error()));
}

void send_to_owner(address_actor self, std::shared_ptr<key_call> c);

// The owner of `c` went down with it (its actor or its node): the task goes
// to the key's next owner, bounded by key_address_moves_max. Only an owner
// on another node is replaced: a local one that dies may have died of the
// task (its supervisor restarts it), and would die of it again, as a
// group's local member (agent_group.cpp).
void owner_gone(address_actor self, const std::shared_ptr<key_call>& c) {
  auto& st = self->state;
  if (c->at.node() == self->node() || c->gone.size() >= key_address_moves_max)
    return answer(self, c, make_error(errc::unavailable, "key '" + st.type + "/" + st.key
                                                           + "': its owner is down"));
  ++c->attempt;
  c->gone.push_back(c->at);
  log(log_severity::warn, "population", "task sent to the key's next owner: its node went down",
      {{"key", st.type + "/" + st.key}, {"task_id", c->task.task_id}});
  send_to_owner(self, c);
}

// The owner answered `conflict`: it ran the task (or held it) on a stale
// instance of the key, whose save the store fenced because another node
// claimed the key; the turn is not in the key's state. The task goes to the
// key's owner now (the same node claims the key back from the store when
// it still is the owner, after key_address_fence_backoff), bounded by
// key_address_fenced_max and the deadline: a key two nodes keep taking from each other ends with a clear
// error. The LLM turn may run again; its effect reaches the store once.
void owner_fenced(address_actor self, const std::shared_ptr<key_call>& c, caf::error err) {
  auto& st = self->state;
  const auto name = "key '" + st.type + "/" + st.key + "'";
  if (c->fenced >= key_address_fenced_max)
    return answer(self, c, make_error(errc::conflict, name + ": fenced "
                                                        + std::to_string(c->fenced + 1)
                                                        + " times (its nodes keep claiming it "
                                                          "from each other): "
                                                        + describe(err)));
  auto next = st.owner();
  const bool same = next && next->address() == c->at;
  const auto when = self->clock().now() + (same ? key_address_fence_backoff : caf::timespan{0});
  if (when >= c->deadline)
    return answer(self, c, make_error(errc::timeout, name + ": fenced, and the task's deadline "
                                                            "leaves no time to run it again: "
                                                            + describe(err)));
  ++c->attempt;
  ++c->fenced;
  log(log_severity::warn, "population", "task sent to the key's owner again: its save was fenced",
      {{"key", st.type + "/" + st.key}, {"task_id", c->task.task_id},
       {"fenced", std::to_string(c->fenced)}});
  if (!same)
    return send_to_owner(self, c);
  c->at = caf::actor_addr{};  // no owner's down moves it while it waits
  run_at(self, when, [self, c, attempt = c->attempt] {
    if (c->attempt == attempt)
      send_to_owner(self, c);
  });
}

// Every call to an owner matching `gone` moves on.
template <class Pred>
void owners_gone(address_actor self, Pred gone) {
  std::vector<std::shared_ptr<key_call>> hit;
  for (const auto& c : self->state.calls)
    if (c->at && gone(c->at))
      hit.push_back(c);
  for (const auto& c : hit)
    owner_gone(self, c);
}

// Sends `c` to the key's owner now; when that is an owner the task already
// went down with, the directory has not dropped its node yet: asks again
// shortly, until the deadline.
void send_to_owner(address_actor self, std::shared_ptr<key_call> c) {
  auto& st = self->state;
  auto pop = st.owner();
  if (!pop)
    return answer(self, c, std::move(pop.error()));
  if (std::find(c->gone.begin(), c->gone.end(), pop->address()) != c->gone.end()) {
    c->at = caf::actor_addr{};
    if (self->clock().now() + key_address_owner_poll >= c->deadline)
      return answer(self, c,
                    make_error(errc::unavailable, "key '" + st.type + "/" + st.key
                                                    + "': its owner went down and no other "
                                                      "node took it before the deadline"));
    run_at(self, self->clock().now() + key_address_owner_poll,
           [self, c] { send_to_owner(self, c); });
    return;
  }
  c->at = pop->address();
  if (st.monitored.insert(c->at).second)
    self->monitor(*pop);
  if (!st.hears_node_downs && pop->node() != self->node()) {
    // A node the cluster downs while its connection is up keeps its
    // proxies: its calls fail through the node_down group (call_watch.hpp).
    st.hears_node_downs = true;
    auto grp = self->system().groups().get_local(node_down_group);
    if (grp->subscribe(caf::actor_cast<caf::strong_actor_ptr>(self))) {
      auto* me = self->ctrl();
      self->attach_functor([grp, me] { grp->unsubscribe(me); });
    }
  }
  auto on_result = [self, c, attempt = c->attempt](task_result& r) {
    if (c->attempt == attempt)
      answer(self, c, std::move(r));
  };
  auto on_error = [self, c, attempt = c->attempt](caf::error& err) {
    if (c->attempt != attempt)
      return;
    if (err == caf::sec::request_receiver_down)
      return owner_gone(self, c);
    if (err == errc::conflict)
      return owner_fenced(self, c, std::move(err));
    auto& st = self->state;
    answer(self, c, from_request_error(std::move(err), "key '" + st.type + "/" + st.key + "'",
                                       st.task_deadline));
  };
  if (c->sink)
    self->request(*pop, caf::infinite, pop_execute_stream_atom::value, st.key, c->task, c->sink)
      .then(std::move(on_result), std::move(on_error));
  else
    self->request(*pop, caf::infinite, pop_execute_atom::value, st.key, c->task)
      .then(std::move(on_result), std::move(on_error));
}

caf::result<task_result> start(address_actor self, task_request& task, stream_sink_actor sink) {
  auto& st = self->state;
  if (st.calls.size() >= key_address_tasks_max)
    return make_error(errc::overloaded, "key '" + st.type + "/" + st.key + "' has "
                                          + std::to_string(key_address_tasks_max)
                                          + " tasks in flight through one address");
  auto c = std::make_shared<key_call>();
  c->task = std::move(task);
  c->sink = std::move(sink);
  c->promise = self->make_response_promise<task_result>();
  c->deadline = self->clock().now() + st.task_deadline;
  st.calls.push_back(c);
  send_to_owner(self, c);
  return c->promise;
}

agent_actor::behavior_type key_address(address_actor self,
                                       std::shared_ptr<const population_nodes> nodes,
                                       std::string type, std::string key,
                                       std::chrono::milliseconds task_deadline) {
  self->state.key = std::move(key);
  self->state.type = std::move(type);
  self->state.nodes = std::move(nodes);
  self->state.task_deadline = task_deadline;
  self->set_down_handler([self](caf::down_msg& dm) {
    self->state.monitored.erase(dm.source);
    owners_gone(self, [&dm](const caf::actor_addr& a) { return a == dm.source; });
  });
  self->set_default_handler([self](caf::scheduled_actor* ptr,
                                   caf::message_view& x) -> caf::result<caf::message> {
    if (const auto* node = watch_node_down(x.content())) {
      owners_gone(self, [node](const caf::actor_addr& a) { return a.node() == *node; });
      return caf::message{};
    }
    return caf::print_and_drop(ptr, x);
  });
  return {
    [self](execute_atom, task_request& task) { return start(self, task, {}); },
    [self](execute_stream_atom, task_request& task,
           stream_sink_actor& sink) -> caf::result<task_result> {
      if (!sink)
        return make_error(errc::invalid_argument, "execute_stream needs a valid stream sink");
      return start(self, task, sink);
    },
    [self](stats_atom) -> caf::result<agent_stats> {
      auto pop = self->state.owner();
      if (!pop)
        return std::move(pop.error());
      return self->delegate(*pop, pop_key_stats_atom::value, self->state.key);
    },
    [](ping_atom) { return pong_atom::value; },
  };
}

}  // namespace

agent_actor spawn_key_address(caf::actor_system& sys,
                              std::shared_ptr<const population_nodes> nodes, std::string type,
                              std::string key, std::chrono::milliseconds task_deadline) {
  AG_ASSERT(nodes && population_key_problem(key).empty() && task_deadline.count() > 0);
  return sys.spawn(key_address, std::move(nodes), std::move(type), std::move(key),
                   task_deadline);
}

}  // namespace agentgraph
