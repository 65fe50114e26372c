// Every HTTP provider kind against the mock LLM server over real loopback
// HTTP: a plain answer, a streamed answer whose chunks reach the sink before
// the reply, a tool call, embeddings (not Anthropic), token usage, cost from
// a price table, and embedding batching.
#include "http_provider_fixture.hpp"

#include "runtime/resilience/price_table.hpp"

namespace http_provider_kinds_test {

using namespace http_provider_fixture;

const char* const scenario = R"({
  "name": "kinds", "seed": 3, "api_key": "k", "chunk_chars": 3, "embedding_dimensions": 8,
  "limits": {"threads": 8},
  "rules": [
    {"name": "calc-call", "match": {"contains": "compute", "tools": true, "tool_result": false},
     "reply": {"text": "", "tool_calls": [{"name": "calculator", "arguments": {"expression": "6*7"}}]}},
    {"name": "calc-answer", "match": {"tool_result": true, "tool_result_contains": "42"},
     "reply": {"text": "The answer is 42."}},
    {"name": "hello", "match": {"contains": "hello"}, "reply": {"text": "Hello from the mock, friend."},
     "usage": {"prompt_tokens": 11, "completion_tokens": 7}}
  ]})";

const std::vector<std::string> all_kinds = {"openai", "anthropic", "gemini", "openrouter",
                                            "openai_compatible"};


TEST_CASE("http provider: every kind answers plainly with usage") {
  fixture f{scenario};
  for (const auto& kind : all_kinds) {
    INFO(kind);
    auto p = f.spawn(f.config(kind, kind));
    auto r = f.chat(p, fixture::ask("plain-" + kind, "hello there"));
    REQUIRE_MESSAGE(r, describe(r.error()));
    CHECK(r->message.content == "Hello from the mock, friend.");
    CHECK(r->usage.prompt_tokens == 11);
    CHECK(r->usage.completion_tokens == 7);
    CHECK(r->finish == finish_reason::stop);
    auto s = f.stats(p);
    CHECK(s.kind == kind);
    CHECK(s.calls == 1);
    CHECK(s.succeeded == 1);
    CHECK(s.attempts == 1);
    CHECK(s.prompt_tokens == 11);
    CHECK(s.completion_tokens == 7);
    CHECK(s.breaker_state == "closed");
  }
}

TEST_CASE("http provider: every kind streams chunks to the sink before the reply") {
  fixture f{scenario};
  for (const auto& kind : all_kinds) {
    INFO(kind);
    auto p = f.spawn(f.config(kind, kind));
    auto log = std::make_shared<chunk_log>();
    auto r = f.stream(p, fixture::ask("stream-" + kind, "hello there"), log);
    REQUIRE_MESSAGE(r, describe(r.error()));
    CHECK(r->message.content == "Hello from the mock, friend.");
    // The sink got the same text in several pieces.
    auto st = f.stats(p);
    CHECK(st.stream_chunks > 1);
    REQUIRE(log->wait_for(st.stream_chunks));
    CHECK(log->text() == r->message.content);
    for (const auto& c : log->chunks)
      CHECK(c.request_id == "stream-" + kind);
    CHECK(st.stream_chunks == log->size());
  }
}

TEST_CASE("http provider: every kind returns tool calls, plain and streamed") {
  fixture f{scenario};
  for (const auto& kind : all_kinds) {
    INFO(kind);
    auto p = f.spawn(f.config(kind, kind));
    auto r = f.chat(p, fixture::ask("tool-" + kind, "please compute this", {calculator_tool()}));
    REQUIRE_MESSAGE(r, describe(r.error()));
    REQUIRE(r->message.tool_calls.size() == 1);
    CHECK(r->message.tool_calls[0].name == "calculator");
    CHECK(r->message.tool_calls[0].arguments.to_json() == R"({"expression":"6*7"})");
    CHECK(r->finish == finish_reason::tool_calls);
    auto log = std::make_shared<chunk_log>();
    auto s = f.stream(p, fixture::ask("tool-stream-" + kind, "please compute this",
                                      {calculator_tool()}),
                      log);
    REQUIRE_MESSAGE(s, describe(s.error()));
    REQUIRE(s->message.tool_calls.size() == 1);
    CHECK(s->message.tool_calls[0].arguments.to_json() == R"({"expression":"6*7"})");
    REQUIRE(log->wait_for(f.stats(p).stream_chunks));
    size_t streamed_calls = 0;
    for (const auto& c : log->chunks)
      streamed_calls += c.tool_calls.size();
    CHECK(streamed_calls == 1);
  }
}

TEST_CASE("http provider: embeddings for every kind that has them and unsupported for anthropic") {
  fixture f{scenario};
  for (const auto& kind : all_kinds) {
    INFO(kind);
    auto p = f.spawn(f.config(kind, kind));
    auto e = f.embed(p, {"red apples", "green pears"});
    if (kind == "anthropic") {
      REQUIRE_FALSE(e);
      CHECK(errc_of(e.error()) == errc::unsupported);
      continue;
    }
    REQUIRE_MESSAGE(e, describe(e.error()));
    REQUIRE(e->vectors.size() == 2);
    CHECK(e->vectors[0].size() == 8);
    CHECK(e->vectors[0] != e->vectors[1]);
  }
}

