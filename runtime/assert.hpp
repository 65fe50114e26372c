// agentgraph's assertion: always on, unlike CAF_ASSERT (compiled out in
// Debian's CAF build) and assert() (compiled out by NDEBUG). Use it for
// programmer errors only; operating errors (network input, LLM output,
// config files) are returned as values.
#pragma once

#include <cstdio>
#include <cstdlib>

#define AG_ASSERT(cond)                                                                  \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "agentgraph: assertion failed: %s at %s:%d\n", #cond, __FILE__, \
                   __LINE__);                                                            \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)
