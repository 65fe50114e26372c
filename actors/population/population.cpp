// The population actor. About 1,200 lines on purpose: a key's phases
// (claiming, active, exporting, saving), the claim and save batches, the
// LRU/idle passivation, the restarts for new variables and a fenced key's
// retirement all change the
// same slot table and its counters, and
// the invariants between them (AG_ASSERTs, DESIGN.md "A key's life") are
// easiest to check in one file. Sections: the store (claims, saves), tasks
// (admit, forward, finish), passivation, shutdown, the behavior. Split
// candidates for the next slice: the save queue and the claim queue.
#include "actors/population/population.hpp"

#include <algorithm>
#include <functional>
#include <list>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/population/population_metrics.hpp"
#include "runtime/actor_timer.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

namespace population_detail {

using steady = std::chrono::steady_clock;
using time_point = caf::actor_clock::time_point;

// Where a key is. Only `active` slots have an instance that takes tasks;
// `exporting` still has its instance (its state is being read), `saving`
// has none (its state is in `held`, on its way to the store).
enum class phase : uint8_t { claiming, active, exporting, saving };

enum class reason : uint8_t { idle, evicted, request, shutdown };

// A task waiting for its key, or (activation_only) a caller of
// pop_activate or pop_set_vars waiting for the key to be active (and, with
// sets_vars, for its new variables to be saved).
struct waiting_task {
  task_request task;
  stream_sink_actor sink;  // invalid: not streamed
  caf::typed_response_promise<task_result> promise;
  steady::time_point accepted;
  bool activation_only = false;
  caf::typed_response_promise<bool> activated;
  bool sets_vars = false;
  std::map<std::string, std::string> vars;  // sets_vars: the key's new variables
};

struct key_slot {
  phase ph = phase::claiming;
  keyed_agent_actor instance;
  std::vector<waiting_task> waiting;  // claiming or saving only; <= waiting_max
  uint32_t in_flight = 0;             // tasks the instance runs now
  std::list<std::string>::iterator lru;  // valid while ph == active
  time_point last_used;
  steady::time_point claim_started;
  std::optional<reason> passivate_when_idle;
  // New variables wait for the instance to restart with them: tasks that
  // arrive meanwhile wait in `waiting` too (the instance drains first).
  bool restarting_for_vars = false;
  // Every finished task bumps `version`; `saved_version` is the newest one
  // the store holds. Equal: the instance has nothing the store lacks.
  uint64_t version = 0;
  uint64_t saved_version = 0;
  bool existed = false;      // the store holds a state for the key
  size_t state_bytes = 0;    // bytes of that state
  population_key_state held;  // vars always; the agent's state while saving
  // Which slot of the key this is: a save queued by an earlier slot of the
  // same key must not update this one.
  uint64_t incarnation = 0;
  // The instance died (or its save was fenced): no new task goes to it;
  // once its tasks drained the slot ends, or claims again for tasks that
  // wait.
  bool dead = false;
  // Set (to true) when a save of this incarnation was fenced: another node
  // claimed the key, so nothing this instance did since its claim can
  // reach the store. Shared with the callbacks of the tasks waiting for
  // their saves, which outlive the slot (a fenced slot ends once its tasks
  // drained, and its instance with it, failing their exports): each one
  // answers `conflict` rather than an answer whose turn was never saved.
  // Made with the slot's first task save; null until then.
  std::shared_ptr<bool> fence;
  [[nodiscard]] bool fenced() const { return fence && *fence; }
};

// One key's bytes on their way to the store, and who waits for them.
struct save_job {
  std::vector<uint8_t> bytes;
  uint64_t version = 0;
  uint64_t incarnation = 0;  // of the slot that queued it
  bool first_save = false;   // the store had no state for the key then
  // Called once with the outcome: none, conflict (fenced) or the error.
  std::vector<std::function<void(const caf::error&)>> done;
};

struct population_state {
  static inline const char* name = "population";
  // Not the first member: CAF builds a state from the self pointer when it
  // can (toolchain.md), and setup's first member would take it.
  uint64_t tasks_in_flight = 0;
  population_setup setup;
  // Calls to instances and the store: deadlines without CAF request
  // timeouts (whose clock entries outlive the reply, toolchain.md §9.21:
  // at 10 K tasks/s they were most of a passivated key's bytes), and the
  // pinned monitor that tells a key's instance died. Instances are not
  // linked: CAF scans an actor's attachables on every link and unlink,
  // so a population linked to 100 K instances spent half its time there.
  call_watch watch{1};  // sized in population_behavior
  uint64_t answers_saving = 0;  // answered tasks waiting for their key's save
  population_metrics m;
  std::unordered_map<std::string, key_slot> slots;
  // Live instances (pinned in `watch`) by address, for their deaths.
  std::unordered_map<caf::actor_addr, std::string> by_instance;
  uint64_t next_incarnation = 1;
  std::list<std::string> lru;  // active keys, least recently used first
  size_t claiming = 0;
  size_t passivating = 0;
  size_t waiting = 0;
  uint64_t saved_keys = 0;
  uint64_t existed_slots = 0;  // slots whose key has a saved state
  uint64_t state_bytes = 0;
  uint64_t activations = 0, passivations = 0, evictions = 0, fenced = 0, state_errors = 0,
           store_errors = 0;
  std::vector<std::string> claim_queue;
  std::map<std::string, save_job> save_queue;
  bool save_in_flight = false;
  bool flush_scheduled = false;
  bool shutting_down = false;
  uint64_t shutdown_count = 0;
  // Keys pop_passivate_all has still to passivate, the next one last:
  // taken population_passivate_batch per turn, because one handler that
  // stops 100 K instances schedules them all on its worker's queue, whose
  // lock the idle worker's stealing then holds for most of each push
  // (measured: more than 60 s for 100 K keys, the population deaf meanwhile).
  std::vector<std::string> shutdown_queue;
  std::vector<caf::typed_response_promise<uint64_t>> shutdown_waiters;

