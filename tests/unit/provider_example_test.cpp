// Walks configs/examples/research.rules.json by hand: builds the messages
// the planner and researcher agents would send, feeds back the tool results
// their tools would return, and checks the final answer. If the example
// file or the rule engine drifts, the main job's flow breaks here first.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "actors/provider/scripted_answer.hpp"
#include "actors/provider/scripted_rules.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;

namespace provider_example_test {

constexpr const char* task = "How many widgets fit in the crate? Use the spec file.";
constexpr const char* spec_text = "Crate inner size (cm): 120 x 80 x 60\n"
                                  "Widget size (cm): 12 x 8 x 6\n"
                                  "expression: (120*80*60)/(12*8*6)\n";

scripted_rules example_rules() {
  auto r = load_scripted_rules(AGENTGRAPH_SOURCE_DIR "/configs/examples/research.rules.json");
  REQUIRE_MESSAGE(r, describe(r.error()));
  return std::move(*r);
}

// One agent's conversation, grown the way the agent grows it.
struct conversation {
  const scripted_rules& rules;
  chat_request req;
  int turn = 0;

  conversation(const scripted_rules& rs, std::string system, std::string user,
               std::vector<std::string> tool_names)
    : rules(rs) {
    req.model = "scripted-1";
    req.messages.push_back({chat_role::system, std::move(system), {}, {}, {}});
    req.messages.push_back({chat_role::user, std::move(user), {}, {}, {}});
    for (auto& name : tool_names)
      req.tools.push_back({std::move(name), "a tool", Value::object()});
  }

  // Asks the provider for the next assistant message and appends it.
  chat_response next(const std::string& agent) {
    req.request_id = agent + "-" + std::to_string(++turn);
    auto out = answer_scripted(rules, req);
    REQUIRE_MESSAGE(out, describe(out.error()));
    REQUIRE_FALSE(out->error);
    req.messages.push_back(out->response.message);
    return out->response;
  }

  void tool_result(const tool_call& call, const Value& output) {
    req.messages.push_back({chat_role::tool, output.to_json(), {}, call.id, call.name});
  }
};

Value object(std::initializer_list<std::pair<const std::string, Value>> fields) {
  return Value{Value::Object{fields}};
}

// The researcher's whole task, as the ask_researcher tool would run it.
std::string run_researcher(const scripted_rules& rs, const std::string& researcher_task,
                           const std::string& file_text) {
  conversation c{rs,
                 "You are the researcher [researcher]. Use your tools.\n"
                 "Relevant memory:\n- widgets are packed without gaps\n\nBe precise.",
                 researcher_task, {"file_read", "calculator"}};
  auto read = c.next("researcher");
  REQUIRE(read.message.tool_calls.size() == 1);
  CHECK(read.message.tool_calls[0].name == "file_read");
  CHECK(read.message.tool_calls[0].arguments.to_json() == R"({"path":"specs/crate.txt"})");
  c.tool_result(read.message.tool_calls[0],
                object({{"path", "specs/crate.txt"}, {"content", file_text}}));
  auto calc = c.next("researcher");
  if (calc.message.tool_calls.empty())
    return calc.message.content;
  CHECK(calc.finish == finish_reason::tool_calls);
  CHECK(calc.message.tool_calls[0].name == "calculator");
  CHECK(calc.message.tool_calls[0].id == "call_researcher-2_1");
  // The expression is the file's, not the rules file's.
  CHECK(calc.message.tool_calls[0].arguments.to_json()
        == R"J({"expression":"(120*80*60)/(12*8*6)"})J");
  c.tool_result(calc.message.tool_calls[0], object({{"value", 1000.0}}));
  auto answer = c.next("researcher");
  CHECK(answer.message.tool_calls.empty());
  CHECK(answer.finish == finish_reason::stop);
  CHECK(answer.usage.prompt_tokens > read.usage.prompt_tokens);
  return answer.message.content;
}

}  // namespace provider_example_test

TEST_CASE("provider: the example rules walk planner and researcher to the answer") {
  using namespace provider_example_test;
  auto rs = example_rules();
  conversation planner{rs, "You are the planner [planner]. Delegate research.", task,
                       {"ask_researcher"}};
  auto delegate = planner.next("planner");
  REQUIRE(delegate.message.tool_calls.size() == 1);
  const auto& call = delegate.message.tool_calls[0];
  CHECK(call.id == "call_planner-1_1");
  CHECK(call.name == "ask_researcher");
  auto researcher_task = call.arguments.get_string("task");
  CHECK(researcher_task == std::string{"Read specs/crate.txt and compute how many widgets fit: "}
                             + task);

  auto found = run_researcher(rs, researcher_task, spec_text);
  CHECK(found
        == "The crate holds 1000 widgets (computed from specs/crate.txt). "
           "- widgets are packed without gaps");

  planner.tool_result(call, object({{"answer", found}}));
  auto final_answer = planner.next("planner");
  CHECK(final_answer.message.tool_calls.empty());
  CHECK(final_answer.message.content == "Plan complete. Researcher found: " + found);
}

TEST_CASE("provider: the example rules handle a spec without an expression") {
  using namespace provider_example_test;
  auto rs = example_rules();
  auto found = run_researcher(rs, "Read specs/crate.txt please", "Crate: big\nWidgets: small\n");
  CHECK(found.find("has no 'expression:' line") != std::string::npos);
  // A planner whose researcher failed says so instead of inventing a result.
  conversation planner{rs, "[planner]", task, {"ask_researcher"}};
  auto delegate = planner.next("planner");
  REQUIRE(delegate.message.tool_calls.size() == 1);
  planner.tool_result(delegate.message.tool_calls[0], Value{"tool_error: researcher timed out"});
  auto reply = planner.next("planner");
  CHECK(reply.message.content.rfind("Plan incomplete: the researcher returned", 0) == 0);
  // Anything off-script gets the default reply.
  conversation other{rs, "[planner]", "Write a poem", {}};
  CHECK(other.next("planner").message.content.find("scripted research flow")
        != std::string::npos);
}
