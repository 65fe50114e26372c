// Small deterministic helpers shared by the wire formats: seeded random
// streams, ids, token estimates, UTF-8-safe chunking and hashed embeddings.
// All pure; no clocks, no global state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace agentgraph::mock_llm {

// A counter-based random stream: request number `seq` under `seed` always
// draws the same values, whatever other requests run concurrently.
class request_rng {
 public:
  request_rng(uint64_t seed, uint64_t seq);
  uint64_t next();
  double uniform01();  // in [0, 1)

 private:
  uint64_t state_;
};

[[nodiscard]] uint64_t fnv1a(std::string_view s);

// About four characters per token, like the vendors' rule of thumb; a
// non-empty text is at least one token.
[[nodiscard]] int64_t estimate_tokens(size_t chars);

// `prefix` followed by `hex_digits` hex digits derived from seed/seq/salt.
[[nodiscard]] std::string make_id(std::string_view prefix, uint64_t seed, uint64_t seq, uint64_t salt,
                                  size_t hex_digits = 24);

// Splits into pieces of at most `chars` code points, never inside a UTF-8
// sequence. An empty text gives no pieces.
[[nodiscard]] std::vector<std::string> utf8_chunks(std::string_view text, size_t chars);

// Hashed bag of words, L2-normalised: the same text always gives the same
// vector (independent of the seed), and texts sharing words are close.
[[nodiscard]] std::vector<float> embed_text(std::string_view text, uint32_t dimensions);

// Little-endian float32 array in base64, as OpenAI's encoding_format=base64.
[[nodiscard]] std::string base64_floats(const std::vector<float>& v);

}  // namespace agentgraph::mock_llm
