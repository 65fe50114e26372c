#include "actors/topic/topic_subscriptions.hpp"

#include <algorithm>

#include "runtime/error.hpp"

namespace agentgraph {

caf::error topic_subscriptions::subscribe(const std::string& topic, topic_subscriber s) {
  if (auto err = check_topic_name(topic))
    return err;
  std::lock_guard lock{mu_};
  auto it = by_topic_.find(topic);
  if (it == by_topic_.end() && by_topic_.size() >= limits_.topics_max)
    return make_error(errc::limit_exceeded, "topic '" + topic + "': this node has " +
                                                std::to_string(limits_.topics_max) +
                                                " topics with subscribers already");
  auto& subs = by_topic_[topic];
  for (const auto& x : subs)
    if (x.agent == s.agent)
      return make_error(errc::invalid_argument,
                        "topic '" + topic + "': agent '" + s.agent + "' subscribes twice");
  if (subs.size() >= limits_.subscribers_per_topic_max)
    return make_error(errc::limit_exceeded, "topic '" + topic + "': " +
                                                std::to_string(limits_.subscribers_per_topic_max) +
                                                " subscribers already");
  subs.push_back(std::move(s));
  return {};
}

std::vector<topic_subscriber> topic_subscriptions::of(const std::string& topic) const {
  std::lock_guard lock{mu_};
  auto it = by_topic_.find(topic);
  return it == by_topic_.end() ? std::vector<topic_subscriber>{} : it->second;
}

std::vector<std::string> topic_subscriptions::topics() const {
  std::lock_guard lock{mu_};
  std::vector<std::string> out;
  for (const auto& [t, subs] : by_topic_)
    if (!subs.empty())
      out.push_back(t);
  return out;
}

}  // namespace agentgraph
