#include "actors/workflow/state_reducer.hpp"

#include <algorithm>

#include "runtime/error.hpp"

namespace agentgraph {

caf::error reducer_registry::add(std::string name, reducer_fn fn) {
  if (name.empty() || !fn)
    return make_error(errc::invalid_argument, "a reducer needs a name and a function");
  if (fns_.count(name) > 0)
    return make_error(errc::invalid_argument, "reducer '" + name + "' is registered twice");
  fns_.emplace(std::move(name), std::move(fn));
  return {};
}

const reducer_fn* reducer_registry::find(const std::string& name) const {
  auto it = fns_.find(name);
  return it == fns_.end() ? nullptr : &it->second;
}

namespace state_reducer_detail {

caf::expected<Value> reduce(const state_key_spec* spec, const Value* current, const Value& update,
                            const reducer_registry& reducers, const std::string& where) {
  const reducer_kind kind = spec == nullptr ? reducer_kind::overwrite : spec->reducer;
  switch (kind) {
    case reducer_kind::overwrite:
      return update;
    case reducer_kind::append: {
      Value out = current != nullptr && current->is_array() ? *current : Value::array();
      if (current != nullptr && !current->is_null() && !current->is_array())
        out.as_array().push_back(*current);  // a scalar set before becomes the first element
      if (update.is_array())
        for (const auto& v : update.as_array())
          out.as_array().push_back(v);
      else
        out.as_array().push_back(update);
      if (out.as_array().size() > state_array_items_max)
        return make_error(errc::limit_exceeded,
                          where + ": more than " + std::to_string(state_array_items_max)
                            + " items (state_array_items_max)");
      return out;
    }
    case reducer_kind::merge: {
      if (!update.is_object() || (current != nullptr && !current->is_null() && !current->is_object()))
        return make_error(errc::invalid_argument, where + ": merge needs objects");
      Value out = current != nullptr && current->is_object() ? *current : Value::object();
      for (const auto& [k, v] : update.as_object())
        out.as_object()[k] = v;
      return out;
    }
    case reducer_kind::function: {
      const auto* fn = reducers.find(spec->function);
      if (fn == nullptr)
        return make_error(errc::invalid_argument,
                          where + ": no reducer function named '" + spec->function + "'");
      return (*fn)(current != nullptr ? *current : Value{}, update);
    }
  }
  return make_error(errc::internal, where + ": unknown reducer");
}

}  // namespace state_reducer_detail

caf::error apply_update(Value& state, const std::string& node, const Value& update,
                        const workflow_graph& g, const reducer_registry& reducers) {
  using namespace state_reducer_detail;
  if (!state.is_object())
    return make_error(errc::invalid_argument, "workflow state is not an object");
  if (!update.is_object())
    return make_error(errc::invalid_argument,
                      "node '" + node + "' returned a " + std::string{update.is_array() ? "list" : "value"}
                        + " where a state update (an object) belongs");
  // Compute every key first and commit after, so a failed key leaves the
  // state as it was.
  std::vector<std::pair<std::string, Value>> results;
  for (const auto& [key, value] : update.as_object()) {
    auto next = reduce(g.find_key(key), state.find(key), value, reducers,
                       "node '" + node + "', state key '" + key + "'");
    if (!next)
      return std::move(next.error());
    results.emplace_back(key, std::move(*next));
  }
  for (auto& [key, value] : results)
    state[key] = std::move(value);
  return {};
}

caf::error apply_step(Value& state, std::vector<std::pair<std::string, Value>> updates,
                      const workflow_graph& g, const reducer_registry& reducers,
                      std::optional<Value> run_update) {
  std::stable_sort(updates.begin(), updates.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  Value next = state;  // all or nothing for the step
  for (const auto& [node, update] : updates)
    if (auto err = apply_update(next, node, update, g, reducers))
      return err;
  if (run_update)
    if (auto err = apply_update(next, workflow_run_update_source, *run_update, g, reducers))
      return err;
  state = std::move(next);
  return {};
}

}  // namespace agentgraph
