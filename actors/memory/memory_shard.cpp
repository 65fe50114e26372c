#include "runtime/virtual_time.hpp"
#include "actors/memory/memory_shard.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "actors/memory/memory_shard_commit.hpp"
#include "actors/memory/memory_snapshot.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

namespace memory_shard_detail {

using shard_pointer = memory_replica_actor::stateful_pointer<memory_shard_state>;
using snapshot_done = std::function<void(caf::expected<uint64_t>)>;

// Publishes the size of the shard after its entries changed.
void note_entries(memory_shard_state& st) {
  metrics::set(st.metrics.entries, static_cast<double>(st.store->size()));
  metrics::set(st.metrics.bytes, static_cast<double>(st.store->bytes()));  // O(1)
}

caf::expected<std::pair<uint64_t, bool>> store_or_place(memory_shard_state& st, memory_entry e,
                                                        bool placed) {
  if (placed)
    return st.store->place(std::move(e), st.now_ms());
  auto id = st.store->store(std::move(e), st.now_ms());
  if (!id)
    return std::move(id.error());
  return std::pair{*id, true};
}

// store_atom and replica_store_atom without commit durability.
caf::result<uint64_t> on_store(shard_pointer self, memory_entry& e, bool placed) {
  auto& s = self->state;
  if (s.commit)
    return memory_commit_detail::on_store(self, e, placed);
  auto id = store_or_place(s, std::move(e), placed);
  if (!id) {
    s.metrics.stores.failed(id.error());
    return std::move(id.error());
  }
  s.metrics.stores.ok();
  if (id->second) {
    ++s.mutation_seq;
    note_entries(s);
  }
  return id->first;
}

// A page from a peer: checked whole by the store, then added.
caf::result<uint64_t> on_import(shard_pointer self, const memory_page& page) {
  auto& s = self->state;
  auto added = s.store->import_page(page, s.now_ms());
  if (!added || *added == 0)
    return added;
  ++s.mutation_seq;
  note_entries(s);
  if (s.commit)
    memory_commit_detail::on_changed(self);
  return added;
}

memory_snapshot_writer::behavior_type writer(memory_snapshot_writer::pointer, std::string path) {
  return {
    [path](snapshot_write_atom, const std::vector<memory_entry>& entries,
           uint64_t next_id) -> caf::result<uint64_t> {
      return save_memory_snapshot(path, entries, next_id);
    },
  };
}

// One timer drives both duties, so it fires at the shorter interval.
caf::timespan tick_interval(const memory_config& cfg) {
  auto interval = cfg.cleanup_interval;
  if (!cfg.snapshot_path.empty())
    interval = std::min(interval, cfg.snapshot_interval);
  return std::chrono::duration_cast<caf::timespan>(interval);
}

// A timeout does not mean the snapshot failed: it may still complete.
caf::error snapshot_error(const caf::error& err) {
  return from_worker_error(err, "memory snapshot writer", memory_snapshot_write_timeout,
                           errc::io_error);
}

// Hands a copy of the entries to the writer; `done` gets the outcome after
// the state has recorded it.
void start_snapshot(shard_pointer self, snapshot_done done) {
  auto& st = self->state;
  ++st.snapshots_inflight;
  // on_snapshot refuses at the bound and a tick starts one only when none runs.
  AG_ASSERT(st.snapshots_inflight <= memory_snapshots_inflight_max);
  uint64_t seq = st.mutation_seq;
  self->request(st.writer, memory_snapshot_write_timeout, snapshot_write_atom::value,
                st.store->entries_copy(), st.store->next_id())
    .then(
      [self, seq, done](uint64_t written) {
        auto& s = self->state;
        AG_ASSERT(s.snapshots_inflight > 0);
        --s.snapshots_inflight;
        ++s.snapshots_written;
        s.saved_seq = std::max(s.saved_seq, seq);
        AG_ASSERT(s.saved_seq <= s.mutation_seq);  // no snapshot is ahead of the state
        done(written);
      },
      [self, done](caf::error& err) {
        auto& s = self->state;
        AG_ASSERT(s.snapshots_inflight > 0);
        --s.snapshots_inflight;
        ++s.snapshot_failures;
        metrics::inc(s.metrics.snapshot_failures);
        auto mapped = snapshot_error(err);
        s.last_snapshot_error = describe(mapped);
        done(std::move(mapped));
      });
}

caf::result<uint64_t> on_snapshot(shard_pointer self) {
  auto& st = self->state;
  if (st.commit)
    return memory_commit_detail::on_snapshot(self);
  // Nothing is persisted without a path; 0 entries written is the truth.
  if (!st.writer)
    return uint64_t{0};
  if (st.snapshots_inflight >= memory_snapshots_inflight_max)
    return make_error(errc::overloaded,
                      "memory." + st.store->config().name + ": "
                        + std::to_string(memory_snapshots_inflight_max)
                        + " snapshots already in flight");
  auto rp = self->make_response_promise<uint64_t>();
  start_snapshot(self, [rp](caf::expected<uint64_t> r) mutable {
    if (r)
      rp.deliver(*r);
    else
      rp.deliver(std::move(r.error()));
  });
  return rp;
}

bool snapshot_due(const memory_shard_state& st, int64_t now) {
  const auto& cfg = st.store->config();
  return st.writer && st.mutation_seq != st.saved_seq && st.snapshots_inflight == 0
         && now - st.last_snapshot_ms >= cfg.snapshot_interval.count();
}

void on_cleanup(shard_pointer self) {
  auto& st = self->state;
  int64_t now = st.now_ms();
  if (st.store->enforce_retention(now) > 0)
    ++st.mutation_seq;
  note_entries(st);
  if (st.commit)
    memory_commit_detail::on_tick(self, now);
  else if (snapshot_due(st, now)) {
    st.last_snapshot_ms = now;
    // Failures are counted and kept in last_snapshot_error by
    // start_snapshot; the state stays dirty, so the next tick retries.
    start_snapshot(self, [](caf::expected<uint64_t>) {});
  }
  // Only the timer's own tick re-arms the timer, so cleanups sent by others
  // (spawn, the Runtime, tests) never multiply the timers.
  const auto& sender = self->current_sender();
  if (sender && sender.get() == self->ctrl())
    self->delayed_send(self, tick_interval(st.store->config()), cleanup_atom::value);
}

// recall_atom and recall_scoped_atom: `recall(store, now)` gives the hits.
template <class Recall>
caf::result<std::vector<memory_hit>> on_recall(shard_pointer self, Recall recall) {
  auto& st = self->state;
  caf::expected<std::vector<memory_hit>> hits = recall(*st.store, st.now_ms());
  if (hits && !hits->empty()) {
    ++st.mutation_seq;  // access fields changed
    // The reply does not wait for these: access fields are bookkeeping, not
    // something a caller was promised; they reach the file with the next
    // commit (within commit_window).
    if (st.commit)
      memory_commit_detail::on_changed(self);
  }
  if (hits)
    st.metrics.recalls.ok();
  else
    st.metrics.recalls.failed(hits.error());
  return hits;
}

}  // namespace memory_shard_detail

