#include "actors/workflow/state_reducer.hpp"

#include <algorithm>

#include "runtime/assert.hpp"
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

// Built only when a key fails: a step that succeeds formats no message.
std::string where(const std::string& node, const std::string& key) {
  return "node '" + node + "', state key '" + key + "'";
}

// The new value of `key`; `update` is moved from (overwrite takes it whole).
caf::expected<Value> reduce(const state_key_spec* spec, const Value* current, Value&& update,
                            const reducer_registry& reducers, const std::string& node,
                            const std::string& key) {
  const reducer_kind kind = spec == nullptr ? reducer_kind::overwrite : spec->reducer;
  switch (kind) {
    case reducer_kind::overwrite:
      return std::move(update);
    case reducer_kind::append: {
      Value out = current != nullptr && current->is_array() ? *current : Value::array();
      if (current != nullptr && !current->is_null() && !current->is_array())
        out.as_array().push_back(*current);  // a scalar set before becomes the first element
      if (update.is_array())
        for (auto& v : update.as_array())
          out.as_array().push_back(std::move(v));
      else
        out.as_array().push_back(std::move(update));
      if (out.as_array().size() > state_array_items_max)
        return make_error(errc::limit_exceeded,
                          where(node, key) + ": more than " + std::to_string(state_array_items_max)
                            + " items (state_array_items_max)");
      return out;
    }
    case reducer_kind::merge: {
      if (!update.is_object() || (current != nullptr && !current->is_null() && !current->is_object()))
        return make_error(errc::invalid_argument, where(node, key) + ": merge needs objects");
      Value out = current != nullptr && current->is_object() ? *current : Value::object();
      for (auto& [k, v] : update.as_object())
        out.as_object()[k] = std::move(v);
      return out;
    }
    case reducer_kind::function: {
      const auto* fn = reducers.find(spec->function);
      if (fn == nullptr)
        return make_error(errc::invalid_argument,
                          where(node, key) + ": no reducer function named '" + spec->function + "'");
      return (*fn)(current != nullptr ? *current : Value{}, update);
    }
  }
  return make_error(errc::internal, where(node, key) + ": unknown reducer");
}

// A step's writes, to put back on error: where each went and the value it
// replaced (nullopt: the key was new), in write order. Undone backwards, so
// a key written twice ends with its value from before the step. std::map
// iterators stay valid across the step's other inserts.
struct undo_entry {
  Value::Object::iterator at;
  std::optional<Value> old;
};

void roll_back(Value::Object& state, std::vector<undo_entry>& log) {
  for (auto it = log.rbegin(); it != log.rend(); ++it) {
    if (it->old)
      it->at->second = std::move(*it->old);
    else
      state.erase(it->at);
  }
  log.clear();
}

// A key's new value, computed before anything of its node is written:
// where the key is (or goes: a hint for a new key) and whether it exists.
struct pending_write {
  const std::string* key;
  Value::Object::iterator at;
  bool exists;
  Value value;
};

// One node's update: every key computed first (a failing key writes
// nothing of this node), then written, each write logged. One map search
// per key serves both the read and the write.
caf::error apply_one(Value::Object& state, const std::string& node, Value& update,
                     const workflow_graph& g, const reducer_registry& reducers,
                     std::vector<undo_entry>& log, std::vector<pending_write>& writes) {
  if (!update.is_object())
    return make_error(errc::invalid_argument,
                      "node '" + node + "' returned a "
                        + std::string{update.is_array() ? "list" : "value"}
                        + " where a state update (an object) belongs");
  writes.clear();
  writes.reserve(update.as_object().size());
  for (auto& [key, value] : update.as_object()) {
    auto at = state.lower_bound(key);
    const bool exists = at != state.end() && at->first == key;
    const state_key_spec* spec = g.state.empty() ? nullptr : g.find_key(key);
    if (spec == nullptr || spec->reducer == reducer_kind::overwrite) {  // the common case
      writes.push_back({&key, at, exists, std::move(value)});
      continue;
    }
    auto next = reduce(spec, exists ? &at->second : nullptr, std::move(value), reducers, node, key);
    if (!next)
      return std::move(next.error());
    writes.push_back({&key, at, exists, std::move(*next)});
  }
  for (auto& w : writes) {
    if (w.exists) {
      log.push_back({w.at, std::move(w.at->second)});
      w.at->second = std::move(w.value);
    } else {
      log.push_back({state.emplace_hint(w.at, *w.key, std::move(w.value)), std::nullopt});
    }
  }
  return {};
}

}  // namespace state_reducer_detail

caf::error apply_update(Value& state, const std::string& node, const Value& update,
                        const workflow_graph& g, const reducer_registry& reducers) {
  using namespace state_reducer_detail;
  if (!state.is_object())
    return make_error(errc::invalid_argument, "workflow state is not an object");
  Value copy = update;
  std::vector<undo_entry> log;
  std::vector<pending_write> writes;
  return apply_one(state.as_object(), node, copy, g, reducers, log, writes);
}

caf::error apply_ordered_updates(Value& state, std::vector<node_update>& updates,
                                 const workflow_graph& g, const reducer_registry& reducers,
                                 Value* run_update) {
  using namespace state_reducer_detail;
  if (!state.is_object())
    return make_error(errc::invalid_argument, "workflow state is not an object");
  auto& obj = state.as_object();
  std::vector<undo_entry> log;
  log.reserve(updates.size() + 1);  // one key per update is the common case
  std::vector<pending_write> writes;
  for (auto& u : updates) {
    AG_ASSERT(u.node != nullptr);
    if (auto err = apply_one(obj, *u.node, u.update, g, reducers, log, writes)) {
      roll_back(obj, log);
      return err;
    }
  }
  if (run_update != nullptr) {
    static const std::string source{workflow_run_update_source};
    if (auto err = apply_one(obj, source, *run_update, g, reducers, log, writes)) {
      roll_back(obj, log);
      return err;
    }
  }
  return {};
}

caf::error apply_step(Value& state, std::vector<std::pair<std::string, Value>> updates,
                      const workflow_graph& g, const reducer_registry& reducers,
                      std::optional<Value> run_update) {
  std::stable_sort(updates.begin(), updates.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<node_update> ordered;
  ordered.reserve(updates.size());
  for (auto& [node, update] : updates)
    ordered.push_back({&node, std::move(update)});
  return apply_ordered_updates(state, ordered, g, reducers, run_update ? &*run_update : nullptr);
}

}  // namespace agentgraph
