#include "actors/memory/memory_shard_embed.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include <caf/all.hpp>

#include "runtime/assert.hpp"
#include "runtime/digest.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics/series_ref.hpp"

namespace agentgraph::memory_embed_detail {

namespace memory_shard_embed_impl {

using done_fn = std::function<void(caf::expected<std::vector<float>>)>;

std::string shard_name(const memory_shard_state& st) {
  return "memory." + st.store->config().name;
}


// The cache key of a text: which provider (its identity's digest: kind and
// endpoint), model and dimension (a changed model never hits an old
// vector), then the text by its RIPEMD-160, so a key stays short whatever
// the text (entries reach 1 MiB).
std::string cache_key(const memory_embed_state& em, const std::string& text) {
  return em.key_prefix + ripemd160_hex(text);
}

// A vector as the cache holds it: each float's bits, little-endian, so a
// vector Redis holds reads the same on every node.
std::string encode_vector(const std::vector<float>& v) {
  std::string out(v.size() * 4, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t bits = 0;
    std::memcpy(&bits, &v[i], 4);
    for (size_t b = 0; b < 4; ++b)
      out[i * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
  }
  return out;
}

// Empty when the bytes cannot be a vector (then the value counts as a miss).
std::vector<float> decode_vector(const std::string& bytes) {
  std::vector<float> v;
  if (bytes.empty() || bytes.size() % 4 != 0 || bytes.size() / 4 > memory_embedding_dimensions_max)
    return v;
  v.resize(bytes.size() / 4);
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t bits = 0;
    for (size_t b = 0; b < 4; ++b)
      bits |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i * 4 + b])) << (8 * b);
    std::memcpy(&v[i], &bits, 4);
  }
  return v;
}

bool warn_due(memory_shard_state& st) {
  auto now = st.now_ms();
  auto& em = *st.embed;
  if (em.last_warn_ms != 0 && now - em.last_warn_ms < memory_embed_warn_interval_ms)
    return false;
  em.last_warn_ms = now;
  return true;
}

void note_pending(memory_shard_state& st) {
  metrics::set(st.metrics.vectors_pending, static_cast<double>(st.store->unembedded().size()));
}

void record_latency(memory_embed_state& em, double ms) {
  if (em.latencies_ms.size() < memory_embed_latency_window) {
    em.latencies_ms.push_back(ms);
  } else {
    em.latencies_ms[em.latency_next] = ms;
    em.latency_next = (em.latency_next + 1) % memory_embed_latency_window;
  }
}

// Takes the wait out and runs its continuation with `result`.
void finish(shard_pointer self, uint64_t tag, caf::expected<std::vector<float>> result) {
  auto& em = *self->state.embed;
  auto it = em.waits.find(tag);
  AG_ASSERT(it != em.waits.end(), "a wait finished twice");
  auto wait = std::move(it->second);
  em.waits.erase(it);
  auto& count = wait.background ? em.background : em.foreground;
  AG_ASSERT(count > 0);
  --count;
  wait.done(std::move(result));
}

void ask(shard_pointer self, uint64_t tag);

// A vector from the cache or the provider, through accept_vector. A cached
// vector the store refuses (another shape) is not an answer: the provider
// is asked.
void accept(shard_pointer self, uint64_t tag, std::vector<float> raw, bool from_provider) {
  auto& st = self->state;
  auto& em = *st.embed;
  auto v = st.store->accept_vector(std::move(raw));
  if (!v && !from_provider) {
    ask(self, tag);
    return;
  }
  if (!v) {
    finish(self, tag, std::move(v.error()));
    return;
  }
  if (from_provider)
    em.cache->put(em.waits.at(tag).key, encode_vector(*v));
  finish(self, tag, std::move(*v));
}

void fail(shard_pointer self, uint64_t tag, caf::error err) {
  auto& em = *self->state.embed;
  auto& wait = em.waits.at(tag);
  if (wait.second_chance && !is_retryable(err)) {
    wait.second_chance = false;
    ++wait.attempts_left;
    ask(self, tag);
    return;
  }
  if (wait.attempts_left > 0 && is_retryable(err)
      && self->clock().now() + wait.backoff < wait.deadline) {
    wait.stage = memory_embed_stage::backoff;
    self->delayed_send(self, wait.backoff, memory_embed_retry_atom::value, tag);
    wait.backoff *= 2;
    return;
  }
  finish(self, tag, std::move(err));
}

