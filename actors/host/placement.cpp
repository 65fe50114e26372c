#include "actors/host/placement.hpp"

namespace agentgraph {

std::string placement_syntax_problem(std::string_view placement) {
  if (placement.empty() || placement.size() > placement_bytes_max)
    return "must be 1-" + std::to_string(placement_bytes_max) + " bytes (any or a [cluster] "
           "node_id)";
  for (size_t i = 0; i < placement.size(); ++i) {
    const char c = placement[i];
    const auto byte = static_cast<unsigned char>(c);
    // Not echoed: a control character would garble the message.
    if (byte <= ' ' || byte == 0x7f)
      return "contains whitespace or a control character (byte " + std::to_string(i + 1) + ")";
    if (c == ',' || c == '/')
      return "'" + std::string{placement} + "' contains '" + std::string(1, c)
             + "'; a placement names one node";
  }
  return {};
}

bool placed_here(const std::string& placement, const node_config& cfg) {
  return placement == placement_any || !cfg.cluster || placement == cfg.cluster->node_id;
}

}  // namespace agentgraph
