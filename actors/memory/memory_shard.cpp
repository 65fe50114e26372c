#include "runtime/virtual_time.hpp"
#include "actors/memory/memory_shard.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "actors/memory/memory_shard_commit.hpp"
#include "actors/memory/memory_shard_embed.hpp"
#include "actors/memory/memory_snapshot.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

namespace memory_shard_detail {

using shard_pointer = memory_shard_pointer;
using snapshot_done = std::function<void(caf::expected<uint64_t>)>;

// Publishes the size of the shard after its entries changed.
void note_entries(memory_shard_state& st) {
  metrics::set(st.metrics.entries, static_cast<double>(st.store->size()));
  metrics::set(st.metrics.bytes, static_cast<double>(st.store->bytes()));  // O(1)
}

caf::expected<std::pair<uint64_t, bool>> store_or_place(memory_shard_state& st, memory_entry e,
                                                        bool placed, std::vector<float> vector) {
  if (placed)
    return st.store->place(std::move(e), st.now_ms(), std::move(vector));
  auto id = st.store->store(std::move(e), st.now_ms(), std::move(vector));
  if (!id)
    return std::move(id.error());
  return std::pair{*id, true};
}

void store_now(shard_pointer self, memory_entry e, bool placed, std::vector<float> vector,
               caf::typed_response_promise<uint64_t> rp) {
  auto& s = self->state;
  if (s.commit) {
    memory_commit_detail::store_and_wait(self, std::move(e), placed, std::move(vector),
                                         std::move(rp));
    return;
  }
  auto id = store_or_place(s, std::move(e), placed, std::move(vector));
  if (!id) {
    s.metrics.stores.failed(id.error());
    rp.deliver(std::move(id.error()));
    return;
  }
  s.metrics.stores.ok();
  if (id->second) {
    ++s.mutation_seq;
    note_entries(s);
  }
  rp.deliver(id->first);
}

// store_atom and replica_store_atom.
caf::result<uint64_t> on_store(shard_pointer self, memory_entry& e, bool placed) {
  if (self->state.embed)
    return memory_embed_detail::on_store(self, e, placed);
  auto rp = self->make_response_promise<uint64_t>();
  store_now(self, std::move(e), placed, {}, rp);
  return rp;
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
  memory_embed_detail::pump(self, false);  // a provider's model: the new entries' vectors
  return added;
}

memory_snapshot_writer::behavior_type writer(memory_snapshot_writer::pointer, std::string path) {
  return {
    [path](snapshot_write_atom, const std::vector<memory_entry>& entries, uint64_t next_id,
           const embedding_label& label) -> caf::result<uint64_t> {
      return save_memory_snapshot(path, entries, next_id, label);
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
                st.store->entries_copy(), st.store->next_id(), st.store->label())
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
  const bool own_tick = sender && sender.get() == self->ctrl();
  if (own_tick)
    self->delayed_send(self, tick_interval(st.store->config()), cleanup_atom::value);
  // Entries without a vector (restored, imported, a changed model): the
  // first cleanup starts them, each timer tick resumes after a failure.
  memory_embed_detail::pump(self, true);
}

caf::expected<std::vector<memory_hit>> finish_recall(shard_pointer self,
                                                     caf::expected<std::vector<memory_hit>> hits) {
  auto& st = self->state;
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

// recall_atom and recall_scoped_atom: `run(store, now, query vector)` gives
// the hits; a provider's model embeds the query first.
caf::result<std::vector<memory_hit>> on_recall(shard_pointer self, const std::string& query,
                                               uint32_t k, memory_embed_detail::recall_fn run) {
  auto& st = self->state;
  if (st.embed)
    return memory_embed_detail::on_recall(self, query, k, std::move(run));
  return finish_recall(self, run(*st.store, st.now_ms(), nullptr));
}

// Whether a file's vectors came from the model and dimension cfg names. A
// file without a label was written when only hash-<dim> existed: its
// entries are embedded on load anyway, so for a hash model it is no change.
bool same_model(const memory_config& cfg, const embedding_model_spec& spec,
                const std::optional<embedding_label>& label) {
  if (!label)
    return spec.hashing;
  const uint32_t want = spec.hashing ? spec.hash_dim : cfg.embedding_dimensions;
  return label->model == cfg.embedding_model
         && (label->dimension == 0 || want == 0 || label->dimension == want);
}

std::string label_text(const std::optional<embedding_label>& label) {
  if (!label)
    return "an unrecorded hash-<dim> model";
  return label->model
         + (label->dimension != 0 ? " (" + std::to_string(label->dimension) + " dimensions)" : "");
}

// A loaded snapshot against the configured model (model_change).
caf::error check_model(const memory_config& cfg, const embedding_model_spec& spec,
                       const memory_snapshot& snap) {
  if (snap.entries.empty() || same_model(cfg, spec, snap.label))
    return caf::none;
  const auto what = "memory snapshot '" + cfg.snapshot_path + "' holds "
                    + std::to_string(snap.entries.size()) + " entries embedded with "
                    + label_text(snap.label) + "; memory." + cfg.name + ".embedding_model is "
                    + cfg.embedding_model
                    + (cfg.embedding_dimensions != 0
                         ? " (" + std::to_string(cfg.embedding_dimensions) + " dimensions)"
                         : "");
  if (cfg.model_change == embedding_model_change::refuse)
    return make_error(errc::invalid_argument,
                      what + ": refused (model_change = refuse); set model_change = reembed to "
                             "embed them again, or configure the old model");
  log(log_severity::info, "memory",
      spec.hashing ? "model changed: entries embedded again on load"
                   : "model changed: entries load without vectors and are embedded again in "
                     "the background",
      {{"shard", "memory." + cfg.name}, {"detail", what}});
  return caf::none;
}

}  // namespace memory_shard_detail

int64_t system_unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

memory_shard_actor::behavior_type memory_shard(memory_shard_pointer self,
                                               std::shared_ptr<memory_store> store,
                                               std::function<int64_t()> now_ms,
                                               std::shared_ptr<metrics::registry> registry,
                                               memory_embed_deps deps) {
  namespace d = memory_shard_detail;
  auto& st = self->state;
  st.store.emplace(std::move(*store));
  st.metrics = make_memory_metrics(std::move(registry), st.store->config().name);
  d::note_entries(st);
  st.now_ms = std::move(now_ms);
  st.last_snapshot_ms = st.now_ms();
  const auto& cfg = st.store->config();
  if (!st.store->embeds_itself())
    memory_embed_detail::start(self, std::move(deps));
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
      return d::on_recall(self, query, k,
                          [query, k](memory_store& store, int64_t now, const std::vector<float>* v) {
                            return store.recall(query, k, now, v);
                          });
    },
    [self](recall_scoped_atom, const std::string& query, uint32_t k,
           const std::vector<std::string>& scopes) {
      return d::on_recall(self, query, k,
                          [query, k, scopes](memory_store& store, int64_t now,
                                             const std::vector<float>* v) {
                            return store.recall_scoped(query, k, scopes, now, v);
                          });
    },
    [self](stats_atom) {
      auto stats = self->state.store->stats();
      stats.snapshots_written = self->state.snapshots_written;
      memory_embed_detail::fill_stats(self->state, stats);
      return stats;
    },
    [self](cache_l3_atom, uint64_t tag, cache::l3_reply& rep) {
      memory_embed_detail::on_l3(self, tag, rep);
    },
    [self](memory_embed_retry_atom, uint64_t tag) { memory_embed_detail::on_retry(self, tag); },
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
                                               std::shared_ptr<metrics::registry> registry,
                                               memory_embed_deps deps) {
  if (!now_ms)
    now_ms = system_unix_ms;
  auto store = memory_store::make(cfg);
  if (!store)
    return std::move(store.error());
  auto spec = parse_embedding_spec(cfg.embedding_model);
  AG_ASSERT(static_cast<bool>(spec), "memory_store::make validated it");
  if (!spec->hashing && !deps.provider)
    return make_error(errc::invalid_argument,
                      "memory." + cfg.name + ".embedding_model: " + cfg.embedding_model
                        + " needs the provider '" + spec->provider + "', and none was given");
  if (!cfg.snapshot_path.empty()) {
    auto snapshot = load_memory_snapshot(cfg.snapshot_path);
    if (!snapshot)
      return std::move(snapshot.error());
    if (auto err = memory_shard_detail::check_model(cfg, *spec, *snapshot))
      return err;
    if (auto err = store->restore(std::move(snapshot->entries), snapshot->next_id))
      return make_error(*errc_of(err),
                        "memory snapshot '" + cfg.snapshot_path + "': " + error_context(err));
  }
  auto boxed = std::make_shared<memory_store>(std::move(*store));
  auto shard = sys.spawn(memory_shard, std::move(boxed), std::move(now_ms), std::move(registry),
                         std::move(deps));
  // First in the mailbox: retention over the loaded entries (max_entries
  // may have shrunk since the snapshot) runs before any request.
  caf::anon_send(shard, cleanup_atom::value);
  return shard;
}

}  // namespace agentgraph
