#include "actors/workflow/workflow_file.hpp"

#include <initializer_list>
#include <sstream>

#include <nlohmann/json.hpp>

#include "runtime/config/config_value.hpp"
#include "runtime/error.hpp"
#include "runtime/file_open.hpp"

namespace agentgraph {

namespace workflow_file_detail {

using nlohmann::json;

// Carries the origin and JSON path into every message.
struct reader {
  std::string origin;

  [[nodiscard]] caf::error fail(const std::string& path, const std::string& what) const {
    return make_error(errc::parse_error, origin + ": " + path + ": " + what);
  }
  [[nodiscard]] caf::error only_keys(const json& obj, const std::string& path,
                                     std::initializer_list<const char*> allowed) const {
    for (const auto& [k, v] : obj.items()) {
      bool ok = false;
      for (const char* a : allowed)
        ok = ok || k == a;
      if (!ok)
        return fail(path, "unknown key '" + k + "'");
    }
    return {};
  }
  caf::error string(const json& j, const std::string& path, std::string& out) const {
    if (!j.is_string())
      return fail(path, "expected a string");
    out = j.get<std::string>();
    return {};
  }
  caf::error names(const json& j, const std::string& path, std::vector<std::string>& out) const {
    if (j.is_string()) {
      out = {j.get<std::string>()};
      return {};
    }
    if (!j.is_array() || j.empty())
      return fail(path, "expected a node name or a non-empty list of names");
    out.clear();
    for (size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_string())
        return fail(path + "[" + std::to_string(i) + "]", "expected a node name");
      out.push_back(j[i].get<std::string>());
    }
    return {};
  }
  caf::error duration(const json& j, const std::string& path,
                      std::chrono::milliseconds& out) const {
    if (!j.is_string())
      return fail(path, "expected a duration such as \"30s\"");
    value_rules rules;
    rules.type = value_type::duration;
    rules.min = 1;
    rules.max = 24.0L * 3600 * 1000;
    auto v = parse_config_value(rules, j.get<std::string>());
    if (!v)
      return fail(path, error_context(v.error()));
    out = std::get<config_duration>(*v);
    return {};
  }
};

caf::error read_state(const reader& r, const json& j, workflow_graph& g) {
  if (!j.is_object())
    return r.fail("state", "expected an object of key: reducer");
  for (const auto& [key, spec] : j.items()) {
    const std::string path = "state." + key;
    state_key_spec k;
    k.name = key;
    std::string word;
    if (spec.is_string()) {
      word = spec.get<std::string>();
    } else if (spec.is_object()) {
      if (auto err = r.only_keys(spec, path, {"reducer", "function"}))
        return err;
      if (!spec.contains("reducer"))
        return r.fail(path, "missing `reducer`");
      if (auto err = r.string(spec["reducer"], path + ".reducer", word))
        return err;
      if (spec.contains("function"))
        if (auto err = r.string(spec["function"], path + ".function", k.function))
          return err;
    } else {
      return r.fail(path, "expected a reducer name or {\"reducer\": ..., \"function\": ...}");
    }
    if (word == "overwrite")
      k.reducer = reducer_kind::overwrite;
    else if (word == "append")
      k.reducer = reducer_kind::append;
    else if (word == "merge")
      k.reducer = reducer_kind::merge;
    else if (word == "function")
      k.reducer = reducer_kind::function;
    else
      return r.fail(path, "unknown reducer '" + word + "' (overwrite, append, merge, function)");
    if ((k.reducer == reducer_kind::function) != !k.function.empty())
      return r.fail(path, "`function` goes with reducer function, and only with it");
    g.state.push_back(std::move(k));
  }
  return {};
}

caf::error read_node(const reader& r, const std::string& name, const json& j, node_spec& n) {
  const std::string path = "nodes." + name;
  if (!j.is_object())
    return r.fail(path, "expected an object");
  if (auto err = r.only_keys(j, path, {"agent", "tool", "function", "input", "arguments", "output",
                                       "timeout", "retries", "cache"}))
    return err;
  n.name = name;
  int kinds = 0;
  for (auto [key, kind] : {std::pair{"agent", node_kind::agent}, std::pair{"tool", node_kind::tool},
                           std::pair{"function", node_kind::function}})
    if (j.contains(key)) {
      ++kinds;
      n.kind = kind;
      if (auto err = r.string(j[key], path + "." + key, n.target))
        return err;
    }
  if (kinds != 1)
    return r.fail(path, "exactly one of `agent`, `tool` or `function`");
  if (j.contains("input")) {
    if (n.kind != node_kind::agent)
      return r.fail(path + ".input", "only agent nodes take an input template");
    if (auto err = r.string(j["input"], path + ".input", n.input))
      return err;
  }
  if (j.contains("arguments")) {
    if (n.kind != node_kind::tool || !j["arguments"].is_object())
      return r.fail(path + ".arguments", "only tool nodes take arguments, as an object");
    auto v = Value::from_json(j["arguments"].dump());
    if (!v)
      return r.fail(path + ".arguments", error_context(v.error()));
    n.arguments = std::move(*v);
  }
  if (j.contains("output"))
    if (auto err = r.string(j["output"], path + ".output", n.output))
      return err;
  if (j.contains("timeout"))
    if (auto err = r.duration(j["timeout"], path + ".timeout", n.timeout))
      return err;
  if (j.contains("cache"))
    if (auto err = r.duration(j["cache"], path + ".cache", n.cache_ttl))
      return err;
  if (j.contains("retries")) {
    if (!j["retries"].is_number_unsigned() || j["retries"].get<uint64_t>() > 10)
      return r.fail(path + ".retries", "expected 0..10");
    n.retries_max = j["retries"].get<uint32_t>();
  }
  return {};
}

caf::error read_branches(const reader& r, const json& j, const std::string& path, edge_spec& e) {
  if (!j.is_array() || j.empty())
    return r.fail(path, "expected a list of {\"when\": ..., \"to\": ...} and a final {\"else\": ...}");
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string bp = path + "[" + std::to_string(i) + "]";
    const auto& b = j[i];
    if (!b.is_object())
      return r.fail(bp, "expected an object");
    edge_branch branch;
    if (b.contains("else")) {
      if (auto err = r.only_keys(b, bp, {"else"}))
        return err;
      if (auto err = r.string(b["else"], bp + ".else", branch.to))
        return err;
    } else {
      if (auto err = r.only_keys(b, bp, {"when", "to"}))
        return err;
      std::string text;
      if (!b.contains("when") || !b.contains("to"))
        return r.fail(bp, "needs `when` and `to` (or `else`)");
      if (auto err = r.string(b["when"], bp + ".when", text))
        return err;
      auto c = parse_condition(text);
      if (!c)
        return r.fail(bp + ".when", error_context(c.error()));
      branch.when = std::move(*c);
      if (auto err = r.string(b["to"], bp + ".to", branch.to))
        return err;
    }
    e.branches.push_back(std::move(branch));
  }
  return {};
}