  population_state() = default;
  population_state(const population_state&) = delete;
  population_state& operator=(const population_state&) = delete;
  // An instance ends with its population (a restarted population must not
  // find orphans): CAF destroys the state when the actor terminates.
  ~population_state() {
    for (auto& [key, slot] : slots)
      if (slot.instance)
        caf::anon_send_exit(slot.instance, caf::exit_reason::user_shutdown);
  }

  const population_config& cfg() const { return *setup.cfg; }
  std::string agent_name(const std::string& key) const { return cfg().name + "/" + key; }
};

using self_ptr = population_actor::stateful_pointer<population_state>;

void forward(self_ptr self, const std::string& key, key_slot& slot, waiting_task wt);
void save_key(self_ptr self, const std::string& key, key_slot& slot,
              std::function<void(const caf::error&)> done);
void passivate(self_ptr self, const std::string& key, reason why);
void retire_dead(self_ptr self, const std::string& key, key_slot& slot);
void fenced_instance(self_ptr self, const std::string& key, uint64_t incarnation);
void check_shutdown_done(self_ptr self);

// Keys with a saved state and no slot here. Per node: saved_keys counts the
// store's keys at start and this node's first saves since.
uint64_t passivated(const population_state& st) {
  return st.saved_keys > st.existed_slots ? st.saved_keys - st.existed_slots : 0;
}

void mark_existed(population_state& st, key_slot& slot) {
  if (slot.existed)
    return;
  slot.existed = true;
  ++st.existed_slots;
}

void refresh_gauges(population_state& st) {
  metrics::set(st.m.active, static_cast<double>(st.lru.size()));
  metrics::set(st.m.passivated, static_cast<double>(passivated(st)));
  metrics::set(st.m.waiting, static_cast<double>(st.waiting));
  metrics::set(st.m.saved_keys, static_cast<double>(st.saved_keys));
  metrics::set(st.m.state_bytes, static_cast<double>(st.state_bytes));
  metrics::set(st.m.tasks.tasks_in_flight, static_cast<double>(st.tasks_in_flight));
}

void schedule_flush(self_ptr self) {
  auto& st = self->state;
  if (st.flush_scheduled)
    return;
  st.flush_scheduled = true;
  // Behind whatever is in the mailbox now: claims and saves that arrive
  // together go to the store together.
  self->send(self, pop_flush_atom::value);
}

void touch(population_state& st, key_slot& slot, time_point now) {
  AG_ASSERT(slot.ph == phase::active);
  st.lru.splice(st.lru.end(), st.lru, slot.lru);
  slot.last_used = now;
}

// The slot leaves the table. Its instance, if any, was stopped already.
void erase_slot(self_ptr self, const std::string& key) {
  auto& st = self->state;
  auto it = st.slots.find(key);
  AG_ASSERT(it != st.slots.end());
  AG_ASSERT(it->second.waiting.empty());
  AG_ASSERT(it->second.in_flight == 0);
  if (it->second.ph == phase::active)
    st.lru.erase(it->second.lru);
  st.state_bytes -= it->second.state_bytes;
  if (it->second.existed) {
    AG_ASSERT(st.existed_slots > 0);
    --st.existed_slots;
  }
  st.slots.erase(it);
  refresh_gauges(st);
  check_shutdown_done(self);
}

void fail_waiting(population_state& st, key_slot& slot, const caf::error& err) {
  AG_ASSERT(st.waiting >= slot.waiting.size());
  st.waiting -= slot.waiting.size();
  for (auto& wt : slot.waiting) {
    if (wt.activation_only) {
      wt.activated.deliver(err);
      continue;
    }
    st.m.tasks.tasks.record_since(err, wt.accepted);
    wt.promise.deliver(err);
  }
  slot.waiting.clear();
}

void stop_instance(self_ptr self, key_slot& slot) {
  if (slot.instance) {
    self->state.by_instance.erase(slot.instance.address());
    self->state.watch.unpin(self, slot.instance.address());
    // The slot's handle is usually the instance's only strong reference:
    // dropping it ends the instance right here (CAF cleans up an actor
    // nobody references, reason unreachable). An exit message instead
    // schedules the instance only to stop it, and 100 K of those in a row
    // (a passivate-all) spent most of their time on the scheduler queue's
    // lock. Someone else holds it (a message in flight): the exit, then.
    auto* ctrl = caf::actor_cast<caf::actor_control_block*>(slot.instance);
    if (ctrl->strong_refs.load(std::memory_order_acquire) > 1)
      self->send_exit(slot.instance, caf::exit_reason::user_shutdown);
  }
  slot.instance = nullptr;
}

// The key's instance runs from `state`: the slot becomes active and its
// waiting tasks go to it.
void start_instance(self_ptr self, const std::string& key, key_slot& slot,
                    const population_key_state& state) {
  auto& st = self->state;
  slot.instance = st.setup.spawn_instance(key, state);
  AG_ASSERT(slot.instance);
  // Pinned: its death reaches on_instance_down (population_state's
  // destructor ends it with the population).
  st.watch.pin(self, slot.instance);
  st.by_instance[slot.instance.address()] = key;
  slot.dead = false;
  slot.restarting_for_vars = false;
  slot.ph = phase::active;
  slot.lru = st.lru.insert(st.lru.end(), key);
  slot.last_used = self->clock().now();
  auto waiting = std::move(slot.waiting);
  slot.waiting.clear();
  st.waiting -= waiting.size();
  refresh_gauges(st);
  std::vector<caf::typed_response_promise<bool>> vars_set;
  for (auto& wt : waiting) {
    if (wt.sets_vars) {
      vars_set.push_back(std::move(wt.activated));
    } else if (wt.activation_only) {
      wt.activated.deliver(true);
    } else if (slot.in_flight >= st.cfg().agent.tasks_in_flight_max) {
      // More waited than the instance runs at once (waiting_max may
      // exceed tasks_in_flight_max): refused here, as admit refuses.
      auto err = make_error(errc::overloaded, "population '" + st.cfg().name + "': key '" + key
                                                + "' already runs "
                                                + std::to_string(slot.in_flight)
                                                + " tasks (tasks_in_flight_max)");
      st.m.tasks.tasks.record_since(err, wt.accepted);
      wt.promise.deliver(std::move(err));
    } else {
      forward(self, key, slot, std::move(wt));
    }
  }
  // New variables answer once the state with them is saved.
  if (!vars_set.empty()) {
    ++slot.version;
    auto incarnation = slot.incarnation;
    save_key(self, key, slot, [self, key, incarnation, vars_set](const caf::error& err) mutable {
      if (err == errc::conflict)
        fenced_instance(self, key, incarnation);
      for (auto& rp : vars_set)
        err ? rp.deliver(err) : rp.deliver(true);
    });
  }
  // Activated during a shutdown's passivations: passivated in turn. The
  // slot may end here; callers do not touch it after this call.
  if (st.shutting_down && !slot.passivate_when_idle) {
    ++st.shutdown_count;
    slot.passivate_when_idle = reason::shutdown;
  }
  // A passivation asked for before a restart (a shutdown's) happens now
  // if nothing runs; else when the last task ends (task_finished).
  if (slot.passivate_when_idle && slot.in_flight == 0)
    passivate(self, key, *slot.passivate_when_idle);
}

// Another node claimed the key (a save of this incarnation was fenced):
// its instance here is stale. It takes no more tasks, and ends (its state
// dropped, the store's is the key's) once they drained; each of them, and
// each task that waited for the key meanwhile, answers `conflict`, on which
// the key's address sends it to the key's owner now (key_address.cpp),
// where it runs on the key's current state (claimed from the store again
// when that owner is this node).
void fenced_instance(self_ptr self, const std::string& key, uint64_t incarnation) {
  auto& st = self->state;
  auto it = st.slots.find(key);
  if (it == st.slots.end() || it->second.incarnation != incarnation
      || it->second.ph != phase::active)
    return;
  auto& slot = it->second;
  if (!slot.fence)
    slot.fence = std::make_shared<bool>(true);
  *slot.fence = true;
  slot.dead = true;
  if (slot.in_flight == 0)
    retire_dead(self, key, slot);
}

// What a task of a fenced key answers: its turn ran (or would have run) on
// a stale instance and is not in the store; the key's address re-runs it
// at the key's owner.
caf::error fenced_error(const population_state& st, const std::string& key) {
  return make_error(errc::conflict, "population '" + st.cfg().name + "' key '" + key
                                      + "': another node claimed the key; this node's "
                                        "instance was stale and the task's turn is not saved");
}

// The slot claims its key again (for the tasks waiting in it): from
// nothing, the key's saved state is all there is.
void claim_again(self_ptr self, const std::string& key, key_slot& slot) {
  auto& st = self->state;
  AG_ASSERT(!slot.instance && !slot.waiting.empty());
  slot.ph = phase::claiming;
  slot.dead = false;
  // A new incarnation: nothing the old instance still sends may be saved
  // as this one's. Its callbacks keep their fence.
  slot.incarnation = st.next_incarnation++;
  slot.fence.reset();
  slot.claim_started = steady::now();
  ++st.claiming;
  st.claim_queue.push_back(key);
  schedule_flush(self);
  refresh_gauges(st);
}

// The slot's instance is gone and its tasks drained: the slot ends, or
// claims the key again for the tasks that waited meanwhile.
void retire_dead(self_ptr self, const std::string& key, key_slot& slot) {
  auto& st = self->state;
  AG_ASSERT(slot.dead && slot.in_flight == 0 && slot.ph == phase::active);
  // A fenced instance is still alive: it ends here, or it would outlive
  // the population (~population_state no longer sees it).
  stop_instance(self, slot);
  // What was asked of the old instance does not carry over, but a
  // shutdown's passivation does (start_instance honours it).
  if (slot.passivate_when_idle != reason::shutdown)
    slot.passivate_when_idle.reset();
  if (slot.fenced()) {
    // Whoever sent the waiting tasks here believed this node owned the
    // key; it does not. Claiming the key back for them would fence the
    // owner's instance in turn: their addresses pick the owner again.
    fail_waiting(st, slot, fenced_error(st, key));
  }
  if (slot.waiting.empty()) {
    erase_slot(self, key);
    return;
  }
  st.lru.erase(slot.lru);
  claim_again(self, key, slot);
}

// ---- the store ------------------------------------------------------------

void on_claims(self_ptr self, const std::vector<std::string>& keys,
               std::vector<population_claim>& claims) {
  auto& st = self->state;
  AG_ASSERT(claims.size() == keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    auto it = st.slots.find(keys[i]);
    AG_ASSERT(it != st.slots.end() && it->second.ph == phase::claiming);
    auto& slot = it->second;
    --st.claiming;
    population_key_state state;
    if (claims[i].existed) {
      auto decoded = decode_population_state(claims[i].state);
      if (!decoded) {
        ++st.state_errors;
        auto err = make_error(errc::parse_error, "population '" + st.cfg().name + "' key '"
                                                   + keys[i] + "': " + describe(decoded.error()));
        log(log_severity::error, "population", "saved state unreadable; the key stays passive",
            {{"population", st.cfg().name}, {"key", keys[i]}, {"error", describe(err)}});
        fail_waiting(st, slot, err);
        erase_slot(self, keys[i]);
        continue;
      }
      state = std::move(*decoded);
      mark_existed(st, slot);
      st.state_bytes -= slot.state_bytes;  // a slot claiming again had one
      slot.state_bytes = claims[i].state.size();
      st.state_bytes += slot.state_bytes;
    }
    // Variables set while the key was claimed apply before its instance
    // starts (in the order they arrived).
    for (const auto& wt : slot.waiting)
      if (wt.sets_vars)
        state.vars = wt.vars;
    slot.held.vars = state.vars;
    ++st.activations;
    metrics::inc(st.m.activations);
    metrics::observe(st.m.activation_seconds,
                     std::chrono::duration<double>(steady::now() - slot.claim_started).count());
    start_instance(self, keys[i], slot, state);
  }
  check_shutdown_done(self);
}

void on_claim_error(self_ptr self, const std::vector<std::string>& keys, caf::error err) {
  auto& st = self->state;
  ++st.store_errors;
  metrics::inc(st.m.store_errors);
  auto named = from_request_error(std::move(err), "population store",
                                  st.setup.store_timeout);
  log(log_severity::warn, "population", "claim failed",
      {{"population", st.cfg().name}, {"keys", std::to_string(keys.size())},
       {"error", describe(named)}});
  for (const auto& key : keys) {
    auto it = st.slots.find(key);
    AG_ASSERT(it != st.slots.end() && it->second.ph == phase::claiming);
    --st.claiming;
    fail_waiting(st, it->second, named);
    erase_slot(self, key);
  }
  check_shutdown_done(self);
}

void send_claims(self_ptr self) {
  auto& st = self->state;
  while (!st.claim_queue.empty()) {
    auto n = std::min(st.claim_queue.size(), population_store_batch_max);
    std::vector<std::string> keys(st.claim_queue.begin(), st.claim_queue.begin() + n);
    st.claim_queue.erase(st.claim_queue.begin(), st.claim_queue.begin() + n);
    auto shared = std::make_shared<const std::vector<std::string>>(keys);
    watched_request(
      self, st.watch, st.setup.store, self->clock().now() + st.setup.store_timeout,
      [self, shared](std::vector<population_claim>& claims) { on_claims(self, *shared, claims); },
      [self, shared](caf::error& err) { on_claim_error(self, *shared, std::move(err)); },
      pstore_claim_atom::value, st.cfg().name, std::move(keys), st.setup.owner,
      st.setup.owner_epoch);
  }
}

void send_saves(self_ptr self);

void on_saved(self_ptr self, std::map<std::string, save_job>& batch,
              const std::vector<std::string>& fenced_keys, const caf::error& err) {
  auto& st = self->state;
  st.save_in_flight = false;
  if (err) {
    ++st.store_errors;
    metrics::inc(st.m.store_errors);
    log(log_severity::warn, "population", "save failed",
        {{"population", st.cfg().name}, {"keys", std::to_string(batch.size())},
         {"error", describe(err)}});
  }
  for (auto& [key, job] : batch) {
    bool is_fenced = std::find(fenced_keys.begin(), fenced_keys.end(), key) != fenced_keys.end();
    caf::error outcome = err;
    if (!err && is_fenced) {
      ++st.fenced;
      metrics::inc(st.m.fenced);
      outcome = make_error(errc::conflict, "population '" + st.cfg().name + "' key '" + key
                                             + "' was claimed by another node");
    }
    if (!outcome) {
      auto it = st.slots.find(key);
      if (it != st.slots.end() && it->second.incarnation == job.incarnation) {
        auto& slot = it->second;
        slot.saved_version = std::max(slot.saved_version, job.version);
        if (!slot.existed)
          ++st.saved_keys;
        mark_existed(st, slot);
        st.state_bytes = st.state_bytes - slot.state_bytes + job.bytes.size();
        slot.state_bytes = job.bytes.size();
      } else if (job.first_save) {
        ++st.saved_keys;  // a new key whose slot ended meanwhile
      }
    }
    for (auto& f : job.done)
      f(outcome);
  }
  refresh_gauges(st);
  send_saves(self);
  check_shutdown_done(self);
}

void send_saves(self_ptr self) {
  auto& st = self->state;
  if (st.save_in_flight || st.save_queue.empty())
    return;
  auto batch = std::make_shared<std::map<std::string, save_job>>();
  std::vector<population_save> rows;
  while (!st.save_queue.empty() && rows.size() < population_store_batch_max) {
    auto node = st.save_queue.extract(st.save_queue.begin());
    rows.push_back(population_save{node.key(), node.mapped().bytes});
    batch->insert(std::move(node));
  }
  st.save_in_flight = true;
  watched_request(
    self, st.watch, st.setup.store, self->clock().now() + st.setup.store_timeout,
    [self, batch](std::vector<std::string>& fenced) { on_saved(self, *batch, fenced, {}); },
    [self, batch](caf::error& err) {
      auto named = from_request_error(std::move(err), "population store",
                                      self->state.setup.store_timeout);
      on_saved(self, *batch, {}, named);
    },
    pstore_save_atom::value, st.cfg().name, st.setup.owner, st.setup.owner_epoch,
    std::move(rows));
}

// Queues the key's state for the next save batch; a newer state of the same
// key replaces a queued older one (both callers hear the outcome).
void queue_save(self_ptr self, const std::string& key, const population_key_state& state,
                uint64_t version, uint64_t incarnation,
                std::function<void(const caf::error&)> done) {
  auto& st = self->state;
  auto& job = st.save_queue[key];
  if (job.incarnation != incarnation) {
    // A newer slot of the key: its state replaces the older one's.
    job.version = 0;
    job.incarnation = incarnation;
  }
  job.bytes = encode_population_state(state);
  job.version = std::max(job.version, version);
  auto it = st.slots.find(key);
  job.first_save = it == st.slots.end() || !it->second.existed;
  job.done.push_back(std::move(done));
  schedule_flush(self);
}

// Exports the state of the key's instance and queues it for the next save
// batch; `done` hears the save's outcome, or the export's error (the
// instance died or missed the deadline: nothing was saved).
void save_key(self_ptr self, const std::string& key, key_slot& slot,
              std::function<void(const caf::error&)> done) {
  auto& st = self->state;
  AG_ASSERT(slot.instance);
  auto version = slot.version;
  auto incarnation = slot.incarnation;
  watched_request(
    self, st.watch, slot.instance, self->clock().now() + st.setup.store_timeout,
    [self, key, version, incarnation, done](agent_snapshot& snap) mutable {
      auto& st = self->state;
      auto it = st.slots.find(key);
      if (it == st.slots.end() || it->second.incarnation != incarnation
          || it->second.fenced()) {
        // The slot this state came from ended (or was fenced) while the
        // export was answered: saved now, under a claim this node may
        // have made again since, it would overwrite the key's newer state.
        done(make_error(errc::unavailable, "population '" + st.cfg().name + "' key '" + key
                                             + "': its instance ended before its state "
                                               "was saved"));
        return;
      }
      population_key_state state;
      state.agent = std::move(snap);
      state.vars = it->second.held.vars;
      queue_save(self, key, state, version, incarnation, std::move(done));
    },
    [done](caf::error& err) mutable { done(err); }, agent_export_atom::value);
}

// ---- tasks -----------------------------------------------------------------

// The task's answer goes out, after its key's state is saved when
// durability is `task`.
void task_finished(self_ptr self, const std::string& key, const caf::actor_addr& instance,
                   caf::typed_response_promise<task_result> rp, caf::expected<task_result> out,
                   steady::time_point accepted) {
  auto& st = self->state;
  AG_ASSERT(st.tasks_in_flight > 0);
  --st.tasks_in_flight;
  st.m.tasks.tasks.record_since(out ? caf::error{} : out.error(), accepted);
  if (out)
    st.m.tasks.tokens.add(out->usage);
  auto it = st.slots.find(key);
  bool ours = it != st.slots.end() && it->second.instance
              && it->second.instance.address() == instance;
  if (!ours) {
    refresh_gauges(st);
    out ? rp.deliver(std::move(*out)) : rp.deliver(std::move(out.error()));
    return;
  }
  auto& slot = it->second;
  AG_ASSERT(slot.in_flight > 0);
  --slot.in_flight;
  if ((!out && out.error() == caf::sec::request_receiver_down) || slot.dead) {
    // The instance died (a bug or a kill): the key starts again from its
    // last saved state (on_instance_exit logged it). Or a save of it was
    // fenced: this task ran on a stale state and its turn cannot be saved.
    slot.dead = true;
    if (slot.fenced())
      out = fenced_error(st, key);
    else if (!out && out.error() == caf::sec::request_receiver_down)
      out = make_error(errc::unavailable, "population '" + st.cfg().name + "' key '" + key
                                            + "': its instance stopped");
    if (slot.in_flight == 0 && slot.ph == phase::active)
      retire_dead(self, key, slot);
    out ? rp.deliver(std::move(*out)) : rp.deliver(std::move(out.error()));
    return;
  }
  ++slot.version;
  if (slot.ph == phase::active)
    touch(st, slot, self->clock().now());
  auto deliver = [rp, out = std::move(out)]() mutable {
    out ? rp.deliver(std::move(*out)) : rp.deliver(std::move(out.error()));
  };
  if (st.cfg().durability == population_durability::task) {
    auto incarnation = slot.incarnation;
    // The answer goes out once the key's state is saved. A save the store
    // failed still lets it out (the task ran; the failure is counted and
    // logged, and the state is saved again at passivation). A save fenced
    // by another node's claim answers `conflict` and retires this node's
    // instance (fenced_instance): the key lives on another node now, and
    // the key's address runs the task again there. So does a save that
    // failed because a fence elsewhere retired the instance meanwhile
    // (its export found it stopped).
    ++st.answers_saving;
    if (!slot.fence)
      slot.fence = std::make_shared<bool>(false);
    auto saved = [self, key, incarnation, rp, deliver,
                  fence = slot.fence](const caf::error& err) mutable {
      AG_ASSERT(self->state.answers_saving > 0);
      --self->state.answers_saving;
      // A save the store took is the turn applied: never run it again.
      if (!err || (err != errc::conflict && !*fence)) {
        deliver();
        return;
      }
      fenced_instance(self, key, incarnation);
      rp.deliver(fenced_error(self->state, key));
    };
    save_key(self, key, slot, std::move(saved));
  } else {
    deliver();
  }
  if (slot.in_flight == 0 && st.shutting_down && !slot.passivate_when_idle
      && slot.ph == phase::active) {
    ++st.shutdown_count;
    slot.passivate_when_idle = reason::shutdown;
  }
  if (slot.in_flight == 0 && slot.passivate_when_idle && slot.ph == phase::active)
    passivate(self, key, *slot.passivate_when_idle);
  refresh_gauges(st);
}

void forward(self_ptr self, const std::string& key, key_slot& slot, waiting_task wt) {
  auto& st = self->state;
  AG_ASSERT(slot.ph == phase::active && slot.instance && !slot.dead);
  // The task's deadline counts from its arrival: time spent waiting for
  // the key's activation is part of it.
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
    st.setup.task_deadline - (self->clock().now() - wt.accepted));
  if (left.count() <= 0) {
    auto err = make_error(errc::timeout, "population '" + st.cfg().name + "' key '" + key
                                           + "': the task's deadline passed while it waited");
    st.m.tasks.tasks.record_since(err, wt.accepted);
    wt.promise.deliver(std::move(err));
    return;
  }
  ++slot.in_flight;
  ++st.tasks_in_flight;
  touch(st, slot, self->clock().now());
  refresh_gauges(st);
  auto addr = slot.instance.address();
  auto accepted = wt.accepted;
  auto rp = wt.promise;
  auto on_ok = [self, key, addr, rp, accepted](task_result& r) {
    task_finished(self, key, addr, rp, std::move(r), accepted);
  };
  auto on_err = [self, key, addr, rp, accepted](caf::error& err) {
    task_finished(self, key, addr, rp, std::move(err), accepted);
  };
  const auto deadline = self->clock().now() + left;
  if (wt.sink)
    watched_request(self, st.watch, slot.instance, deadline, std::move(on_ok), std::move(on_err),
                    execute_stream_atom::value, std::move(wt.task), wt.sink);
  else
    watched_request(self, st.watch, slot.instance, deadline, std::move(on_ok), std::move(on_err),
                    execute_atom::value, std::move(wt.task));
}

