#include "actors/workflow/condition.hpp"

#include <cctype>
#include <charconv>

#include "runtime/error.hpp"

namespace agentgraph {

namespace condition_detail {

struct cursor {
  std::string_view text;
  size_t pos = 0;

  void skip_space() {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos])))
      ++pos;
  }
  [[nodiscard]] bool done() {
    skip_space();
    return pos >= text.size();
  }
  [[nodiscard]] caf::error fail(const std::string& what) const {
    return make_error(errc::invalid_argument, "condition '" + std::string{text} + "': " + what
                                                + " at column " + std::to_string(pos + 1));
  }
  // A word: path characters (letters, digits, '_', '-', '.').
  std::string_view word() {
    skip_space();
    size_t start = pos;
    while (pos < text.size()
           && (std::isalnum(static_cast<unsigned char>(text[pos])) || text[pos] == '_'
               || text[pos] == '-' || text[pos] == '.'))
      ++pos;
    return text.substr(start, pos - start);
  }
};

caf::expected<std::vector<std::string>> parse_path(cursor& c, std::string_view word) {
  if (word.empty())
    return c.fail("expected a state path");
  std::vector<std::string> path;
  size_t start = 0;
  for (size_t i = 0; i <= word.size(); ++i) {
    if (i < word.size() && word[i] != '.')
      continue;
    if (i == start)
      return c.fail("empty key in path '" + std::string{word} + "'");
    path.emplace_back(word.substr(start, i - start));
    start = i + 1;
  }
  if (path.size() > condition_path_depth_max)
    return c.fail("path deeper than " + std::to_string(condition_path_depth_max) + " keys");
  return path;
}

caf::expected<condition_op> parse_op(cursor& c) {
  c.skip_space();
  auto rest = c.text.substr(c.pos);
  struct entry {
    std::string_view token;
    condition_op op;
  };
  // Two-character operators first, so "<=" is not read as "<".
  static constexpr entry ops[] = {{"==", condition_op::eq}, {"!=", condition_op::ne},
                                  {"<=", condition_op::le}, {">=", condition_op::ge},
                                  {"<", condition_op::lt},  {">", condition_op::gt},
                                  {"contains", condition_op::contains}};
  for (const auto& e : ops)
    if (rest.substr(0, e.token.size()) == e.token) {
      c.pos += e.token.size();
      return e.op;
    }
  return c.fail("expected ==, !=, <, <=, >, >= or contains");
}

caf::expected<Value> parse_literal(cursor& c) {
  c.skip_space();
  if (c.pos >= c.text.size())
    return c.fail("expected a value");
  if (c.text[c.pos] == '"') {
    std::string s;
    for (++c.pos; c.pos < c.text.size(); ++c.pos) {
      char ch = c.text[c.pos];
      if (ch == '"') {
        ++c.pos;
        return Value{std::move(s)};
      }
      if (ch == '\\' && c.pos + 1 < c.text.size())
        ch = c.text[++c.pos];
      s.push_back(ch);
    }
    return c.fail("unterminated string");
  }
  auto w = c.word();
  if (w == "true")
    return Value{true};
  if (w == "false")
    return Value{false};
  if (w == "null")
    return Value{};
  int64_t i = 0;
  auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), i);
  if (ec == std::errc{} && p == w.data() + w.size() && !w.empty())
    return Value{i};
  double d = 0;
  auto [pd, ecd] = std::from_chars(w.data(), w.data() + w.size(), d);
  if (ecd == std::errc{} && pd == w.data() + w.size() && !w.empty())
    return Value{d};
  return c.fail("expected a number, a \"string\", true, false or null");
}

bool truthy(const Value* v) {
  if (v == nullptr || v->is_null())
    return false;
  if (v->is_bool())
    return v->as_bool();
  if (v->is_number())
    return v->as_double() != 0;
  if (v->is_string() || v->is_array() || v->is_object())
    return v->size() > 0;
  return true;
}

bool equal(const Value* v, const Value& lit) {
  if (v == nullptr)
    return lit.is_null();
  if (v->is_number() && lit.is_number())
    return v->as_double() == lit.as_double();
  return *v == lit;
}

}  // namespace condition_detail

caf::expected<condition> parse_condition(std::string_view text) {
  using namespace condition_detail;
  cursor c{text};
  if (text.size() > condition_text_max)
    return c.fail("longer than " + std::to_string(condition_text_max) + " characters");
  condition out;
  out.text = std::string{text};
  auto first = c.word();
  if (first == "not") {
    if (c.word() != "exists")
      return c.fail("expected `exists` after `not`");
    out.op = condition_op::not_exists;
    first = c.word();
  } else if (first == "exists") {
    out.op = condition_op::exists;
    first = c.word();
  }
  auto path = parse_path(c, first);
  if (!path)
    return std::move(path.error());
  out.path = std::move(*path);
  if (out.op == condition_op::truthy && !c.done()) {
    auto op = parse_op(c);
    if (!op)
      return std::move(op.error());
    out.op = *op;
    auto lit = parse_literal(c);
    if (!lit)
      return std::move(lit.error());
    out.literal = std::move(*lit);
    bool ordered = out.op == condition_op::lt || out.op == condition_op::le
                   || out.op == condition_op::gt || out.op == condition_op::ge;
    if (ordered && !out.literal.is_number())
      return c.fail("<, <=, > and >= compare with a number");
  }
  if (!c.done())
    return c.fail("unexpected text");
  return out;
}

const Value* lookup_path(const Value& state, const std::vector<std::string>& path) {
  const Value* v = &state;
  for (const auto& key : path) {
    if (!v->is_object())
      return nullptr;
    v = v->find(key);
    if (v == nullptr)
      return nullptr;
  }
  return v;
}

bool evaluate(const condition& c, const Value& state) {
  using namespace condition_detail;
  const Value* v = lookup_path(state, c.path);
  switch (c.op) {
    case condition_op::truthy:
      return truthy(v);
    case condition_op::exists:
      return v != nullptr && !v->is_null();
    case condition_op::not_exists:
      return v == nullptr || v->is_null();
    case condition_op::eq:
      return equal(v, c.literal);
    case condition_op::ne:
      return !equal(v, c.literal);
    case condition_op::contains:
      if (v != nullptr && v->is_string() && c.literal.is_string())
        return v->as_string().find(c.literal.as_string()) != std::string::npos;
      if (v != nullptr && v->is_array())
        for (const auto& e : v->as_array())
          if (equal(&e, c.literal))
            return true;
      return false;
    case condition_op::lt:
    case condition_op::le:
    case condition_op::gt:
    case condition_op::ge: {
      if (v == nullptr || !v->is_number())
        return false;
      double a = v->as_double();
      double b = c.literal.as_double();
      return c.op == condition_op::lt   ? a < b
             : c.op == condition_op::le ? a <= b
             : c.op == condition_op::gt ? a > b
                                        : a >= b;
    }
  }
  return false;
}

}  // namespace agentgraph
