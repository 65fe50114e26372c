// Admission to a cluster: proof that a peer knows the cluster's shared
// secret, without the secret ever crossing the wire (challenge-response
// with HMAC-SHA256 over fresh nonces). Pure: no actor, no clock, no socket;
// the node actor runs the exchange (issue 12):
//
//   joiner J -> seed S:  hello     {cluster, J, nJ}
//   S -> J:              challenge {S, nS, proof(S->J)}   J checks it: S knows the secret
//   J -> S:              prove     {J, proof(J->S)}        S checks it: J knows the secret
//
// Each proof covers a direction label, the cluster name, both identities and
// both nonces, every field length-prefixed: a proof cannot be reflected back
// (the other direction has another label), replayed (fresh nonces on both
// sides) or moved to another cluster or peer. Comparison is constant-time.
//
// What it does not do: BASP admits any process that connects, so the secret
// keeps foreign and misconfigured nodes out of the membership, not a hostile
// process that can reach the port. Against that, bind to a private interface
// and use TLS with client certificates.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace agentgraph::cluster {

// Bytes of a nonce and of a proof (HMAC-SHA256).
inline constexpr size_t nonce_bytes = 32;
inline constexpr size_t proof_bytes = 32;
// A shorter secret is refused: 16 random bytes is the least that makes
// guessing it harder than attacking the transport.
inline constexpr size_t secret_bytes_min = 16;
// And a longer one too: it comes from an environment variable, and HMAC
// hashes anything past the block size anyway.
inline constexpr size_t secret_bytes_max = 4096;

// Identities and the cluster name are at most this long in a handshake;
// a longer one fails the check before anything is hashed.
inline constexpr size_t identity_bytes_max = 512;

using nonce = std::vector<uint8_t>;
using proof = std::vector<uint8_t>;

// Who proves to whom: the seed's answer to a hello, or the joiner's answer
// to the challenge. Part of what is MACed.
enum class proof_direction : uint8_t { seed_to_joiner, joiner_to_seed };

// The shared secret, checked for its bounds. Errors: invalid_argument (too
// short, too long), naming `origin` (e.g. "AGENTGRAPH_CLUSTER_SECRET"),
// never the value.
class cluster_secret {
 public:
  [[nodiscard]] static caf::expected<cluster_secret> make(std::string value,
                                                          const std::string& origin);
  [[nodiscard]] const std::string& bytes() const { return value_; }

 private:
  explicit cluster_secret(std::string value) : value_(std::move(value)) {}
  std::string value_;
};

// nonce_bytes from the OS's CSPRNG (OpenSSL RAND_bytes). Errors: internal
// when the generator fails (never silently a weak nonce).
[[nodiscard]] caf::expected<nonce> make_nonce();

// What each side of one handshake knows.
struct handshake_view {
  std::string cluster;
  std::string seed;    // the seed's identity (member id, rendered)
  std::string joiner;  // the joiner's identity
  nonce seed_nonce;
  nonce joiner_nonce;
};

// The proof `direction`'s sender sends.
[[nodiscard]] proof make_proof(const cluster_secret& secret, proof_direction direction,
                               const handshake_view& view);

// Whether `theirs` is the proof `direction`'s sender had to send. False for
// a nonce of the wrong size (a nonce is never accepted short or empty) and
// for an identity or cluster name past identity_bytes_max.
[[nodiscard]] bool check_proof(const cluster_secret& secret, proof_direction direction,
                               const handshake_view& view, const proof& theirs);

}  // namespace agentgraph::cluster
