// The input and output transforms of the Winograd F(2×2, 3×3) forward pass
// (Sources/DAELayers/Kernels/WinogradConvolution.swift has the algorithm and
// the portable Swift transforms these replace; include/dae_winograd_kernels.h
// the layouts), and the output-gradient transform of its weight gradient
// (WinogradGradients.swift), with AVX-512F and AVX2 intrinsics, chosen at run time.
//
// Bits: every output value is the same sequence of single IEEE additions and
// subtractions as in the Swift transforms (a ± b of the same operands, in
// the same grouping), so all three implementations give the same bits, and
// a value never depends on the block or on where in a vector its channel
// falls. No multiplication: nothing can be contracted into an FMA. ReLU is
// max(0, a), which keeps −0 and NaN as Swift's `replace(with: 0, where: a < 0)` does.
//
// Every function carries its own target attribute: no compiler flag.
#include "dae_winograd_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include "winograd_tiles.h"

#define UNROLL _Pragma("clang loop unroll(full)")

/// The four output pixels of tile `index` in `y` (an NHWC batch of
/// `outputChannels`): NULL for those past the output's bottom or right edge.
static inline void tile_pixels(const dae_winograd_shape *s, float *y, long index, float **y00, float **y01, float **y10,
                               float **y11) {
    long image, row, column;
    winograd_tile_position(s, index, &image, &row, &column);
    const long cout = s->outputChannels, oh = s->outputHeight, ow = s->outputWidth;
    const long oy = 2 * row, ox = 2 * column;
    const int right = ox + 1 < ow, bottom = oy + 1 < oh;
    *y00 = y + ((image * oh + oy) * ow + ox) * cout;
    *y01 = right ? *y00 + cout : NULL;
    *y10 = bottom ? *y00 + ow * cout : NULL;
    *y11 = right && bottom ? *y00 + ow * cout + cout : NULL;
}

// MARK: AVX-512

#define T512 __attribute__((target("avx512f")))
#define INLINE512 static inline __attribute__((always_inline)) T512

/// `V = Bᵀ d B` of one slice of 16 channels (`mask`: the lanes that exist):
/// d at the tile's top-left pixel, `rs` floats between rows, `cs` between
/// columns and between the 16 entries e = 4·a + b of `v`.
INLINE512 void input_slice512(const float *d, long rs, long cs, float *v, __mmask16 mask) {
    __m512 r[4][4];
    UNROLL for (int i = 0; i < 4; i++) {
        const float *p = d + i * rs;
        const __m512 a = _mm512_maskz_loadu_ps(mask, p), b = _mm512_maskz_loadu_ps(mask, p + cs);
        const __m512 c = _mm512_maskz_loadu_ps(mask, p + 2 * cs), e = _mm512_maskz_loadu_ps(mask, p + 3 * cs);
        // Rows: r = d B.
        r[i][0] = _mm512_sub_ps(a, c);
        r[i][1] = _mm512_add_ps(b, c);
        r[i][2] = _mm512_sub_ps(c, b);
        r[i][3] = _mm512_sub_ps(b, e);
    }
    // Columns: V = Bᵀ r.
    UNROLL for (int j = 0; j < 4; j++) {
        _mm512_mask_storeu_ps(v + j * cs, mask, _mm512_sub_ps(r[0][j], r[2][j]));
        _mm512_mask_storeu_ps(v + (4 + j) * cs, mask, _mm512_add_ps(r[1][j], r[2][j]));
        _mm512_mask_storeu_ps(v + (8 + j) * cs, mask, _mm512_sub_ps(r[2][j], r[1][j]));
        _mm512_mask_storeu_ps(v + (12 + j) * cs, mask, _mm512_sub_ps(r[1][j], r[3][j]));
    }
}