// Room for one more active key: true when there is, or was made by
// passivating the least recently used idle key.
bool make_room(self_ptr self) {
  auto& st = self->state;
  if (st.lru.size() + st.claiming < st.cfg().active_max)
    return true;
  size_t looked = 0;
  for (auto it = st.lru.begin(); it != st.lru.end() && looked < population_evict_scan_max;
       ++it, ++looked) {
    auto& slot = st.slots.at(*it);
    if (slot.in_flight == 0) {
      ++st.evictions;
      passivate(self, std::string{*it}, reason::evicted);
      return st.lru.size() + st.claiming < st.cfg().active_max;
    }
  }
  return false;
}

// New variables for an active key: its prompt is rendered when its instance
// starts, so the instance restarts with them (history kept), through a
// passivation once its tasks in flight end; tasks arriving meanwhile wait.
// The caller hears true once the state with them is saved (start_instance).
caf::error set_vars_of_active(self_ptr self, const std::string& key, key_slot& slot,
                              waiting_task wt) {
  auto& st = self->state;
  AG_ASSERT(slot.ph == phase::active && slot.waiting.empty());
  slot.held.vars = wt.vars;
  ++slot.version;  // the state changed: passivation saves it
  slot.restarting_for_vars = true;
  slot.waiting.push_back(std::move(wt));
  ++st.waiting;
  if (slot.in_flight == 0)
    passivate(self, key, slot.passivate_when_idle.value_or(reason::request));
  else if (!slot.passivate_when_idle)
    slot.passivate_when_idle = reason::request;
  refresh_gauges(st);
  return caf::none;
}

