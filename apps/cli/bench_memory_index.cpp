// `agentgraph bench memory`'s index rows (issue 13): the memory shard's
// vector index (actors/memory/vector_index.hpp) against an exact scan of
// the same data, in one run, without the actor: what is measured is the
// index, which the shard calls on its own thread.
//
// Two kinds of data, because recall depends on the data:
// - "hash-256 text": the hashing embedder (hash-256, what a shard uses
//   unless told otherwise) over generated notes: 6-40 words drawn from a
//   20,000-word vocabulary with Zipf's law (s = 1.07, as word frequencies
//   in English text), so common words are shared and rare ones are not;
//   queries are 4-12 words of the same kind. Hashed short texts are sparse
//   and of high intrinsic dimension: few entries are much closer than the
//   rest, the hard case for a graph index.
// - "clustered-<dim>": the shape of a real embedding model's vectors: a
//   24-dimensional latent point from a mixture of 200 Gaussian clusters,
//   projected to <dim> by a fixed random matrix, plus isotropic noise,
//   normalised. Real models' vectors have an intrinsic dimension of tens,
//   far below their 384-1536 coordinates.
// Everything is generated from fixed seeds: two runs index the same data.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/memory/hashing_embedder.hpp"
#include "actors/memory/memory_config.hpp"
#include "actors/memory/vector_index.hpp"
#include "actors/memory/vector_kernel.hpp"
#include "apps/cli/bench_memory.hpp"

namespace agentgraph::cli {

namespace bench_memory_index_detail {

using index_clock = std::chrono::steady_clock;

constexpr size_t recall_k = 10;
constexpr uint32_t hash_dim = 256;
constexpr size_t vocabulary_words = 20'000;
constexpr double zipf_exponent = 1.07;
constexpr size_t latent_dim = 24;
constexpr size_t latent_clusters = 200;
constexpr float latent_spread = 0.6f;  // within-cluster sd, cluster centres have sd 1
constexpr float ambient_noise = 0.5f;  // per coordinate, before normalising

// Pseudo-words: distinct, pronounceable, of English-like lengths.
std::vector<std::string> make_vocabulary() {
  static const char* syllables[] = {"ka", "to", "ri", "mu", "sel", "an", "or", "ve", "qui", "lo",
                                    "pra", "dem", "in", "ta", "gro", "be", "nu", "ex", "sto", "ly"};
  std::vector<std::string> words;
  words.reserve(vocabulary_words);
  for (size_t i = 0; i < vocabulary_words; ++i) {
    std::string w;
    size_t x = i;
    do {  // i in base 20, one syllable per digit: distinct words
      w += syllables[x % 20];
      x /= 20;
    } while (x > 0);
    words.push_back(std::move(w));
  }
  return words;
}

class text_source {
 public:
  explicit text_source(uint64_t seed) : words_(make_vocabulary()), rng_(seed) {
    double sum = 0;
    cdf_.reserve(words_.size());
    for (size_t i = 0; i < words_.size(); ++i) {
      sum += 1.0 / std::pow(static_cast<double>(i + 1), zipf_exponent);
      cdf_.push_back(sum);
    }
    for (auto& c : cdf_)
      c /= sum;
  }

  std::string text(int words_min, int words_max) {
    std::uniform_int_distribution<int> length(words_min, words_max);
    std::uniform_real_distribution<double> u(0, 1);
    std::string out;
    for (int n = length(rng_); n > 0; --n) {
      auto at = std::lower_bound(cdf_.begin(), cdf_.end(), u(rng_)) - cdf_.begin();
      out += words_[std::min(static_cast<size_t>(at), words_.size() - 1)];
      out += ' ';
    }
    return out;
  }

 private:
  std::vector<std::string> words_;
  std::vector<double> cdf_;
  std::mt19937_64 rng_;
};

class clustered_source {
 public:
  clustered_source(uint32_t dim, uint64_t seed) : dim_(dim), rng_(seed) {
    std::normal_distribution<float> g(0, 1);
    projection_.resize(static_cast<size_t>(dim) * latent_dim);
    for (auto& x : projection_)
      x = g(rng_) / std::sqrt(static_cast<float>(latent_dim));
    centres_.resize(latent_clusters * latent_dim);
    for (auto& x : centres_)
      x = g(rng_);
  }