// V[k][16][Cin] for tiles first … first + count − 1 of the batch: ~16·Cin loads and stores per tile.
T512 void dae_winograd_input_transform_avx512(const dae_winograd_shape *s, const float *input, long first, long count,
                                              float *v, float *edge) {
    const long cin = s->inputChannels;
    const long tail = cin % 16;
    const __mmask16 tailMask = (__mmask16)((1u << tail) - 1u);
    for (long k = 0; k < count; k++) {
        long rs;
        const float *d = winograd_tile_window(s, input, first + k, edge, &rs, 2);
        float *out = v + k * 16 * cin;
        long c0 = 0;
        for (; c0 + 16 <= cin; c0 += 16) input_slice512(d + c0, rs, cin, out + c0, 0xFFFF);
        if (tail) input_slice512(d + c0, rs, cin, out + c0, tailMask);
    }
}

/// `y = Aᵀ M A + bias` (then ReLU) of one slice of 16 filters: m at the
/// tile's entry 0 (entries `cout` apart), the four output pixels at y00…y11
/// (NULL: past the output's edge, not written).
INLINE512 void output_slice512(const float *m, long cout, const float *bias, int relu, float *y00, float *y01,
                               float *y10, float *y11, __mmask16 mask) {
    __m512 at[16];
    UNROLL for (int e = 0; e < 16; e++) at[e] = _mm512_maskz_loadu_ps(mask, m + e * cout);
    // s = Aᵀ M: two rows of four, each (x + y) ± z as in Swift.
    __m512 s0[4], s1[4];
    UNROLL for (int j = 0; j < 4; j++) {
        s0[j] = _mm512_add_ps(_mm512_add_ps(at[j], at[4 + j]), at[8 + j]);
        s1[j] = _mm512_sub_ps(_mm512_sub_ps(at[4 + j], at[8 + j]), at[12 + j]);
    }
    const __m512 b = bias ? _mm512_maskz_loadu_ps(mask, bias) : _mm512_setzero_ps();
    __m512 a00 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s0[0], s0[1]), s0[2]), b);
    __m512 a01 = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s0[1], s0[2]), s0[3]), b);
    __m512 a10 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s1[0], s1[1]), s1[2]), b);
    __m512 a11 = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s1[1], s1[2]), s1[3]), b);
    if (relu) {
        // max(0, a) is 0 where 0 > a, else a (−0 and NaN kept).
        const __m512 zero = _mm512_setzero_ps();
        a00 = _mm512_max_ps(zero, a00);
        a01 = _mm512_max_ps(zero, a01);
        a10 = _mm512_max_ps(zero, a10);
        a11 = _mm512_max_ps(zero, a11);
    }
    _mm512_mask_storeu_ps(y00, mask, a00);
    if (y01) _mm512_mask_storeu_ps(y01, mask, a01);
    if (y10) _mm512_mask_storeu_ps(y10, mask, a10);
    if (y11) _mm512_mask_storeu_ps(y11, mask, a11);
}

// Output pixels of tiles first … first + count − 1 from M[k][16][Cout]: ~16·Cout loads, 4·Cout stores per tile.
T512 void dae_winograd_output_transform_avx512(const dae_winograd_shape *s, const float *m, long first, long count,
                                               float *output, const float *bias, int relu) {
    const long cout = s->outputChannels, oh = s->outputHeight, ow = s->outputWidth;
    const long tail = cout % 16;
    const __mmask16 tailMask = (__mmask16)((1u << tail) - 1u);
    for (long k = 0; k < count; k++) {
        long image, row, column;
        winograd_tile_position(s, first + k, &image, &row, &column);
        const long oy = 2 * row, ox = 2 * column;
        float *y00 = output + ((image * oh + oy) * ow + ox) * cout;
        const int right = ox + 1 < ow, bottom = oy + 1 < oh;
        float *y01 = right ? y00 + cout : NULL;
        float *y10 = bottom ? y00 + ow * cout : NULL;
        float *y11 = right && bottom ? y00 + ow * cout + cout : NULL;
        const float *mk = m + k * 16 * cout;
        long f0 = 0;
        for (; f0 + 16 <= cout; f0 += 16) {
            output_slice512(mk + f0, cout, bias ? bias + f0 : NULL, relu, y00 + f0, y01 ? y01 + f0 : NULL,
                            y10 ? y10 + f0 : NULL, y11 ? y11 + f0 : NULL, 0xFFFF);
        }
        if (tail) {
            output_slice512(mk + f0, cout, bias ? bias + f0 : NULL, relu, y00 + f0, y01 ? y01 + f0 : NULL,
                            y10 ? y10 + f0 : NULL, y11 ? y11 + f0 : NULL, tailMask);
        }
    }
}

