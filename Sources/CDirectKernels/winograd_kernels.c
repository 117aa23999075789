// The 16 GEMMs of the Winograd F(2×2, 3×3) forward pass (36 for the
// inference-only F(4×4, 3×3): the same kernels with an entry count), and the 16 GEMMs
// of its weight gradient (training); layouts and the summation order in
// include/dae_winograd_kernels.h, the algorithms in
// Sources/DAELayers/Kernels/WinogradConvolution.swift and WinogradGradients.swift.
//
// Each kernel keeps a block of tiles × filters of M in registers and runs
// down the Cin input channels: per channel, one broadcast of V per tile and
// one load of U per filter vector feed (tiles × vectors) fused multiply-adds.
// The last filter vector of a row may be partial (masked loads and stores);
// the last tiles of a block run one at a time with the same chain of FMAs.
// Every function carries its own target attribute: no compiler flag.
#include "dae_winograd_kernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

#define UNROLL _Pragma("clang loop unroll(full)")

int dae_winograd_avx512_available(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if ((c & bit_OSXSAVE) == 0) return 0;
    // The OS must save the opmask and ZMM state: XCR0 bits 1, 2 (SSE, AVX) and 5, 6, 7 (AVX-512).
    unsigned xcr0, xcr0High;
    __asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(xcr0High) : "c"(0));
    (void)xcr0High;
    if ((xcr0 & 0xE6) != 0xE6) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & bit_AVX512F) != 0;
}

// MARK: AVX-512

#define T512 __attribute__((target("avx512f")))
#define INLINE512 static inline __attribute__((always_inline)) T512

/// `rows` tiles (constant at each call) × `vectors` (1…3) filter vectors of 16, the last masked by `mask`.
INLINE512 void block512(const float *v, const float *u, float *m, long cin, long cout, long vstride, long mstride,
                        int rows, int vectors, __mmask16 mask) {
    __m512 acc[8][3];
    UNROLL for (int r = 0; r < 8; r++) { UNROLL for (int j = 0; j < 3; j++) acc[r][j] = _mm512_setzero_ps(); }
    for (long c = 0; c < cin; c++) {
        const float *ur = u + c * cout;
        __m512 b0 = vectors == 1 ? _mm512_maskz_loadu_ps(mask, ur) : _mm512_loadu_ps(ur);
        __m512 b1 = vectors == 2 ? _mm512_maskz_loadu_ps(mask, ur + 16) : vectors > 2 ? _mm512_loadu_ps(ur + 16) : b0;
        __m512 b2 = vectors == 3 ? _mm512_maskz_loadu_ps(mask, ur + 32) : b0;
        UNROLL for (int r = 0; r < 8; r++) {
            if (r < rows) {
                __m512 a = _mm512_set1_ps(v[r * vstride + c]);
                acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
                if (vectors > 1) acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
                if (vectors > 2) acc[r][2] = _mm512_fmadd_ps(a, b2, acc[r][2]);
            }
        }
    }
    UNROLL for (int r = 0; r < 8; r++) {
        if (r < rows) {
            float *out = m + r * mstride;
            if (vectors == 1) _mm512_mask_storeu_ps(out, mask, acc[r][0]); else _mm512_storeu_ps(out, acc[r][0]);
            if (vectors == 2) _mm512_mask_storeu_ps(out + 16, mask, acc[r][1]); else if (vectors > 2) _mm512_storeu_ps(out + 16, acc[r][1]);
            if (vectors == 3) _mm512_mask_storeu_ps(out + 32, mask, acc[r][2]);
        }
    }
}

/// One filter block of up to 48 for every tile: blocks of 8 tiles, then one at a time.
INLINE512 void columns512(const float *v, const float *u, float *m, long tiles, long cin, long cout,
                          long vstride, long mstride, int vectors, __mmask16 mask) {
    long t = 0;
    for (; t + 8 <= tiles; t += 8) block512(v + t * vstride, u, m + t * mstride, cin, cout, vstride, mstride, 8, vectors, mask);
    for (; t < tiles; t++) block512(v + t * vstride, u, m + t * mstride, cin, cout, vstride, mstride, 1, vectors, mask);
}

