#include "actors/agent/agent_group.hpp"
#include "actors/agent/group_instances.hpp"

#include <map>
#include <set>

#include "runtime/assert.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph {

const char* to_string(group_strategy s) {
  switch (s) {
    case group_strategy::round_robin: return "round_robin";
    case group_strategy::least_loaded: return "least_loaded";
    case group_strategy::consistent_hash: return "consistent_hash";
  }
  return "least_loaded";
}

namespace {

// FNV-1a over the key, a zero byte and the instance, then a 64-bit mixer
// (splitmix64's finaliser) so close names spread.
uint64_t rendezvous_score(const std::string& key, const std::string& instance) {
  uint64_t h = 1469598103934665603ull;
  auto eat = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (unsigned char c : key)
    eat(c);
  eat(0);
  for (unsigned char c : instance)
    eat(c);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

}  // namespace

int rendezvous_pick(const std::string& key, const std::vector<std::string>& keys,
                    const std::vector<bool>& tried) {
  AG_ASSERT(keys.size() == tried.size());
  int best = -1;
  uint64_t best_score = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (tried[i])
      continue;
    const auto score = rendezvous_score(key, keys[i]);
    if (best < 0 || score > best_score || (score == best_score && keys[i] < keys[best])) {
      best = static_cast<int>(i);
      best_score = score;
    }
  }
  return best;
}

struct agent_group_state {
  static inline const char* name = "agent_group";
  group_config cfg;
  call_watch watch{agent_group_tasks_max};  // tasks on members: deadline and monitor
  std::vector<group_member> members;
  std::shared_ptr<const group_instances> instances;  // null: not in a cluster
  // This router's tasks in flight per instance ("member@node"); an entry
  // leaves at 0, so the map holds at most agent_group_tasks_max keys.
  std::map<std::string, uint64_t> instance_in_flight;
  size_t next = 0;  // round_robin cursor
  uint64_t in_flight = 0;
  uint64_t completed = 0;
  uint64_t errors = 0;
  uint64_t redispatched = 0;  // tasks moved off an instance whose node went away
  int64_t response_time_total_us = 0;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};