int64_t system_unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

memory_replica_actor::behavior_type memory_shard(memory_replica_actor::stateful_pointer<memory_shard_state> self,
                                         std::shared_ptr<memory_store> store,
                                         std::function<int64_t()> now_ms,
                                         std::shared_ptr<metrics::registry> registry) {
  namespace d = memory_shard_detail;
  auto& st = self->state;
  st.store.emplace(std::move(*store));
  st.metrics = make_memory_metrics(std::move(registry), st.store->config().name);
  d::note_entries(st);
  st.now_ms = std::move(now_ms);
  st.last_snapshot_ms = st.now_ms();
  const auto& cfg = st.store->config();
  if (!cfg.snapshot_path.empty() && cfg.durability == memory_durability::commit)
    memory_commit_detail::start(self, cfg.snapshot_path);
  else if (!cfg.snapshot_path.empty())
    st.writer = spawn_blocking_worker<caf::linked>(self, d::writer, cfg.snapshot_path);
  self->delayed_send(self, d::tick_interval(cfg), cleanup_atom::value);
  return {
    [self](store_atom, memory_entry& e) { return d::on_store(self, e, false); },
    [self](replica_store_atom, memory_entry& e) { return d::on_store(self, e, true); },
    [self](memory_export_atom, uint64_t after_id, uint32_t limit) -> caf::result<memory_page> {
      return self->state.store->export_page(after_id, limit);
    },
    [self](memory_import_atom, const memory_page& page) { return d::on_import(self, page); },
    [self](recall_atom, const std::string& query, uint32_t k) {
      return d::on_recall(self, [&](memory_store& store, int64_t now) {
        return store.recall(query, k, now);
      });
    },
    [self](recall_scoped_atom, const std::string& query, uint32_t k,
           const std::vector<std::string>& scopes) {
      return d::on_recall(self, [&](memory_store& store, int64_t now) {
        return store.recall_scoped(query, k, scopes, now);
      });
    },
    [self](stats_atom) {
      auto stats = self->state.store->stats();
      stats.snapshots_written = self->state.snapshots_written;
      return stats;
    },
    [self](snapshot_atom) { return d::on_snapshot(self); },
    [self](cleanup_atom) { d::on_cleanup(self); },
    [self](memory_flush_atom) {
      if (self->state.commit)
        memory_commit_detail::on_flush(self);
    },
    [](ping_atom) { return pong_atom::value; },
  };
}

caf::expected<memory_actor> spawn_memory_shard(caf::actor_system& sys, const memory_config& cfg,
                                               std::function<int64_t()> now_ms,
                                               std::shared_ptr<metrics::registry> registry) {
  if (!now_ms)
    now_ms = system_unix_ms;
  auto store = memory_store::make(cfg);
  if (!store)
    return std::move(store.error());
  if (!cfg.snapshot_path.empty()) {
    auto snapshot = load_memory_snapshot(cfg.snapshot_path);
    if (!snapshot)
      return std::move(snapshot.error());
    if (auto err = store->restore(std::move(snapshot->entries), snapshot->next_id))
      return make_error(*errc_of(err),
                        "memory snapshot '" + cfg.snapshot_path + "': " + error_context(err));
  }
  auto boxed = std::make_shared<memory_store>(std::move(*store));
  auto shard = sys.spawn(memory_shard, std::move(boxed), std::move(now_ms), std::move(registry));
  // First in the mailbox: retention over the loaded entries (max_entries
  // may have shrunk since the snapshot) runs before any request.
  caf::anon_send(shard, cleanup_atom::value);
  return shard;
}

}  // namespace agentgraph
