// Cluster admission proofs (net/cluster/cluster_auth.hpp): the right secret
// passes both directions; a wrong secret, a reflected proof, a replayed
// proof under fresh nonces, another cluster or peer, and malformed nonces
// or proofs all fail; secrets are bounded and never echoed in errors.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "net/cluster/cluster_auth.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;
using namespace agentgraph::cluster;

namespace cluster_auth_test {

cluster_secret secret_of(const std::string& s) {
  auto out = cluster_secret::make(s, "TEST_SECRET");
  REQUIRE_MESSAGE(out, describe(out.error()));
  return *out;
}

nonce fresh() {
  auto n = make_nonce();
  REQUIRE_MESSAGE(n, describe(n.error()));
  return *n;
}

handshake_view view() {
  return {"research", "10.0.0.1:4000#7", "10.0.0.2:4000#9", fresh(), fresh()};
}

}  // namespace cluster_auth_test

using namespace cluster_auth_test;

TEST_CASE("cluster auth: both sides of one handshake check each other's proof") {
  const auto secret = secret_of("correct horse battery staple");
  const auto v = view();
  const auto by_seed = make_proof(secret, proof_direction::seed_to_joiner, v);
  const auto by_joiner = make_proof(secret, proof_direction::joiner_to_seed, v);
  CHECK(by_seed.size() == proof_bytes);
  CHECK(check_proof(secret, proof_direction::seed_to_joiner, v, by_seed));
  CHECK(check_proof(secret, proof_direction::joiner_to_seed, v, by_joiner));
  // A proof is not its reflection: the seed's proof does not pass as the
  // joiner's, nor the other way round.
  CHECK(by_seed != by_joiner);
  CHECK_FALSE(check_proof(secret, proof_direction::joiner_to_seed, v, by_seed));
  CHECK_FALSE(check_proof(secret, proof_direction::seed_to_joiner, v, by_joiner));
}

TEST_CASE("cluster auth: a wrong secret, another cluster, peer or nonce fails") {
  const auto secret = secret_of("correct horse battery staple");
  const auto v = view();
  const auto p = make_proof(secret, proof_direction::joiner_to_seed, v);
  CHECK_FALSE(check_proof(secret_of("correct horse battery stapler"),
                          proof_direction::joiner_to_seed, v, p));
  auto other = v;
  other.cluster = "research2";
  CHECK_FALSE(check_proof(secret, proof_direction::joiner_to_seed, other, p));
  other = v;
  other.joiner = "10.0.0.3:4000#9";
  CHECK_FALSE(check_proof(secret, proof_direction::joiner_to_seed, other, p));
  other = v;
  other.seed = "10.0.0.1:4000#8";  // another incarnation of the seed
  CHECK_FALSE(check_proof(secret, proof_direction::joiner_to_seed, other, p));
  // Replay: the same proof under the next handshake's nonces.
  other = v;
  other.seed_nonce = fresh();
  CHECK_FALSE(check_proof(secret, proof_direction::joiner_to_seed, other, p));
  other = v;
  other.joiner_nonce = fresh();
  CHECK_FALSE(check_proof(secret, proof_direction::joiner_to_seed, other, p));
  // Swapping the nonces is another message, not the same one.
  other = v;
  std::swap(other.seed_nonce, other.joiner_nonce);
  CHECK_FALSE(check_proof(secret, proof_direction::joiner_to_seed, other, p));
}

TEST_CASE("cluster auth: fields are length-prefixed, so shifting bytes between them fails") {
  const auto secret = secret_of("correct horse battery staple");
  auto a = view();
  a.cluster = "ab";
  a.seed = "c";
  auto b = a;
  b.cluster = "a";
  b.seed = "bc";
  CHECK(make_proof(secret, proof_direction::seed_to_joiner, a)
        != make_proof(secret, proof_direction::seed_to_joiner, b));
}

TEST_CASE("cluster auth: malformed nonces, proofs and identities are refused before hashing") {
  const auto secret = secret_of("correct horse battery staple");
  auto v = view();
  const auto p = make_proof(secret, proof_direction::joiner_to_seed, v);
  auto cut = p;
  cut.pop_back();
  CHECK_FALSE(check_proof(secret, proof_direction::joiner_to_seed, v, cut));
  CHECK_FALSE(check_proof(secret, proof_direction::joiner_to_seed, v, {}));
  auto longer = p;
  longer.push_back(0);
  CHECK_FALSE(check_proof(secret, proof_direction::joiner_to_seed, v, longer));
  auto bad = v;
  bad.seed_nonce.clear();
  CHECK_FALSE(check_proof(secret, proof_direction::joiner_to_seed, bad,
                          make_proof(secret, proof_direction::joiner_to_seed, bad)));
  bad = v;
  bad.joiner_nonce.resize(nonce_bytes + 1);
  CHECK_FALSE(check_proof(secret, proof_direction::joiner_to_seed, bad,
                          make_proof(secret, proof_direction::joiner_to_seed, bad)));
  bad = v;
  bad.joiner = std::string(identity_bytes_max + 1, 'x');
  CHECK_FALSE(check_proof(secret, proof_direction::joiner_to_seed, bad,
                          make_proof(secret, proof_direction::joiner_to_seed, bad)));
  bad.joiner = std::string(identity_bytes_max, 'x');
  CHECK(check_proof(secret, proof_direction::joiner_to_seed, bad,
                    make_proof(secret, proof_direction::joiner_to_seed, bad)));
}

TEST_CASE("cluster auth: secrets are bounded and never echoed; nonces are fresh") {
  auto short_one = cluster_secret::make("fifteen bytes!!", "AGENTGRAPH_CLUSTER_SECRET");
  REQUIRE_FALSE(short_one);
  CHECK(errc_of(short_one.error()) == errc::invalid_argument);
  const auto text = describe(short_one.error());
  CHECK(text.find("AGENTGRAPH_CLUSTER_SECRET") != std::string::npos);
  CHECK(text.find("fifteen") == std::string::npos);
  CHECK(cluster_secret::make(std::string(secret_bytes_min, 's'), "S"));
  CHECK(cluster_secret::make(std::string(secret_bytes_max, 's'), "S"));
  CHECK_FALSE(cluster_secret::make(std::string(secret_bytes_max + 1, 's'), "S"));
  std::set<nonce> seen;
  for (int i = 0; i < 64; ++i) {
    auto n = fresh();
    CHECK(n.size() == nonce_bytes);
    CHECK(seen.insert(n).second);
  }
}
