#include "actors/workflow/workflow_builder.hpp"

#include "runtime/error.hpp"

namespace agentgraph {

workflow_builder::workflow_builder(std::string name) {
  g_.name = std::move(name);
}

workflow_builder& workflow_builder::entry(std::string node) {
  g_.entry = std::move(node);
  return *this;
}

workflow_builder& workflow_builder::max_steps(uint32_t n) {
  g_.max_steps = n;
  return *this;
}

workflow_builder& workflow_builder::reducer(std::string key, reducer_kind kind,
                                            std::string function) {
  g_.state.push_back({std::move(key), kind, std::move(function)});
  return *this;
}

workflow_builder& workflow_builder::agent(std::string name, std::string agent,
                                          std::string input_template, std::string output_key) {
  node_spec n;
  n.name = std::move(name);
  n.kind = node_kind::agent;
  n.target = std::move(agent);
  n.input = std::move(input_template);
  n.output = std::move(output_key);
  g_.nodes.push_back(std::move(n));
  return *this;
}

workflow_builder& workflow_builder::tool(std::string name, std::string tool, Value arguments,
                                         std::string output_key) {
  node_spec n;
  n.name = std::move(name);
  n.kind = node_kind::tool;
  n.target = std::move(tool);
  n.arguments = arguments.is_object() ? std::move(arguments) : Value::object();
  n.output = std::move(output_key);
  g_.nodes.push_back(std::move(n));
  return *this;
}

workflow_builder& workflow_builder::function(std::string name, std::string function) {
  node_spec n;
  n.name = std::move(name);
  n.kind = node_kind::function;
  n.target = std::move(function);
  g_.nodes.push_back(std::move(n));
  return *this;
}

workflow_builder& workflow_builder::timeout(std::chrono::milliseconds t) {
  if (!g_.nodes.empty())
    g_.nodes.back().timeout = t;
  return *this;
}

workflow_builder& workflow_builder::retries(uint32_t n) {
  if (!g_.nodes.empty())
    g_.nodes.back().retries_max = n;
  return *this;
}

workflow_builder& workflow_builder::cache(std::chrono::milliseconds ttl) {
  if (!g_.nodes.empty())
    g_.nodes.back().cache_ttl = ttl;
  return *this;
}

workflow_builder& workflow_builder::edge(std::string from, std::vector<std::string> to) {
  edge_spec e;
  e.kind = edge_kind::plain;
  e.from = {std::move(from)};
  e.to = std::move(to);
  g_.edges.push_back(std::move(e));
  return *this;
}

workflow_builder& workflow_builder::join(std::vector<std::string> from, std::string to) {
  edge_spec e;
  e.kind = edge_kind::join;
  e.from = std::move(from);
  e.to = {std::move(to)};
  g_.edges.push_back(std::move(e));
  return *this;
}

workflow_builder& workflow_builder::when(std::string from,
                                         std::vector<std::pair<std::string, std::string>> branches,
                                         std::string otherwise) {
  edge_spec e;
  e.kind = edge_kind::conditional;
  e.from = {std::move(from)};
  for (auto& [text, to] : branches) {
    auto c = parse_condition(text);
    if (!c) {
      if (!first_error_)
        first_error_ = make_error(errc::invalid_argument, "workflow '" + g_.name + "': edge from "
                                                            + e.from.front() + ": "
                                                            + error_context(c.error()));
      continue;
    }
    e.branches.push_back({std::move(*c), std::move(to)});
  }
  e.branches.push_back({std::nullopt, std::move(otherwise)});
  g_.edges.push_back(std::move(e));
  return *this;
}

workflow_builder& workflow_builder::route(std::string from, std::string state_key,
                                          std::map<std::string, std::string> routes) {
  edge_spec e;
  e.kind = edge_kind::route;
  e.from = {std::move(from)};
  e.route_key = std::move(state_key);
  e.routes = std::move(routes);
  g_.edges.push_back(std::move(e));
  return *this;
}

workflow_builder& workflow_builder::on_error(std::string from, std::string to) {
  edge_spec e;
  e.kind = edge_kind::error;
  e.from = {std::move(from)};
  e.to = {std::move(to)};
  g_.edges.push_back(std::move(e));
  return *this;
}

workflow_builder& workflow_builder::interrupt_before(std::string node) {
  g_.interrupt_before.push_back(std::move(node));
  return *this;
}

workflow_builder& workflow_builder::interrupt_after(std::string node) {
  g_.interrupt_after.push_back(std::move(node));
  return *this;
}

caf::expected<workflow_graph> workflow_builder::build(const graph_names& names) const {
  if (first_error_)
    return first_error_;
  if (auto err = validate_graph(g_, names))
    return err;
  return g_;
}

}  // namespace agentgraph
