// The vector index's arithmetic: vector_dot (HNSW's distance, and a scoped
// recall's scoring in HNSW mode) and vector_column_dots (the exact scan and
// its scoped scoring). AVX2+FMA when the CPU has them (chosen once, on
// first use, from CPUID, not from -march: the binary runs on any x86-64 and
// the build flags stay CI's), portable loops otherwise.
//
// Thread-safe: pure functions; the kernel choice is made during static
// initialisation and never changes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace agentgraph {

// Sum of a[i] * b[i] for i < n. The SIMD kernel rounds differently from
// the portable one (fused multiply-adds, 32 partial sums): scores may
// differ in the last bits between machines, never between two calls here.
[[nodiscard]] float vector_dot(const float* a, const float* b, size_t n);

// The exact scan's kernel (vector_scan.hpp keeps vectors column-major:
// coordinate c of entry l at base[c * stride + l]). For every l < lanes:
// out[l] = sum over i < n of values[i] * base[coords[i] * stride + l], the
// terms added in the order given, one coordinate's run of `lanes` floats
// at a time (a sequential read the hardware prefetcher follows). `coords`
// are the query's nonzero coordinates, so a sparse query (hash-<dim> of a
// short text) reads only their runs. `lanes` is a multiple of 16 (the
// scan pads). A lane's sum does not depend on `lanes` or on where the lane
// sits, so scoring one entry's 16 gives the score a whole scan gives it.
constexpr size_t vector_scan_lane_multiple = 16;
void vector_column_dots(const float* base, size_t stride, size_t lanes, const uint32_t* coords,
                        const float* values, size_t n, float* out);

// "avx2+fma" or "portable": the kernel vector_dot runs, for benchmarks.
[[nodiscard]] const char* vector_dot_kernel();

}  // namespace agentgraph
