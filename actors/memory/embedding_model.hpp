// What a shard's `embedding_model` names: the built-in hashing embedder
// ("hash-<dim>", offline, computed in the shard) or a model behind one of
// the runtime's providers ("<provider>:<model>", e.g.
// "openai:text-embedding-3-small", "local:nomic-embed-text" for an
// openai_compatible server, "scripted:..." for the offline provider's
// rules), asked through the provider actor and the multi-level cache
// (memory_shard_embed.hpp).
#pragma once

#include <cstdint>
#include <string>

#include <caf/expected.hpp>

namespace agentgraph {

// Bytes of a model name after the provider's; vendors' names are short.
constexpr size_t embedding_model_name_bytes_max = 256;

struct embedding_model_spec {
  bool hashing = true;
  uint32_t hash_dim = 0;  // hashing: the vector length
  std::string provider;   // else: the [provider.<name>] that embeds
  std::string model;      // and the model it asks for
};

// Parses an embedding_model value. Errors: invalid_argument naming the value
// (bad hash dim, empty provider or model, a provider name with characters a
// section name cannot have, a model name above the bound).
[[nodiscard]] caf::expected<embedding_model_spec> parse_embedding_spec(const std::string& value);

}  // namespace agentgraph
