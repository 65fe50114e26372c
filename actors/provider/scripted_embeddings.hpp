// The scripted provider's embedding "model": deterministic vectors from the
// optional `embeddings` section of a rules file, so offline tests can have
// semantic neighbours that differ from keyword neighbours (the feature-
// hashing embedder, hash-<dim>, only sees shared words).
//
// The section names concepts, each with words or phrases that mention it.
// A text is split into lowercase words (embedding_tokens); at each word the
// longest phrase of any concept that starts there is taken, adds 1 to each
// concept listing it, and its words are used up, so "kitten heels" can mean
// footwear while "kitten" alone means a cat. A word no phrase takes adds
// `hashed_weight` (signed, by FNV-1a) to one of the dimensions after the
// concepts, so texts that mention no concept are not all zero and ties
// between equal concept profiles break by shared words. The vector is
// L2-normalised; a text with no words is all zeros.
//
// Loaded once with the rules file and immutable afterwards: embed() is const
// and may run on any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <caf/expected.hpp>

#include "runtime/value.hpp"

namespace agentgraph {

// Bounds of the section; a file over one is a load error naming the field.
constexpr size_t scripted_concepts_max = 1024;
constexpr size_t scripted_concept_terms_max = 256;
constexpr size_t scripted_term_words_max = 8;
constexpr size_t scripted_term_bytes_max = 128;
constexpr uint32_t scripted_embedding_dimensions_max = 4096;
// Upper bound of hashed_weight: above a concept mention's weight (1), shared
// words would outweigh meaning, which is what hash-<dim> is for.
constexpr double scripted_hashed_weight_max = 1.0;

class scripted_embedding_space {
 public:
  // A phrase: its words and the concepts (indices) it mentions.
  struct phrase {
    std::vector<std::string> words;
    std::vector<uint32_t> concepts;
  };

  // Parses the `embeddings` object of a rules file. `where` prefixes every
  // error ("<file>: embeddings"). Errors: invalid_argument naming the field
  // (unknown field, dimensions below the number of concepts or out of
  // range, a hashed part with no dimension left for it, an empty or
  // duplicate concept name, a term with no words, too many or too long
  // terms, a term listed twice in one concept).
  [[nodiscard]] static caf::expected<scripted_embedding_space> parse(const Value& section,
                                                                     const std::string& where);

  // A unit vector of dimensions() floats (all zeros for a text with no words).
  [[nodiscard]] std::vector<float> embed(std::string_view text) const;

  [[nodiscard]] uint32_t dimensions() const { return dimensions_; }
  [[nodiscard]] const std::vector<std::string>& concepts() const { return concepts_; }
  [[nodiscard]] double hashed_weight() const { return hashed_weight_; }

 private:
  uint32_t dimensions_ = 0;
  double hashed_weight_ = 0;
  std::vector<std::string> concepts_;
  // By first word; each list longest phrase first, so the first match is the
  // longest.
  std::unordered_map<std::string, std::vector<phrase>> by_first_word_;
};

}  // namespace agentgraph