/// `dM = A dY Aᵀ` of one slice of 16 filters (`mask`: the lanes that exist):
/// the four pixels of dY at y00…y11 (NULL: past the edge, taken as 0), the
/// 16 entries e = 4·a + b written `cout` apart from dm. The same sequence of
/// additions, subtractions and negations as the Swift transform.
INLINE512 void output_gradient_slice512(const float *y00, const float *y01, const float *y10, const float *y11, float *dm,
                                        long cout, __mmask16 mask) {
    const __m512 zero = _mm512_setzero_ps();
    const __m512 p00 = _mm512_maskz_loadu_ps(mask, y00);
    const __m512 p01 = y01 ? _mm512_maskz_loadu_ps(mask, y01) : zero;
    const __m512 p10 = y10 ? _mm512_maskz_loadu_ps(mask, y10) : zero;
    const __m512 p11 = y11 ? _mm512_maskz_loadu_ps(mask, y11) : zero;
    // Rows: t = A dY (four rows of two).
    __m512 t[4][2];
    t[0][0] = p00;
    t[0][1] = p01;
    t[1][0] = _mm512_add_ps(p00, p10);
    t[1][1] = _mm512_add_ps(p01, p11);
    t[2][0] = _mm512_sub_ps(p00, p10);
    t[2][1] = _mm512_sub_ps(p01, p11);
    t[3][0] = _mm512_sub_ps(zero, p10);
    t[3][1] = _mm512_sub_ps(zero, p11);
    // Columns: dM = t Aᵀ.
    UNROLL for (int a = 0; a < 4; a++) {
        _mm512_mask_storeu_ps(dm + (4 * a) * cout, mask, t[a][0]);
        _mm512_mask_storeu_ps(dm + (4 * a + 1) * cout, mask, _mm512_add_ps(t[a][0], t[a][1]));
        _mm512_mask_storeu_ps(dm + (4 * a + 2) * cout, mask, _mm512_sub_ps(t[a][0], t[a][1]));
        _mm512_mask_storeu_ps(dm + (4 * a + 3) * cout, mask, _mm512_sub_ps(zero, t[a][1]));
    }
}

// dM[k][16][Cout] for tiles first … first + count − 1: 4·Cout loads, 16·Cout stores per tile.
T512 void dae_winograd_output_gradient_transform_avx512(const dae_winograd_shape *s, const float *outputGradient, long first,
                                                        long count, float *dm) {
    const long cout = s->outputChannels;
    const long tail = cout % 16;
    const __mmask16 tailMask = (__mmask16)((1u << tail) - 1u);
    for (long k = 0; k < count; k++) {
        float *y00, *y01, *y10, *y11;
        tile_pixels(s, (float *)outputGradient, first + k, &y00, &y01, &y10, &y11);
        float *out = dm + k * 16 * cout;
        long f0 = 0;
        for (; f0 + 16 <= cout; f0 += 16) {
            output_gradient_slice512(y00 + f0, y01 ? y01 + f0 : NULL, y10 ? y10 + f0 : NULL, y11 ? y11 + f0 : NULL, out + f0,
                                     cout, 0xFFFF);
        }
        if (tail) {
            output_gradient_slice512(y00 + f0, y01 ? y01 + f0 : NULL, y10 ? y10 + f0 : NULL, y11 ? y11 + f0 : NULL, out + f0,
                                     cout, tailMask);
        }
    }
}

// MARK: AVX2

#define T256 __attribute__((target("avx2,fma")))
#define INLINE256 static inline __attribute__((always_inline)) T256

/// A mask of the first `n` of 8 lanes (0 < n ≤ 8).
INLINE256 __m256i lanes256(long n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

INLINE256 __m256 load256(const float *p, int full, __m256i mask) {
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask);
}

INLINE256 void store256(float *p, __m256 v, int full, __m256i mask) {
    if (full) _mm256_storeu_ps(p, v); else _mm256_maskstore_ps(p, mask, v);
}