caf::error read_edge(const reader& r, const json& j, size_t index, edge_spec& e) {
  const std::string path = "edges[" + std::to_string(index) + "]";
  if (!j.is_object())
    return r.fail(path, "expected an object");
  if (auto err = r.only_keys(j, path, {"from", "join", "to", "if", "route", "routes", "on_error"}))
    return err;
  if (j.contains("join")) {
    e.kind = edge_kind::join;
    if (j.contains("from") || !j.contains("to"))
      return r.fail(path, "a join has `join` (its sources) and `to`, no `from`");
    if (auto err = r.names(j["join"], path + ".join", e.from))
      return err;
    return r.names(j["to"], path + ".to", e.to);
  }
  if (!j.contains("from"))
    return r.fail(path, "missing `from`");
  if (auto err = r.names(j["from"], path + ".from", e.from))
    return err;
  int shapes = int{j.contains("to")} + int{j.contains("if")} + int{j.contains("route")}
               + int{j.contains("on_error")};
  if (shapes != 1)
    return r.fail(path, "exactly one of `to`, `if`, `route` or `on_error`");
  if (j.contains("to")) {
    e.kind = edge_kind::plain;
    return r.names(j["to"], path + ".to", e.to);
  }
  if (j.contains("on_error")) {
    e.kind = edge_kind::error;
    return r.names(j["on_error"], path + ".on_error", e.to);
  }
  if (j.contains("if")) {
    e.kind = edge_kind::conditional;
    return read_branches(r, j["if"], path + ".if", e);
  }
  e.kind = edge_kind::route;
  if (auto err = r.string(j["route"], path + ".route", e.route_key))
    return err;
  if (!j.contains("routes") || !j["routes"].is_object() || j["routes"].empty())
    return r.fail(path + ".routes", "expected an object of choice: node");
  for (const auto& [choice, to] : j["routes"].items()) {
    if (!to.is_string())
      return r.fail(path + ".routes." + choice, "expected a node name");
    e.routes[choice] = to.get<std::string>();
  }
  return {};
}

}  // namespace workflow_file_detail

