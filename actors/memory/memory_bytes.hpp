// Estimates of the heap bytes behind standard containers, shared by the
// memory shard's byte accounting (memory_store.cpp, retention_index.cpp),
// so that every part of memory_store::bytes counts a node or a string the
// same way. libstdc++ layouts; an estimate, not malloc's exact usage.
#pragma once

#include <cstddef>
#include <string>

namespace agentgraph::memory_bytes {

// A std::set / std::map node: colour, parent, left and right pointers,
// then the value.
template <class Value>
constexpr size_t tree_node = 4 * sizeof(void*) + sizeof(Value);

// libstdc++ keeps up to 15 chars inside the object (SSO); beyond, the
// capacity plus the terminator lives on the heap.
inline size_t string_heap(const std::string& s) {
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}

}  // namespace agentgraph::memory_bytes
