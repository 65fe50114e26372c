#include "actors/host/cluster/replicated_memory.hpp"

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/agent/agent_group.hpp"
#include "actors/memory/memory_store.hpp"
#include "runtime/assert.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

namespace replicated_memory_detail {

struct replica {
  std::string node;
  memory_replica_actor handle;
  bool local = false;
};

struct front_state {
  static inline const char* name = "replicated_memory";
  replicated_memory_args args;
  call_watch watch{replicated_memory_calls_max};
  std::vector<replica> set;  // the replica set, in rendezvous order
  caf::actor local_seen;     // the local shard the set was computed with
  std::vector<replica> sources_seen;  // the candidates the set was computed from
  uint64_t seed = 0;
  uint64_t counter = 0;
  // The fill of this node's shard: generation (a newer pass or a set
  // change ends an older one), whether one runs, the sources it has not
  // started yet, those that failed, and failed passes in a row (backoff).
  uint64_t fill_gen = 0;
  bool filling = false;
  bool settle_pass = false;  // the running pass is the settle pass
  std::vector<replica> fill_sources;
  size_t fill_source_count = 0;
  std::vector<std::string> fill_failed_sources;
  uint32_t fill_failed_passes = 0;
  uint64_t fill_added = 0;
  metrics::counter* rereplicated = nullptr;
  metrics::gauge* replicas = nullptr;
};

using front_self = replicated_memory_actor::stateful_pointer<front_state>;

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::string subject(const front_state& st, const replica& r) {
  return "memory '" + st.args.name + "' replica on " + (r.node.empty() ? "this node" : r.node);
}

bool is_unavailable(const caf::error& err) {
  return errc_of(err) == errc::unavailable;
}

caf::error none_live(const front_state& st) {
  return make_error(errc::unavailable, "memory '" + st.args.name + "': no live replica");
}

// One slot stays free for the fill's one request.
bool room(const front_state& st, size_t calls) {
  return st.watch.size() + calls < replicated_memory_calls_max;
}

caf::error too_busy(const front_state& st) {
  return make_error(errc::overloaded, "memory '" + st.args.name + "': "
                                        + std::to_string(replicated_memory_calls_max)
                                        + " requests to replicas already in flight");
}

call_watch::clock::time_point deadline(front_self self) {
  return self->clock().now() + self->state.args.call_timeout;
}

memory_replica_actor local_shard(const front_state& st) {
  return caf::actor_cast<memory_replica_actor>(st.args.local.get());
}

// This node's shard and every offer of another node.
std::vector<replica> candidates(const front_state& st) {
  std::vector<replica> out;
  const auto self_name = st.args.table->self();
  if (auto local = local_shard(st))
    out.push_back({self_name, local, true});
  for (auto& o : st.args.table->offers(st.args.name))
    if (o.node != self_name)
      out.push_back({o.node, caf::actor_cast<memory_replica_actor>(o.handle), false});
  return out;
}

// The R candidates rendezvous hashing of the shard's name ranks highest.
std::vector<replica> pick_set(const front_state& st, const std::vector<replica>& cands) {
  std::vector<std::string> keys;
  keys.reserve(cands.size());
  for (const auto& c : cands)
    keys.push_back(c.node);
  std::vector<bool> tried(cands.size(), false);
  std::vector<replica> out;
  while (out.size() < st.args.replicas) {
    const int i = rendezvous_pick(st.args.name, keys, tried);
    if (i < 0)
      break;
    tried[static_cast<size_t>(i)] = true;
    out.push_back(cands[static_cast<size_t>(i)]);
  }
  return out;
}

bool same_replica(const replica& x, const replica& y) {
  return x.node == y.node && x.handle == y.handle;
}

bool same_set(const std::vector<replica>& a, const std::vector<replica>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), same_replica);
}

// Whether `now` has a candidate `before` lacks (a node, or an incarnation,
// that may hold entries this node's copy has not seen).
bool gained(const std::vector<replica>& before, const std::vector<replica>& now) {
  return std::any_of(now.begin(), now.end(), [&](const replica& r) {
    return std::none_of(before.begin(), before.end(),
                        [&](const replica& b) { return same_replica(b, r); });
  });
}