// The task (or activation) joins its key: forwarded when the key is
// active, else waits in its slot, which a first message creates (and
// claims). Errors: the refusals, already counted.
caf::error admit(self_ptr self, const std::string& key, waiting_task wt) {
  auto& st = self->state;
  auto refuse = [&](errc code, std::string what) -> caf::error {
    if (!wt.activation_only)
      st.m.tasks.tasks.outcomes.failed(code);
    return make_error(code, "population '" + st.cfg().name + "': " + std::move(what));
  };
  if (!wt.activation_only && st.waiting + st.tasks_in_flight + st.answers_saving
                                 >= st.cfg().tasks_max)
    return refuse(errc::overloaded, std::to_string(st.cfg().tasks_max)
                                      + " tasks are waiting, running or saving (tasks_max)");
  if (auto it = st.slots.find(key); it != st.slots.end()) {
    auto& slot = it->second;
    if (slot.ph == phase::active && !slot.dead && !slot.restarting_for_vars) {
      if (wt.sets_vars)
        return set_vars_of_active(self, key, slot, std::move(wt));
      if (wt.activation_only) {
        wt.activated.deliver(true);
        return caf::none;
      }
      if (slot.in_flight >= st.cfg().agent.tasks_in_flight_max)
        return refuse(errc::overloaded, "key '" + key + "' already runs "
                                          + std::to_string(slot.in_flight)
                                          + " tasks (tasks_in_flight_max)");
      forward(self, key, slot, std::move(wt));
      return caf::none;
    }
    if (slot.waiting.size() >= st.cfg().waiting_max)
      return refuse(errc::overloaded, "key '" + key + "' already has "
                                        + std::to_string(slot.waiting.size())
                                        + " tasks waiting (waiting_max)");
    if (wt.sets_vars)
      slot.held.vars = wt.vars;
    slot.waiting.push_back(std::move(wt));
    ++st.waiting;
    refresh_gauges(st);
    return caf::none;
  }
  if (st.shutting_down)
    return refuse(errc::unavailable, "it is passivating every key (shutdown); retry elsewhere");
  if (st.claiming + st.passivating >= st.cfg().activating_max)
    return refuse(errc::overloaded, std::to_string(st.claiming + st.passivating)
                                      + " keys are activating or passivating (activating_max)");
  if (!make_room(self))
    return refuse(errc::overloaded, "all " + std::to_string(st.cfg().active_max)
                                      + " active keys are busy (active_max)");
  auto& slot = st.slots[key];
  slot.incarnation = st.next_incarnation++;
  slot.ph = phase::claiming;
  slot.claim_started = steady::now();
  slot.waiting.push_back(std::move(wt));
  ++st.waiting;
  ++st.claiming;
  st.claim_queue.push_back(key);
  schedule_flush(self);
  refresh_gauges(st);
  return caf::none;
}