// One provider request for the wait's text.
void ask(shard_pointer self, uint64_t tag) {
  auto& st = self->state;
  auto& em = *st.embed;
  auto& wait = em.waits.at(tag);
  const auto started = self->clock().now();
  if (wait.attempts_left == 0 || started >= wait.deadline) {
    finish(self, tag, make_error(errc::timeout, "embedding of a text gave no vector within "
                                                  "embedding_timeout"));
    return;
  }
  --wait.attempts_left;
  wait.stage = memory_embed_stage::provider;
  ++em.embed_calls;
  const auto& cfg = st.store->config();
  const auto deadline = wait.deadline;
  const auto subject = "embedding provider '" + em.provider_name + "'";
  embed_request req{em.model, {wait.text}, em.dimensions};
  watched_request(
    self, st.embed_watch, em.provider.get(), deadline,
    [self, tag, started](embed_response& r) {
      auto& s = self->state;
      const auto ms = std::chrono::duration<double, std::milli>(self->clock().now() - started);
      record_latency(*s.embed, ms.count());
      metrics::observe(s.metrics.embedding_seconds, ms.count() / 1000.0);
      if (r.vectors.size() != 1) {
        ++s.embed->embed_failures;
        auto err = make_error(errc::provider_error,
                              "embedding provider '" + s.embed->provider_name + "' gave "
                                + std::to_string(r.vectors.size()) + " vectors for one text");
        s.metrics.embeddings.failed(err);
        fail(self, tag, std::move(err));
        return;
      }
      s.metrics.embeddings.ok();
      accept(self, tag, std::move(r.vectors.front()), true);
    },
    [self, tag, subject, timeout = cfg.embedding_timeout](caf::error& e) {
      auto& s = self->state;
      ++s.embed->embed_failures;
      auto err = from_request_error(std::move(e), subject, timeout);
      s.metrics.embeddings.failed(err);
      fail(self, tag, std::move(err));
    },
    embed_atom::value, std::move(req));
}

// The first `max` bytes of `text`, cut back to the start of a UTF-8
// character (never inside one: vendors refuse invalid UTF-8).
std::string embedded_part(std::string text, size_t max) {
  if (text.size() <= max)
    return text;
  size_t cut = max;
  // At most 3 steps back: a character has at most 3 continuation bytes (a
  // text that is not UTF-8 is cut where it is, not emptied).
  for (int back = 0; back < 3 && cut > 0
                     && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80;
       ++back)
    --cut;
  text.resize(cut);
  return text;
}

// Starts looking for the vector of `text` (its embedded part); `done` runs
// once with it or with the error. The caller has checked the bound of its
// kind.
void want_vector(shard_pointer self, std::string text, bool background, uint32_t attempts,
                 done_fn done) {
  auto& st = self->state;
  auto& em = *st.embed;
  text = embedded_part(std::move(text), st.store->config().embedding_input_bytes_max);
  const uint64_t tag = em.next_tag++;
  auto key = cache_key(em, text);
  auto& wait = em.waits[tag];
  wait.text = std::move(text);
  wait.key = key;
  wait.background = background;
  wait.attempts_left = attempts;
  wait.second_chance = !background && attempts > 1;  // a store, not a recall
  wait.deadline = self->clock().now() + st.store->config().embedding_timeout;
  wait.done = std::move(done);
  ++(background ? em.background : em.foreground);
  auto found = em.cache->lookup(key, [me = caf::actor_cast<caf::actor>(self), tag](
                                       cache::l3_reply rep) {
    caf::anon_send(me, cache_l3_atom::value, tag, std::move(rep));  // Redis I/O thread
  });
  if (found.state == cache::found::pending)
    return;
  if (found.state == cache::found::hit) {
    auto v = decode_vector(found.value);
    if (!v.empty()) {
      ++em.cache_hits;
      metrics::inc(st.metrics.embedding_cache_hits);
      accept(self, tag, std::move(v), false);
      return;
    }
  }
  ask(self, tag);
}