namespace agent_group_detail {

using self_ptr = agent_actor::stateful_pointer<agent_group_state>;

// One place a task can go: an instance of a member.
struct candidate {
  std::string key;      // "member@node", or the member's name alone
  size_t member = 0;    // index into members
  dep<agent_actor> handle;
  bool local = true;
  uint32_t node_load = 0;
};

// Every instance of every member, in member order: the cluster's instances
// of a member when the table has any, else the member's own ref.
std::vector<candidate> candidates_of(const agent_group_state& st) {
  std::vector<candidate> out;
  for (size_t i = 0; i < st.members.size(); ++i) {
    const auto& m = st.members[i];
    auto xs = st.instances ? st.instances->of(m.name) : std::vector<agent_instance>{};
    if (xs.empty()) {
      out.push_back({m.name, i, m.handle, true, 0});
      continue;
    }
    for (auto& x : xs)
      if (!x.local || x.handle.get())  // a local instance down right now takes no task
        out.push_back({m.name + "@" + x.node, i, std::move(x.handle), x.local, x.node_load});
  }
  return out;
}

uint64_t in_flight_of(const agent_group_state& st, const std::string& key) {
  auto it = st.instance_in_flight.find(key);
  return it == st.instance_in_flight.end() ? 0 : it->second;
}

// The task's routing key for consistent_hash: context "session" when it is
// a string, else the task id.
std::string session_key(const task_request& task) {
  if (task.context.is_object()) {
    const auto* s = task.context.find("session");
    if (s != nullptr && s->is_string())
      return s->as_string();
  }
  return task.task_id;
}

// The candidate to try next among those not tried yet for this task; -1 if
// every one was tried.
int pick(const agent_group_state& st, const std::vector<candidate>& cs,
         const std::vector<bool>& tried, const task_request& task) {
  const size_t n = cs.size();
  AG_ASSERT(tried.size() == n);
  switch (st.cfg.strategy) {
    case group_strategy::round_robin:
      for (size_t k = 0; k < n; ++k) {
        size_t i = (st.next + k) % n;
        if (!tried[i])
          return static_cast<int>(i);
      }
      return -1;
    case group_strategy::consistent_hash: {
      std::vector<std::string> keys;
      keys.reserve(n);
      for (const auto& c : cs)
        keys.push_back(c.key);
      return rendezvous_pick(session_key(task), keys, tried);
    }
    case group_strategy::least_loaded:
      break;
  }
  int best = -1;
  uint64_t best_load = 0;
  for (size_t i = 0; i < n; ++i) {
    if (tried[i])
      continue;
    const auto load = in_flight_of(st, cs[i].key) + cs[i].node_load;
    const bool better = best < 0 || load < best_load
                        || (load == best_load && cs[i].local && !cs[best].local);
    if (better) {
      best = static_cast<int>(i);
      best_load = load;
    }
  }
  return best;
}

struct dispatch {
  task_request task;
  stream_sink_actor sink;
  caf::typed_response_promise<task_result> promise;
  std::set<std::string> tried;  // instance keys, each at most once per task
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // One deadline for the task, whatever it is re-dispatched to: the
  // caller waits task_timeout plus a grace (runtime_builder add_group).
  caf::actor_clock::time_point deadline{};
  caf::error last_error;  // of an instance that went away, for when none is left
};

void send_to_member(self_ptr self, std::shared_ptr<dispatch> d) {
  auto& st = self->state;
  // Every dispatch holds one unit of in_flight from start() until it is
  // answered, so the counter cannot be 0 here (it is unsigned: a second
  // decrement would wrap, not go negative).
  AG_ASSERT(st.in_flight > 0 && st.in_flight <= agent_group_tasks_max);
  auto cs = candidates_of(st);
  std::vector<bool> tried(cs.size(), false);
  for (size_t k = 0; k < cs.size(); ++k)
    tried[k] = d->tried.contains(cs[k].key);
  int pos = pick(st, cs, tried, d->task);
  if (pos < 0 || self->clock().now() >= d->deadline) {
    --st.in_flight;
    ++st.errors;
    if (pos >= 0)
      d->promise.deliver(make_error(errc::timeout, "agent group '" + st.cfg.name
                                                     + "': the task's deadline passed"));
    else if (d->last_error)
      d->promise.deliver(make_error(errc::unavailable,
                                    "agent group '" + st.cfg.name
                                      + "': no live instance left; last: " + describe(d->last_error)));
    else
      d->promise.deliver(make_error(errc::overloaded, "agent group '" + st.cfg.name
                                                        + "': every member is overloaded"));
    return;
  }
  AG_ASSERT(static_cast<size_t>(pos) < cs.size() && !tried[pos]);
  auto c = std::move(cs[pos]);
  // Each pick is an instance this task has not tried (asserted above), so
  // re-dispatches end once every live instance was tried or the deadline
  // passed. `tried` may hold more keys than there are candidates now:
  // instances tried earlier can have left since (their node died), which a
  // simulated kill -9 under load showed (this asserted the opposite).
  d->tried.insert(c.key);
  const size_t i = c.member;
  auto& m = st.members[i];
  ++m.in_flight;
  AG_ASSERT(m.in_flight <= st.in_flight);
  ++m.sent;
  ++st.instance_in_flight[c.key];
  AG_ASSERT(st.instance_in_flight.size() <= agent_group_tasks_max);
  st.next = (static_cast<size_t>(pos) + 1) % cs.size();
  auto done = [self, i, key = c.key] {
    auto& st = self->state;
    AG_ASSERT(st.members[i].in_flight > 0);
    --st.members[i].in_flight;
    auto it = st.instance_in_flight.find(key);
    AG_ASSERT(it != st.instance_in_flight.end() && it->second > 0);
    if (--it->second == 0)
      st.instance_in_flight.erase(it);
  };
  auto on_result = [self, d, done](task_result& r) {
    done();
    auto& st = self->state;
    --st.in_flight;
    ++st.completed;
    st.response_time_total_us += std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now() - d->started)
                                   .count();
    d->promise.deliver(std::move(r));
  };
  // On another node, the cluster's message_timeout bounds the call when
  // the task's deadline is further away (design §8.5); a timeout then names
  // that bound, not the task's.
  auto deadline = d->deadline;
  std::chrono::milliseconds remote_bound{0};
  if (!c.local && st.instances)
    if (const auto bound = st.instances->remote_timeout(); bound.count() > 0)
      if (self->clock().now() + bound < deadline) {
        deadline = self->clock().now() + bound;
        remote_bound = std::chrono::duration_cast<std::chrono::milliseconds>(bound);
      }
  auto on_error = [self, d, done, remote = !c.local, remote_bound](caf::error& err) {
    done();
    if (errc_of(err) == errc::overloaded)
      return send_to_member(self, d);  // bounded: each instance once
    // An instance on another node that went away (its node died or was
    // downed: CAF killed the proxy, or call_watch failed the node) gets
    // the task re-dispatched to another live instance. The task may have
    // run there; the task journal keeps one answer per id. A local member
    // that dies fails the task, as on a single node.
    if (remote && err == caf::sec::request_receiver_down) {
      ++self->state.redispatched;
      d->last_error = err;
      log(log_severity::warn, "agent_group", "task re-dispatched: its instance went away",
          {{"group", self->state.cfg.name}, {"task_id", d->task.task_id}, {"error", describe(err)}});
      return send_to_member(self, d);  // bounded: each instance once
    }
    auto& st = self->state;
    --st.in_flight;
    ++st.errors;
    if (remote_bound.count() > 0)
      d->promise.deliver(from_request_error(std::move(err),
                                            "agent group '" + st.cfg.name
                                              + "': member on another node (bounded by the "
                                                "cluster's message_timeout)",
                                            remote_bound));
    else
      d->promise.deliver(from_request_error(std::move(err), "agent group '" + st.cfg.name
                                                              + "': member",
                                            st.cfg.task_timeout));
  };
  // Watched: a member that dies fails its task at once (a local one ends
  // the task; a remote one's task goes to the next instance), a silent one at the
  // deadline, without a CAF timer per task.
  if (d->sink)
    watched_request(self, st.watch, c.handle.get(), deadline, std::move(on_result),
                    std::move(on_error), execute_stream_atom::value, d->task, d->sink);
  else
    watched_request(self, st.watch, c.handle.get(), deadline, std::move(on_result),
                    std::move(on_error), execute_atom::value, d->task);
}

