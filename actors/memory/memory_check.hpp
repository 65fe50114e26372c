// Always-on invariant check for the memory shard's pure classes. A broken
// invariant is a bug: we stop the process with a message rather than keep
// serving silently corrupted state (STYLE §2.12). CAF_ASSERT is not used
// because Debian's CAF build compiles it out.
//
// This is local to actors/memory because the project has no shared assertion
// macro yet; replace it with runtime's macro once one exists.
#pragma once

#include <cstdio>
#include <cstdlib>

#define AGENTGRAPH_MEMORY_CHECK(cond, what)                                              \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "agentgraph memory invariant failed: %s (%s) at %s:%d\n",    \
                   what, #cond, __FILE__, __LINE__);                                     \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)