caf::error check_entry(const memory_entry& e, bool placed) {
  if (auto err = validate_new_entry(e))
    return err;
  if (!placed && e.id != 0)
    return make_error(errc::invalid_argument, "memory entry: id is assigned by the shard; send 0");
  if (placed && e.id == 0)
    return make_error(errc::invalid_argument, "memory entry: a replica's id must not be 0");
  return caf::none;
}

caf::error overloaded(const memory_shard_state& st) {
  const auto& cfg = st.store->config();
  return make_error(errc::overloaded, shard_name(st) + ": "
                                        + std::to_string(cfg.embedding_waiting_max)
                                        + " stores and recalls already wait for an embedding");
}

void log_progress(memory_shard_state& st) {
  auto& em = *st.embed;
  if (em.reembed_total == 0)
    return;
  const uint64_t left = st.store->unembedded().size();
  const uint64_t done = em.reembed_total > left ? em.reembed_total - left : 0;
  const uint64_t step = done * 10 / em.reembed_total;
  if (step <= em.reembed_logged_step && left != 0)
    return;
  em.reembed_logged_step = step;
  log(log_severity::info, "memory", "embedding entries held without a vector",
      {{"shard", shard_name(st)},
       {"done", std::to_string(done)},
       {"of", std::to_string(em.reembed_total)},
       {"model", st.store->config().embedding_model}});
  if (left == 0)
    em.reembed_total = 0;
}

}  // namespace memory_shard_embed_impl

void start(shard_pointer self, memory_embed_deps deps) {
  auto& st = self->state;
  const auto& cfg = st.store->config();
  auto spec = parse_embedding_spec(cfg.embedding_model);
  AG_ASSERT(spec && !spec->hashing, "start() for a provider's model only");
  AG_ASSERT(static_cast<bool>(deps.provider), "spawn_memory_shard checks the provider");
  auto& em = st.embed.emplace();
  em.provider = std::move(deps.provider);
  em.provider_name = spec->provider;
  em.model = spec->model;
  em.dimensions = cfg.embedding_dimensions;
  em.key_prefix = ripemd160_hex(deps.provider_identity).substr(0, 16) + ":"
                  + em.model + "/" + std::to_string(em.dimensions) + "/";
  cache::multi_level_cache_config mc;
  mc.user = cache::cache_user::embedding;
  mc.l1_entries_max = cfg.embedding_cache_entries;
  mc.ttl = cfg.embedding_cache_ttl;
  mc.tiers = std::move(deps.tiers);
  auto made = cache::multi_level_cache::make(std::move(mc));
  AG_ASSERT(static_cast<bool>(made), "validate_memory_config checks the cache keys");
  em.cache.emplace(std::move(*made));
  st.embed_watch = call_watch{size_t{cfg.embedding_waiting_max} + cfg.reembed_inflight};
  route_to_watch(self, &memory_shard_state::embed_watch);
  memory_shard_embed_impl::note_pending(st);
}

caf::result<uint64_t> on_store(shard_pointer self, memory_entry& e, bool placed) {
  namespace impl = memory_shard_embed_impl;
  auto& st = self->state;
  auto& em = *st.embed;
  if (auto err = impl::check_entry(e, placed)) {
    st.metrics.stores.failed(err);
    return err;
  }
  if (placed && st.store->find(e.id) != nullptr) {  // a retried replica store
    st.metrics.stores.ok();
    return e.id;
  }
  if (em.foreground >= st.store->config().embedding_waiting_max) {
    auto err = impl::overloaded(st);
    st.metrics.stores.failed(err);
    return err;
  }
  auto rp = self->make_response_promise<uint64_t>();
  auto text = e.text;
  impl::want_vector(self, std::move(text), false, st.store->config().embedding_attempts,
                    [self, e = std::move(e), placed, rp](caf::expected<std::vector<float>> v) mutable {
                      if (!v) {
                        self->state.metrics.stores.failed(v.error());
                        rp.deliver(std::move(v.error()));
                        return;
                      }
                      memory_shard_detail::store_now(self, std::move(e), placed, std::move(*v),
                                                     std::move(rp));
                    });
  return rp;
}