caf::error bad_key(population_state& st, const std::string& key, bool count) {
  auto problem = population_key_problem(key);
  if (problem.empty())
    return caf::none;
  if (count)
    st.m.tasks.tasks.outcomes.failed(errc::invalid_argument);
  return make_error(errc::invalid_argument, "population '" + st.cfg().name + "': " + problem);
}

caf::result<task_result> on_task(self_ptr self, std::string& key, task_request& task,
                                 stream_sink_actor sink) {
  if (auto err = bad_key(self->state, key, true))
    return err;
  waiting_task wt;
  wt.task = std::move(task);
  wt.sink = std::move(sink);
  wt.promise = self->make_response_promise<task_result>();
  wt.accepted = self->clock().now();
  auto rp = wt.promise;
  // The promise took over the request's answer: a refusal goes through it.
  if (auto err = admit(self, key, std::move(wt)))
    rp.deliver(std::move(err));
  return rp;
}

caf::result<bool> on_activate(self_ptr self, const std::string& key) {
  if (auto err = bad_key(self->state, key, false))
    return err;
  waiting_task wt;
  wt.activation_only = true;
  wt.accepted = self->clock().now();
  wt.activated = self->make_response_promise<bool>();
  auto rp = wt.activated;
  if (auto err = admit(self, key, std::move(wt)))
    rp.deliver(std::move(err));
  return rp;
}