/// As input_slice512, 8 channels (`full`, else the lanes of `mask`).
INLINE256 void input_slice256(const float *d, long rs, long cs, float *v, int full, __m256i mask) {
    __m256 r[4][4];
    UNROLL for (int i = 0; i < 4; i++) {
        const float *p = d + i * rs;
        const __m256 a = load256(p, full, mask), b = load256(p + cs, full, mask);
        const __m256 c = load256(p + 2 * cs, full, mask), e = load256(p + 3 * cs, full, mask);
        r[i][0] = _mm256_sub_ps(a, c);
        r[i][1] = _mm256_add_ps(b, c);
        r[i][2] = _mm256_sub_ps(c, b);
        r[i][3] = _mm256_sub_ps(b, e);
    }
    UNROLL for (int j = 0; j < 4; j++) {
        store256(v + j * cs, _mm256_sub_ps(r[0][j], r[2][j]), full, mask);
        store256(v + (4 + j) * cs, _mm256_add_ps(r[1][j], r[2][j]), full, mask);
        store256(v + (8 + j) * cs, _mm256_sub_ps(r[2][j], r[1][j]), full, mask);
        store256(v + (12 + j) * cs, _mm256_sub_ps(r[1][j], r[3][j]), full, mask);
    }
}

// As dae_winograd_input_transform_avx512, 8 channels at a time.
T256 void dae_winograd_input_transform_avx2(const dae_winograd_shape *s, const float *input, long first, long count,
                                            float *v, float *edge) {
    const long cin = s->inputChannels;
    const long tail = cin % 8;
    const __m256i tailMask = lanes256(tail ? tail : 8);
    for (long k = 0; k < count; k++) {
        long rs;
        const float *d = winograd_tile_window(s, input, first + k, edge, &rs, 2);
        float *out = v + k * 16 * cin;
        long c0 = 0;
        for (; c0 + 8 <= cin; c0 += 8) input_slice256(d + c0, rs, cin, out + c0, 1, tailMask);
        if (tail) input_slice256(d + c0, rs, cin, out + c0, 0, tailMask);
    }
}

/// As output_slice512, 8 filters.
INLINE256 void output_slice256(const float *m, long cout, const float *bias, int relu, float *y00, float *y01,
                               float *y10, float *y11, int full, __m256i mask) {
    __m256 at[16];
    UNROLL for (int e = 0; e < 16; e++) at[e] = load256(m + e * cout, full, mask);
    __m256 s0[4], s1[4];
    UNROLL for (int j = 0; j < 4; j++) {
        s0[j] = _mm256_add_ps(_mm256_add_ps(at[j], at[4 + j]), at[8 + j]);
        s1[j] = _mm256_sub_ps(_mm256_sub_ps(at[4 + j], at[8 + j]), at[12 + j]);
    }
    const __m256 b = bias ? load256(bias, full, mask) : _mm256_setzero_ps();
    __m256 a00 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s0[0], s0[1]), s0[2]), b);
    __m256 a01 = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(s0[1], s0[2]), s0[3]), b);
    __m256 a10 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s1[0], s1[1]), s1[2]), b);
    __m256 a11 = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(s1[1], s1[2]), s1[3]), b);
    if (relu) {
        const __m256 zero = _mm256_setzero_ps();
        a00 = _mm256_max_ps(zero, a00);
        a01 = _mm256_max_ps(zero, a01);
        a10 = _mm256_max_ps(zero, a10);
        a11 = _mm256_max_ps(zero, a11);
    }
    store256(y00, a00, full, mask);
    if (y01) store256(y01, a01, full, mask);
    if (y10) store256(y10, a10, full, mask);
    if (y11) store256(y11, a11, full, mask);
}

