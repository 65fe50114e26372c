// The shipped data set configs/examples/memory_semantic.json proves a point
// only if it discriminates: with the scripted provider's vectors
// (memory_semantic.rules.json) and an exact cosine scan, every query's top 3
// are its expected notes; a keyword ranking (shared content words) and the
// hashing embedder (hash-256, shared words and bigrams) put another topic's
// note first for some queries. If someone edits the data and either claim
// stops holding, this fails.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/memory/hashing_embedder.hpp"
#include "actors/provider/scripted_provider.hpp"
#include "actors/provider/scripted_rules.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;

namespace scripted_semantic_data_test {

const std::string examples = std::string{AGENTGRAPH_SOURCE_DIR} + "/configs/examples/";

struct note {
  std::string id;
  std::string text;
};

struct query {
  std::string text;
  std::set<std::string> expected;
  std::string keyword_trap;
};

struct data_set {
  std::string model;
  uint32_t dimensions = 0;
  std::vector<note> notes;
  std::vector<query> queries;
};

data_set load_data() {
  std::ifstream in{examples + "memory_semantic.json"};
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  auto j = nlohmann::json::parse(text.str());
  data_set d;
  d.model = j.at("embedding_model").get<std::string>();
  d.dimensions = j.at("embedding_dimensions").get<uint32_t>();
  CHECK(j.at("rules").get<std::string>() == "memory_semantic.rules.json");
  for (const auto& n : j.at("notes"))
    d.notes.push_back({n.at("id").get<std::string>(), n.at("text").get<std::string>()});
  for (const auto& q : j.at("queries")) {
    auto ids = q.at("expected_top3").get<std::vector<std::string>>();
    d.queries.push_back({q.at("text").get<std::string>(), {ids.begin(), ids.end()},
                         q.at("keyword_trap").get<std::string>()});
  }
  return d;
}

using scorer = std::function<double(const std::string& query, const std::string& note)>;

// Note ids by falling score; equal scores keep the file's order.
std::vector<std::string> rank(const data_set& d, const std::string& q, const scorer& score) {
  std::vector<std::pair<double, size_t>> scored;
  for (size_t i = 0; i < d.notes.size(); ++i)
    scored.emplace_back(score(q, d.notes[i].text), i);
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> ids;
  for (const auto& [_, i] : scored)
    ids.push_back(d.notes[i].id);
  return ids;
}

std::set<std::string> top3(const std::vector<std::string>& ranked) {
  return {ranked.begin(), ranked.begin() + 3};
}

// Keyword search: cosine of the sets of content words (stop words dropped,
// as a search engine would, so the traps are real word matches).
double keyword_score(const std::string& q, const std::string& n) {
  static const std::set<std::string> stop = {"a",  "an", "the", "is",  "are", "and", "or",
                                             "to", "for", "of", "on",  "in",  "at",  "my",
                                             "our", "i", "it", "this", "these", "with", "from",
                                             "after"};
  auto words = [&](const std::string& s) {
    std::set<std::string> out;
    for (auto& w : embedding_tokens(s))
      if (stop.count(w) == 0)
        out.insert(w);
    return out;
  };
  auto a = words(q);
  auto b = words(n);
  if (a.empty() || b.empty())
    return 0;
  size_t shared = 0;
  for (const auto& w : a)
    shared += b.count(w);
  return static_cast<double>(shared) / std::sqrt(static_cast<double>(a.size() * b.size()));
}


TEST_CASE("memory_semantic data set: recall by meaning finds each query's notes") {
  auto d = load_data();
  CHECK(d.notes.size() == 30);
  CHECK(d.queries.size() == 10);
  auto rules = load_scripted_rules(examples + "memory_semantic.rules.json");
  REQUIRE_MESSAGE(rules, describe(rules.error()));
  // The vectors come from the provider's own entry point, as a memory shard
  // asking the scripted provider would get them.
  std::vector<std::string> texts;
  for (const auto& n : d.notes)
    texts.push_back(n.text);
  auto notes = scripted_embed({d.model, texts, d.dimensions}, &*rules);
  REQUIRE_MESSAGE(notes, describe(notes.error()));
  for (const auto& q : d.queries) {
    INFO(q.text);
    auto qv = scripted_embed({d.model, {q.text}, d.dimensions}, &*rules);
    REQUIRE(qv);
    std::vector<std::pair<float, std::string>> scored;
    for (size_t i = 0; i < d.notes.size(); ++i)
      scored.emplace_back(dot(qv->vectors[0], notes->vectors[i]), d.notes[i].id);
    std::sort(scored.begin(), scored.end(), std::greater<>{});
    std::set<std::string> got{scored[0].second, scored[1].second, scored[2].second};
    CHECK(got == q.expected);
    // Not by a hair: the third is well above the fourth, so float rounding
    // or a tie-break cannot decide it.
    CHECK(scored[2].first > scored[3].first + 0.2f);
    // The trap shares the query's words but not its meaning.
    CHECK(q.expected.count(q.keyword_trap) == 0);
  }
}

TEST_CASE("memory_semantic data set: keyword and hashing rankings fall for the traps") {
  auto d = load_data();
  size_t keyword_wrong = 0;
  for (const auto& q : d.queries) {
    INFO(q.text);
    auto ranked = rank(d, q.text, keyword_score);
    // The trap ranks above every expected note.
    auto pos = [&](const std::string& id) {
      return std::find(ranked.begin(), ranked.end(), id) - ranked.begin();
    };
    for (const auto& id : q.expected)
      CHECK(pos(q.keyword_trap) < pos(id));
    keyword_wrong += top3(ranked) != q.expected ? 1 : 0;
  }
  CHECK(keyword_wrong == d.queries.size());
  // hash-256, today's offline embedder, sees words too: it gets the
  // kitten wrong and more besides.
  hashing_embedder hasher{256};
  auto hashed = [&](const std::string& q, const std::string& n) {
    return static_cast<double>(dot(hasher.embed(q), hasher.embed(n)));
  };
  size_t hashing_wrong = 0;
  for (const auto& q : d.queries)
    hashing_wrong += top3(rank(d, q.text, hashed)) != q.expected ? 1 : 0;
  CHECK(hashing_wrong >= d.queries.size() / 2);
  auto kitten = rank(d, "a kitten needs the vet", hashed);
  CHECK(std::find(kitten.begin(), kitten.end(), "shoes-kitten-heels")
        < std::find(kitten.begin(), kitten.end(), "pet-cat-sick"));
}

}  // namespace scripted_semantic_data_test
