#include "runtime/resilience/price_table.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "runtime/config/ini_parser.hpp"
#include "runtime/error.hpp"
#include "runtime/file_open.hpp"

namespace agentgraph {

namespace price_table_detail {

constexpr double tokens_per_million = 1'000'000.0;

// The next whitespace-separated field of `rest`, consuming it.
std::string_view next_field(std::string_view& rest) {
  auto start = rest.find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(start);
  auto end = std::min(rest.find_first_of(" \t"), rest.size());
  auto field = rest.substr(0, end);
  rest.remove_prefix(end);
  return field;
}

std::optional<double> parse_price(std::string_view text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v) || v < 0
      || v > price_usd_per_mtok_max)
    return std::nullopt;
  return v;
}

// "<input> <output>", both USD per million tokens.
std::optional<model_price> parse_entry_value(std::string_view value) {
  auto input = parse_price(next_field(value));
  auto output = parse_price(next_field(value));
  if (!input || !output || !next_field(value).empty())
    return std::nullopt;
  return model_price{*input, *output};
}

caf::error fail_at(std::string_view origin, uint32_t line, const std::string& msg) {
  return make_error(errc::parse_error, ini_location(origin, line) + ": " + msg);
}

caf::error add_section(price_table& table, const ini_document& doc, const ini_section& sec,
                       const std::vector<std::string>& kinds_allowed) {
  if (!kinds_allowed.empty()
      && std::find(kinds_allowed.begin(), kinds_allowed.end(), sec.name) == kinds_allowed.end())
    return fail_at(doc.origin, sec.line, "[" + sec.name + "] is not a provider kind");
  for (const auto& e : sec.entries) {
    auto price = parse_entry_value(e.value);
    if (!price)
      return fail_at(doc.origin, e.line,
                     "[" + sec.name + "] " + e.key
                       + ": expected '<input> <output>' in USD per million tokens, each 0.."
                       + std::to_string(static_cast<int>(price_usd_per_mtok_max)) + ", got '"
                       + e.value + "'");
    if (table.size() >= price_models_max)
      return fail_at(doc.origin, e.line,
                     "more than " + std::to_string(price_models_max) + " prices");
    table.set(sec.name, e.key, *price);
  }
  return caf::none;
}

}  // namespace price_table_detail

void price_table::set(std::string kind, std::string model, model_price price) {
  auto& models = kinds_[std::move(kind)];
  if (models.insert_or_assign(std::move(model), price).second)
    ++entries_;
}

std::vector<std::string> price_table::kinds() const {
  std::vector<std::string> out;
  for (const auto& [kind, models] : kinds_)
    out.push_back(kind);
  return out;
}

caf::expected<model_price> price_table::find(std::string_view kind, std::string_view model) const {
  auto k = kinds_.find(kind);
  if (k != kinds_.end()) {
    if (auto m = k->second.find(model); m != k->second.end())
      return m->second;
    if (auto any = k->second.find(std::string_view{"*"}); any != k->second.end())
      return any->second;
  }
  return make_error(errc::not_found, "no price for " + std::string{kind} + " model '"
                                       + std::string{model} + "'");
}

caf::expected<double> price_table::cost_usd(std::string_view kind, std::string_view model,
                                            priced_tokens tokens) const {
  using price_table_detail::tokens_per_million;
  if (tokens.input < 0 || tokens.output < 0)
    return make_error(errc::invalid_argument, "negative token count");
  auto price = find(kind, model);
  if (!price)
    return price.error();
  return (static_cast<double>(tokens.input) * price->input_usd_per_mtok
          + static_cast<double>(tokens.output) * price->output_usd_per_mtok)
         / tokens_per_million;
}

caf::expected<price_table> parse_price_table(std::string_view text, std::string origin,
                                             const std::vector<std::string>& kinds_allowed) {
  auto doc = parse_ini(text, std::move(origin));
  if (!doc)  // syntax, limits and duplicates all mean "this file does not parse"
    return make_error(errc::parse_error, error_context(doc.error()));
  price_table table;
  for (const auto& sec : doc->sections)
    if (auto err = price_table_detail::add_section(table, *doc, sec, kinds_allowed))
      return err;
  return table;
}

caf::expected<price_table> load_price_table(const std::string& path,
                                            const std::vector<std::string>& kinds_allowed) {
  // read_regular_file: a FIFO or a device is refused at once, not read.
  auto text = read_regular_file(path, ini_bytes_max);
  if (!text)
    return text.error();
  return parse_price_table(*text, path, kinds_allowed);
}

}  // namespace agentgraph
