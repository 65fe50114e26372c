// Building a workflow in C++, the other way besides the JSON file. Each call
// adds one piece; build() checks the whole graph (validate_graph) and
// returns it or the first error, naming the node or edge. Conditions are
// written in the same language as in files (condition.hpp).
//
//   auto g = workflow_builder{"review"}
//              .agent("draft", "writer", "Write about {{topic}}", "draft")
//              .function("score", "score_draft")
//              .edge("draft", {"score"})
//              .when("score", {{"score >= 0.8", "END"}}, "draft")
//              .reducer("notes", reducer_kind::append)
//              .entry("draft")
//              .build();
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "actors/workflow/workflow_graph.hpp"

namespace agentgraph {

class workflow_builder {
 public:
  explicit workflow_builder(std::string name);

  workflow_builder& entry(std::string node);
  workflow_builder& max_steps(uint32_t n);
  workflow_builder& reducer(std::string key, reducer_kind kind, std::string function = {});
  // Nodes; `timeout` and `retries_max` apply to the last node added.
  workflow_builder& agent(std::string name, std::string agent, std::string input_template,
                          std::string output_key);
  workflow_builder& tool(std::string name, std::string tool, Value arguments,
                         std::string output_key);
  workflow_builder& function(std::string name, std::string function);
  workflow_builder& timeout(std::chrono::milliseconds t);
  workflow_builder& retries(uint32_t n);
  // Caches the last node's update for `ttl` (deterministic nodes only).
  workflow_builder& cache(std::chrono::milliseconds ttl);
  // Edges.
  workflow_builder& edge(std::string from, std::vector<std::string> to);
  workflow_builder& join(std::vector<std::string> from, std::string to);
  workflow_builder& when(std::string from, std::vector<std::pair<std::string, std::string>> branches,
                         std::string otherwise);
  workflow_builder& route(std::string from, std::string state_key,
                          std::map<std::string, std::string> routes);
  workflow_builder& on_error(std::string from, std::string to);
  workflow_builder& interrupt_before(std::string node);
  workflow_builder& interrupt_after(std::string node);

  // The graph, or the first error (a bad condition, then validate_graph's).
  [[nodiscard]] caf::expected<workflow_graph> build(const graph_names& names = {}) const;

 private:
  workflow_graph g_;
  caf::error first_error_;
};

}  // namespace agentgraph