caf::result<std::vector<memory_hit>> on_recall(shard_pointer self, const std::string& query,
                                               uint32_t k, recall_fn run) {
  namespace impl = memory_shard_embed_impl;
  auto& st = self->state;
  auto& em = *st.embed;
  // The store checks these too; checked first so a bad call costs no embedding.
  if (k == 0 || k > recall_k_max || query.size() > entry_text_bytes_max
      || embedding_tokens(query).empty())
    return memory_shard_detail::finish_recall(self, run(*st.store, st.now_ms(), nullptr));
  if (em.foreground >= st.store->config().embedding_waiting_max) {
    auto err = impl::overloaded(st);
    st.metrics.recalls.failed(err);
    return err;
  }
  auto rp = self->make_response_promise<std::vector<memory_hit>>();
  impl::want_vector(
    self, query, false, 1,
    [self, run = std::move(run), rp](caf::expected<std::vector<float>> v) mutable {
      auto& s = self->state;
      if (!v) {
        ++s.embed->recalls_degraded;
        metrics::inc(s.metrics.recalls_degraded);
        if (impl::warn_due(s))
          log(log_severity::warn, "memory", "recall by keywords only: no query vector",
              {{"shard", impl::shard_name(s)}, {"error", describe(v.error())}});
      }
      auto hits = memory_shard_detail::finish_recall(
        self, run(*s.store, s.now_ms(), v ? &*v : nullptr));
      if (hits)
        rp.deliver(std::move(*hits));
      else
        rp.deliver(std::move(hits.error()));
    });
  return rp;
}

void on_l3(shard_pointer self, uint64_t tag, const cache::l3_reply& rep) {
  namespace impl = memory_shard_embed_impl;
  auto& st = self->state;
  if (!st.embed)
    return;
  auto& em = *st.embed;
  auto it = em.waits.find(tag);
  if (it == em.waits.end() || it->second.stage != memory_embed_stage::cache)
    return;  // late, or not from our lookup
  if (auto bytes = em.cache->complete(it->second.key, rep)) {
    auto v = impl::decode_vector(*bytes);
    if (!v.empty()) {
      ++em.cache_hits;
      metrics::inc(st.metrics.embedding_cache_hits);
      impl::accept(self, tag, std::move(v), false);
      return;
    }
  }
  impl::ask(self, tag);
}

void on_retry(shard_pointer self, uint64_t tag) {
  auto& st = self->state;
  if (!st.embed)
    return;
  if (tag == 0) {  // pump's own continuation
    pump(self, false);
    return;
  }
  auto it = st.embed->waits.find(tag);
  if (it != st.embed->waits.end() && it->second.stage == memory_embed_stage::backoff)
    memory_shard_embed_impl::ask(self, tag);
}

namespace memory_shard_embed_impl {

// Whether an embedding's failure says the provider itself is unwell (down,
// busy, slow), not that it refused something about the texts: a vendor's
// refusal comes back as provider_error whatever its HTTP status (the
// provider actor alone knows which statuses it retried).
bool provider_wide(const caf::error& err) {
  if (err == caf::sec::request_timeout)
    return true;
  auto code = errc_of(err);
  return code == errc::timeout || code == errc::overloaded || code == errc::unavailable;
}

// Starts the background embedding of entry `id`. `solo`: alone, after its
// batch failed for a reason of its texts (one of them may be the one the
// vendor refuses).
void start_background(shard_pointer self, uint64_t id, bool solo) {
  auto& st = self->state;
  auto& em = *st.embed;
  em.reembedding.insert(id);
  auto text = st.store->find(id)->text;
  want_vector(self, text, true, st.store->config().embedding_attempts,
              [self, id, text, solo](caf::expected<std::vector<float>> v) {
                auto& s = self->state;
                auto& e = *s.embed;
                e.reembedding.erase(id);
                e.solo.erase(id);
                const auto* entry = s.store->find(id);
                if (v) {
                  // Only onto the text it was made from: the entry may have
                  // gone and come back (an import) with another.
                  if (entry != nullptr && entry->text == text && s.store->set_vector(id, std::move(*v)))
                    ++e.reembedded;
                  log_progress(s);
                } else if (!provider_wide(v.error())) {
                  // Refused: alone next, and if alone too, set aside until
                  // the next cleanup tick tries it alone again.
                  (solo ? e.refused : e.solo).insert(id);
                  if (solo && warn_due(s))
                    log(log_severity::warn, "memory",
                        "the provider refuses an entry's text; it stays without a vector "
                        "(recalled by keywords)",
                        {{"shard", shard_name(s)}, {"id", std::to_string(id)},
                         {"error", describe(v.error())}});
                } else {
                  e.reembed_paused = true;
                  if (warn_due(s))
                    log(log_severity::warn, "memory",
                        "background embedding failed; resumed at the next cleanup",
                        {{"shard", shard_name(s)}, {"error", describe(v.error())}});
                }
                pump(self, false);
              });
}

}  // namespace memory_shard_embed_impl

