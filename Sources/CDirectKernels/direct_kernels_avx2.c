// AVX2 + FMA versions of DAELayers' direct convolution loops; see
// include/dae_direct_kernels.h for the layouts and
// Sources/DAELayers/DirectConvolution.swift for the portable loops they
// replace (and the reasoning behind both).
//
// Every function carries __attribute__((target("avx2,fma"))), so the file
// needs no compiler flag and the rest of the program stays baseline x86-64.
// Channel blocks whose last vector is partial use masked loads and stores
// (lane_mask), so no loop has a scalar tail. Helpers are always inlined and
// called with constant `pixels`, `taps` and `full` arguments: the compiler
// emits one register-resident copy per combination.
#include "dae_direct_kernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline)) TARGET
// Loops over a helper's registers: unrolled at every optimising level
// (SwiftPM builds C at -O2), so their vectors stay in registers; debug
// builds (-O0) ignore it and run slower, with the same results.
#define UNROLL _Pragma("clang loop unroll(full)")

// Straight from CPUID and XGETBV rather than __builtin_cpu_supports, which
// needs a compiler runtime symbol (__cpu_model) that not every toolchain links.
int dae_direct_avx2_available(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned needed = bit_FMA | bit_OSXSAVE | bit_AVX;
    if ((c & needed) != needed) return 0;
    // The operating system must save the YMM registers across context switches: XCR0 bits 1 (SSE) and 2 (AVX).
    unsigned xcr0, xcr0High;
    __asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(xcr0High) : "c"(0));
    (void)xcr0High;
    if ((xcr0 & 6) != 6) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & bit_AVX2) != 0;
}

/// A mask of the first `n` of 8 lanes (n ≤ 0: none; n ≥ 8: all).
INLINE __m256i lane_mask(long n) {
    int lanes = n < 0 ? 0 : n > 8 ? 8 : (int)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

INLINE __m256 load8(const float *p, int full, __m256i mask) {
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask);
}

INLINE void store8(float *p, __m256 v, int full, __m256i mask) {
    if (full) _mm256_storeu_ps(p, v); else _mm256_maskstore_ps(p, mask, v);
}

INLINE float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// MARK: - Forward: `pixels` (4 or 1) output pixels × 16 channels in 8 registers

/// y[p][f0 + 0..<16] for the `pixels` windows starting at x, x + windowStep, …
/// Each weight vector loaded serves every pixel of the group; each input
/// value broadcast serves 16 channels.
INLINE void forward_block(const float *x, const float *w, const float *bias, float *y,
                          long outputChannels, long kernelHeight, long tapsPerRow, long windowStep, long paddedRow,
                          int pixels, int full, __m256i m0, __m256i m1) {
    __m256 b0 = bias ? load8(bias, full, m0) : _mm256_setzero_ps();
    __m256 b1 = bias ? load8(bias + 8, full, m1) : _mm256_setzero_ps();
    __m256 a[4][2];
    UNROLL for (int p = 0; p < pixels; p++) { a[p][0] = b0; a[p][1] = b1; }
    for (long i = 0; i < kernelHeight; i++) {
        const float *tap = x + i * paddedRow;
        const float *wr = w + i * tapsPerRow * outputChannels;
        for (long t = 0; t < tapsPerRow; t++) {
            __m256 w0 = load8(wr, full, m0), w1 = load8(wr + 8, full, m1);
            UNROLL for (int p = 0; p < pixels; p++) {
                __m256 v = _mm256_broadcast_ss(tap + p * windowStep);
                a[p][0] = _mm256_fmadd_ps(v, w0, a[p][0]);
                a[p][1] = _mm256_fmadd_ps(v, w1, a[p][1]);
            }
            wr += outputChannels;
            tap += 1;
        }
    }
    UNROLL for (int p = 0; p < pixels; p++) {
        store8(y + p * outputChannels, a[p][0], full, m0);
        store8(y + p * outputChannels + 8, a[p][1], full, m1);
    }
}

TARGET void dae_direct_forward_avx2(const float *padded, const float *weights, const float *bias, float *output,
                                    long outputHeight, long outputWidth, long outputChannels,
                                    long kernelHeight, long tapsPerRow, long windowStep, long rowStep, long paddedRow) {
    const long f = outputChannels;
    for (long oh = 0; oh < outputHeight; oh++) {
        const float *windows = padded + oh * rowStep;
        float *row = output + oh * outputWidth * f;
        for (long f0 = 0; f0 < f; f0 += 16) {
            const long left = f - f0;
            const int full = left >= 16;
            const __m256i m0 = lane_mask(left), m1 = lane_mask(left - 8);
            const float *w = weights + f0, *b = bias ? bias + f0 : 0;
            const int pixels = outputWidth >= 4 ? 4 : 1;
            for (long ow = 0; ow < outputWidth; ow += pixels) {
                // The row's last group overlaps the one before it (same values written twice).
                if (ow > outputWidth - pixels) ow = outputWidth - pixels;
                const float *x = windows + ow * windowStep;
                float *y = row + ow * f + f0;
#define FORWARD(P, FULL) forward_block(x, w, b, y, f, kernelHeight, tapsPerRow, windowStep, paddedRow, P, FULL, m0, m1)
                if (pixels == 4) { if (full) FORWARD(4, 1); else FORWARD(4, 0); }
                else { if (full) FORWARD(1, 1); else FORWARD(1, 0); }
#undef FORWARD
            }
        }
    }
}