caf::expected<workflow_graph> parse_workflow(std::string_view text, const std::string& origin,
                                             const graph_names& names) {
  using namespace workflow_file_detail;
  reader r{origin};
  if (text.size() > workflow_file_bytes_max)
    return r.fail("(file)", "larger than " + std::to_string(workflow_file_bytes_max) + " bytes");
  // Value::from_json first: it is the one JSON reader that refuses
  // duplicate keys (and bounds the depth), which nlohmann's DOM parser
  // would resolve silently, last one wins.
  if (auto checked = Value::from_json(text); !checked)
    return r.fail("(file)", "not valid JSON: " + error_context(checked.error()));
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded())
    return r.fail("(file)", "not valid JSON");
  if (!j.is_object())
    return r.fail("(file)", "expected a JSON object");
  if (auto err = r.only_keys(j, "(top)", {"name", "entry", "max_steps", "state", "nodes", "edges",
                                          "interrupt_before", "interrupt_after"}))
    return err;
  workflow_graph g;
  g.name = origin;
  if (j.contains("name"))
    if (auto err = r.string(j["name"], "name", g.name))
      return err;
  if (!j.contains("entry") || !j.contains("nodes") || !j.contains("edges"))
    return r.fail("(top)", "needs `entry`, `nodes` and `edges`");
  if (auto err = r.string(j["entry"], "entry", g.entry))
    return err;
  if (j.contains("max_steps")) {
    if (!j["max_steps"].is_number_unsigned())
      return r.fail("max_steps", "expected a positive integer");
    g.max_steps = static_cast<uint32_t>(
      std::min<uint64_t>(j["max_steps"].get<uint64_t>(), workflow_max_steps_limit + 1));
  }
  if (j.contains("state"))
    if (auto err = read_state(r, j["state"], g))
      return err;
  if (!j["nodes"].is_object() || j["nodes"].size() > workflow_nodes_max)
    return r.fail("nodes", "expected an object of up to " + std::to_string(workflow_nodes_max)
                             + " nodes");
  for (const auto& [name, spec] : j["nodes"].items()) {
    node_spec n;
    if (auto err = read_node(r, name, spec, n))
      return err;
    g.nodes.push_back(std::move(n));
  }
  if (!j["edges"].is_array() || j["edges"].size() > workflow_edges_max)
    return r.fail("edges", "expected a list of up to " + std::to_string(workflow_edges_max)
                             + " edges");
  for (size_t i = 0; i < j["edges"].size(); ++i) {
    edge_spec e;
    if (auto err = read_edge(r, j["edges"][i], i, e))
      return err;
    g.edges.push_back(std::move(e));
  }
  for (auto [key, out] : {std::pair{"interrupt_before", &g.interrupt_before},
                          std::pair{"interrupt_after", &g.interrupt_after}})
    if (j.contains(key) && !(j[key].is_array() && j[key].empty()))
      if (auto err = r.names(j[key], key, *out))
        return err;
  if (auto err = validate_graph(g, names))
    return make_error(errc::invalid_argument, origin + ": " + error_context(err));
  return g;
}

caf::expected<workflow_graph> load_workflow(const std::string& path, const graph_names& names) {
  // read_regular_file: a FIFO or a device is refused at once, not read.
  auto text = read_regular_file(path, workflow_file_bytes_max, "workflow file");
  if (!text)
    return std::move(text.error());
  return parse_workflow(*text, path, names);
}

}  // namespace agentgraph
