// Embeddings of every HTTP provider kind that has them (openai,
// openai_compatible, gemini) against the mock LLM server over real loopback
// HTTP, through the provider actor: one request, two callers batched into
// one upstream call, failures after the provider's retries, `dimensions`
// honoured, and an answer of another length refused. Anthropic has no
// embeddings. The mock's own counters say what reached the wire.
#include "http_provider_fixture.hpp"

#include "text.hpp"

namespace http_provider_embed_test {

using namespace http_provider_fixture;
using json = nlohmann::json;

const std::vector<std::string> embedding_kinds = {"openai", "openai_compatible", "gemini"};

// The mock's route for a kind's embedding calls (its stats key).
std::string route_of(const std::string& kind) {
  return kind == "gemini" ? "gemini.batch_embed_contents" : "openai.embeddings";
}

// An embeddings rule: inputs ending in a text containing `word` get `fault`.
json fault_rule(const std::string& word, json fault) {
  return {{"name", word},
          {"match", {{"contains", word}, {"kind", "embeddings"}}},
          {"faults", {{"inject", json::array({std::move(fault)})}}}};
}

// The model's own length is 16; requests may ask for less.
std::string scenario() {
  return json{{"name", "embed"},
              {"seed", 11},
              {"api_key", "k"},
              {"embedding_dimensions", 16},
              {"limits", {{"threads", 8}}},
              {"rules",
               {fault_rule("always-503", {{"fault", "status"}, {"status", 503}, {"rate", 1.0}}),
                fault_rule("rate-once", {{"fault", "rate_limit"},
                                         {"first", 1},
                                         {"retry_after_s", 0},
                                         {"retry_after_ms", 20}}),
                fault_rule("drop-once", {{"fault", "drop"}, {"first", 1}}),
                fault_rule("garbled", {{"fault", "malformed"}, {"rate", 1.0}}),
                fault_rule("shortened", {{"fault", "dimensions"}, {"dimensions", 5}, {"rate", 1.0}})}}}
    .dump();
}

// An embed request sent without waiting for its reply; `await` collects it.
auto send_embed(fixture& f, const provider_actor& p, std::vector<std::string> inputs, uint32_t dims) {
  return (*f.self)->request(p, wait_max, embed_atom::value,
                            embed_request{"embed-model", std::move(inputs), dims});
}

// A provider of `kind` that batches for `window`, up to `inputs_max` inputs.
provider_config batching(const fixture& f, const std::string& kind, std::chrono::milliseconds window,
                         uint32_t inputs_max) {
  auto c = f.config(kind);
  c.embed_batch_window = window;
  c.embed_batch_inputs_max = inputs_max;
  return c;
}

template <class Handle>
caf::expected<embed_response> await(Handle& h) {
  caf::expected<embed_response> out = make_error(errc::internal, "no reply");
  h.receive([&](embed_response& r) { out = std::move(r); },
            [&](caf::error& e) { out = std::move(e); });
  return out;
}

// The vector the mock gives `text` at `dims` floats: what the provider must
// hand back, value for value (floats survive the JSON round trip).
void check_vector(const std::vector<float>& got, const std::string& text, uint32_t dims) {
  const auto want = agentgraph::mock_llm::embed_text(text, dims);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i)
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-6));
}

bool contains(const std::string& text, const std::string& piece) {
  return text.find(piece) != std::string::npos;
}


TEST_CASE("http provider embed: one request, the model's length and a shortened one") {
  for (const auto& kind : embedding_kinds) {
    INFO(kind);
    fixture f{scenario()};
    auto p = f.spawn(f.config(kind));
    auto full = f.embed(p, {"red apples", "green pears"});
    REQUIRE_MESSAGE(full, describe(full.error()));
    REQUIRE(full->vectors.size() == 2);
    check_vector(full->vectors[0], "red apples", 16);
    check_vector(full->vectors[1], "green pears", 16);
    // Asked 8: the vendor field went out, 8 floats came back.
    auto short8 = f.embed(p, {"red apples"}, "embed-model", 8);
    REQUIRE_MESSAGE(short8, describe(short8.error()));
    REQUIRE(short8->vectors.size() == 1);
    check_vector(short8->vectors[0], "red apples", 8);
    CHECK(f.mock_count("routes", route_of(kind)) == 2);
    CHECK(f.stats(p).succeeded == 2);
  }
}

TEST_CASE("http provider embed: two callers within the window travel as one upstream call") {
  for (const auto& kind : embedding_kinds) {
    INFO(kind);
    fixture f{scenario()};
    // A window long enough that an unbatched first caller would wait it out
    // and go alone (two upstream calls); the second caller fills the batch,
    // which then leaves at once.
    auto p = f.spawn(batching(f, kind, std::chrono::milliseconds{5000}, 3));
    auto h1 = send_embed(f, p, {"alpha text"}, 8);
    auto h2 = send_embed(f, p, {"beta text", "gamma text"}, 8);
    auto r1 = await(h1);
    auto r2 = await(h2);
    REQUIRE_MESSAGE(r1, describe(r1.error()));
    REQUIRE_MESSAGE(r2, describe(r2.error()));
    REQUIRE(r1->vectors.size() == 1);
    REQUIRE(r2->vectors.size() == 2);
    check_vector(r1->vectors[0], "alpha text", 8);
    check_vector(r2->vectors[0], "beta text", 8);
    check_vector(r2->vectors[1], "gamma text", 8);
    CHECK(f.mock_requests() == 1);
    CHECK(f.mock_count("routes", route_of(kind)) == 1);
    auto s = f.stats(p);
    CHECK(s.embed_batches == 1);
    CHECK(s.embed_inputs == 3);
    CHECK(s.succeeded == 2);
  }
}

