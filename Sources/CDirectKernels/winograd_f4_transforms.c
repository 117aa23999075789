// The input, output and output-gradient transforms of the Winograd
// F(4×4, 3×3) passes (include/dae_winograd_f4.h: matrices, layouts;
// Sources/DAELayers/Kernels/WinogradF4Convolution.swift: the algorithm), for
// AVX-512F, AVX2 + FMA and portable C: winograd_f4_arithmetic.h is the one
// body, compiled here once per variant.
//
// Bits: contraction is off in this file, so no a·k + c is fused unless
// written as F4_FMA, which is a fused multiply-add in every variant
// (_mm512_fmadd_ps, _mm256_fmadd_ps, fmaf): every variant rounds the same
// operations in the same order, and all give the same bits. Multiplications
// by 2, 4, ½, ¼ and ⅛ are exact; those by 3, 5 and 8 sit inside FMAs or are exact.
// ReLU is max(0, a) as in the F(2×2) transforms (−0 and NaN kept).
//
// The x86 variants carry their own target attributes: no compiler flag.
#include "dae_winograd_f4.h"
#include "winograd_tiles.h"
#include <math.h>

#pragma clang fp contract(off)

#define F4_UNROLL _Pragma("clang loop unroll(full)")

// MARK: Portable C, one channel at a time

#define F4_V float
#define F4_WIDTH 1
#define F4_MASK int
#define F4_MASK_FOR(n) ((int)(n))
#define F4_LOAD(p, mask) ((void)(mask), *(p))
#define F4_STORE(p, v, mask) ((void)(mask), *(p) = (v))
#define F4_ZERO 0.0f
#define F4_ADD(a, b) ((a) + (b))
#define F4_SUB(a, b) ((a) - (b))
#define F4_MUL(a, k) ((a) * (k))
#define F4_FMA(a, k, c) fmaf((a), (k), (c))
#define F4_RELU(a) (0.0f > (a) ? 0.0f : (a))
#define F4_INLINE static inline __attribute__((always_inline))
#define F4_EXPORT
#define F4_NAME(x) x##_portable
#include "winograd_f4_arithmetic.h"

#if defined(__x86_64__)
#include <immintrin.h>

// MARK: AVX-512F, 16 channels at a time

#define F4_V __m512
#define F4_WIDTH 16
#define F4_MASK __mmask16
#define F4_MASK_FOR(n) ((__mmask16)((n) >= 16 ? 0xFFFFu : (1u << (n)) - 1u))
#define F4_LOAD(p, mask) _mm512_maskz_loadu_ps((mask), (p))
#define F4_STORE(p, v, mask) _mm512_mask_storeu_ps((p), (mask), (v))
#define F4_ZERO _mm512_setzero_ps()
#define F4_ADD(a, b) _mm512_add_ps((a), (b))
#define F4_SUB(a, b) _mm512_sub_ps((a), (b))
#define F4_MUL(a, k) _mm512_mul_ps((a), _mm512_set1_ps(k))
#define F4_FMA(a, k, c) _mm512_fmadd_ps((a), _mm512_set1_ps(k), (c))
#define F4_RELU(a) _mm512_max_ps(_mm512_setzero_ps(), (a))
#define F4_INLINE static inline __attribute__((always_inline, target("avx512f")))
#define F4_EXPORT __attribute__((target("avx512f")))
#define F4_NAME(x) x##_avx512
#include "winograd_f4_arithmetic.h"

// MARK: AVX2 + FMA, 8 channels at a time

/// Which of 8 lanes exist: all (plain loads and stores, fast everywhere) or the first few (masked).
typedef struct { int full; __m256i lanes; } f4_mask256;

__attribute__((always_inline, target("avx2,fma"))) static inline f4_mask256 f4_mask256_for(long n) {
    f4_mask256 m = {n >= 8, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))};
    return m;
}

#define F4_V __m256
#define F4_WIDTH 8
#define F4_MASK f4_mask256
#define F4_MASK_FOR(n) f4_mask256_for(n)
#define F4_LOAD(p, mask) ((mask).full ? _mm256_loadu_ps(p) : _mm256_maskload_ps((p), (mask).lanes))
#define F4_STORE(p, v, mask) \
    do { if ((mask).full) _mm256_storeu_ps((p), (v)); else _mm256_maskstore_ps((p), (mask).lanes, (v)); } while (0)
#define F4_ZERO _mm256_setzero_ps()
#define F4_ADD(a, b) _mm256_add_ps((a), (b))
#define F4_SUB(a, b) _mm256_sub_ps((a), (b))
#define F4_MUL(a, k) _mm256_mul_ps((a), _mm256_set1_ps(k))
#define F4_FMA(a, k, c) _mm256_fmadd_ps((a), _mm256_set1_ps(k), (c))
#define F4_RELU(a) _mm256_max_ps(_mm256_setzero_ps(), (a))
#define F4_INLINE static inline __attribute__((always_inline, target("avx2,fma")))
#define F4_EXPORT __attribute__((target("avx2,fma")))
#define F4_NAME(x) x##_avx2
#include "winograd_f4_arithmetic.h"

#endif
