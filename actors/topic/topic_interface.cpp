#include "actors/topic/topic_interface.hpp"

#include <algorithm>

#include "runtime/error.hpp"

namespace agentgraph {

caf::error check_topic_name(const std::string& topic) {
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  };
  const bool fits = !topic.empty() && topic.size() <= 64;
  if (!fits || !std::all_of(topic.begin(), topic.end(), ok))
    return make_error(errc::invalid_argument,
                      "topic '" + topic.substr(0, 64) + "': a name is 1-64 of a-z 0-9 _ . -");
  return {};
}

Value publish_receipt_json(const publish_receipt& r) {
  Value out = Value::object();
  out["topic"] = Value{r.topic};
  out["id"] = Value{r.id};
  out["subscribers_local"] = Value{static_cast<long long>(r.subscribers_local)};
  out["nodes"] = Value{static_cast<long long>(r.nodes)};
  out["nodes_overloaded"] = Value{static_cast<long long>(r.nodes_overloaded)};
  return out;
}

}  // namespace agentgraph
