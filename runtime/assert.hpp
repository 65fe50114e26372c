// agentgraph's assertion: always on, unlike CAF_ASSERT (compiled out in
// Debian's CAF build) and assert() (compiled out by NDEBUG). Use it for
// programmer errors only; operating errors (network input, LLM output,
// config files) are returned as values.
//
// AG_ASSERT(cond) or AG_ASSERT(cond, "what broke"): the optional message, a
// string literal, says which invariant failed in words, for conditions whose
// text alone does not (`it != end()`).
#pragma once

#include <cstdio>
#include <cstdlib>

#define AG_ASSERT(cond, ...)                                                             \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "agentgraph: assertion failed: %s at %s:%d\n",                \
                   #cond __VA_OPT__(" (" __VA_ARGS__ ")"), __FILE__, __LINE__);          \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)
