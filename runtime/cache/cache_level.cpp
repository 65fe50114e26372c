#include "runtime/cache/cache_level.hpp"

namespace agentgraph::cache {

const char* to_string(cache_user u) {
  switch (u) {
    case cache_user::tool:
      return "tool";
    case cache_user::llm:
      return "llm";
    case cache_user::node:
      return "node";
    case cache_user::embedding:
      return "embedding";
  }
  return "?";
}

const char* to_string(level_id l) {
  switch (l) {
    case level_id::l1:
      return "l1";
    case level_id::l2:
      return "l2";
    case level_id::l3:
      return "l3";
  }
  return "?";
}

std::string namespaced_key(cache_user u, std::string_view key) {
  std::string out{to_string(u)};
  out += ':';
  out += key;
  return out;
}

}  // namespace agentgraph::cache
