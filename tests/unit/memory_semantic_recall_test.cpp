// Recall quality through a memory shard (issue 13): the shipped data set
// configs/examples/memory_semantic.json, whose notes share words with the
// wrong topic's queries. A shard whose embedding_model names the scripted
// provider's model (memory_semantic.rules.json: concepts, deterministic)
// recalls each query's three notes by meaning; the same notes in a
// hash-256 shard (lexical) fall for the keyword traps.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "actors/memory/memory_shard.hpp"
#include "actors/provider/provider_factory.hpp"
#include "memory_shard_fixture.hpp"

namespace memory_semantic_recall_test {

using namespace agentgraph;

const std::string examples = std::string{AGENTGRAPH_SOURCE_DIR} + "/configs/examples/";

nlohmann::json data_set() {
  std::ifstream in{examples + "memory_semantic.json"};
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

// Stores every note and returns text -> note id of the data set.
std::map<std::string, std::string> fill(memory_shard_test::fixture& f, const memory_actor& shard,
                                        const nlohmann::json& data) {
  std::map<std::string, std::string> id_of;
  for (const auto& n : data["notes"]) {
    f.store(shard, n["text"].get<std::string>());
    id_of[n["text"].get<std::string>()] = n["id"].get<std::string>();
  }
  return id_of;
}

}  // namespace memory_semantic_recall_test

using namespace memory_semantic_recall_test;

TEST_CASE("memory semantic recall: the scripted model finds notes by meaning, hash-256 by words") {
  memory_shard_test::fixture f;
  memory_shard_test::manual_clock clock;
  const auto data = data_set();
  provider_config pc;
  pc.name = "s";
  pc.kind = provider_kind::scripted;
  pc.rules = examples + data["rules"].get<std::string>();
  auto provider = spawn_provider(f.sys, pc);
  REQUIRE_MESSAGE(provider, describe(provider.error()));
  memory_config semantic = memory_shard_test::config("semantic");
  semantic.embedding_model = "s:" + data["embedding_model"].get<std::string>();
  semantic.embedding_dimensions = data["embedding_dimensions"].get<uint32_t>();
  semantic.similarity_threshold = -1.0;
  memory_embed_deps deps;
  deps.provider = *provider;
  auto shard = spawn_memory_shard(f.sys, semantic, clock.fn(), nullptr, deps);
  REQUIRE_MESSAGE(shard, describe(shard.error()));
  f.shards.push_back(*shard);
  memory_config lexical = memory_shard_test::config("lexical");
  lexical.similarity_threshold = -1.0;
  auto words = f.spawn(lexical, clock);
  auto id_of = fill(f, *shard, data);
  fill(f, words, data);
  size_t lexical_trapped = 0;  // queries whose hash-256 top 3 is wrong and holds the trap
  for (const auto& q : data["queries"]) {
    const auto text = q["text"].get<std::string>();
    INFO(text);
    std::set<std::string> expected;
    for (const auto& id : q["expected_top3"])
      expected.insert(id.get<std::string>());
    auto hits = f.ask<std::vector<memory_hit>>(*shard, recall_atom::value, text, uint32_t{3});
    REQUIRE(hits);
    REQUIRE(hits->size() == 3);
    std::set<std::string> got;
    for (const auto& h : *hits)
      got.insert(id_of.at(h.entry.text));
    CHECK(got == expected);
    auto lex = f.ask<std::vector<memory_hit>>(words, recall_atom::value, text, uint32_t{3});
    REQUIRE(lex);
    std::set<std::string> lex_got;
    bool trap = false;
    for (const auto& h : *lex) {
      lex_got.insert(id_of.at(h.entry.text));
      trap = trap || id_of.at(h.entry.text) == q["keyword_trap"].get<std::string>();
    }
    if (lex_got != expected && trap)
      ++lexical_trapped;
  }
  // The data set proves its point: words alone miss the meaning and take in
  // the trap on most queries.
  CHECK(lexical_trapped >= data["queries"].size() / 2);
  auto st = f.stats(*shard);
  CHECK(st.dimension == semantic.embedding_dimensions);
  CHECK(st.recalls_degraded == 0);
  CHECK(st.vectors_pending == 0);
  caf::anon_send_exit(*provider, caf::exit_reason::user_shutdown);
}
