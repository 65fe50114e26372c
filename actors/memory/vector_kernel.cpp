// vector_dot's kernels and the one-time choice between them.
#include "actors/memory/vector_kernel.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AG_VECTOR_KERNEL_X86 1
#endif

namespace agentgraph {

namespace vector_kernel_detail {

// Four independent sums keep several multiply-adds in flight and let the
// compiler pack them into one SSE register at -O2, without -ffast-math.
float dot_portable(const float* x, const float* y, size_t n) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i] * y[i];
    s1 += x[i + 1] * y[i + 1];
    s2 += x[i + 2] * y[i + 2];
    s3 += x[i + 3] * y[i + 3];
  }
  float sum = (s0 + s1) + (s2 + s3);
  for (; i < n; ++i)
    sum += x[i] * y[i];
  return sum;
}

#ifdef AG_VECTOR_KERNEL_X86
// Four 8-lane accumulators: 32 floats per iteration, enough independent
// FMAs to cover their latency. Unaligned loads: hnswlib's level-0 block
// places a vector after a link list, at 4-byte alignment only. The target
// attribute compiles this function alone for AVX2+FMA; it is called only
// when CPUID says the CPU has both (dot_kernel below).
__attribute__((target("avx2,fma"))) float dot_avx2(const float* x, const float* y, size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);
  }
  for (; i + 8 <= n; i += 8)
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
  __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_hadd_ps(h, h);
  h = _mm_hadd_ps(h, h);
  float sum = _mm_cvtss_f32(h);
  for (; i < n; ++i)
    sum += x[i] * y[i];
  return sum;
}

// out[l] = fma(values[i], x, out[l]) per coordinate, 8 lanes per FMA.
__attribute__((target("avx2,fma"))) void column_dots_avx2(const float* base, size_t stride,
                                                            size_t lanes, const uint32_t* coords,
                                                            const float* values, size_t n,
                                                            float* out) {
  for (size_t l = 0; l < lanes; l += 8)
    _mm256_storeu_ps(out + l, _mm256_setzero_ps());
  for (size_t i = 0; i < n; ++i) {
    const float* run = base + static_cast<size_t>(coords[i]) * stride;
    const __m256 v = _mm256_set1_ps(values[i]);
    for (size_t l = 0; l < lanes; l += 16) {
      __m256 a = _mm256_fmadd_ps(v, _mm256_loadu_ps(run + l), _mm256_loadu_ps(out + l));
      __m256 b = _mm256_fmadd_ps(v, _mm256_loadu_ps(run + l + 8), _mm256_loadu_ps(out + l + 8));
      _mm256_storeu_ps(out + l, a);
      _mm256_storeu_ps(out + l + 8, b);
    }
  }
}
#endif

void column_dots_portable(const float* base, size_t stride, size_t lanes, const uint32_t* coords,
                          const float* values, size_t n, float* out) {
  for (size_t l = 0; l < lanes; ++l)
    out[l] = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    const float* run = base + static_cast<size_t>(coords[i]) * stride;
    const float v = values[i];
    for (size_t l = 0; l < lanes; ++l)
      out[l] += v * run[l];
  }
}

using dot_fn = float (*)(const float*, const float*, size_t);

using column_dots_fn = void (*)(const float*, size_t, size_t, const uint32_t*, const float*,
                                size_t, float*);

struct dot_kernel {
  dot_fn fn;
  column_dots_fn column_fn;
  const char* name;
};

dot_kernel choose_dot_kernel() {
#ifdef AG_VECTOR_KERNEL_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {dot_avx2, column_dots_avx2, "avx2+fma"};
#endif
  return {dot_portable, column_dots_portable, "portable"};
}

// Chosen on first use, not at namespace scope: another translation unit's
// static initialiser may embed and score before this one's has run. The
// guard costs a load and a predicted branch per call.
const dot_kernel& chosen_dot_kernel() {
  static const dot_kernel chosen = choose_dot_kernel();
  return chosen;
}

}  // namespace vector_kernel_detail

float vector_dot(const float* a, const float* b, size_t n) {
  return vector_kernel_detail::chosen_dot_kernel().fn(a, b, n);
}

void vector_column_dots(const float* base, size_t stride, size_t lanes, const uint32_t* coords,
                        const float* values, size_t n, float* out) {
  vector_kernel_detail::chosen_dot_kernel().column_fn(base, stride, lanes, coords, values, n, out);
}

const char* vector_dot_kernel() {
  return vector_kernel_detail::chosen_dot_kernel().name;
}

}  // namespace agentgraph