TEST_CASE("http provider embed: requests asking different lengths never share a batch") {
  for (const auto& kind : embedding_kinds) {
    INFO(kind);
    fixture f{scenario()};
    auto p = f.spawn(batching(f, kind, std::chrono::milliseconds{50}, 16));
    auto own = send_embed(f, p, {"alpha text"}, 0);
    auto four = send_embed(f, p, {"beta text"}, 4);
    auto eight = send_embed(f, p, {"gamma text"}, 8);
    auto r0 = await(own);
    auto r4 = await(four);
    auto r8 = await(eight);
    REQUIRE_MESSAGE(r0, describe(r0.error()));
    REQUIRE_MESSAGE(r4, describe(r4.error()));
    REQUIRE_MESSAGE(r8, describe(r8.error()));
    check_vector(r0->vectors[0], "alpha text", 16);
    check_vector(r4->vectors[0], "beta text", 4);
    check_vector(r8->vectors[0], "gamma text", 8);
    CHECK(f.mock_requests() == 3);
    CHECK(f.stats(p).embed_batches == 3);
  }
}

TEST_CASE("http provider embed: faults end in the right error after the provider's retries") {
  for (const auto& kind : embedding_kinds) {
    INFO(kind);
    fixture f{scenario()};
    auto c = f.config(kind);
    // Six endpoint failures in a row here: the breaker (tested elsewhere)
    // must not turn the later ones into `unavailable`.
    c.breaker_failures = 0;
    c.breaker_window = 0;
    c.breaker_window_min = 0;
    auto p = f.spawn(c);
    // A permanent 503: retried retries_max (2) times, then provider_error.
    auto down = f.embed(p, {"always-503 please"});
    REQUIRE_FALSE(down);
    CHECK(errc_of(down.error()) == errc::provider_error);
    CHECK_MESSAGE(contains(describe(down.error()), "HTTP 503"), describe(down.error()));
    CHECK_MESSAGE(contains(describe(down.error()), "attempts: 3"), describe(down.error()));
    CHECK(f.mock_count("statuses", "503") == 3);
    // A 429 with Retry-After and a dropped connection: retried, then answered.
    auto limited = f.embed(p, {"rate-once please"});
    REQUIRE_MESSAGE(limited, describe(limited.error()));
    check_vector(limited->vectors[0], "rate-once please", 16);
    CHECK(f.mock_count("faults", "rate_limit") == 1);
    auto dropped = f.embed(p, {"drop-once please"});
    REQUIRE_MESSAGE(dropped, describe(dropped.error()));
    check_vector(dropped->vectors[0], "drop-once please", 16);
    CHECK(f.mock_count("faults", "drop") == 1);
    // A truncated body is the vendor's bug: not retried.
    auto garbled = f.embed(p, {"garbled please"});
    REQUIRE_FALSE(garbled);
    CHECK(errc_of(garbled.error()) == errc::provider_error);
    CHECK_MESSAGE(contains(describe(garbled.error()), "attempts: 1"), describe(garbled.error()));
    CHECK(f.mock_count("faults", "malformed") == 1);
    auto s = f.stats(p);
    CHECK(s.retries == 2 + 1 + 1);
    CHECK(s.failed == 2);
    CHECK(s.succeeded == 2);
  }
}

TEST_CASE("http provider embed: an answer of another length than asked is refused") {
  for (const auto& kind : embedding_kinds) {
    INFO(kind);
    fixture f{scenario()};
    auto p = f.spawn(batching(f, kind, std::chrono::milliseconds{5000}, 2));
    // Asked 8, the mock answers 5: no caller of the batch gets a vector.
    auto h1 = send_embed(f, p, {"fine text"}, 8);
    auto h2 = send_embed(f, p, {"shortened text"}, 8);
    for (auto* h : {&h1, &h2}) {
      auto r = await(*h);
      REQUIRE_FALSE(r);
      CHECK(errc_of(r.error()) == errc::provider_error);
      CHECK_MESSAGE(contains(describe(r.error()), "dimension mismatch: asked 8, got 5"),
                    describe(r.error()));
    }
    CHECK(f.mock_count("faults", "dimensions") == 1);
    CHECK(f.mock_requests() == 1);  // a wrong answer is not retried
    // Without a length asked, the model's own (here 5) is whatever it gives.
    // Two inputs fill a batch: sent at once, not after the window.
    auto any = f.embed(p, {"shortened one", "shortened two"});
    REQUIRE_MESSAGE(any, describe(any.error()));
    CHECK(any->vectors[0].size() == 5);
  }
}

TEST_CASE("http provider embed: anthropic has no embeddings and sends nothing") {
  fixture f{scenario()};
  auto p = f.spawn(f.config("anthropic"));
  auto e = f.embed(p, {"red apples"}, "embed-model", 8);
  REQUIRE_FALSE(e);
  CHECK(errc_of(e.error()) == errc::unsupported);
  CHECK(f.mock_requests() == 0);
}

TEST_CASE("http provider embed: a gemini batch larger than batchEmbedContents takes is refused at start") {
  fixture f{scenario()};
  auto c = f.config("gemini");
  c.embed_batch_inputs_max = 101;
  http_provider_deps deps;
  deps.http = f.http;
  auto p = spawn_provider(*f.sys, c, deps);
  REQUIRE_FALSE(p);
  CHECK(errc_of(p.error()) == errc::invalid_argument);
  CHECK_MESSAGE(contains(describe(p.error()), "embed_batch_inputs_max (101)"), describe(p.error()));
  c.embed_batch_inputs_max = 100;
  f.spawn(c);  // REQUIREs that it starts
}

}  // namespace http_provider_embed_test