std::string nodes_of(const std::vector<replica>& set) {
  std::string out;
  for (const auto& r : set)
    out += (out.empty() ? "" : ",") + (r.node.empty() ? std::string{"(this node)"} : r.node);
  return out;
}

// Every node offering the shard now but this one, set members or not: a
// node that left the set (or was alone in it before others joined, or on
// the other side of a partition) may hold entries no member has.
std::vector<replica> fill_sources(const front_state& st) {
  auto out = candidates(st);
  out.erase(std::remove_if(out.begin(), out.end(), [](const replica& r) { return r.local; }),
            out.end());
  return out;
}

// A page a source sent after `after`: ids strictly ascending, the first
// above `after`. Anything else would loop the fill (a cursor that does not
// advance) or skip entries (a cursor past ids not sent yet).
caf::error check_page(const memory_page& page, uint64_t after, const std::string& who) {
  uint64_t prev = after;
  for (const auto& e : page.entries) {
    if (e.id <= prev)
      return make_error(errc::invalid_argument,
                        who + ": export page after id " + std::to_string(after)
                          + " is not in strictly ascending id order above it (id "
                          + std::to_string(e.id) + " after " + std::to_string(prev) + ")");
    prev = e.id;
  }
  return caf::none;
}

void fill_step(front_self self, uint64_t gen, replica source, uint64_t after);

// Why a pass ends when this node's shard is gone (its supervisor restarts it).
constexpr const char* shard_restarting = "this node's memory shard is restarting";

// The delay before the pass after one that ended: the settle pass after a
// clean first pass; after a failed pass, settle doubled per failed pass in
// a row, at most replica_fill_retry_doublings times.
caf::timespan next_pass_delay(const front_state& st) {
  const uint32_t doublings = std::min(st.fill_failed_passes, replica_fill_retry_doublings);
  return std::chrono::duration_cast<caf::timespan>(st.args.settle * (int64_t{1} << doublings));
}

void fill_end(front_self self, uint64_t gen, const std::string& why) {
  auto& st = self->state;
  if (gen != st.fill_gen)
    return;
  st.filling = false;
  std::string failed;
  for (const auto& n : st.fill_failed_sources)
    failed += (failed.empty() ? "" : ",") + n;
  const bool clean = why.empty() && failed.empty();
  log(clean ? log_severity::info : log_severity::warn, "memory",
      clean ? "replica filled" : "replica fill stopped",
      {{"shard", st.args.name}, {"sources", std::to_string(st.fill_source_count)},
       {"failed_sources", failed}, {"entries", std::to_string(st.fill_added)},
       {"pass", st.settle_pass ? "settle" : "first"},
       {"why", clean ? std::string{} : why.empty() ? "a source failed" : why},
       {"next_pass", clean ? (st.settle_pass ? "none" : "settle") : "retry"}});
  if (clean)
    st.fill_failed_passes = 0;
  if (clean && st.settle_pass)
    return;
  // The first pass's settle pass, or the retry of a failed pass.
  self->delayed_send(self, next_pass_delay(st), replica_settle_atom::value, gen);
  if (!clean)
    ++st.fill_failed_passes;
}

// The next source of the pass starts at the first id; none left ends it.
void fill_next_source(front_self self, uint64_t gen) {
  auto& st = self->state;
  if (st.fill_sources.empty()) {
    fill_end(self, gen, {});
    return;
  }
  auto next = std::move(st.fill_sources.back());
  st.fill_sources.pop_back();
  fill_step(self, gen, std::move(next), 0);
}

// The source failed (or sent a bad page): the pass goes on without it and
// counts as failed, so it is retried.
void fill_source_failed(front_self self, uint64_t gen, const replica& failed,
                        const caf::error& err) {
  auto& st = self->state;
  st.fill_failed_sources.push_back(failed.node);
  log(log_severity::warn, "memory", "replica fill source failed; next source",
      {{"shard", st.args.name}, {"failed", failed.node}, {"error", describe(err)}});
  fill_next_source(self, gen);
}