  std::vector<float> next() {
    std::normal_distribution<float> g(0, 1);
    std::uniform_int_distribution<size_t> pick(0, latent_clusters - 1);
    const size_t c = pick(rng_);
    float z[latent_dim];
    for (size_t i = 0; i < latent_dim; ++i)
      z[i] = centres_[c * latent_dim + i] + latent_spread * g(rng_);
    std::vector<float> v(dim_);
    double norm = 0;
    for (size_t d = 0; d < dim_; ++d) {
      v[d] = vector_dot(&projection_[d * latent_dim], z, latent_dim)
             + ambient_noise / std::sqrt(static_cast<float>(latent_dim)) * g(rng_);
      norm += static_cast<double>(v[d]) * v[d];
    }
    const auto inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (auto& x : v)
      x *= inv;
    return v;
  }

 private:
  uint32_t dim_;
  std::mt19937_64 rng_;
  std::vector<float> projection_;
  std::vector<float> centres_;
};

// A row's data: `entries` vectors to index and the queries, all of `dim`.
struct data_set {
  uint32_t dim = 0;
  std::vector<std::vector<float>> entries;
  std::vector<std::vector<float>> queries;
};

data_set make_data(const std::string& kind, uint32_t dim, size_t entries, size_t queries) {
  data_set out;
  out.dim = dim;
  out.entries.reserve(entries);
  out.queries.reserve(queries);
  if (kind == "hash") {
    hashing_embedder embedder{dim};
    text_source notes{1};
    for (size_t i = 0; i < entries; ++i)
      out.entries.push_back(embedder.embed(notes.text(6, 40)));
    text_source asks{2};
    for (size_t i = 0; i < queries; ++i)
      out.queries.push_back(embedder.embed(asks.text(4, 12)));
    return out;
  }
  clustered_source source{dim, 3};
  for (size_t i = 0; i < entries; ++i)
    out.entries.push_back(source.next());
  for (size_t i = 0; i < queries; ++i)
    out.queries.push_back(source.next());
  return out;
}

// The shard's default exact_search_max: where its index becomes HNSW.
uint32_t default_exact_search_max() {
  return memory_config{}.exact_search_max;
}

double seconds_since(index_clock::time_point t) {
  return std::chrono::duration<double>(index_clock::now() - t).count();
}

// Nearest-rank percentile of `us` (sorted here), in microseconds.
double percentile(std::vector<double> us, double p) {
  if (us.empty())
    return 0;
  std::sort(us.begin(), us.end());
  auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(us.size())));
  return us[std::min(us.size() - 1, rank > 0 ? rank - 1 : 0)];
}

struct timed_index {
  double insert_per_s = 0;
  double bytes_per_entry = 0;
};

timed_index fill(vector_index& index, const data_set& d) {
  const auto begin = index_clock::now();
  for (size_t i = 0; i < d.entries.size(); ++i)
    index.add(i + 1, d.entries[i]);
  const double s = seconds_since(begin);
  timed_index out;
  out.insert_per_s = s > 0 ? static_cast<double>(d.entries.size()) / s : 0;
  out.bytes_per_entry = static_cast<double>(index.bytes()) / static_cast<double>(d.entries.size());
  return out;
}

