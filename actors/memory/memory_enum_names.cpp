// Names of the enums declared in the memory config header (the words of
// their config keys).
#include "actors/memory/memory_config.hpp"

namespace agentgraph {

const char* to_string(retention_policy p) {
  switch (p) {
    case retention_policy::sliding_window: return "sliding_window";
    case retention_policy::importance: return "importance";
    case retention_policy::hierarchical: return "hierarchical";
  }
  return "unknown";
}

const char* to_string(embedding_model_change c) {
  switch (c) {
    case embedding_model_change::reembed: return "reembed";
    case embedding_model_change::refuse: return "refuse";
  }
  return "unknown";
}

const char* to_string(memory_durability d) {
  switch (d) {
    case memory_durability::commit: return "commit";
    case memory_durability::snapshot: return "snapshot";
  }
  return "unknown";
}

}  // namespace agentgraph