T512 void dae_winograd_gemm_avx512(const float *v, const float *u, float *m, long tiles, long cin, long cout, long entries) {
    const long vstride = entries * cin, mstride = entries * cout;
    for (long e = 0; e < entries; e++) {
        const float *ve = v + e * cin, *ue = u + e * cin * cout;
        float *me = m + e * cout;
        for (long f0 = 0; f0 < cout; f0 += 48) {
            long left = cout - f0 < 48 ? cout - f0 : 48;
            int vectors = (int)((left + 15) / 16);
            long last = left - 16 * (vectors - 1);
            __mmask16 mask = (__mmask16)((1u << last) - 1u);
            if (last == 16) mask = 0xFFFF;
            switch (vectors) {
            case 3: columns512(ve, ue + f0, me + f0, tiles, cin, cout, vstride, mstride, 3, mask); break;
            case 2: columns512(ve, ue + f0, me + f0, tiles, cin, cout, vstride, mstride, 2, mask); break;
            default: columns512(ve, ue + f0, me + f0, tiles, cin, cout, vstride, mstride, 1, mask); break;
            }
        }
    }
}

// The weight gradient: du[e][c][f] += Σ_t v[t][e][c] · dm[t][e][f].

/// `rows` input channels (constant at each call) × `vectors` (1…3) filter
/// vectors of 16, the last masked: one chain of FMAs over the tiles, then added to du.
INLINE512 void wblock512(const float *v, const float *dm, float *du, long tiles, long cout, long vstride, long mstride,
                         int rows, int vectors, __mmask16 mask) {
    __m512 acc[8][3];
    UNROLL for (int r = 0; r < 8; r++) { UNROLL for (int j = 0; j < 3; j++) acc[r][j] = _mm512_setzero_ps(); }
    for (long t = 0; t < tiles; t++) {
        const float *mr = dm + t * mstride, *vr = v + t * vstride;
        __m512 b0 = vectors == 1 ? _mm512_maskz_loadu_ps(mask, mr) : _mm512_loadu_ps(mr);
        __m512 b1 = vectors == 2 ? _mm512_maskz_loadu_ps(mask, mr + 16) : vectors > 2 ? _mm512_loadu_ps(mr + 16) : b0;
        __m512 b2 = vectors == 3 ? _mm512_maskz_loadu_ps(mask, mr + 32) : b0;
        UNROLL for (int r = 0; r < 8; r++) {
            if (r < rows) {
                __m512 a = _mm512_set1_ps(vr[r]);
                acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
                if (vectors > 1) acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
                if (vectors > 2) acc[r][2] = _mm512_fmadd_ps(a, b2, acc[r][2]);
            }
        }
    }
    UNROLL for (int r = 0; r < 8; r++) {
        if (r < rows) {
            float *out = du + r * cout;
            UNROLL for (int j = 0; j < 3; j++) {
                if (j < vectors) {
                    __mmask16 m = j == vectors - 1 ? mask : 0xFFFF;
                    _mm512_mask_storeu_ps(out + 16 * j, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, out + 16 * j), acc[r][j]));
                }
            }
        }
    }
}

/// One filter block of up to 48 for every input channel: blocks of 8 channels, then the rest in one block.
INLINE512 void wcolumns512(const float *v, const float *dm, float *du, long tiles, long cin, long cout,
                           long vstride, long mstride, int vectors, __mmask16 mask) {
    long c = 0;
    for (; c + 8 <= cin; c += 8) wblock512(v + c, dm, du + c * cout, tiles, cout, vstride, mstride, 8, vectors, mask);
    switch (cin - c) {
    case 7: wblock512(v + c, dm, du + c * cout, tiles, cout, vstride, mstride, 7, vectors, mask); break;
    case 6: wblock512(v + c, dm, du + c * cout, tiles, cout, vstride, mstride, 6, vectors, mask); break;
    case 5: wblock512(v + c, dm, du + c * cout, tiles, cout, vstride, mstride, 5, vectors, mask); break;
    case 4: wblock512(v + c, dm, du + c * cout, tiles, cout, vstride, mstride, 4, vectors, mask); break;
    case 3: wblock512(v + c, dm, du + c * cout, tiles, cout, vstride, mstride, 3, vectors, mask); break;
    case 2: wblock512(v + c, dm, du + c * cout, tiles, cout, vstride, mstride, 2, vectors, mask); break;
    case 1: wblock512(v + c, dm, du + c * cout, tiles, cout, vstride, mstride, 1, vectors, mask); break;
    default: break;
    }
}