// Requests of ended fills may still be in flight; never past the watch's bound.
bool fill_blocked(front_self self, uint64_t gen) {
  if (self->state.watch.size() < replicated_memory_calls_max)
    return false;
  fill_end(self, gen, "too many requests in flight");
  return true;
}

void fill_import(front_self self, uint64_t gen, replica source, memory_page page) {
  auto& st = self->state;
  if (fill_blocked(self, gen))
    return;
  if (!local_shard(st)) {
    fill_end(self, gen, shard_restarting);
    return;
  }
  const uint64_t last = page.entries.back().id;
  const bool more = page.more;
  watched_request(
    self, st.watch, local_shard(st), deadline(self),
    [self, gen, source, last, more](uint64_t added) {
      auto& s = self->state;
      if (gen != s.fill_gen)
        return;
      s.fill_added += added;
      metrics::inc(s.rereplicated, added);
      if (more)
        fill_step(self, gen, source, last);
      else
        fill_next_source(self, gen);
    },
    [self, gen](caf::error& err) {
      fill_end(self, gen, describe(from_request_error(err, "this node's memory shard")));
    },
    memory_import_atom::value, std::move(page));
}

void fill_step(front_self self, uint64_t gen, replica source, uint64_t after) {
  auto& st = self->state;
  if (fill_blocked(self, gen))
    return;
  watched_request(
    self, st.watch, source.handle, deadline(self),
    [self, gen, source, after](memory_page& page) {
      auto& s = self->state;
      if (gen != s.fill_gen)
        return;
      if (auto err = check_page(page, after, subject(s, source)))
        fill_source_failed(self, gen, source, err);
      else if (page.entries.empty())
        fill_next_source(self, gen);
      else
        fill_import(self, gen, source, std::move(page));
    },
    [self, gen, source](caf::error& err) {
      if (gen == self->state.fill_gen)
        fill_source_failed(self, gen, source,
                           from_request_error(err, subject(self->state, source)));
    },
    memory_export_atom::value, after, replica_fill_page);
}

// Fills this node's shard from every other node offering the shard, one
// after the other (idempotent by id: what it holds already stays as it is).
void start_fill(front_self self, bool settle) {
  auto& st = self->state;
  ++st.fill_gen;
  st.filling = true;
  st.settle_pass = settle;
  st.fill_sources = fill_sources(st);
  st.fill_source_count = st.fill_sources.size();
  st.fill_failed_sources.clear();
  st.fill_added = 0;
  if (!local_shard(st)) {
    fill_end(self, st.fill_gen, shard_restarting);
    return;
  }
  fill_next_source(self, st.fill_gen);
}

bool holds_local(const std::vector<replica>& set) {
  return std::any_of(set.begin(), set.end(), [](const replica& r) { return r.local; });
}

// Recomputes the set from the table and the local shard; when it changed,
// or a node started offering the shard (a healed partition leaves the set
// as it was, and the returning node may hold entries the set lacks), and
// this node is in it, fills this node's shard.
void refresh(front_self self) {
  auto& st = self->state;
  st.local_seen = caf::actor_cast<caf::actor>(st.args.local.get());
  auto cands = candidates(st);
  auto next = pick_set(st, cands);
  const bool joined = gained(st.sources_seen, cands);
  st.sources_seen = std::move(cands);
  const bool changed = !same_set(next, st.set);
  if (!changed && !joined)
    return;
  if (changed) {
    auto before = std::exchange(st.set, std::move(next));
    metrics::set(st.replicas, static_cast<double>(st.set.size()));
    log(log_severity::info, "memory", "replica set",
        {{"shard", st.args.name}, {"replicas", nodes_of(st.set)}, {"was", nodes_of(before)}});
  }
  st.fill_failed_passes = 0;
  if (holds_local(st.set) && st.set.size() > 1) {
    start_fill(self, false);
  } else {
    ++st.fill_gen;  // a fill running for a set without this node ends
    st.filling = false;
  }
}

