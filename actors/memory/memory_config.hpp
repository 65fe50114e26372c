// Configuration of one memory shard: [memory.<name>] sections.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace agentgraph {

enum class retention_policy : uint8_t { sliding_window, importance, hierarchical };
// Every policy, in declaration order: the choices of the `retention` key.
inline constexpr retention_policy retention_policies[] = {
  retention_policy::sliding_window, retention_policy::importance, retention_policy::hierarchical};
[[nodiscard]] const char* to_string(retention_policy p);

// When a store reaches the snapshot file (with snapshot_path set):
// - commit: the store's reply waits until its row is committed to SQLite
//   (WAL, synchronous=FULL: fsync'd) by a writer that groups the stores of
//   the last commit_window into one transaction. "Stored" means on disk.
// - snapshot: the reply comes at once and the whole shard is rewritten every
//   snapshot_interval and at shutdown. Faster; a crash loses what was stored
//   since the last snapshot.
enum class memory_durability : uint8_t { commit, snapshot };
// Every durability, in declaration order: the choices of the `durability` key.
inline constexpr memory_durability memory_durabilities[] = {memory_durability::commit,
                                                            memory_durability::snapshot};
[[nodiscard]] const char* to_string(memory_durability d);

// A snapshot whose vectors came from another model or dimension than the
// config names (embedding_model.hpp):
// - reembed: its entries load without vectors and the shard embeds them in
//   the background (reembed_inflight at a time, progress in the log and in
//   vectors_pending); recall matches them by keywords meanwhile. Vectors of
//   two models never share the index.
// - refuse: the shard does not start, and the error says why.
enum class embedding_model_change : uint8_t { reembed, refuse };
inline constexpr embedding_model_change embedding_model_changes[] = {
  embedding_model_change::reembed, embedding_model_change::refuse};
[[nodiscard]] const char* to_string(embedding_model_change c);

