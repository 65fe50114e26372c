// Fuzz target: a page of memory entries as another node sends it when it
// fills a replica (memory_import_atom, actors/memory/memory_replica_interface.hpp).
// Any bytes must decode (CAF's binary format, as BASP delivers it) to an
// error or to a page, and import_page must refuse a page whole or add it
// within the store's promises: at most max_entries held, byte accounting
// exact, and the same page imported again leaving the same entries.
//
// Input: the bytes of one serialized memory_page. Seeds
// (corpus/memory_page/) are pages written by CAF's binary_serializer:
// small entries, metadata, an empty page and a page at max_entries.
#include <cstdint>
#include <cstdlib>
#include <set>

#include <caf/binary_deserializer.hpp>

#include "actors/memory/memory_store.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace agentgraph;
  memory_page page;
  // No actor system: a page holds no handles, and a static one would be
  // torn down after CAF's own statics at exit.
  caf::binary_deserializer source{static_cast<caf::execution_unit*>(nullptr),
                                  reinterpret_cast<const char*>(data), size};
  if (source(page))
    return 0;  // the decoder refused the bytes
  memory_config mc;
  mc.name = "fuzz";
  mc.max_entries = 8;
  auto store = memory_store::make(mc);
  if (!store)
    std::abort();
  auto added = store->import_page(page, 1'000'000);
  if (!added) {
    if (store->size() != 0)
      std::abort();  // refused whole
    return 0;
  }
  auto ids = [&] {
    std::set<uint64_t> out;
    for (const auto& e : store->entries_copy())
      out.insert(e.id);
    return out;
  };
  if (store->size() > mc.max_entries || *added < store->size()
      || store->bytes() != store->bytes_recounted())
    std::abort();
  const auto held = ids();
  if (!store->import_page(page, 1'000'000) || ids() != held)
    std::abort();
  return 0;
}
