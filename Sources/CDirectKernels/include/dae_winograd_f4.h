// The input, output and output-gradient transforms of DAELayers' Winograd
// F(4×4, 3×3) passes (Sources/DAELayers/Kernels/WinogradF4Convolution.swift
// has the algorithm), with the interpolation points (0, 1, −1, ½, −2, ∞)
// (Barabasz et al. 2020; Docs/Benchmarks.md, "Winograd F(4×4, 3×3) for
// inference", has the error against float64 of these and Lavin's points):
//
//   Bᵀ = [[2, −3, −4,  3,  2, 0],      Aᵀ = [[1,  1,  1,   1,  1, 0],
//         [0, −2,  1,  5,  2, 0],            [0,  1, −1,   ½, −2, 0],
//         [0, −2,  5, −1, −2, 0],            [0,  1,  1,   ¼,  4, 0],
//         [0,  2,  1, −2, −1, 0],            [0,  1, −1,   ⅛, −8, 1]]
//         [0,  1, −2, −1,  2, 0],
//         [0,  2, −3, −4,  3, 2]]
//
// Layouts: V[tiles][36][Cin] and M[tiles][36][Cout], entry e = 6·a + b; the
// 36 GEMMs between them are dae_winograd_gemm_avx512/avx2 with 36 entries
// (dae_winograd_kernels.h). The shape is dae_winograd_shape with m = 4.
//
// Bits: the three implementations of each transform (AVX-512F, AVX2 + FMA,
// portable C) run the same single additions, subtractions, multiplications
// and fused multiply-adds in the same order on every channel (one body,
// winograd_f4_arithmetic.h, compiled three times, with contraction off), so
// they give the same bits, whatever the block or the channel's lane.
#ifndef DAE_WINOGRAD_F4_H
#define DAE_WINOGRAD_F4_H

#include "dae_winograd_kernels.h"

/// The input transform of tiles `first … first + count − 1`:
/// V[k][e][c] = (Bᵀ d B)[e] of tile first + k's 6×6 window, channel c;
/// `v` holds count·36·Cin floats, `edge` 36·Cin floats of scratch (a window
/// that reaches past the image is copied there, zero-padded). Portable C, one channel at a time.
void dae_winograd_f4_input_transform_portable(const dae_winograd_shape *shape, const float *input, long first,
                                              long count, float *v, float *edge);

/// The output transform of tiles `first … first + count − 1`: from
/// M[k][e][f] (count·36·Cout floats), y = Aᵀ M A + bias (bias NULL: + 0),
/// then max(0, y) when `relu`, written to the tile's 4×4 output pixels that
/// lie inside the output. Portable C, one filter at a time.
void dae_winograd_f4_output_transform_portable(const dae_winograd_shape *shape, const float *m, long first, long count,
                                               float *output, const float *bias, int relu);

/// The output-gradient transform of tiles `first … first + count − 1`
/// (training's weight gradient; the adjoint of the output transform): from
/// the 4×4 pixels dY of each output tile in `outputGradient` (the batch's
/// NHWC ∂L/∂y; pixels past the output's bottom or right edge taken as 0),
/// dm[k][e][f] = (A dY Aᵀ)[e], count·36·Cout floats. Portable C, one filter at a time.
void dae_winograd_f4_output_gradient_transform_portable(const dae_winograd_shape *shape, const float *outputGradient,
                                                        long first, long count, float *dm);

#if defined(__x86_64__)
/// As dae_winograd_f4_input_transform_portable with AVX-512F, 16 channels at a time: the same bits.
void dae_winograd_f4_input_transform_avx512(const dae_winograd_shape *shape, const float *input, long first,
                                            long count, float *v, float *edge);
/// As dae_winograd_f4_input_transform_portable with AVX2 + FMA, 8 channels at a time: the same bits.
void dae_winograd_f4_input_transform_avx2(const dae_winograd_shape *shape, const float *input, long first,
                                          long count, float *v, float *edge);
/// As dae_winograd_f4_output_transform_portable with AVX-512F, 16 filters at a time: the same bits.
void dae_winograd_f4_output_transform_avx512(const dae_winograd_shape *shape, const float *m, long first, long count,
                                             float *output, const float *bias, int relu);
/// As dae_winograd_f4_output_transform_portable with AVX2 + FMA, 8 filters at a time: the same bits.
void dae_winograd_f4_output_transform_avx2(const dae_winograd_shape *shape, const float *m, long first, long count,
                                           float *output, const float *bias, int relu);
/// As dae_winograd_f4_output_gradient_transform_portable with AVX-512F, 16 filters at a time: the same bits.
void dae_winograd_f4_output_gradient_transform_avx512(const dae_winograd_shape *shape, const float *outputGradient,
                                                      long first, long count, float *dm);
/// As dae_winograd_f4_output_gradient_transform_portable with AVX2 + FMA, 8 filters at a time: the same bits.
void dae_winograd_f4_output_gradient_transform_avx2(const dae_winograd_shape *shape, const float *outputGradient,
                                                    long first, long count, float *dm);
#endif

#endif