struct memory_config {
  std::string name;
  uint32_t max_entries = 1000;
  // "hash-<dim>" is the built-in offline embedder (feature hashing of word
  // unigrams and bigrams into <dim> dimensions, L2-normalised).
  // "<provider>:<model>" asks the runtime's provider of that name
  // (memory_shard_embed.hpp), through the multi-level cache.
  std::string embedding_model = "hash-256";
  // A provider's model: the vector length to ask for (OpenAI `dimensions`,
  // Gemini `outputDimensionality`); 0: the model's own. Every vector must
  // then have this length. hash-<dim> names its own: leave 0.
  uint32_t embedding_dimensions = 0;
  // Deadline of a text's whole embedding: every try and backoff of a store,
  // a recall's one try. Past it a store fails with timeout and a recall is
  // answered by keywords. 10 s by default: below the callers' own
  // deadlines (a replicated front's call_timeout, 30 s), so a store never
  // lands after its caller gave up and retried.
  std::chrono::milliseconds embedding_timeout{10'000};
  // Tries of a store's embedding within embedding_timeout before the store
  // fails with the last error (backoff from 100 ms, doubling). The
  // provider retries HTTP failures itself; this covers a provider
  // restarting or a breaker open a while.
  uint32_t embedding_attempts = 3;
  // Stores and recalls waiting for a vector at most; beyond, overloaded at
  // once. Each holds its text and a response promise; each one at the
  // provider is a request in flight, and CAF's cost per reply grows with
  // an actor's open requests (toolchain.md), so the bound stays in the
  // hundreds.
  uint32_t embedding_waiting_max = 256;
  // Vectors in the shard's own cache (the L1 of the multi-level cache;
  // below it the process's L2 and, with [cache] redis_url, Redis), keyed by
  // model, dimension and text: a text is embedded once per model, and a
  // restart with Redis embeds nothing twice. A 1536-float vector is 6 KiB.
  uint32_t embedding_cache_entries = 1024;
  std::chrono::milliseconds embedding_cache_ttl{7 * 24 * 3'600'000LL};
  embedding_model_change model_change = embedding_model_change::reembed;
  // Background embeddings (a restart of a provider's shard, a model change,
  // entries copied from a replica) in flight at once; the provider's
  // batching window joins them into few upstream calls.
  uint32_t reembed_inflight = 32;
  // Bytes of a text sent to the provider at most: a longer entry (up to
  // 1 MiB) is embedded by its first this many bytes, cut at a UTF-8
  // character's start. Vendors refuse inputs above their context (OpenAI's
  // embedding models take 8,192 tokens, about 32 KiB of English), and a
  // refused text fails every request the provider's batching window joined
  // it with.
  uint32_t embedding_input_bytes_max = 32'768;
  double similarity_threshold = 0.2;  // recall drops entries scored below this
  std::chrono::milliseconds cleanup_interval{60'000};
  retention_policy retention = retention_policy::sliding_window;
  // importance policy: importance is multiplied by 0.5 per half-life of age
  // since last access, and raised by access count.
  std::chrono::milliseconds importance_half_life{3'600'000};
  // hierarchical policy: per-kind limits; kinds not listed share max_entries.
  std::map<std::string, uint32_t> kind_limits;
  // Below this many entries recall is an exact scan; above, hnswlib.
  uint32_t exact_search_max = 2000;
  // Sparse vectors (at most half their coordinates nonzero: hash-<dim> of
  // texts shorter than about dim/3 words) keep the exact scan above
  // exact_search_max. The scan reads only the query's nonzero coordinates,
  // and HNSW finds only 0.5-0.8 of such vectors' true top 10
  // (apps/cli/BENCHMARKS.md, "Vector index").
  bool exact_search_sparse = true;
  // Snapshot file (SQLite); empty: memory is not persisted.
  std::string snapshot_path;
  // snapshot durability: how often the whole shard is rewritten. commit
  // durability: how often the file is compacted (WAL checkpointed and
  // truncated); the rows are already current.
  std::chrono::milliseconds snapshot_interval{30'000};
  memory_durability durability = memory_durability::commit;
  // commit durability: how long the shard waits after the first pending
  // change before it hands the batch to the writer. 0 (the default): at
  // once when the writer is idle; changes arriving during a commit's fsync
  // form the next batch, so concurrent stores share fsyncs anyway. A window
  // adds that much latency to every store to save fsyncs (IOPS) when
  // stores trickle in: `agentgraph bench memory` measures both.
  std::chrono::milliseconds commit_window{0};
  // commit durability: changes (stored, recalled or removed entries) in one
  // transaction at most; a full batch is committed without waiting.
  uint32_t commit_batch_max = 512;
  // commit durability: stores waiting for their commit at most; beyond,
  // store replies overloaded at once and the entry is not stored.
  uint32_t commit_waiting_max = 4096;
  // Node of a cluster that builds the shard: "any" (every node) or a
  // [cluster] node_id (actors/host/placement.hpp).
  std::string placement = "any";
  // Copies of the shard in a cluster (net/cluster/DESIGN.md §8.7): 1 = one
  // shard per node that builds it, as alone. R > 1 (needs [cluster] and
  // placement any): the R live nodes that rendezvous hashing of the shard's
  // name picks among those offering it hold every entry, behind the
  // replicated_memory front (replicated_memory.hpp).
  uint32_t replicas = 1;
  // Entries one scope (metadata "scope", memory_interface.hpp) holds at
  // most; one more evicts the scope's lowest-value entry by the retention
  // policy's order (lowest importance score under importance, else the
  // oldest). 0 = no bound. 1000 by default: a keyed agent of a population
  // that keeps storing would otherwise push every other agent's memories
  // out of the shared shard (retention is shard-wide), and a scoped recall
  // scans its scopes exactly, so this also bounds its cost (16 scopes x
  // 1000 entries at most).
  uint32_t scope_entries_max = 1000;
};

}  // namespace agentgraph
