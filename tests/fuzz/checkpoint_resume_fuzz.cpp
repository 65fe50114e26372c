// Fuzz target: a stored checkpoint of any bytes, resumed on a fixed graph,
// must never crash. The bytes are decoded the way a store decodes its
// columns (decode_checkpoint_value), turned into a run's start and checked
// against the graph (checkpoint_to_start, which calls check_start). When
// the start is accepted, everything the run actor looks up when it
// schedules its first step must exist: each next node, each join entry's
// edge and sources; and the node inputs and edge conditions are evaluated
// on the state as that step would. A start accepted with a dangling
// reference aborts: that is the bug this target hunts.
//
// Input: [step: 1 byte][state length: 2 bytes, little endian][state: msgpack]
//        [pending: msgpack, the rest]
// The graph is tests/data/workflow/review.json (a fan-out, a join, a
// conditional edge and an interrupt), embedded so the target reads no file;
// the seeds in corpus/checkpoint_resume/ are real checkpoints of it
// (tests/fuzz/make_checkpoint_resume_seeds.py).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "actors/workflow/workflow_file.hpp"
#include "actors/workflow/workflow_run.hpp"
#include "runtime/checkpoint/checkpoint_codec.hpp"

namespace checkpoint_resume_fuzz {

using namespace agentgraph;

constexpr std::string_view review_json = R"({
  "name": "review",
  "entry": "draft",
  "nodes": {
    "draft":   {"agent": "a", "input": "draft about {{topic}}", "output": "draft"},
    "check":   {"agent": "b", "input": "check {{draft}}", "output": "checked"},
    "style":   {"agent": "c", "input": "style {{draft}}", "output": "styled"},
    "decide":  {"agent": "a", "input": "decide on {{checked}} and {{styled}}", "output": "verdict"},
    "publish": {"agent": "b", "input": "publish if {{approval}}", "output": "result"}
  },
  "edges": [
    {"from": "draft", "to": ["check", "style"]},
    {"join": ["check", "style"], "to": "decide"},
    {"from": "decide", "if": [{"when": "exists verdict", "to": "publish"}, {"else": "draft"}]},
    {"from": "publish", "to": "END"}
  ],
  "interrupt_before": ["publish"]
})";

const workflow_graph& graph() {
  static const workflow_graph g = [] {
    auto parsed = parse_workflow(review_json, "checkpoint_resume_fuzz");
    if (!parsed)
      std::abort();
    return std::move(*parsed);
  }();
  return g;
}

// What the run actor dereferences when it starts from `s` (begin_step,
// run_node, end_step's joins), done here without an actor system.
void schedule_first_step(const workflow_graph& g, const workflow_start& s) {
  if (!s.state.is_object() || s.next.empty())
    std::abort();
  for (const auto& n : s.next) {
    const node_spec* node = g.find_node(n);
    if (node == nullptr)
      std::abort();
    (void)render_template(node->input, s.state);  // a missing key is an error value
  }
  for (const auto& [index, seen] : s.joins) {
    if (index >= g.edges.size() || g.edges[index].kind != edge_kind::join)
      std::abort();
    const auto& from = g.edges[index].from;
    for (const auto& source : seen)
      if (std::find(from.begin(), from.end(), source) == from.end())
        std::abort();
  }
  for (const auto& e : g.edges)
    for (const auto& b : e.branches)
      if (b.when)
        (void)evaluate(*b.when, s.state);
}

}  // namespace checkpoint_resume_fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace agentgraph;
  if (size < 3)
    return 0;
  const size_t state_bytes = data[1] | (size_t{data[2]} << 8);
  if (3 + state_bytes > size)
    return 0;
  std::string_view all{reinterpret_cast<const char*>(data), size};
  checkpoint c;
  c.thread_id = "fuzz";
  c.checkpoint_id = 7;
  c.step = data[0];
  auto state = decode_checkpoint_value(all.substr(3, state_bytes), "state", c.thread_id, 7, "");
  auto pending = decode_checkpoint_value(all.substr(3 + state_bytes), "pending", c.thread_id, 7, "");
  if (!state || !pending)
    return 0;
  c.state = std::move(*state);
  c.pending = std::move(*pending);
  const auto& g = checkpoint_resume_fuzz::graph();
  auto start = checkpoint_to_start(g, c, Value{Value::Object{{"approval", Value{"yes"}}}});
  if (!start)
    return 0;
  if (check_start(g, *start))  // checkpoint_to_start accepted it: so must the run actor
    std::abort();
  checkpoint_resume_fuzz::schedule_first_step(g, *start);
  return 0;
}
