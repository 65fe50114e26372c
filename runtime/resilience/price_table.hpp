// What an LLM call cost, from a price table in configs/prices.ini. Each
// provider kind is a section; each line prices one model in USD per million
// tokens, input (prompt) then output (completion):
//
//   [openai]
//   gpt-4o-mini = 0.15 0.60
//   *           = 2.50 10.00     # optional: any other model of this kind
//
// Lookup is by exact model name, then the kind's `*` entry. Vendors answer
// with dated snapshot names (gpt-4o-2024-08-06); price by the model the
// request named, or give each snapshot its own line. No prefix matching: it
// would silently price an unlisted gpt-4o-mini-* at gpt-4o's rate.
//
// Left out on purpose: cached-input discounts, batch discounts and
// long-prompt tiers (Gemini 2.5 Pro above 200k tokens). The figures are
// list prices for reports and budgets, not an invoice.
//
// Pure and immutable after parsing: safe to share read-only between actors.
#pragma once

#include <caf/expected.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace agentgraph {

// Highest price per million tokens we accept; anything above is a typo
// (the dearest list prices today are below 200).
constexpr double price_usd_per_mtok_max = 10'000.0;
constexpr size_t price_models_max = 4096;  // entries in the whole table

struct model_price {
  double input_usd_per_mtok = 0;
  double output_usd_per_mtok = 0;
};

// Token counts to price. The provider copies them from its response's
// token_usage (prompt -> input, completion -> output); runtime/ cannot see
// that actors/ type.
struct priced_tokens {
  int64_t input = 0;
  int64_t output = 0;
};

class price_table {
 public:
  // The entry for `model` of `kind`: exact name, else the kind's `*` entry.
  // not_found naming kind and model when neither exists.
  [[nodiscard]] caf::expected<model_price> find(std::string_view kind,
                                                std::string_view model) const;

  // USD for `tokens` of `model`; not_found as find(), invalid_argument for
  // negative counts.
  [[nodiscard]] caf::expected<double> cost_usd(std::string_view kind, std::string_view model,
                                               priced_tokens tokens) const;

  [[nodiscard]] size_t size() const { return entries_; }
  [[nodiscard]] std::vector<std::string> kinds() const;

  // Adds or replaces one entry; for the parser and for tests.
  void set(std::string kind, std::string model, model_price price);

 private:
  using model_map = std::map<std::string, model_price, std::less<>>;
  std::map<std::string, model_map, std::less<>> kinds_;
  size_t entries_ = 0;
};

// Parses price-table text. `origin` prefixes every message ("prices.ini:7:
// ..."). Every problem is a parse_error naming its line: INI syntax,
// duplicate model, a value that is not two non-negative numbers up to
// price_usd_per_mtok_max, and, when `kinds_allowed` is not empty, a section
// that names no known provider kind (a typo would otherwise go unnoticed).
[[nodiscard]] caf::expected<price_table>
parse_price_table(std::string_view text, std::string origin,
                  const std::vector<std::string>& kinds_allowed = {});

// Reads (at most ini_bytes_max bytes) and parses a price file; io_error if
// it cannot be read.
[[nodiscard]] caf::expected<price_table>
load_price_table(const std::string& path, const std::vector<std::string>& kinds_allowed = {});

}  // namespace agentgraph
