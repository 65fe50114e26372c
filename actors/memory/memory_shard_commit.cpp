#include "runtime/virtual_time.hpp"
#include "actors/memory/memory_shard_commit.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <set>
#include <utility>

#include <caf/all.hpp>

#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/metrics/series_ref.hpp"

namespace agentgraph::memory_commit_detail {

namespace {

struct writer_state {
  static inline const char* name = "memory_commit_writer";
  std::optional<memory_commit_file> file;
};

using writer_pointer = memory_commit_writer::stateful_pointer<writer_state>;

memory_commit_writer::behavior_type writer(writer_pointer self, std::string path) {
  self->state.file.emplace(std::move(path));
  return {
    [self](memory_commit_atom, const memory_commit_batch& b) -> caf::result<uint64_t> {
      return self->state.file->commit(b);
    },
    [self](memory_compact_atom) -> caf::result<uint64_t> { return self->state.file->compact(); },
  };
}

// A timeout does not mean the commit failed: it may still land.
caf::error commit_error(const caf::error& err) {
  return from_worker_error(err, "memory commit writer", memory_commit_timeout, errc::io_error);
}

// Moves what the store recorded since the last call into the queue.
void collect(memory_shard_state& st) {
  auto changes = st.store->take_changes();
  for (auto id : changes.upserted)
    st.commit->pending.upsert(id);
  for (auto id : changes.removed)
    st.commit->pending.remove(id);
}

// The rows of a cut as the store holds them now.
memory_commit_batch batch_of(const memory_store& store, const memory_commit_cut& cut) {
  memory_commit_batch b;
  b.next_id = store.next_id();
  b.label = store.label();
  b.deletes = cut.deletes;
  for (auto id : cut.upserts) {
    if (const auto* e = store.find(id))
      b.upserts.push_back(*e);
    else  // removed after the change was queued; the removal is queued too
      b.deletes.push_back(id);
  }
  return b;
}

void send_batch(shard_pointer self);

// Checkpoints and truncates the WAL; `done` gets the outcome after the
// state recorded it (a failure is counted; the file stays correct, only its
// WAL grows until the next compaction).
void compact(shard_pointer self, std::function<void(caf::expected<uint64_t>)> done) {
  auto& c = *self->state.commit;
  c.compacting = true;
  c.commits_at_compaction = c.commits;
  self->request(c.writer, memory_commit_timeout, memory_compact_atom::value)
    .then(
      [self, done](uint64_t frames) {
        self->state.commit->compacting = false;
        ++self->state.snapshots_written;
        done(frames);
      },
      [self, done](caf::error& err) {
        auto& s = self->state;
        s.commit->compacting = false;
        ++s.snapshot_failures;
        metrics::inc(s.metrics.snapshot_failures);
        auto mapped = commit_error(err);
        s.last_snapshot_error = describe(mapped);
        done(std::move(mapped));
      });
}

// Every change is committed: compact, then answer each waiting
// snapshot_atom with the entries the file holds.
void finish_flush_waiters(shard_pointer self) {
  auto waiters = std::exchange(self->state.commit->flush_waiters, {});
  compact(self, [self, waiters](caf::expected<uint64_t> r) mutable {
    for (auto& w : waiters) {
      if (r)
        w.deliver(static_cast<uint64_t>(self->state.store->size()));
      else
        w.deliver(r.error());
    }
  });
}

// Sends a batch now, arms the window timer, or finishes flush waiters.
void schedule(shard_pointer self) {
  auto& st = self->state;
  auto& c = *st.commit;
  if (c.inflight)
    return;  // its reply schedules again
  if (c.pending.empty()) {
    if (!c.flush_waiters.empty())
      finish_flush_waiters(self);
    return;
  }
  const auto& cfg = st.store->config();
  if (c.pending.size() >= cfg.commit_batch_max || !c.flush_waiters.empty()
      || cfg.commit_window.count() == 0) {
    send_batch(self);
    return;
  }
  if (!c.flush_armed) {
    c.flush_armed = true;
    self->delayed_send(self, std::chrono::duration_cast<caf::timespan>(cfg.commit_window),
                       memory_flush_atom::value);
  }
}

void on_committed(shard_pointer self, size_t changes, caf::timespan took) {
  auto& st = self->state;
  auto& c = *st.commit;
  AG_ASSERT(c.inflight.has_value());  // the reply of the one commit in flight
  ++c.commits;
  metrics::inc(st.metrics.commits);
  metrics::observe(st.metrics.commit_batch_changes, static_cast<double>(changes));
  metrics::observe(st.metrics.commit_seconds, std::chrono::duration<double>(took).count());
  c.inflight.reset();
  for (auto& w : std::exchange(c.committing, {})) {
    st.metrics.stores.ok();  // counted when the caller hears "stored"
    w.promise.deliver(w.id);
  }
  // What gathered during the fsync has waited long enough: no window.
  if (!c.pending.empty())
    send_batch(self);
  else
    schedule(self);
}

// Memory must hold what the file holds: the batch's stores are undone (and
// answered with the error), its other changes go back into the queue for
// the next commit. The next commit comes with the next change or tick, not
// at once, so a failing disk is not hammered in a loop.
void on_failed(shard_pointer self, const caf::error& err) {
  auto& st = self->state;
  auto& c = *st.commit;
  ++st.snapshot_failures;
  metrics::inc(st.metrics.commit_failures);
  auto mapped = commit_error(err);
  st.last_snapshot_error = describe(mapped);
  AG_ASSERT(c.inflight.has_value());
  auto cut = std::move(*c.inflight);
  c.inflight.reset();
  std::set<uint64_t> stored;
  for (const auto& w : c.committing)
    stored.insert(w.id);
  std::erase_if(cut.upserts, [&](uint64_t id) { return stored.count(id) != 0; });
  c.pending.requeue(cut);
  (void) st.store->discard({stored.begin(), stored.end()});
  collect(st);  // the discards become deletes: harmless if never written
  for (auto& w : std::exchange(c.committing, {})) {
    st.metrics.stores.failed(mapped);
    w.promise.deliver(mapped);
  }
  for (auto& w : std::exchange(c.flush_waiters, {}))
    w.deliver(mapped);
  memory_shard_detail::note_entries(st);  // the discards changed the size
}

void send_batch(shard_pointer self) {
  auto& st = self->state;
  auto& c = *st.commit;
  // One commit at a time: its stores were all answered before the next.
  AG_ASSERT(!c.inflight.has_value() && c.committing.empty());
  auto cut = c.pending.take(st.store->config().commit_batch_max);
  auto batch = batch_of(*st.store, cut);
  std::set<uint64_t> ids(cut.upserts.begin(), cut.upserts.end());
  ids.insert(cut.deletes.begin(), cut.deletes.end());
  // Stores whose change is in this cut are answered by it; a store evicted
  // by retention before its commit is answered by the commit of its delete.
  auto later = [&](const memory_waiting_store& w) { return ids.count(w.id) == 0; };
  auto mid = std::stable_partition(c.waiting.begin(), c.waiting.end(), later);
  c.committing.assign(std::make_move_iterator(mid), std::make_move_iterator(c.waiting.end()));
  c.waiting.erase(mid, c.waiting.end());
  const size_t changes = batch.size();
  c.inflight = std::move(cut);
  const auto sent = std::chrono::steady_clock::now();
  self->request(c.writer, memory_commit_timeout, memory_commit_atom::value, std::move(batch))
    .then(
      [self, changes, sent](uint64_t) {
        on_committed(self, changes, std::chrono::steady_clock::now() - sent);
      },
      [self](caf::error& err) { on_failed(self, err); });
}

}  // namespace

void start(shard_pointer self, const std::string& path) {
  auto& st = self->state;
  st.commit.emplace();
  st.commit->writer = spawn_blocking_worker<caf::linked>(self, writer, path);
  st.store->track_changes(true);
}

void store_and_wait(shard_pointer self, memory_entry e, bool placed, std::vector<float> vector,
                    caf::typed_response_promise<uint64_t> rp) {
  auto& st = self->state;
  auto& c = *st.commit;
  const auto& cfg = st.store->config();
  if (c.waiting.size() + c.committing.size() >= cfg.commit_waiting_max) {
    auto err = make_error(errc::overloaded, "memory." + cfg.name + ": "
                                              + std::to_string(cfg.commit_waiting_max)
                                              + " stores already wait for their commit");
    st.metrics.stores.failed(err);
    rp.deliver(std::move(err));
    return;
  }
  auto id = memory_shard_detail::store_or_place(st, std::move(e), placed, std::move(vector));
  if (!id) {
    st.metrics.stores.failed(id.error());
    rp.deliver(std::move(id.error()));
    return;
  }
  if (!id->second) {  // placed, and held already: nothing to commit
    st.metrics.stores.ok();
    rp.deliver(id->first);
    return;
  }
  ++st.mutation_seq;
  memory_shard_detail::note_entries(st);
  collect(st);
  c.waiting.push_back({id->first, std::move(rp)});
  AG_ASSERT(c.waiting.size() + c.committing.size() <= cfg.commit_waiting_max);
  schedule(self);
}

void on_changed(shard_pointer self) {
  collect(self->state);
  schedule(self);
}

void on_flush(shard_pointer self) {
  auto& c = *self->state.commit;
  c.flush_armed = false;
  if (!c.inflight && !c.pending.empty())
    send_batch(self);
}

caf::result<uint64_t> on_snapshot(shard_pointer self) {
  auto& st = self->state;
  auto& c = *st.commit;
  if (c.flush_waiters.size() >= memory_snapshots_inflight_max)
    return make_error(errc::overloaded, "memory." + st.store->config().name + ": "
                                          + std::to_string(memory_snapshots_inflight_max)
                                          + " flushes already in flight");
  auto rp = self->make_response_promise<uint64_t>();
  c.flush_waiters.push_back(rp);
  AG_ASSERT(c.flush_waiters.size() <= memory_snapshots_inflight_max);
  schedule(self);
  return rp;
}

void on_tick(shard_pointer self, int64_t now_ms) {
  auto& st = self->state;
  auto& c = *st.commit;
  on_changed(self);  // retention's evictions; a retry after a failed commit
  if (c.compacting || c.commits == c.commits_at_compaction
      || now_ms - st.last_snapshot_ms < st.store->config().snapshot_interval.count())
    return;
  st.last_snapshot_ms = now_ms;
  compact(self, [](caf::expected<uint64_t>) {});
}

}  // namespace agentgraph::memory_commit_detail