// ---- passivation -----------------------------------------------------------

void count_passivation(population_state& st, reason why) {
  ++st.passivations;
  switch (why) {
    case reason::idle: metrics::inc(st.m.passivated_idle); break;
    case reason::evicted: metrics::inc(st.m.passivated_evicted); break;
    case reason::request: metrics::inc(st.m.passivated_request); break;
    case reason::shutdown: metrics::inc(st.m.passivated_shutdown); break;
  }
}

// The key's state reached the store (or did not): the slot ends, or starts
// again for the tasks that arrived meanwhile.
void passivation_saved(self_ptr self, const std::string& key, const caf::error& err) {
  auto& st = self->state;
  auto it = st.slots.find(key);
  AG_ASSERT(it != st.slots.end() && it->second.ph == phase::saving);
  auto& slot = it->second;
  AG_ASSERT(st.passivating > 0);
  --st.passivating;
  if (err == errc::conflict) {
    // Another node claimed the key: its instance there is the live one.
    fail_waiting(st, slot, err);
    erase_slot(self, key);
  } else if (err) {
    // Not saved: the state stays here, in a running instance, and is saved
    // again at the next passivation. Keeping it beats the active bound for
    // as long as the store fails (each such key is logged and counted).
    auto state = std::move(slot.held);
    slot.held.vars = state.vars;
    start_instance(self, key, slot, state);
  } else if (!slot.waiting.empty()) {
    // Saved, with tasks waiting: they need the key running again, within
    // the active bound like any activation.
    mark_existed(st, slot);
    slot.saved_version = slot.version;
    if (!make_room(self)) {
      // Variables that waited are in the state just saved: done. The
      // tasks need a running instance there is no room for.
      for (auto& wt : slot.waiting)
        if (wt.sets_vars)
          wt.activated.deliver(true);
      auto& w = slot.waiting;
      auto vars_done = static_cast<size_t>(std::count_if(
        w.begin(), w.end(), [](const waiting_task& wt) { return wt.sets_vars; }));
      w.erase(std::remove_if(w.begin(), w.end(),
                             [](const waiting_task& wt) { return wt.sets_vars; }),
              w.end());
      st.waiting -= vars_done;
      fail_waiting(st, slot, make_error(errc::overloaded,
                                        "population '" + st.cfg().name + "': all "
                                          + std::to_string(st.cfg().active_max)
                                          + " active keys are busy (active_max)"));
      erase_slot(self, key);
    } else {
      auto state = std::move(slot.held);
      slot.held.vars = state.vars;
      ++st.activations;
      metrics::inc(st.m.activations);
      start_instance(self, key, slot, state);
    }
  } else {
    erase_slot(self, key);
  }
  check_shutdown_done(self);
}

