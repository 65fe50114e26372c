// The scripted provider's embedding model from the rules file's
// `embeddings` section: loading and its errors, what a vector is made of
// (concepts, longest phrases, the hashed part), `dimensions`, the fallback
// to hash-<dim> and `unsupported` without a section, and the actor.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/host/register_types.hpp"
#include "actors/memory/hashing_embedder.hpp"
#include "actors/provider/scripted_embeddings.hpp"
#include "actors/provider/scripted_provider.hpp"
#include "actors/provider/scripted_rules.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;

namespace scripted_embeddings_test {

const char* const rules_with_space = R"J({"rules": [], "default": "ok", "embeddings": {
  "dimensions": 6, "hashed_weight": 0.5,
  "concepts": [
    {"name": "cat", "terms": ["cat", "kitten", "vet"]},
    {"name": "shoe", "terms": ["kitten heels", "shoes"]},
    {"name": "health", "terms": ["sick", "vet"]}
  ]}})J";

scripted_rules load(const std::string& json) {
  auto r = parse_scripted_rules(json, "t.json");
  REQUIRE_MESSAGE(r, describe(r.error()));
  return std::move(*r);
}

// The load error for an `embeddings` section.
std::string section_error(const std::string& section) {
  auto r = parse_scripted_rules(R"({"rules": [], "embeddings": )" + section + "}", "t.json");
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::invalid_argument);
  return describe(r.error());
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}


TEST_CASE("scripted embeddings: a vector weighs each concept its text mentions") {
  auto rules = load(rules_with_space);
  REQUIRE(rules.embeddings);
  const auto& space = *rules.embeddings;
  CHECK(space.dimensions() == 6);
  CHECK(space.concepts() == std::vector<std::string>{"cat", "shoe", "health"});
  // "kitten" alone is a cat; "kitten heels" is the longer phrase: a shoe.
  auto kitten = space.embed("Kitten");
  CHECK(kitten == std::vector<float>{1, 0, 0, 0, 0, 0});
  auto heels = space.embed("kitten heels");
  CHECK(heels == std::vector<float>{0, 1, 0, 0, 0, 0});
  // "vet" is listed by two concepts and mentions both.
  auto vet = space.embed("Vet, CAT");
  const float a = 2.0f / std::sqrt(5.0f);
  const float b = 1.0f / std::sqrt(5.0f);
  CHECK(vet[0] == doctest::Approx(a));
  CHECK(vet[1] == 0.0f);
  CHECK(vet[2] == doctest::Approx(b));
  // A word no term takes goes to the hashed part, after the concepts; a text
  // of such words only is not all zeros.
  auto other = space.embed("unrelated");
  CHECK(other[0] == 0.0f);
  CHECK(other[1] == 0.0f);
  CHECK(other[2] == 0.0f);
  CHECK(dot(other, other) == doctest::Approx(1.0));
  // With it, the concept still dominates: 1 against 0.5.
  auto mixed = space.embed("a cat");
  CHECK(mixed[0] == doctest::Approx(1.0 / std::sqrt(1.25)));
  // No words at all: zeros, as the hashing embedder gives.
  CHECK(space.embed(" ,;! ") == std::vector<float>(6, 0.0f));
  // Deterministic: the same text, the same vector.
  CHECK(space.embed("vet cat") == vet);
}

TEST_CASE("scripted embeddings: without a hashed part, unknown words weigh nothing") {
  auto rules = load(R"({"rules": [], "embeddings": {"dimensions": 2,
    "concepts": [{"name": "a", "terms": ["apple"]}, {"name": "b", "terms": ["pear"]}]}})");
  CHECK(rules.embeddings->hashed_weight() == 0.0);
  CHECK(rules.embeddings->embed("an apple a day") == std::vector<float>{1, 0});
  CHECK(rules.embeddings->embed("nothing known") == std::vector<float>{0, 0});
}