// `sparse_exact`: the shard's exact_search_sparse (default true), which
// keeps hash-<dim>'s sparse vectors in the exact scan; false forces HNSW
// above exact_search_max, to show what the graph does with them.
index_row run_row(const std::string& kind, uint32_t dim, size_t entries, size_t queries,
                  bool sparse_exact) {
  index_row row;
  row.data = kind == "hash" ? "hash-" + std::to_string(dim) + " text"
                            : "clustered-" + std::to_string(dim);
  row.sparse_exact = sparse_exact;
  row.entries = entries;
  row.queries = queries;
  const auto d = make_data(kind, dim, entries, queries);
  const auto live = static_cast<uint32_t>(entries + 1);
  // The exact scan: exact_search_max above the entries, so it never switches.
  vector_index exact{dim, live + 1, live};
  auto exact_fill = fill(exact, d);
  row.exact_insert_per_s = exact_fill.insert_per_s;
  row.exact_bytes_per_entry = exact_fill.bytes_per_entry;
  // The shard's default: the scan up to 2,000 entries, HNSW from there.
  vector_index approx{dim, default_exact_search_max(), live, sparse_exact};
  auto approx_fill = fill(approx, d);
  row.insert_per_s = approx_fill.insert_per_s;
  row.bytes_per_entry = approx_fill.bytes_per_entry;
  row.uses_hnsw = approx.uses_hnsw();
  std::vector<double> exact_us, approx_us, efs;
  double hits = 0;
  for (const auto& q : d.queries) {
    auto t = index_clock::now();
    auto truth = exact.search(q, recall_k);
    exact_us.push_back(seconds_since(t) * 1e6);
    t = index_clock::now();
    auto found = approx.search(q, recall_k);
    approx_us.push_back(seconds_since(t) * 1e6);
    efs.push_back(static_cast<double>(approx.last_search_ef()));
    for (const auto& m : found)
      for (const auto& e : truth)
        hits += m.id == e.id ? 1 : 0;
  }
  row.recall_at_10 = hits / static_cast<double>(recall_k * d.queries.size());
  row.recall_p50_us = percentile(approx_us, 0.50);
  row.recall_p99_us = percentile(approx_us, 0.99);
  row.exact_p50_us = percentile(exact_us, 0.50);
  row.exact_p99_us = percentile(exact_us, 0.99);
  row.ef_p50 = percentile(efs, 0.50);
  return row;
}

}  // namespace bench_memory_index_detail

std::vector<index_row> run_index_rows(const index_bench_options& o) {
  using bench_memory_index_detail::run_row;
  std::vector<index_row> rows;
  const bool shard_default = memory_config{}.exact_search_sparse;
  for (auto n : o.sizes) {
    rows.push_back(run_row("hash", bench_memory_index_detail::hash_dim, n, o.queries,
                           shard_default));
    rows.push_back(run_row("hash", bench_memory_index_detail::hash_dim, n, o.queries, false));
  }
  for (auto dim : o.dims)
    for (auto n : o.sizes)
      rows.push_back(run_row("clustered", dim, n, o.queries, shard_default));
  return rows;
}

void print_index_table(const std::vector<index_row>& rows) {
  if (rows.empty())
    return;
  std::printf("\nindex rows: the shard's vector index (exact scan below %u entries, HNSW from "
              "there; sparse: exact_search_sparse, 'exact' keeps sparse vectors in the scan, "
              "'hnsw' does not) against an exact scan of the same data, one thread, no actor; "
              "distance kernel %s; recall@10: share of the exact scan's 10 ids the index "
              "returned; ef: the adaptive search's final ef, median; B/entry: the index's "
              "bytes per entry\n",
              bench_memory_index_detail::default_exact_search_max(), vector_dot_kernel());
  std::printf("%-16s %8s %6s %6s %10s %9s %9s %8s %6s %9s %9s %10s %9s\n", "data", "entries",
              "sparse", "hnsw", "insert/s", "p50 us", "p99 us", "rec@10", "ef", "B/entry", "exact p50",
              "exact ins/s", "exact B/e");
  for (const auto& r : rows)
    std::printf("%-16s %8zu %6s %6s %10.0f %9.1f %9.1f %8.3f %6.0f %9.0f %9.1f %10.0f %9.0f\n",
                r.data.c_str(), r.entries, r.sparse_exact ? "exact" : "hnsw",
                r.uses_hnsw ? "yes" : "no", r.insert_per_s,
                r.recall_p50_us, r.recall_p99_us, r.recall_at_10, r.ef_p50, r.bytes_per_entry,
                r.exact_p50_us, r.exact_insert_per_s, r.exact_bytes_per_entry);
}

nlohmann::json index_json(const index_row& r) {
  return {{"data", r.data},
          {"entries", r.entries},
          {"queries", r.queries},
          {"exact_search_sparse", r.sparse_exact},
          {"hnsw", r.uses_hnsw},
          {"insert_per_s", r.insert_per_s},
          {"recall_p50_us", r.recall_p50_us},
          {"recall_p99_us", r.recall_p99_us},
          {"recall_at_10", r.recall_at_10},
          {"ef_p50", r.ef_p50},
          {"bytes_per_entry", r.bytes_per_entry},
          {"exact_p50_us", r.exact_p50_us},
          {"exact_p99_us", r.exact_p99_us},
          {"exact_insert_per_s", r.exact_insert_per_s},
          {"exact_bytes_per_entry", r.exact_bytes_per_entry}};
}

}  // namespace agentgraph::cli