TEST_CASE("http provider: embedding requests within the window travel as one batch") {
  fixture f{scenario};
  auto c = f.config("openai");
  c.embed_batch_window = 200ms;  // long enough that all three arrive inside it
  c.embed_batch_inputs_max = 16;
  auto p = f.spawn(c);
  auto alone = f.spawn(f.config("openai", "alone"));
  // Reference vectors, one request each.
  auto ref_a = f.embed(alone, {"alpha text"});
  auto ref_b = f.embed(alone, {"beta text", "gamma text"});
  auto ref_c = f.embed(alone, {"delta text"});
  REQUIRE((ref_a && ref_b && ref_c));
  const auto before = f.mock_requests();
  // Three callers at once.
  std::vector<caf::expected<embed_response>> got(3, make_error(errc::internal, "none"));
  std::vector<std::vector<std::string>> inputs = {{"alpha text"}, {"beta text", "gamma text"},
                                                  {"delta text"}};
  for (size_t i = 0; i < 3; ++i)
    (*f.self)->send(p, embed_atom::value, embed_request{"embed-model", inputs[i]});
  // Replies come back in any order; match them by vector count and value.
  for (size_t i = 0; i < 3; ++i)
    (*f.self)->receive(
      [&](embed_response& r) {
        if (r.vectors.size() == 2)
          got[1] = std::move(r);
        else if (r.vectors == ref_a->vectors)
          got[0] = std::move(r);
        else
          got[2] = std::move(r);
      },
      [&](caf::error& e) { FAIL(describe(e)); },
      caf::after(wait_max) >> [&] { FAIL("no embed reply"); });
  CHECK(f.mock_requests() - before == 1);  // one upstream request for three callers
  REQUIRE((got[0] && got[1] && got[2]));
  CHECK(got[0]->vectors == ref_a->vectors);
  CHECK(got[1]->vectors == ref_b->vectors);
  CHECK(got[2]->vectors == ref_c->vectors);
  auto s = f.stats(p);
  CHECK(s.embed_batches == 1);
  CHECK(s.embed_inputs == 4);
  CHECK(s.succeeded == 3);
  // Usage is split among the callers and adds up to what the vendor reported.
  int64_t shares = got[0]->usage.prompt_tokens + got[1]->usage.prompt_tokens
                   + got[2]->usage.prompt_tokens;
  CHECK(shares == s.prompt_tokens);
}

TEST_CASE("http provider: cost comes from the price table and unknown models are counted unpriced") {
  fixture f{scenario};
  auto prices = parse_price_table("[openai]\ntest-model = 1.0 2.0\n", "prices.ini");
  REQUIRE(prices);
  auto table = std::make_shared<const price_table>(std::move(*prices));
  auto p = f.spawn(f.config("openai"), table);
  REQUIRE(f.chat(p, fixture::ask("c1", "hello")));
  auto other = fixture::ask("c2", "hello");
  other.model = "unlisted-model";
  REQUIRE(f.chat(p, other));
  auto s = f.stats(p);
  // 11 prompt tokens at $1/M plus 7 completion tokens at $2/M, once.
  CHECK(s.cost_usd == doctest::Approx((11 * 1.0 + 7 * 2.0) / 1e6));
  CHECK(s.unpriced_responses == 1);
}

// Issue 9 part 5: an api_key_env naming an unset variable is refused at
// spawn for every HTTP kind, openai_compatible included (it used to run
// without a key and collect 401s); the error names the variable.
TEST_CASE("http provider: a key variable that is unset is refused at spawn for every kind") {
  fixture f{scenario};
  for (const char* kind : {"openai", "anthropic", "gemini", "openrouter", "openai_compatible"}) {
    CAPTURE(kind);
    auto c = f.config(kind);
    c.api_key.clear();
    c.api_key_env = "AGENTGRAPH_TEST_NO_SUCH_VARIABLE";
    auto p = spawn_provider(*f.sys, c, http_provider_deps{f.http, {}, {}, 1});
    REQUIRE_FALSE(p);
    CHECK(errc_of(p.error()) == errc::invalid_argument);
    CHECK(error_context(p.error()).find("AGENTGRAPH_TEST_NO_SUCH_VARIABLE") != std::string::npos);
  }
  // openai_compatible servers (Ollama, vLLM) may run without a key when no
  // variable is named.
  auto local = f.config("openai_compatible");
  local.api_key.clear();
  local.api_key_env.clear();
  CHECK(spawn_provider(*f.sys, local, http_provider_deps{f.http, {}, {}, 1}));
}

}  // namespace http_provider_kinds_test