void passivate(self_ptr self, const std::string& key, reason why) {
  auto& st = self->state;
  auto& slot = st.slots.at(key);
  AG_ASSERT(slot.ph == phase::active && slot.in_flight == 0);
  slot.passivate_when_idle.reset();
  count_passivation(st, why);
  if (slot.version == slot.saved_version && slot.existed) {
    // The store has everything the instance has: nothing to save.
    stop_instance(self, slot);
    erase_slot(self, key);
    return;
  }
  slot.ph = phase::exporting;
  st.lru.erase(slot.lru);
  ++st.passivating;
  refresh_gauges(st);
  auto version = slot.version;
  auto on_state = [self, key, version](agent_snapshot& snap) {
    auto& st = self->state;
    auto& slot = st.slots.at(key);
    AG_ASSERT(slot.ph == phase::exporting);
    stop_instance(self, slot);
    slot.ph = phase::saving;
    slot.held.agent = std::move(snap);
    queue_save(self, key, slot.held, version, slot.incarnation,
               [self, key](const caf::error& err) { passivation_saved(self, key, err); });
  };
  auto on_error = [self, key](caf::error& err) {
    // The instance cannot say its state (it died): what the store has is
    // all there is.
    auto& st = self->state;
    auto& slot = st.slots.at(key);
    log(log_severity::error, "population", "export failed; the key keeps its last saved state",
        {{"population", st.cfg().name}, {"key", key}, {"error", describe(err)}});
    stop_instance(self, slot);
    --st.passivating;
    if (slot.waiting.empty())
      erase_slot(self, key);
    else
      claim_again(self, key, slot);  // for what waited (new variables, tasks)
    check_shutdown_done(self);
  };
  watched_request(self, st.watch, slot.instance, self->clock().now() + st.setup.store_timeout,
                  std::move(on_state), std::move(on_error), agent_export_atom::value);
}

void sweep(self_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  size_t looked = 0;
  for (auto it = st.lru.begin(); it != st.lru.end() && looked < population_sweep_keys_max;
       ++looked) {
    auto& slot = st.slots.at(*it);
    if (now - slot.last_used < st.cfg().idle_timeout)
      break;  // every later key was used more recently
    if (st.claiming + st.passivating >= st.cfg().activating_max)
      break;  // the rest wait for the next sweep: passivations in flight are bounded
    auto key = *it;
    ++it;  // passivate may unlink this node
    if (slot.in_flight == 0)
      passivate(self, key, reason::idle);
  }
}

caf::timespan sweep_interval(const population_config& cfg) {
  auto quarter = cfg.idle_timeout / 4;
  return std::clamp<caf::timespan>(quarter, std::chrono::milliseconds{10},
                                   std::chrono::seconds{10});
}

void arm_sweep(self_ptr self) {
  run_at(self, self->clock().now() + sweep_interval(self->state.cfg()), [self] {
    sweep(self);
    arm_sweep(self);
  });
}

void check_shutdown_done(self_ptr self) {
  auto& st = self->state;
  if (!st.shutting_down || !st.slots.empty() || !st.save_queue.empty() || st.save_in_flight
      || !st.shutdown_queue.empty())
    return;
  for (auto& rp : st.shutdown_waiters)
    rp.deliver(st.shutdown_count);
  st.shutdown_waiters.clear();
  st.shutting_down = false;
  st.shutdown_count = 0;
}

// The next batch of pop_passivate_all's keys; the rest after the messages
// that arrived meanwhile (pop_sweep_atom).
void passivate_next(self_ptr self) {
  auto& st = self->state;
  for (size_t n = 0; n < population_passivate_batch && !st.shutdown_queue.empty(); ++n) {
    auto key = std::move(st.shutdown_queue.back());
    st.shutdown_queue.pop_back();
    auto it = st.slots.find(key);
    if (it == st.slots.end() || it->second.ph != phase::active
        || it->second.passivate_when_idle)
      continue;
    ++st.shutdown_count;
    if (it->second.in_flight == 0)
      passivate(self, key, reason::shutdown);
    else
      it->second.passivate_when_idle = reason::shutdown;
  }
  if (!st.shutdown_queue.empty())
    self->send(self, pop_sweep_atom::value);
}

