// The calculator tool's arithmetic: a recursive-descent evaluator for
// expressions a model writes, kept free of CAF actors so it is table-tested
// on its own.
//
// Grammar (whitespace allowed between tokens):
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '/' | '%') unary)*
//   unary   := ('+' | '-') unary | power
//   power   := primary ('^' unary)?          right-associative: 2^3^2 = 2^9
//   primary := number | constant | name '(' expr (',' expr)* ')' | '(' expr ')'
//   number  := digits ['.' digits] [('e' | 'E') ['+' | '-'] digits]   (".5" too)
// Unary minus binds looser than '^', as in mathematics: -2^2 = -4.
// Constants: pi, e. Functions: sqrt abs ln log10 exp sin cos tan floor ceil
// round (1 argument), pow (2), min max (2 or more).
#pragma once

#include <cstddef>
#include <string_view>

#include <caf/expected.hpp>

namespace agentgraph {

// Longer expressions are refused before parsing: a model has no reason to
// send more, and the bound caps the parser's work.
constexpr size_t expression_chars_max = 1024;
// Deeper nesting of parentheses, unary signs, exponents and calls is
// refused, so hostile input cannot exhaust the actor thread's stack.
constexpr int expression_depth_max = 64;

// Evaluates `text`. Deterministic: the same text always gives the same value.
// Errors: invalid_argument whose context names the problem and the 1-based
// character position where it was found ("division by zero at position 4"):
// unexpected character, unexpected end, unbalanced parenthesis, unknown
// function or name, wrong arity, division by zero, domain errors (sqrt of a
// negative number, ln or log10 of a non-positive one), non-finite results,
// too long, too deep.
[[nodiscard]] caf::expected<double> evaluate_expression(std::string_view text);

}  // namespace agentgraph