void pump(shard_pointer self, bool tick) {
  namespace impl = memory_shard_embed_impl;
  auto& st = self->state;
  if (!st.embed)
    return;
  auto& em = *st.embed;
  const auto& pending = st.store->unembedded();
  if (tick) {
    em.reembed_paused = false;
    // Forget entries that went (evicted, or given a vector); a refused
    // entry is tried alone once more per tick (one request each).
    std::erase_if(em.refused, [&](uint64_t id) { return pending.count(id) == 0; });
    std::erase_if(em.solo, [&](uint64_t id) { return pending.count(id) == 0; });
    em.solo.insert(em.refused.begin(), em.refused.end());
    em.refused.clear();
  }
  impl::note_pending(st);
  if (pending.size() <= em.refused.size())
    em.reembed_total = 0;  // done, or retention took the rest
  // A background embedding answered from the cache finishes inside the
  // loop below and calls pump again: the loop goes on instead, so the
  // stack never grows with the entries.
  if (em.reembed_paused || pending.empty() || em.pumping)
    return;
  em.pumping = true;
  if (em.reembed_total == 0) {
    em.reembed_total = pending.size();
    em.reembed_logged_step = 0;
  }
  const auto& cfg = st.store->config();
  uint32_t starts = 0;
  if (!em.solo.empty()) {
    // One at a time and nothing else in the background meanwhile, so a
    // refused text fails only itself.
    const uint64_t id = *em.solo.begin();
    if (pending.count(id) == 0)
      em.solo.erase(id);
    else if (em.background == 0)
      impl::start_background(self, id, true);
    em.pumping = false;
    if (em.background == 0 && !em.solo.empty())
      self->send(self, memory_embed_retry_atom::value, uint64_t{0});
    return;
  }
  // Bounded work per message: at most reembed_inflight starts (cache hits
  // finish inside, each an index insert), then the rest in a message of
  // its own, so a warm cache never holds the shard for the whole backlog.
  size_t looked = 0;
  const size_t to_look = pending.size();
  while (em.background < cfg.reembed_inflight && starts < cfg.reembed_inflight
         && looked < to_look && !pending.empty() && !em.reembed_paused && em.solo.empty()) {
    auto it = pending.lower_bound(em.reembed_cursor);
    if (it == pending.end())
      it = pending.begin();
    const uint64_t id = *it;
    em.reembed_cursor = id + 1;
    ++looked;
    if (em.reembedding.count(id) != 0 || em.refused.count(id) != 0)
      continue;
    ++starts;
    impl::start_background(self, id, false);
  }
  em.pumping = false;
  if (starts == cfg.reembed_inflight && em.background < cfg.reembed_inflight && !em.reembed_paused
      && st.store->unembedded().size() > em.reembedding.size() + em.refused.size())
    self->send(self, memory_embed_retry_atom::value, uint64_t{0});  // the rest, in turn
}

void fill_stats(memory_shard_state& st, memory_stats& out) {
  if (!st.embed)
    return;
  auto& em = *st.embed;
  out.vectors_cached = em.cache->l1().map().size();
  out.cache_hits = em.cache_hits;
  out.embed_calls = em.embed_calls;
  out.embed_failures = em.embed_failures;
  out.recalls_degraded = em.recalls_degraded;
  out.reembedded = em.reembedded;
  out.vectors_refused = em.refused.size();
  if (!em.latencies_ms.empty()) {
    auto sorted = em.latencies_ms;
    std::sort(sorted.begin(), sorted.end());
    auto at = [&](double q) {
      return sorted[static_cast<size_t>(q * static_cast<double>(sorted.size() - 1))];
    };
    out.embed_latency_p50_ms = at(0.5);
    out.embed_latency_p99_ms = at(0.99);
  }
}

}  // namespace agentgraph::memory_embed_detail