// Requests notice a restarted local shard before the table's next change.
void refresh_if_local_moved(front_self self) {
  if (caf::actor_cast<caf::actor>(self->state.args.local.get()) != self->state.local_seen)
    refresh(self);
}

caf::result<uint64_t> on_store(front_self self, memory_entry& e) {
  auto& st = self->state;
  if (e.id != 0)
    return make_error(errc::invalid_argument, "memory entry: id is assigned by the shard; send 0");
  if (auto err = validate_new_entry(e))
    return err;
  refresh_if_local_moved(self);
  if (st.set.empty())
    return none_live(st);
  if (!room(st, st.set.size()))
    return too_busy(st);
  e.id = replica_entry_id(st.seed, ++st.counter);
  if (e.created_ms == 0)
    e.created_ms = st.args.now_ms();
  struct tally {
    size_t waiting = 0;
    size_t stored = 0;
    caf::error failed;  // the first error other than unavailable
    caf::error down;    // the first unavailable
  };
  auto t = std::make_shared<tally>();
  t->waiting = st.set.size();
  auto rp = self->make_response_promise<uint64_t>();
  const uint64_t id = e.id;
  auto answered = [self, t, rp, id]() mutable {
    AG_ASSERT(t->waiting > 0);
    if (--t->waiting > 0)
      return;
    if (t->failed)
      rp.deliver(t->failed);
    else if (t->stored > 0)
      rp.deliver(id);
    else
      rp.deliver(t->down ? t->down : none_live(self->state));
  };
  const auto when = deadline(self);
  for (const auto& r : st.set)
    watched_request(
      self, st.watch, r.handle, when,
      [t, answered](uint64_t) mutable {
        ++t->stored;
        answered();
      },
      [t, answered, who = subject(st, r)](caf::error& err) mutable {
        auto mapped = from_request_error(err, who);
        auto& slot = is_unavailable(mapped) ? t->down : t->failed;
        if (!slot)
          slot = std::move(mapped);
        answered();
      },
      replica_store_atom::value, e);
  return rp;
}

using hits_promise = caf::typed_response_promise<std::vector<memory_hit>>;

// `msg`: a recall (recall_atom or recall_scoped_atom and its arguments),
// sent to order[i] and, while replicas are unavailable, to the next ones.
template <class... Ts>
void recall_from(front_self self, std::shared_ptr<const std::vector<replica>> order, size_t i,
                 hits_promise rp, Ts... msg) {
  auto& st = self->state;
  const auto& r = (*order)[i];
  watched_request(
    self, st.watch, r.handle, deadline(self),
    [rp](std::vector<memory_hit>& hits) mutable { rp.deliver(std::move(hits)); },
    [self, order, i, rp, who = subject(st, r), msg...](caf::error& err) mutable {
      auto mapped = from_request_error(err, who);
      if (is_unavailable(mapped) && i + 1 < order->size() && room(self->state, 1))
        recall_from(self, order, i + 1, std::move(rp), std::move(msg)...);
      else
        rp.deliver(std::move(mapped));
    },
    msg...);
}

template <class... Ts>
caf::result<std::vector<memory_hit>> on_recall(front_self self, Ts... msg) {
  auto& st = self->state;
  refresh_if_local_moved(self);
  if (st.set.empty())
    return none_live(st);
  if (!room(st, 1))
    return too_busy(st);
  // This node's copy first, unless it is being filled (then last).
  auto order = std::make_shared<std::vector<replica>>(st.set);
  std::stable_partition(order->begin(), order->end(),
                        [&st](const replica& r) { return r.local != st.filling; });
  auto rp = self->make_response_promise<std::vector<memory_hit>>();
  recall_from(self, std::move(order), 0, rp, std::move(msg)...);
  return rp;
}

}  // namespace replicated_memory_detail