// As dae_winograd_output_transform_avx512, 8 filters at a time.
T256 void dae_winograd_output_transform_avx2(const dae_winograd_shape *s, const float *m, long first, long count,
                                             float *output, const float *bias, int relu) {
    const long cout = s->outputChannels, oh = s->outputHeight, ow = s->outputWidth;
    const long tail = cout % 8;
    const __m256i tailMask = lanes256(tail ? tail : 8);
    for (long k = 0; k < count; k++) {
        long image, row, column;
        winograd_tile_position(s, first + k, &image, &row, &column);
        const long oy = 2 * row, ox = 2 * column;
        float *y00 = output + ((image * oh + oy) * ow + ox) * cout;
        const int right = ox + 1 < ow, bottom = oy + 1 < oh;
        float *y01 = right ? y00 + cout : NULL;
        float *y10 = bottom ? y00 + ow * cout : NULL;
        float *y11 = right && bottom ? y00 + ow * cout + cout : NULL;
        const float *mk = m + k * 16 * cout;
        long f0 = 0;
        for (; f0 + 8 <= cout; f0 += 8) {
            output_slice256(mk + f0, cout, bias ? bias + f0 : NULL, relu, y00 + f0, y01 ? y01 + f0 : NULL,
                            y10 ? y10 + f0 : NULL, y11 ? y11 + f0 : NULL, 1, tailMask);
        }
        if (tail) {
            output_slice256(mk + f0, cout, bias ? bias + f0 : NULL, relu, y00 + f0, y01 ? y01 + f0 : NULL,
                            y10 ? y10 + f0 : NULL, y11 ? y11 + f0 : NULL, 0, tailMask);
        }
    }
}

/// As output_gradient_slice512, 8 filters (`full`, else the lanes of `mask`).
INLINE256 void output_gradient_slice256(const float *y00, const float *y01, const float *y10, const float *y11, float *dm,
                                        long cout, int full, __m256i mask) {
    const __m256 zero = _mm256_setzero_ps();
    const __m256 p00 = load256(y00, full, mask);
    const __m256 p01 = y01 ? load256(y01, full, mask) : zero;
    const __m256 p10 = y10 ? load256(y10, full, mask) : zero;
    const __m256 p11 = y11 ? load256(y11, full, mask) : zero;
    __m256 t[4][2];
    t[0][0] = p00;
    t[0][1] = p01;
    t[1][0] = _mm256_add_ps(p00, p10);
    t[1][1] = _mm256_add_ps(p01, p11);
    t[2][0] = _mm256_sub_ps(p00, p10);
    t[2][1] = _mm256_sub_ps(p01, p11);
    t[3][0] = _mm256_sub_ps(zero, p10);
    t[3][1] = _mm256_sub_ps(zero, p11);
    UNROLL for (int a = 0; a < 4; a++) {
        store256(dm + (4 * a) * cout, t[a][0], full, mask);
        store256(dm + (4 * a + 1) * cout, _mm256_add_ps(t[a][0], t[a][1]), full, mask);
        store256(dm + (4 * a + 2) * cout, _mm256_sub_ps(t[a][0], t[a][1]), full, mask);
        store256(dm + (4 * a + 3) * cout, _mm256_sub_ps(zero, t[a][1]), full, mask);
    }
}

// As dae_winograd_output_gradient_transform_avx512, 8 filters at a time.
T256 void dae_winograd_output_gradient_transform_avx2(const dae_winograd_shape *s, const float *outputGradient, long first,
                                                      long count, float *dm) {
    const long cout = s->outputChannels;
    const long tail = cout % 8;
    const __m256i tailMask = lanes256(tail ? tail : 8);
    for (long k = 0; k < count; k++) {
        float *y00, *y01, *y10, *y11;
        tile_pixels(s, (float *)outputGradient, first + k, &y00, &y01, &y10, &y11);
        float *out = dm + k * 16 * cout;
        long f0 = 0;
        for (; f0 + 8 <= cout; f0 += 8) {
            output_gradient_slice256(y00 + f0, y01 ? y01 + f0 : NULL, y10 ? y10 + f0 : NULL, y11 ? y11 + f0 : NULL, out + f0,
                                     cout, 1, tailMask);
        }
        if (tail) {
            output_gradient_slice256(y00 + f0, y01 ? y01 + f0 : NULL, y10 ? y10 + f0 : NULL, y11 ? y11 + f0 : NULL, out + f0,
                                     cout, 0, tailMask);
        }
    }
}

#endif
