// Fuzz target: a scripted rules file (JSON, templates, regexes) must load or
// fail with a clear error; a loaded rule set must answer a request (and
// embed a text, with an embeddings section) without crashing.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "actors/provider/scripted_answer.hpp"
#include "actors/provider/scripted_rules.hpp"
#include "runtime/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto rules = agentgraph::parse_scripted_rules(text, "fuzz.rules.json");
  if (!rules) {
    if (agentgraph::describe(rules.error()).empty())
      std::abort();
    return 0;
  }
  agentgraph::chat_request req;
  req.request_id = "fuzz";
  req.messages.push_back({agentgraph::chat_role::system, "[planner]\n\nRelevant memory:\n- x\n", {}, {}, {}});
  req.messages.push_back({agentgraph::chat_role::user, "How many widgets fit in the crate? specs/a.txt", {}, {}, {}});
  (void)agentgraph::answer_scripted(*rules, req);
  // An embeddings section that loaded embeds any text into a vector of its
  // length.
  if (rules->embeddings) {
    auto v = rules->embeddings->embed("a kitten needs the vet; kitten heels, hot dogs!");
    if (v.size() != rules->embeddings->dimensions())
      std::abort();
  }
  return 0;
}
