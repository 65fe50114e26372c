#include "actors/memory/hashing_embedder.hpp"

#include <charconv>
#include <cmath>

#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace hashing_embedder_detail {

constexpr uint64_t fnv_offset_basis = 14695981039346656037ull;
constexpr uint64_t fnv_prime = 1099511628211ull;
constexpr std::string_view hash_model_prefix = "hash-";

bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

char lower_ascii(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
}

// Adds one feature: the low bits pick the bucket, the top bit the sign, so
// colliding features cancel on average instead of piling up (signed hashing).
void add_feature(std::vector<float>& v, std::string_view feature) {
  uint64_t h = fnv1a_64(feature);
  auto bucket = static_cast<size_t>(h % v.size());
  v[bucket] += (h >> 63) != 0 ? -1.0f : 1.0f;
}

}  // namespace hashing_embedder_detail

uint64_t fnv1a_64(std::string_view bytes) {
  uint64_t h = hashing_embedder_detail::fnv_offset_basis;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= hashing_embedder_detail::fnv_prime;
  }
  return h;
}

caf::expected<uint32_t> parse_embedding_model(const std::string& model) {
  using hashing_embedder_detail::hash_model_prefix;
  if (model.rfind(hash_model_prefix, 0) != 0)
    return make_error(errc::unsupported,
                      "embedding model '" + model + "' is not hash-<dim>");
  const char* first = model.data() + hash_model_prefix.size();
  const char* last = model.data() + model.size();
  uint32_t dim = 0;
  auto [ptr, ec] = std::from_chars(first, last, dim);
  // from_chars accepts no sign or space, so "hash-+64" and "hash- 64" fail here.
  if (first == last || ec != std::errc{} || ptr != last)
    return make_error(errc::invalid_argument,
                      "embedding_model '" + model + "': expected hash-<dim> with a decimal dim");
  if (dim < hash_embedding_dim_min || dim > hash_embedding_dim_max)
    return make_error(errc::invalid_argument,
                      "embedding_model '" + model + "': dim must be in ["
                        + std::to_string(hash_embedding_dim_min) + ", "
                        + std::to_string(hash_embedding_dim_max) + "]");
  return dim;
}

hashing_embedder::hashing_embedder(uint32_t dim) : dim_(dim) {
  AG_ASSERT(dim >= hash_embedding_dim_min && dim <= hash_embedding_dim_max,
            "hashing_embedder dim out of range");
}

std::vector<std::string> embedding_tokens(std::string_view text) {
  std::vector<std::string> tokens;
  std::string current;
  for (unsigned char c : text) {
    if (hashing_embedder_detail::is_word_byte(c)) {
      current.push_back(hashing_embedder_detail::lower_ascii(c));
    } else if (!current.empty()) {
      tokens.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty())
    tokens.push_back(std::move(current));
  return tokens;
}

std::vector<float> hashing_embedder::embed(std::string_view text) const {
  std::vector<float> v(dim_, 0.0f);
  auto tokens = embedding_tokens(text);
  std::string bigram;
  for (size_t i = 0; i < tokens.size(); ++i) {
    hashing_embedder_detail::add_feature(v, tokens[i]);
    if (i + 1 < tokens.size()) {
      // Tokens never contain a space, so "a b" cannot collide with a unigram.
      bigram.assign(tokens[i]).append(" ").append(tokens[i + 1]);
      hashing_embedder_detail::add_feature(v, bigram);
    }
  }
  double norm_sq = 0;
  for (float x : v)
    norm_sq += static_cast<double>(x) * x;
  // All buckets can cancel to zero only when there are no features at all or
  // signed collisions cancel exactly; either way the zero vector stays zero.
  if (norm_sq > 0) {
    auto inv = static_cast<float>(1.0 / std::sqrt(norm_sq));
    for (float& x : v)
      x *= inv;
  }
  return v;
}

float dot(const std::vector<float>& a, const std::vector<float>& b) {
  AG_ASSERT(a.size() == b.size(), "dot of vectors of different length");
  float sum = 0;
  for (size_t i = 0; i < a.size(); ++i)
    sum += a[i] * b[i];
  return sum;
}

}  // namespace agentgraph