// MARK: - Weight gradient: `taps` (≤ 3) weight rows × 32 channels in 12 registers

/// W̄[t + q][f0 + 0..<32] += Σ over every output pixel of window[t + q] · ∂L/∂y[f0 + 0..<32],
/// q < taps: each ∂L/∂y vector loaded serves every tap, each tap value broadcast 32 channels.
INLINE void weight_gradient_block(const float *tap, const float *dy, float *dw,
                                  long outputHeight, long outputWidth, long outputChannels,
                                  long windowStep, long rowStep, int taps, int full, const __m256i m[4]) {
    __m256 s[3][4];
    UNROLL for (int q = 0; q < taps; q++)
        UNROLL for (int k = 0; k < 4; k++) s[q][k] = _mm256_setzero_ps();
    for (long oh = 0; oh < outputHeight; oh++) {
        const float *x = tap + oh * rowStep;
        const float *d = dy + oh * outputWidth * outputChannels;
        for (long ow = 0; ow < outputWidth; ow++) {
            // 12 sums + 3 tap values + 1 vector of ∂L/∂y: exactly the 16 registers.
            __m256 v[3];
            UNROLL for (int q = 0; q < taps; q++) v[q] = _mm256_broadcast_ss(x + q);
            UNROLL for (int k = 0; k < 4; k++) {
                const __m256 g = load8(d + 8 * k, full, m[k]);
                UNROLL for (int q = 0; q < taps; q++) s[q][k] = _mm256_fmadd_ps(v[q], g, s[q][k]);
            }
            x += windowStep;
            d += outputChannels;
        }
    }
    UNROLL for (int q = 0; q < taps; q++)
        UNROLL for (int k = 0; k < 4; k++) {
            float *p = dw + q * outputChannels + 8 * k;
            store8(p, _mm256_add_ps(load8(p, full, m[k]), s[q][k]), full, m[k]);
        }
}

TARGET void dae_direct_weight_gradient_avx2(const float *padded, const float *outputGradient, float *weightGradient,
                                            long outputHeight, long outputWidth, long outputChannels,
                                            long kernelHeight, long tapsPerRow, long windowStep, long rowStep,
                                            long paddedRow) {
    const long f = outputChannels;
    for (long f0 = 0; f0 < f; f0 += 32) {
        const long left = f - f0;
        const int full = left >= 32;
        const __m256i m[4] = {lane_mask(left), lane_mask(left - 8), lane_mask(left - 16), lane_mask(left - 24)};
        for (long i = 0; i < kernelHeight; i++) {
            for (long t = 0; t < tapsPerRow; ) {
                const float *tap = padded + i * paddedRow + t;
                float *dw = weightGradient + (i * tapsPerRow + t) * f + f0;
                const float *dy = outputGradient + f0;
                const long taps = tapsPerRow - t >= 3 ? 3 : tapsPerRow - t;
#define WG(T, FULL) weight_gradient_block(tap, dy, dw, outputHeight, outputWidth, f, windowStep, rowStep, T, FULL, m)
                if (full) { if (taps == 3) WG(3, 1); else if (taps == 2) WG(2, 1); else WG(1, 1); }
                else { if (taps == 3) WG(3, 0); else if (taps == 2) WG(2, 0); else WG(1, 0); }
#undef WG
                t += taps;
            }
        }
    }
}

// MARK: - Input gradient (stride 1): 4 or 1 input pixels, 8 output channels at a time

/// The sums of a group of 4 interior pixels for a kernel 3 wide: pixel p takes
/// Σ_j ∂L/∂y[p + 2 − j] · W[j] over a kernel row's three taps, so the six
/// ∂L/∂y vectors a row needs are loaded once and serve twelve products.
INLINE void three_tap_chunk(const float *dy, const float *w0, const float *w1, const float *w2, long f,
                            int full, __m256i m, __m256 q[4]) {
    const __m256 a = load8(w0, full, m), b = load8(w1, full, m), c = load8(w2, full, m);
    __m256 d[6];
    UNROLL for (int n = 0; n < 6; n++) d[n] = load8(dy + n * f, full, m);
    // Each pixel's three products form their own short chain; only its sum meets the accumulator.
    UNROLL for (int p = 0; p < 4; p++) {
        __m256 t = _mm256_mul_ps(d[p + 2], a);
        t = _mm256_fmadd_ps(d[p + 1], b, t);
        t = _mm256_fmadd_ps(d[p], c, t);
        q[p] = _mm256_add_ps(q[p], t);
    }
}

