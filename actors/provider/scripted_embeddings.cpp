#include "actors/provider/scripted_embeddings.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <set>
#include <string_view>

#include "actors/memory/hashing_embedder.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace scripted_embeddings_detail {

struct section_reader {
  const std::string& where;

  [[nodiscard]] caf::error bad(const std::string& field, const std::string& why) const {
    return make_error(errc::invalid_argument, where + ": embeddings." + field + ": " + why);
  }

  // Rejects keys outside `allowed`, so a typo is an error, not a default.
  [[nodiscard]] caf::error check_keys(const Value& obj, std::initializer_list<std::string_view> allowed,
                                      const std::string& prefix) const {
    for (const auto& [key, _] : obj.as_object())
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        return bad(prefix + key, "unknown field");
    return caf::none;
  }
};

caf::expected<uint32_t> read_dimensions(const Value& section, const section_reader& r) {
  const Value* v = section.find("dimensions");
  if (v == nullptr || !v->is_int() || v->as_int() < 1
      || v->as_int() > static_cast<int64_t>(scripted_embedding_dimensions_max))
    return r.bad("dimensions", "is required: an integer in [1, "
                                 + std::to_string(scripted_embedding_dimensions_max) + "]");
  return static_cast<uint32_t>(v->as_int());
}

caf::expected<double> read_hashed_weight(const Value& section, const section_reader& r) {
  const Value* v = section.find("hashed_weight");
  if (v == nullptr)
    return 0.0;
  if (!v->is_number() || !(v->as_double() >= 0.0 && v->as_double() <= scripted_hashed_weight_max))
    return r.bad("hashed_weight", "must be a number in [0, 1]");
  return v->as_double();
}

}  // namespace scripted_embeddings_detail

caf::expected<scripted_embedding_space> scripted_embedding_space::parse(const Value& section,
                                                                        const std::string& where) {
  using namespace scripted_embeddings_detail;
  section_reader r{where};
  if (!section.is_object())
    return make_error(errc::invalid_argument, where + ": embeddings: must be an object");
  if (auto err = r.check_keys(section, {"comment", "dimensions", "hashed_weight", "concepts"}, ""))
    return err;
  scripted_embedding_space out;
  auto dims = read_dimensions(section, r);
  if (!dims)
    return std::move(dims.error());
  out.dimensions_ = *dims;
  auto weight = read_hashed_weight(section, r);
  if (!weight)
    return std::move(weight.error());
  out.hashed_weight_ = *weight;
  const Value* concepts = section.find("concepts");
  if (concepts == nullptr || !concepts->is_array() || concepts->as_array().empty()
      || concepts->as_array().size() > scripted_concepts_max)
    return r.bad("concepts", "is required: an array of 1.." + std::to_string(scripted_concepts_max)
                               + " concepts");
  std::set<std::string> names;
  for (size_t i = 0; i < concepts->as_array().size(); ++i) {
    const Value& c = concepts->as_array()[i];
    const std::string at = "concepts[" + std::to_string(i) + "]";
    if (!c.is_object())
      return r.bad(at, "must be an object with \"name\" and \"terms\"");
    if (auto err = r.check_keys(c, {"comment", "name", "terms"}, at + "."))
      return err;
    const Value* name = c.find("name");
    if (name == nullptr || !name->is_string() || name->as_string().empty())
      return r.bad(at + ".name", "must be a non-empty string");
    if (!names.insert(name->as_string()).second)
      return r.bad(at + ".name", "duplicate concept name \"" + name->as_string() + "\"");
    const Value* terms = c.find("terms");
    if (terms == nullptr || !terms->is_array() || terms->as_array().empty()
        || terms->as_array().size() > scripted_concept_terms_max)
      return r.bad(at + ".terms", "must be an array of 1.."
                                    + std::to_string(scripted_concept_terms_max) + " strings");
    const auto index = static_cast<uint32_t>(out.concepts_.size());
    out.concepts_.push_back(name->as_string());
    std::set<std::vector<std::string>> seen;
    for (size_t t = 0; t < terms->as_array().size(); ++t) {
      const Value& term = terms->as_array()[t];
      const std::string tat = at + ".terms[" + std::to_string(t) + "]";
      if (!term.is_string() || term.as_string().size() > scripted_term_bytes_max)
        return r.bad(tat, "must be a string of at most " + std::to_string(scripted_term_bytes_max)
                            + " bytes");
      auto words = embedding_tokens(term.as_string());
      if (words.empty() || words.size() > scripted_term_words_max)
        return r.bad(tat, "must have 1.." + std::to_string(scripted_term_words_max)
                            + " words (letters or digits)");
      if (!seen.insert(words).second)
        return r.bad(tat, "\"" + term.as_string() + "\" is listed twice");
      // A phrase several concepts list mentions each of them.
      auto& list = out.by_first_word_[words.front()];
      auto same = std::find_if(list.begin(), list.end(),
                               [&](const phrase& p) { return p.words == words; });
      if (same != list.end())
        same->concepts.push_back(index);
      else
        list.push_back({std::move(words), {index}});
    }
  }
  const auto n = static_cast<uint32_t>(out.concepts_.size());
  if (out.dimensions_ < n)
    return r.bad("dimensions", std::to_string(out.dimensions_) + " is below the "
                                 + std::to_string(n) + " concepts (one dimension each)");
  if (out.hashed_weight_ > 0 && out.dimensions_ == n)
    return r.bad("hashed_weight", "needs dimensions above the number of concepts ("
                                    + std::to_string(n) + ") for the hashed words");
  for (auto& [_, list] : out.by_first_word_)
    std::stable_sort(list.begin(), list.end(), [](const phrase& a, const phrase& b) {
      return a.words.size() > b.words.size();
    });
  return out;
}

std::vector<float> scripted_embedding_space::embed(std::string_view text) const {
  std::vector<double> acc(dimensions_, 0.0);
  const auto words = embedding_tokens(text);
  const auto n = static_cast<uint32_t>(concepts_.size());
  const uint32_t hashed_dims = dimensions_ - n;
  size_t i = 0;
  while (i < words.size()) {
    const phrase* hit = nullptr;
    if (auto it = by_first_word_.find(words[i]); it != by_first_word_.end())
      for (const auto& p : it->second)
        if (p.words.size() <= words.size() - i
            && std::equal(p.words.begin(), p.words.end(), words.begin() + static_cast<long>(i))) {
          hit = &p;  // longest first: the first that fits wins
          break;
        }
    if (hit != nullptr) {
      for (auto c : hit->concepts)
        acc[c] += 1.0;
      i += hit->words.size();
      continue;
    }
    if (hashed_weight_ > 0 && hashed_dims > 0) {
      const uint64_t h = fnv1a_64(words[i]);
      // Signed: unrelated words colliding in one bucket cancel on average.
      const double sign = (h >> 63) != 0 ? -1.0 : 1.0;
      acc[n + static_cast<uint32_t>(h % hashed_dims)] += sign * hashed_weight_;
    }
    ++i;
  }
  double norm = 0;
  for (double x : acc)
    norm += x * x;
  std::vector<float> out(dimensions_, 0.0f);
  if (norm == 0)
    return out;
  const double scale = 1.0 / std::sqrt(norm);
  for (uint32_t d = 0; d < dimensions_; ++d)
    out[d] = static_cast<float>(acc[d] * scale);
  return out;
}

}  // namespace agentgraph
