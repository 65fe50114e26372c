#include "net/cluster/cluster_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph::cluster {

namespace cluster_auth_detail {

// Versioned, so a future change of what is MACed cannot be confused with
// this one.
constexpr std::string_view label_seed = "agentgraph-join-v1|seed->joiner";
constexpr std::string_view label_joiner = "agentgraph-join-v1|joiner->seed";

// Appends a 4-byte little-endian length, then the bytes: with every field
// prefixed, no two different field lists give the same message.
void put(std::vector<uint8_t>& out, const void* data, size_t n) {
  AG_ASSERT(n <= UINT32_MAX);
  const auto len = static_cast<uint32_t>(n);
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<uint8_t>(len >> (8 * i)));
  const auto* p = static_cast<const uint8_t*>(data);
  out.insert(out.end(), p, p + n);
}

void put(std::vector<uint8_t>& out, std::string_view s) {
  put(out, s.data(), s.size());
}

void put(std::vector<uint8_t>& out, const std::vector<uint8_t>& v) {
  put(out, v.data(), v.size());
}

}  // namespace cluster_auth_detail

caf::expected<cluster_secret> cluster_secret::make(std::string value, const std::string& origin) {
  if (value.size() < secret_bytes_min)
    return make_error(errc::invalid_argument,
                      origin + ": the cluster secret has " + std::to_string(value.size())
                        + " bytes; at least " + std::to_string(secret_bytes_min) + " are needed");
  if (value.size() > secret_bytes_max)
    return make_error(errc::invalid_argument, origin + ": the cluster secret is longer than "
                                                + std::to_string(secret_bytes_max) + " bytes");
  return cluster_secret{std::move(value)};
}

caf::expected<nonce> make_nonce() {
  nonce out(nonce_bytes);
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1)
    return make_error(errc::internal, "the system's random generator failed to give a nonce");
  return out;
}

proof make_proof(const cluster_secret& secret, proof_direction direction,
                 const handshake_view& view) {
  using namespace cluster_auth_detail;
  // The sender's identity and nonce first, then the receiver's: each
  // direction binds both sides, in its own order and under its own label.
  const bool seed = direction == proof_direction::seed_to_joiner;
  std::vector<uint8_t> msg;
  msg.reserve(256 + view.cluster.size() + view.seed.size() + view.joiner.size());
  put(msg, seed ? label_seed : label_joiner);
  put(msg, view.cluster);
  put(msg, seed ? view.seed : view.joiner);
  put(msg, seed ? view.joiner : view.seed);
  put(msg, seed ? view.seed_nonce : view.joiner_nonce);
  put(msg, seed ? view.joiner_nonce : view.seed_nonce);
  proof out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  const auto& key = secret.bytes();
  const auto* made = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), msg.data(),
                          msg.size(), out.data(), &len);
  // HMAC-SHA256 over memory we own fails only if OpenSSL itself is broken.
  AG_ASSERT(made != nullptr && len == proof_bytes, "HMAC-SHA256 failed");
  out.resize(len);
  return out;
}

bool check_proof(const cluster_secret& secret, proof_direction direction,
                 const handshake_view& view, const proof& theirs) {
  if (view.seed_nonce.size() != nonce_bytes || view.joiner_nonce.size() != nonce_bytes)
    return false;
  for (const auto* s : {&view.cluster, &view.seed, &view.joiner})
    if (s->size() > identity_bytes_max)
      return false;
  if (theirs.size() != proof_bytes)
    return false;
  const auto ours = make_proof(secret, direction, view);
  return CRYPTO_memcmp(ours.data(), theirs.data(), proof_bytes) == 0;
}

}  // namespace agentgraph::cluster