T512 void dae_winograd_weight_gemm_avx512(const float *v, const float *dm, float *du, long tiles, long cin, long cout,
                                   long entries) {
    const long vstride = entries * cin, mstride = entries * cout;
    for (long e = 0; e < entries; e++) {
        const float *ve = v + e * cin, *me = dm + e * cout;
        float *ue = du + e * cin * cout;
        for (long f0 = 0; f0 < cout; f0 += 48) {
            long left = cout - f0 < 48 ? cout - f0 : 48;
            int vectors = (int)((left + 15) / 16);
            long last = left - 16 * (vectors - 1);
            __mmask16 mask = last == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << last) - 1u);
            switch (vectors) {
            case 3: wcolumns512(ve, me + f0, ue + f0, tiles, cin, cout, vstride, mstride, 3, mask); break;
            case 2: wcolumns512(ve, me + f0, ue + f0, tiles, cin, cout, vstride, mstride, 2, mask); break;
            default: wcolumns512(ve, me + f0, ue + f0, tiles, cin, cout, vstride, mstride, 1, mask); break;
            }
        }
    }
}

// MARK: AVX2 + FMA

#define T256 __attribute__((target("avx2,fma")))
#define INLINE256 static inline __attribute__((always_inline)) T256

INLINE256 __m256i mask256(long n) {
    int lanes = n < 0 ? 0 : n > 8 ? 8 : (int)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// `rows` tiles (constant at each call, ≤ 4) × `vectors` (1…3) filter vectors of 8, the last masked.
INLINE256 void block256(const float *v, const float *u, float *m, long cin, long cout, long vstride, long mstride,
                        int rows, int vectors, int lastFull, __m256i mask) {
    __m256 acc[4][3];
    UNROLL for (int r = 0; r < 4; r++) { UNROLL for (int j = 0; j < 3; j++) acc[r][j] = _mm256_setzero_ps(); }
    for (long c = 0; c < cin; c++) {
        const float *ur = u + c * cout;
        __m256 b[3];
        UNROLL for (int j = 0; j < 3; j++) {
            if (j < vectors) b[j] = (j == vectors - 1 && !lastFull) ? _mm256_maskload_ps(ur + 8 * j, mask) : _mm256_loadu_ps(ur + 8 * j);
            else b[j] = _mm256_setzero_ps();
        }
        UNROLL for (int r = 0; r < 4; r++) {
            if (r < rows) {
                __m256 a = _mm256_broadcast_ss(v + r * vstride + c);
                UNROLL for (int j = 0; j < 3; j++) { if (j < vectors) acc[r][j] = _mm256_fmadd_ps(a, b[j], acc[r][j]); }
            }
        }
    }
    UNROLL for (int r = 0; r < 4; r++) {
        if (r < rows) {
            UNROLL for (int j = 0; j < 3; j++) {
                if (j < vectors) {
                    float *out = m + r * mstride + 8 * j;
                    if (j == vectors - 1 && !lastFull) _mm256_maskstore_ps(out, mask, acc[r][j]); else _mm256_storeu_ps(out, acc[r][j]);
                }
            }
        }
    }
}

INLINE256 void columns256(const float *v, const float *u, float *m, long tiles, long cin, long cout,
                          long vstride, long mstride, int vectors, int lastFull, __m256i mask) {
    long t = 0;
    for (; t + 4 <= tiles; t += 4) block256(v + t * vstride, u, m + t * mstride, cin, cout, vstride, mstride, 4, vectors, lastFull, mask);
    for (; t < tiles; t++) block256(v + t * vstride, u, m + t * mstride, cin, cout, vstride, mstride, 1, vectors, lastFull, mask);
}

T256 void dae_winograd_gemm_avx2(const float *v, const float *u, float *m, long tiles, long cin, long cout, long entries) {
    const long vstride = entries * cin, mstride = entries * cout;
    for (long e = 0; e < entries; e++) {
        const float *ve = v + e * cin, *ue = u + e * cin * cout;
        float *me = m + e * cout;
        for (long f0 = 0; f0 < cout; f0 += 24) {
            long left = cout - f0 < 24 ? cout - f0 : 24;
            int vectors = (int)((left + 7) / 8);
            long last = left - 8 * (vectors - 1);
            int lastFull = last == 8;
            __m256i mask = mask256(last);
            switch (vectors * 2 + lastFull) {
            case 7: columns256(ve, ue + f0, me + f0, tiles, cin, cout, vstride, mstride, 3, 1, mask); break;
            case 6: columns256(ve, ue + f0, me + f0, tiles, cin, cout, vstride, mstride, 3, 0, mask); break;
            case 5: columns256(ve, ue + f0, me + f0, tiles, cin, cout, vstride, mstride, 2, 1, mask); break;
            case 4: columns256(ve, ue + f0, me + f0, tiles, cin, cout, vstride, mstride, 2, 0, mask); break;
            case 3: columns256(ve, ue + f0, me + f0, tiles, cin, cout, vstride, mstride, 1, 1, mask); break;
            default: columns256(ve, ue + f0, me + f0, tiles, cin, cout, vstride, mstride, 1, 0, mask); break;
            }
        }
    }
}

// The weight gradient, as with AVX-512: the same chain of FMAs per entry, so the same bits.

/// `rows` input channels (constant at each call, ≤ 4) × `vectors` (1…3) filter vectors of 8, the last masked.
INLINE256 void wblock256(const float *v, const float *dm, float *du, long tiles, long cout, long vstride, long mstride,
                         int rows, int vectors, int lastFull, __m256i mask) {
    __m256 acc[4][3];
    UNROLL for (int r = 0; r < 4; r++) { UNROLL for (int j = 0; j < 3; j++) acc[r][j] = _mm256_setzero_ps(); }
    for (long t = 0; t < tiles; t++) {
        const float *mr = dm + t * mstride, *vr = v + t * vstride;
        __m256 b[3];
        UNROLL for (int j = 0; j < 3; j++) {
            if (j < vectors) b[j] = (j == vectors - 1 && !lastFull) ? _mm256_maskload_ps(mr + 8 * j, mask) : _mm256_loadu_ps(mr + 8 * j);
            else b[j] = _mm256_setzero_ps();
        }
        UNROLL for (int r = 0; r < 4; r++) {
            if (r < rows) {
                __m256 a = _mm256_broadcast_ss(vr + r);
                UNROLL for (int j = 0; j < 3; j++) { if (j < vectors) acc[r][j] = _mm256_fmadd_ps(a, b[j], acc[r][j]); }
            }
        }
    }
    UNROLL for (int r = 0; r < 4; r++) {
        if (r < rows) {
            UNROLL for (int j = 0; j < 3; j++) {
                if (j < vectors) {
                    float *out = du + r * cout + 8 * j;
                    if (j == vectors - 1 && !lastFull) {
                        _mm256_maskstore_ps(out, mask, _mm256_add_ps(_mm256_maskload_ps(out, mask), acc[r][j]));
                    } else {
                        _mm256_storeu_ps(out, _mm256_add_ps(_mm256_loadu_ps(out), acc[r][j]));
                    }
                }
            }
        }
    }
}

INLINE256 void wcolumns256(const float *v, const float *dm, float *du, long tiles, long cin, long cout,
                           long vstride, long mstride, int vectors, int lastFull, __m256i mask) {
    long c = 0;
    for (; c + 4 <= cin; c += 4) wblock256(v + c, dm, du + c * cout, tiles, cout, vstride, mstride, 4, vectors, lastFull, mask);
    switch (cin - c) {
    case 3: wblock256(v + c, dm, du + c * cout, tiles, cout, vstride, mstride, 3, vectors, lastFull, mask); break;
    case 2: wblock256(v + c, dm, du + c * cout, tiles, cout, vstride, mstride, 2, vectors, lastFull, mask); break;
    case 1: wblock256(v + c, dm, du + c * cout, tiles, cout, vstride, mstride, 1, vectors, lastFull, mask); break;
    default: break;
    }
}

T256 void dae_winograd_weight_gemm_avx2(const float *v, const float *dm, float *du, long tiles, long cin, long cout,
                                   long entries) {
    const long vstride = entries * cin, mstride = entries * cout;
    for (long e = 0; e < entries; e++) {
        const float *ve = v + e * cin, *me = dm + e * cout;
        float *ue = du + e * cin * cout;
        for (long f0 = 0; f0 < cout; f0 += 24) {
            long left = cout - f0 < 24 ? cout - f0 : 24;
            int vectors = (int)((left + 7) / 8);
            long last = left - 8 * (vectors - 1);
            int lastFull = last == 8;
            __m256i mask = mask256(last);
            switch (vectors * 2 + lastFull) {
            case 7: wcolumns256(ve, me + f0, ue + f0, tiles, cin, cout, vstride, mstride, 3, 1, mask); break;
            case 6: wcolumns256(ve, me + f0, ue + f0, tiles, cin, cout, vstride, mstride, 3, 0, mask); break;
            case 5: wcolumns256(ve, me + f0, ue + f0, tiles, cin, cout, vstride, mstride, 2, 1, mask); break;
            case 4: wcolumns256(ve, me + f0, ue + f0, tiles, cin, cout, vstride, mstride, 2, 0, mask); break;
            case 3: wcolumns256(ve, me + f0, ue + f0, tiles, cin, cout, vstride, mstride, 1, 1, mask); break;
            default: wcolumns256(ve, me + f0, ue + f0, tiles, cin, cout, vstride, mstride, 1, 0, mask); break;
            }
        }
    }
}

#endif