caf::result<task_result> start(self_ptr self, task_request& task, stream_sink_actor sink) {
  auto& st = self->state;
  if (st.in_flight >= agent_group_tasks_max)
    return make_error(errc::overloaded, "agent group '" + st.cfg.name + "' has "
                                          + std::to_string(agent_group_tasks_max)
                                          + " tasks in flight");
  ++st.in_flight;
  AG_ASSERT(st.in_flight <= agent_group_tasks_max);
  auto d = std::make_shared<dispatch>();
  d->task = std::move(task);
  d->sink = std::move(sink);
  d->promise = self->make_response_promise<task_result>();
  d->deadline = self->clock().now() + st.cfg.task_timeout;
  send_to_member(self, d);
  return d->promise;
}

}  // namespace agent_group_detail

agent_actor::behavior_type agent_group(agent_actor::stateful_pointer<agent_group_state> self,
                                       group_config cfg, std::vector<group_member> members,
                                       std::shared_ptr<const group_instances> instances) {
  using namespace agent_group_detail;
  self->state.cfg = std::move(cfg);
  self->state.members = std::move(members);
  self->state.instances = std::move(instances);
  route_to_watch(self, &agent_group_state::watch);
  return {
    [self](execute_atom, task_request& task) { return start(self, task, {}); },
    [self](execute_stream_atom, task_request& task,
           stream_sink_actor& sink) -> caf::result<task_result> {
      if (!sink)
        return make_error(errc::invalid_argument, "execute_stream needs a valid stream sink");
      return start(self, task, sink);
    },
    [self](stats_atom) {
      const auto& st = self->state;
      agent_stats s;
      s.name = st.cfg.name;
      s.role = std::string{"group:"} + to_string(st.cfg.strategy);
      s.status = st.in_flight > 0 ? agent_status::busy : agent_status::idle;
      s.tasks_completed = st.completed;
      s.errors = st.errors;
      s.tasks_in_flight = st.in_flight;
      s.response_time_avg_us =
        st.completed == 0 ? 0 : st.response_time_total_us / static_cast<int64_t>(st.completed);
      s.uptime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - st.started)
                      .count();
      s.memory_bytes = st.members.capacity() * sizeof(group_member);
      return s;
    },
    [](ping_atom) { return pong_atom::value; },
  };
}

caf::expected<agent_actor> spawn_agent_group(caf::actor_system& sys, group_config cfg,
                                             std::vector<group_member> members,
                                             std::shared_ptr<const group_instances> instances) {
  if (members.empty() || members.size() > agent_group_members_max)
    return make_error(errc::invalid_argument,
                      "agent group '" + cfg.name + "': 1.." + std::to_string(agent_group_members_max)
                        + " members");
  for (const auto& m : members)
    if (!m.handle)
      return make_error(errc::invalid_argument,
                        "agent group '" + cfg.name + "': member '" + m.name + "' has no handle");
  return agent_actor{
    sys.spawn(agent_group, std::move(cfg), std::move(members), std::move(instances))};
}

}  // namespace agentgraph
