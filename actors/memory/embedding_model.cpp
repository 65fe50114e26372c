#include "actors/memory/embedding_model.hpp"

#include "actors/memory/hashing_embedder.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace embedding_model_detail {

// The characters of a [provider.<name>] section's name.
bool section_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
         || c == '-';
}

caf::error bad_spec(const std::string& value, const std::string& why) {
  return make_error(errc::invalid_argument, "embedding_model '" + value + "': " + why);
}

}  // namespace embedding_model_detail

caf::expected<embedding_model_spec> parse_embedding_spec(const std::string& value) {
  namespace d = embedding_model_detail;
  auto colon = value.find(':');
  if (colon == std::string::npos) {
    auto dim = parse_embedding_model(value);
    if (!dim && errc_of(dim.error()) == errc::unsupported)
      return d::bad_spec(value, "expected hash-<dim> or <provider>:<model> (e.g. "
                                "openai:text-embedding-3-small)");
    if (!dim)
      return std::move(dim.error());
    embedding_model_spec spec;
    spec.hash_dim = *dim;
    return spec;
  }
  embedding_model_spec spec;
  spec.hashing = false;
  spec.provider = value.substr(0, colon);
  spec.model = value.substr(colon + 1);
  if (spec.provider.empty())
    return d::bad_spec(value, "no provider before ':'");
  for (char c : spec.provider)
    if (!d::section_name_char(c))
      return d::bad_spec(value, "provider name '" + spec.provider
                                  + "' may hold only letters, digits, '_' and '-'");
  if (spec.model.empty())
    return d::bad_spec(value, "no model after ':'");
  if (spec.model.size() > embedding_model_name_bytes_max)
    return d::bad_spec(value, "model name above "
                                + std::to_string(embedding_model_name_bytes_max) + " bytes");
  for (unsigned char c : spec.model)
    if (c < 0x20 || c == 0x7f)
      return d::bad_spec(value, "model name holds a control character");
  return spec;
}

}  // namespace agentgraph