caf::result<uint64_t> on_passivate_all(self_ptr self) {
  auto& st = self->state;
  // The waiter first: a passivation below may end the last slot and
  // answer at once (check_shutdown_done).
  auto rp = self->make_response_promise<uint64_t>();
  st.shutdown_waiters.push_back(rp);
  st.shutting_down = true;
  if (st.shutdown_queue.empty()) {  // else a passivate-all is under way: it answers both
    st.shutdown_queue.assign(st.lru.rbegin(), st.lru.rend());  // least recently used last
    passivate_next(self);
  }
  check_shutdown_done(self);
  return rp;
}

population_stats make_stats(const population_state& st) {
  population_stats s;
  s.name = st.cfg().name;
  s.active = st.lru.size();
  s.activating = st.claiming;
  s.passivating = st.passivating;
  s.saved_keys = st.saved_keys;
  s.passivated = passivated(st);
  s.state_bytes = st.state_bytes;
  s.waiting = st.waiting;
  s.tasks_in_flight = st.tasks_in_flight;
  s.activations = st.activations;
  s.passivations = st.passivations;
  s.evictions = st.evictions;
  s.fenced = st.fenced;
  s.state_errors = st.state_errors;
  s.store_errors = st.store_errors;
  s.active_max = st.cfg().active_max;
  return s;
}

// A key's instance died (a bug, a kill): its key starts again from its last
// saved state once its calls failed (retire_dead).
void on_instance_down(self_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto it = st.by_instance.find(dm.source);
  if (it == st.by_instance.end())
    return;  // an instance stopped on purpose (stop_instance unpinned it)
  auto key = std::move(it->second);
  st.by_instance.erase(it);
  log(log_severity::error, "population", "instance died",
      {{"population", st.cfg().name}, {"key", key}, {"reason", describe(dm.reason)}});
  auto slot = st.slots.find(key);
  if (slot == st.slots.end() || slot->second.ph != phase::active)
    return;  // exporting: the export's error handler ends the slot
  slot->second.dead = true;
  if (slot->second.in_flight == 0)
    retire_dead(self, key, slot->second);
}

caf::result<bool> on_set_vars(self_ptr self, const std::string& key,
                              std::map<std::string, std::string>& vars) {
  if (auto err = bad_key(self->state, key, false))
    return err;
  if (auto problem = population_vars_problem(vars); !problem.empty())
    return make_error(errc::invalid_argument,
                      "population '" + self->state.cfg().name + "' key '" + key + "': " + problem);
  waiting_task wt;
  wt.activation_only = true;
  wt.sets_vars = true;
  wt.vars = std::move(vars);
  wt.accepted = self->clock().now();
  wt.activated = self->make_response_promise<bool>();
  auto rp = wt.activated;
  if (auto err = admit(self, key, std::move(wt)))
    rp.deliver(std::move(err));
  return rp;
}

population_actor::behavior_type population_behavior(self_ptr self, population_setup setup) {
  auto& st = self->state;
  st.m = make_population_metrics(setup.metrics, setup.cfg->name);
  st.saved_keys = setup.saved_keys;
  st.setup = std::move(setup);
  // Every call the population makes is watched: tasks and the exports that
  // save their answers (tasks_max), per slot with an instance (at most
  // active_max + activating_max + 1) one export to passivate and one to
  // save new variables, claims (at most one call per activating key) and
  // one save call.
  const auto& cfg = st.cfg();
  const size_t slots_max = size_t{cfg.active_max} + cfg.activating_max + 1;
  st.watch = call_watch{size_t{cfg.tasks_max} + 2 * slots_max + cfg.activating_max + 1};
  refresh_gauges(st);
  arm_sweep(self);
  // A pinned instance's down message (start_instance) comes here after the
  // watch failed its calls. Exits are CAF's default: a population ends
  // with its supervisor, and its instances with it (~population_state).
  route_to_watch(self, &population_state::watch,
                 [self](caf::down_msg& dm) { on_instance_down(self, dm); });
  return {
    [self](pop_execute_atom, std::string& key, task_request& task) {
      return on_task(self, key, task, {});
    },
    [self](pop_execute_stream_atom, std::string& key, task_request& task,
           stream_sink_actor& sink) -> caf::result<task_result> {
      if (!sink)
        return make_error(errc::invalid_argument, "execute_stream needs a valid stream sink");
      return on_task(self, key, task, std::move(sink));
    },
    [self](pop_key_stats_atom, const std::string& key) -> caf::result<agent_stats> {
      auto& st = self->state;
      auto it = st.slots.find(key);
      if (it == st.slots.end() || it->second.ph != phase::active) {
        agent_stats s;
        s.name = st.agent_name(key);
        s.role = to_string(st.cfg().agent.role);
        return s;
      }
      return self->delegate(it->second.instance, stats_atom::value);
    },
    [self](pop_activate_atom, const std::string& key) { return on_activate(self, key); },
    [self](pop_passivate_atom, const std::string& key) {
      auto& st = self->state;
      auto it = st.slots.find(key);
      if (it == st.slots.end() || it->second.ph != phase::active)
        return false;
      if (it->second.in_flight > 0) {
        it->second.passivate_when_idle = reason::request;
        return false;
      }
      passivate(self, key, reason::request);
      return true;
    },
    [self](pop_passivate_all_atom) { return on_passivate_all(self); },
    [self](stats_atom) { return make_stats(self->state); },
    [self](pop_set_vars_atom, const std::string& key,
           std::map<std::string, std::string>& vars) { return on_set_vars(self, key, vars); },
    [self](pop_flush_atom) {
      self->state.flush_scheduled = false;
      // Saves first: a key that ended and is claimed again must not read
      // the state from before its last save (the store serves in order).
      send_saves(self);
      send_claims(self);
    },
    [self](pop_sweep_atom) {
      sweep(self);
      passivate_next(self);
    },
    [](ping_atom) { return pong_atom::value; },
  };
}

}  // namespace population_detail

population_actor spawn_population(caf::actor_system& sys, population_setup setup) {
  AG_ASSERT(setup.cfg && setup.spawn_instance && setup.store);
  AG_ASSERT(setup.owner_epoch > 0 && !setup.owner.empty());
  AG_ASSERT(setup.cfg->active_max >= 1 && setup.cfg->waiting_max >= 1);
  return sys.spawn(population_detail::population_behavior, std::move(setup));
}

}  // namespace agentgraph