TEST_CASE("scripted embeddings: a bad section fails at load naming the field") {
  CHECK(has(section_error("[]"), "t.json: embeddings: must be an object"));
  CHECK(has(section_error(R"({"dimension": 4, "concepts": []})"),
            "t.json: embeddings.dimension: unknown field"));
  CHECK(has(section_error(R"({"concepts": [{"name": "a", "terms": ["x"]}]})"),
            "embeddings.dimensions: is required"));
  CHECK(has(section_error(R"({"dimensions": 5000, "concepts": [{"name": "a", "terms": ["x"]}]})"),
            "embeddings.dimensions"));
  CHECK(has(section_error(R"({"dimensions": 1, "concepts": [{"name": "a", "terms": ["x"]},
                                                             {"name": "b", "terms": ["y"]}]})"),
            "embeddings.dimensions: 1 is below the 2 concepts"));
  CHECK(has(section_error(R"({"dimensions": 1, "hashed_weight": 0.1,
                              "concepts": [{"name": "a", "terms": ["x"]}]})"),
            "embeddings.hashed_weight: needs dimensions above the number of concepts"));
  CHECK(has(section_error(R"({"dimensions": 4, "hashed_weight": 2,
                              "concepts": [{"name": "a", "terms": ["x"]}]})"),
            "embeddings.hashed_weight: must be a number in [0, 1]"));
  CHECK(has(section_error(R"({"dimensions": 4, "concepts": []})"), "embeddings.concepts: is required"));
  CHECK(has(section_error(R"({"dimensions": 4, "concepts": [{"name": "", "terms": ["x"]}]})"),
            "embeddings.concepts[0].name: must be a non-empty string"));
  CHECK(has(section_error(R"({"dimensions": 4, "concepts": [{"name": "a", "terms": ["x"]},
                                                             {"name": "a", "terms": ["y"]}]})"),
            "embeddings.concepts[1].name: duplicate concept name \"a\""));
  CHECK(has(section_error(R"({"dimensions": 4, "concepts": [{"name": "a", "terms": []}]})"),
            "embeddings.concepts[0].terms: must be an array"));
  CHECK(has(section_error(R"({"dimensions": 4, "concepts": [{"name": "a", "terms": ["x", "--"]}]})"),
            "embeddings.concepts[0].terms[1]: must have 1..8 words"));
  CHECK(has(section_error(R"({"dimensions": 4, "concepts": [{"name": "a", "terms": ["x", 3]}]})"),
            "embeddings.concepts[0].terms[1]: must be a string"));
  CHECK(has(section_error(R"({"dimensions": 4, "concepts": [{"name": "a", "terms": ["Hot Dog", "hot  dog"]}]})"),
            "embeddings.concepts[0].terms[1]: \"hot  dog\" is listed twice"));
  CHECK(has(section_error(R"({"dimensions": 4, "concepts": [{"name": "a", "terms": ["x"], "weight": 2}]})"),
            "embeddings.concepts[0].weight: unknown field"));
}

TEST_CASE("scripted embeddings: models, dimensions and the fallbacks") {
  auto rules = load(rules_with_space);
  // Any model but hash-<dim> is the section's.
  auto r = scripted_embed({"concepts", {"kitten", "kitten heels"}, 0}, &rules);
  REQUIRE_MESSAGE(r, describe(r.error()));
  REQUIRE(r->vectors.size() == 2);
  CHECK(r->vectors[0].size() == 6);
  CHECK(r->usage.prompt_tokens > 0);
  CHECK(scripted_embed({"concepts", {"kitten"}, 6}, &rules));
  auto wrong = scripted_embed({"concepts", {"kitten"}, 4}, &rules);
  REQUIRE_FALSE(wrong);
  CHECK(errc_of(wrong.error()) == errc::invalid_argument);
  CHECK(has(describe(wrong.error()), "dimension mismatch: asked 4, model 'concepts' has 6"));
  // hash-<dim> stays the hashing embedder, and checks `dimensions` too.
  auto hashed = scripted_embed({"hash-32", {"kitten"}, 0}, &rules);
  REQUIRE(hashed);
  CHECK(hashed->vectors[0] == hashing_embedder{32}.embed("kitten"));
  CHECK(scripted_embed({"hash-32", {"kitten"}, 32}, &rules));
  CHECK(errc_of(scripted_embed({"hash-32", {"kitten"}, 16}, &rules).error())
        == errc::invalid_argument);
  CHECK(errc_of(scripted_embed({"hash-3", {"kitten"}, 0}, &rules).error())
        == errc::invalid_argument);
  // Without a section (or rules), other models are unsupported, as before.
  auto plain = load(R"({"rules": [], "default": "ok"})");
  auto none = scripted_embed({"concepts", {"kitten"}, 0}, &plain);
  REQUIRE_FALSE(none);
  CHECK(errc_of(none.error()) == errc::unsupported);
  CHECK(has(describe(none.error()), "has no `embeddings` section"));
  CHECK(errc_of(scripted_embed({"concepts", {"x"}, 0}, nullptr).error()) == errc::unsupported);
  CHECK(errc_of(scripted_embed({"concepts", {}, 0}, &rules).error()) == errc::invalid_argument);
}

TEST_CASE("scripted embeddings: the provider actor answers from its rules") {
  caf::actor_system_config cfg;
  register_all_types(cfg);
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  auto rules = std::make_shared<const scripted_rules>(load(rules_with_space));
  provider_actor p{sys.spawn(scripted_provider, rules, provider_metrics{})};
  caf::scoped_actor self{sys};
  auto ask = [&](embed_request req) {
    caf::expected<embed_response> out = make_error(errc::internal, "no reply");
    self->request(p, std::chrono::seconds{10}, embed_atom::value, std::move(req))
      .receive([&](embed_response& r) { out = std::move(r); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  };
  auto r = ask({"concepts", {"a kitten needs the vet", "my cat is sick", "kitten heels on sale"}, 6});
  REQUIRE_MESSAGE(r, describe(r.error()));
  REQUIRE(r->vectors.size() == 3);
  // By meaning: the sick cat is nearer the kitten than the heels are.
  CHECK(dot(r->vectors[0], r->vectors[1]) > dot(r->vectors[0], r->vectors[2]));
  auto mismatch = ask({"concepts", {"kitten"}, 8});
  REQUIRE_FALSE(mismatch);
  CHECK(errc_of(mismatch.error()) == errc::invalid_argument);
  caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
}

}  // namespace scripted_embeddings_test
