// The built-in offline embedder ("hash-<dim>"): signed feature hashing of
// word unigrams and bigrams, L2-normalised. Deterministic across processes
// and machines (FNV-1a, no seeds), so snapshots store text only and
// embeddings are recomputed on load. It captures lexical overlap, not
// meaning; models behind providers do that (embedding_model.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace agentgraph {

// Bounds of "hash-<dim>": below 16 buckets almost every pair of texts
// collides; above 4096 the vectors cost more memory than the texts they index.
constexpr uint32_t hash_embedding_dim_min = 16;
constexpr uint32_t hash_embedding_dim_max = 4096;

// Stable 64-bit FNV-1a of `bytes`. Exposed for tests and for anything that
// must hash the same way on every node.
[[nodiscard]] uint64_t fnv1a_64(std::string_view bytes);

// Parses an embedding_model value. "hash-<dim>" with dim in
// [hash_embedding_dim_min, hash_embedding_dim_max] yields dim.
// Errors: invalid_argument naming the value (bad or out-of-range dim);
// unsupported for any other model (a provider's: embedding_model.hpp).
[[nodiscard]] caf::expected<uint32_t> parse_embedding_model(const std::string& model);

// Thread-safe: embed() is const and touches no shared state.
class hashing_embedder {
 public:
  // `dim` must be in [hash_embedding_dim_min, hash_embedding_dim_max];
  // anything else is a programmer error (validate with parse_embedding_model).
  explicit hashing_embedder(uint32_t dim);

  // A unit vector of dim() floats, or all zeros when `text` has no word
  // characters (cosine against a zero vector is defined as 0).
  [[nodiscard]] std::vector<float> embed(std::string_view text) const;

  [[nodiscard]] uint32_t dim() const { return dim_; }

 private:
  uint32_t dim_;
};

// Splits `text` into lowercase words: ASCII letters and digits plus every
// byte >= 0x80 (so UTF-8 words stay whole); everything else separates.
[[nodiscard]] std::vector<std::string> embedding_tokens(std::string_view text);

// Dot product of two vectors of equal length; for unit vectors, the cosine.
[[nodiscard]] float dot(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace agentgraph