/// One kernel tap's contribution to `pixels` (4 or 1) neighbouring pixels: q[p] += ∂L/∂y[p] · W.
INLINE void one_tap_chunk(const float *dy, const float *w, long f, int pixels, int full, __m256i m, __m256 q[4]) {
    const __m256 wv = load8(w, full, m);
    UNROLL for (int p = 0; p < pixels; p++) q[p] = _mm256_fmadd_ps(load8(dy + p * f, full, m), wv, q[p]);
}

TARGET void dae_direct_input_gradient_avx2(const float *outputGradient, const float *weights, float bias,
                                           float *inputGradient,
                                           long inputHeight, long inputWidth, long inputChannels, long channel,
                                           long outputHeight, long outputWidth, long outputChannels,
                                           long kernelHeight, long kernelWidth, long padTop, long padLeft) {
    const long f = outputChannels, c = inputChannels, tapStride = c * f;
    // Pixels iw in [interiorBegin, interiorEnd) have every kernel column inside the output row.
    const long interiorBegin = kernelWidth - 1 - padLeft > 0 ? kernelWidth - 1 - padLeft : 0;
    long interiorEnd = outputWidth - padLeft < inputWidth ? outputWidth - padLeft : inputWidth;
    if (interiorEnd < interiorBegin) interiorEnd = interiorBegin;
    const int groups = interiorEnd - interiorBegin >= 4;
    const __m256i tail = lane_mask(f % 8);   // the channels of the last, partial vector
    for (long ih = 0; ih < inputHeight; ih++) {
        // Kernel rows i whose output row ih + padTop − i exists.
        const long rowBegin = ih + padTop - outputHeight + 1 > 0 ? ih + padTop - outputHeight + 1 : 0;
        const long rowEnd = ih + padTop + 1 < kernelHeight ? ih + padTop + 1 : kernelHeight;
        long iw = 0;
        while (iw < inputWidth) {
            const int group = groups && iw >= interiorBegin && iw < interiorEnd;
            // The row's last group of 4 overlaps the one before (same values written twice).
            if (group && iw > interiorEnd - 4) iw = interiorEnd - 4;
            __m256 q[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
            for (long i = rowBegin; i < rowEnd; i++) {
                const float *gradientRow = outputGradient + (ih + padTop - i) * outputWidth * f;
                const float *w = weights + (i * kernelWidth * c + channel) * f;
                // Whole vectors of 8 channels, then one masked vector for the rest.
                if (group && kernelWidth == 3) {
                    const float *dy = gradientRow + (iw + padLeft - 2) * f;
                    const float *w1 = w + tapStride, *w2 = w + 2 * tapStride;
                    long k = 0;
                    for (; k + 8 <= f; k += 8) three_tap_chunk(dy + k, w + k, w1 + k, w2 + k, f, 1, tail, q);
                    if (k < f) three_tap_chunk(dy + k, w + k, w1 + k, w2 + k, f, 0, tail, q);
                    continue;
                }
                for (long j = 0; j < kernelWidth; j++) {
                    const long ow = iw + padLeft - j;
                    if (!group && (ow < 0 || ow >= outputWidth)) continue;
                    const float *dy = gradientRow + ow * f, *wj = w + j * tapStride;
                    long k = 0;
                    if (group) {
                        for (; k + 8 <= f; k += 8) one_tap_chunk(dy + k, wj + k, f, 4, 1, tail, q);
                        if (k < f) one_tap_chunk(dy + k, wj + k, f, 4, 0, tail, q);
                    } else {
                        for (; k + 8 <= f; k += 8) one_tap_chunk(dy + k, wj + k, f, 1, 1, tail, q);
                        if (k < f) one_tap_chunk(dy + k, wj + k, f, 1, 0, tail, q);
                    }
                }
            }
            float *x = inputGradient + (ih * inputWidth + iw) * c + channel;
            x[0] = bias + horizontal_sum(q[0]);
            if (group) {
                x[c] = bias + horizontal_sum(q[1]);
                x[2 * c] = bias + horizontal_sum(q[2]);
                x[3 * c] = bias + horizontal_sum(q[3]);
            }
            iw += group ? 4 : 1;
        }
    }
}

#else
// Other architectures use DAELayers' portable Swift loops; C requires a translation unit to declare something.
typedef int dae_direct_kernels_unused;
#endif // __x86_64__
