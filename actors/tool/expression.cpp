#include "actors/tool/expression.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <numbers>
#include <optional>
#include <string>
#include <vector>

#include "runtime/error.hpp"

namespace agentgraph {

namespace expression_detail {

struct function_entry {
  std::string_view name;
  size_t args_min;
  size_t args_max;  // SIZE_MAX: variadic (still bounded by expression_chars_max)
};

constexpr size_t variadic = SIZE_MAX;

constexpr std::array<function_entry, 14> functions{{
  {"sqrt", 1, 1},  {"abs", 1, 1},   {"ln", 1, 1},       {"log10", 1, 1},
  {"exp", 1, 1},   {"sin", 1, 1},   {"cos", 1, 1},      {"tan", 1, 1},
  {"floor", 1, 1}, {"ceil", 1, 1},  {"round", 1, 1},    {"pow", 2, 2},
  {"min", 2, variadic}, {"max", 2, variadic},
}};

const function_entry* find_function(std::string_view name) {
  for (const auto& f : functions)
    if (f.name == name)
      return &f;
  return nullptr;
}

std::string format_number(double v) {
  std::array<char, 32> buf{};
  auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return std::string(buf.data(), res.ptr);
}

std::string quote_char(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f)
    return std::string{"'"} + c + "'";
  static constexpr char hex[] = "0123456789abcdef";
  return std::string{"byte 0x"} + hex[u >> 4] + hex[u & 0xf];
}

std::string arity_text(const function_entry& f) {
  if (f.args_max == variadic)
    return "at least " + std::to_string(f.args_min) + " arguments";
  return std::to_string(f.args_min) + (f.args_min == 1 ? " argument" : " arguments");
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// The parser records only the first failure; every parse_* returns false
// once one happened, so the first (most precise) message wins.
class parser {
 public:
  explicit parser(std::string_view text) : s_(text) {}

  caf::expected<double> run() {
    double out = 0;
    if (!parse_all(out))
      return make_error(errc::invalid_argument, *error_);
    return out == 0 ? 0.0 : out;  // no "-0" in results
  }

 private:
  // Every loop below consumes at least one character per iteration, so all
  // of them are bounded by expression_chars_max.
  bool parse_all(double& out) {
    if (s_.size() > expression_chars_max)
      return fail_text("expression is " + std::to_string(s_.size())
                       + " characters; the limit is " + std::to_string(expression_chars_max));
    skip_space();
    if (at_end())
      return fail_text("empty expression");
    if (!parse_expr(out))
      return false;
    skip_space();
    if (at_end())
      return true;
    if (peek() == ')')
      return fail(pos_, "unbalanced parenthesis: ')' has no matching '('");
    return fail(pos_, "unexpected character " + quote_char(peek()));
  }

  bool parse_expr(double& out) {
    if (!parse_term(out))
      return false;
    for (;;) {
      skip_space();
      char op = peek();
      if (op != '+' && op != '-')
        return true;
      size_t at = pos_++;
      double rhs = 0;
      if (!parse_term(rhs))
        return false;
      out = op == '+' ? out + rhs : out - rhs;
      if (!check_finite(out, at, std::string{"'"} + op + "'"))
        return false;
    }
  }

  bool parse_term(double& out) {
    if (!parse_unary(out))
      return false;
    for (;;) {
      skip_space();
      char op = peek();
      if (op != '*' && op != '/' && op != '%')
        return true;
      size_t at = pos_++;
      double rhs = 0;
      if (!parse_unary(rhs))
        return false;
      if (op != '*' && rhs == 0)
        return fail(at, "division by zero");
      out = op == '*' ? out * rhs : op == '/' ? out / rhs : std::fmod(out, rhs);
      if (!check_finite(out, at, std::string{"'"} + op + "'"))
        return false;
    }
  }

  bool parse_unary(double& out) {
    struct depth_guard {
      int& depth;
      ~depth_guard() { --depth; }
    } guard{++depth_};
    if (depth_ > expression_depth_max)
      return fail(pos_, "nesting deeper than " + std::to_string(expression_depth_max));
    skip_space();
    char sign = peek();
    if (sign != '-' && sign != '+')
      return parse_power(out);
    ++pos_;
    if (!parse_unary(out))
      return false;
    if (sign == '-')
      out = -out;
    return true;
  }

  bool parse_power(double& out) {
    if (!parse_primary(out))
      return false;
    skip_space();
    if (peek() != '^')
      return true;
    size_t at = pos_++;
    double exponent = 0;
    if (!parse_unary(exponent))
      return false;
    out = std::pow(out, exponent);
    return check_finite(out, at, "'^'");
  }

  bool parse_primary(double& out) {
    skip_space();
    if (at_end())
      return fail(pos_, "unexpected end of expression");
    char c = peek();
    if (is_digit(c) || c == '.')
      return parse_number(out);
    if (is_name_start(c))
      return parse_name(out);
    if (c == '(')
      return parse_group(out);
    if (c == ')')
      return fail(pos_, "expected a number, name or '(' before ')'");
    return fail(pos_, "unexpected character " + quote_char(c));
  }

  bool parse_group(double& out) {
    size_t open = pos_++;
    if (!parse_expr(out))
      return false;
    return expect_close(open);
  }

  // After the last operand inside parentheses opened at `open`.
  bool expect_close(size_t open) {
    skip_space();
    if (at_end())
      return fail(open, "unbalanced parenthesis: '(' is never closed");
    if (peek() != ')')
      return fail(pos_, "unexpected character " + quote_char(peek()));
    ++pos_;
    return true;
  }

  bool parse_number(double& out) {
    size_t start = pos_;
    size_t digits = skip_digits();
    if (peek() == '.') {
      ++pos_;
      digits += skip_digits();
    }
    if (digits == 0)
      return fail(start, "malformed number");
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-')
        ++pos_;
      if (skip_digits() == 0)
        return fail(start, "malformed number '" + std::string{s_.substr(start, pos_ - start)}
                             + "'");
    }
    auto text = s_.substr(start, pos_ - start);
    auto res = std::from_chars(text.data(), text.data() + text.size(), out);
    if (res.ec != std::errc{} || res.ptr != text.data() + text.size())
      return fail(start, "number '" + std::string{text} + "' is out of range");
    return true;
  }

  bool parse_name(double& out) {
    size_t start = pos_;
    while (!at_end() && is_name_char(peek()))
      ++pos_;
    auto name = s_.substr(start, pos_ - start);
    skip_space();
    if (peek() == '(')
      return parse_call(name, start, out);
    if (name == "pi") {
      out = std::numbers::pi;
      return true;
    }
    if (name == "e") {
      out = std::numbers::e;
      return true;
    }
    if (find_function(name) != nullptr)
      return fail(start, "function '" + std::string{name} + "' needs its arguments in parentheses");
    return fail(start, "unknown name '" + std::string{name} + "'");
  }

  bool parse_call(std::string_view name, size_t start, double& out) {
    const auto* fn = find_function(name);
    if (fn == nullptr)
      return fail(start, "unknown function '" + std::string{name} + "'");
    size_t open = pos_++;
    std::vector<double> args;
    skip_space();
    if (peek() != ')') {
      for (;;) {
        double arg = 0;
        if (!parse_expr(arg))
          return false;
        args.push_back(arg);
        skip_space();
        if (peek() != ',')
          break;
        ++pos_;
      }
    }
    if (!expect_close(open))
      return false;
    if (args.size() < fn->args_min || args.size() > fn->args_max)
      return fail(start, "function '" + std::string{name} + "' takes " + arity_text(*fn)
                           + ", got " + std::to_string(args.size()));
    return apply(*fn, args, start, out);
  }

  bool apply(const function_entry& fn, const std::vector<double>& a, size_t at, double& out) {
    const auto& n = fn.name;
    if (n == "sqrt" && a[0] < 0)
      return fail(at, "sqrt of a negative number (" + format_number(a[0]) + ")");
    if ((n == "ln" || n == "log10") && a[0] <= 0)
      return fail(at, std::string{n} + " of a non-positive number (" + format_number(a[0]) + ")");
    out = n == "sqrt"    ? std::sqrt(a[0])
          : n == "abs"   ? std::fabs(a[0])
          : n == "ln"    ? std::log(a[0])
          : n == "log10" ? std::log10(a[0])
          : n == "exp"   ? std::exp(a[0])
          : n == "sin"   ? std::sin(a[0])
          : n == "cos"   ? std::cos(a[0])
          : n == "tan"   ? std::tan(a[0])
          : n == "floor" ? std::floor(a[0])
          : n == "ceil"  ? std::ceil(a[0])
          : n == "round" ? std::round(a[0])
          : n == "pow"   ? std::pow(a[0], a[1])
                         : fold_min_max(n == "min", a);
    return check_finite(out, at, "'" + std::string{n} + "'");
  }

  static double fold_min_max(bool take_min, const std::vector<double>& a) {
    double acc = a[0];
    for (double x : a)
      acc = take_min ? std::fmin(acc, x) : std::fmax(acc, x);
    return acc;
  }

  bool check_finite(double v, size_t at, const std::string& what) {
    if (std::isfinite(v))
      return true;
    return fail(at, "result of " + what + " is not a finite number");
  }

  size_t skip_digits() {
    size_t n = 0;
    for (; !at_end() && is_digit(peek()); ++pos_)
      ++n;
    return n;
  }

  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r'))
      ++pos_;
  }

  [[nodiscard]] bool at_end() const { return pos_ >= s_.size(); }
  [[nodiscard]] char peek() const { return at_end() ? '\0' : s_[pos_]; }

  bool fail(size_t at, std::string what) {
    return fail_text(std::move(what) + " at position " + std::to_string(at + 1));
  }

  bool fail_text(std::string what) {
    if (!error_)
      error_ = std::move(what);
    return false;
  }

  std::string_view s_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::optional<std::string> error_;
};

}  // namespace expression_detail

caf::expected<double> evaluate_expression(std::string_view text) {
  return expression_detail::parser{text}.run();
}

}  // namespace agentgraph