uint64_t replica_entry_id(uint64_t seed, uint64_t counter) {
  using replicated_memory_detail::splitmix64;
  for (uint64_t salt = 0;; ++salt) {
    const uint64_t id = splitmix64(seed ^ splitmix64(counter + salt * 0x632be59bd9b4e019ull))
                        & (memory_replica_id_limit - 1);
    if (id != 0)
      return id;
  }
}

namespace {

replicated_memory_actor::behavior_type front(replicated_memory_detail::front_self self,
                                             replicated_memory_args args) {
  namespace d = replicated_memory_detail;
  auto& st = self->state;
  st.seed = args.seed;
  auto* reg = args.metrics.get();
  st.rereplicated = metrics::counter_of(
    reg, "agentgraph_memory_rereplicated_entries_total",
    "Entries copied into this node's copy of a replicated shard from another replica.",
    {"shard"}, {args.name});
  st.replicas = metrics::gauge_of(reg, "agentgraph_memory_replicas",
                                  "Live replicas of a replicated shard, as this node sees them.",
                                  {"shard"}, {args.name});
  st.args = std::move(args);
  route_to_watch(self, &d::front_state::watch);
  d::refresh(self);
  return {
    [self](store_atom, memory_entry& e) { return d::on_store(self, e); },
    [self](recall_atom, const std::string& query, uint32_t k) {
      return d::on_recall(self, recall_atom::value, query, k);
    },
    // Forwarded like recall: the replicas hold the same entries, scopes
    // included, so any of them answers it.
    [self](recall_scoped_atom, const std::string& query, uint32_t k,
           const std::vector<std::string>& scopes) {
      return d::on_recall(self, recall_scoped_atom::value, query, k, scopes);
    },
    // This node's copy; the first replica's when this node has none.
    [self](stats_atom) -> caf::result<memory_stats> {
      auto& st = self->state;
      if (auto local = d::local_shard(st))
        return self->delegate(local, stats_atom::value);
      if (st.set.empty())
        return d::none_live(st);
      return self->delegate(st.set.front().handle, stats_atom::value);
    },
    // Each node persists its own copy.
    [self](snapshot_atom) -> caf::result<uint64_t> {
      if (auto local = d::local_shard(self->state))
        return self->delegate(local, snapshot_atom::value);
      return uint64_t{0};
    },
    [self](cleanup_atom) {
      if (auto local = d::local_shard(self->state))
        self->send(local, cleanup_atom::value);
    },
    [self](memory_flush_atom) {
      if (auto local = d::local_shard(self->state))
        self->send(local, memory_flush_atom::value);
    },
    [self](replicas_changed_atom) { d::refresh(self); },
    [self](replica_settle_atom, uint64_t gen) {
      auto& st = self->state;
      if (gen == st.fill_gen && !st.filling && d::holds_local(st.set) && st.set.size() > 1)
        d::start_fill(self, true);
    },
    [](ping_atom) { return pong_atom::value; },
  };
}

}  // namespace

caf::expected<replicated_memory_actor> spawn_replicated_memory(caf::actor_system& sys,
                                                               replicated_memory_args args) {
  auto bad = [&](const std::string& why) {
    return make_error(errc::invalid_argument, "replicated memory '" + args.name + "': " + why);
  };
  if (args.name.empty())
    return bad("no name");
  if (args.replicas < 2 || args.replicas > memory_replicas_max)
    return bad("replicas must be in [2, " + std::to_string(memory_replicas_max) + "]");
  if (!args.table || !args.local || !args.now_ms)
    return bad("needs a replica table, this node's shard and a clock");
  if (args.call_timeout.count() <= 0 || args.settle.count() <= 0)
    return bad("call_timeout and settle must be positive");
  if (args.seed == 0) {
    std::random_device rd;
    args.seed = (uint64_t{rd()} << 32) ^ rd();
  }
  auto table = args.table;
  const auto name = args.name;
  auto h = sys.spawn(front, std::move(args));
  // Every change of the shard's offers reaches this incarnation; a restart
  // replaces the notification (and reads the table when it starts).
  table->watch(name, [h] { caf::anon_send(h, replicas_changed_atom::value); });
  return h;
}

}  // namespace agentgraph
