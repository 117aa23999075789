// The 16 small GEMMs of DAELayers' Winograd F(2×2, 3×3) forward pass
// (Sources/DAELayers/Kernels/WinogradConvolution.swift), as AVX-512 and
// AVX2 + FMA register-blocked kernels (winograd_kernels.c), and its input
// and output transforms (winograd_transforms.c), chosen at run time like
// the direct loops.
//
// Layouts (row-major, as WinogradConvolution keeps them; E = 16 transformed
// entries for F(2×2, 3×3), 36 for the inference-only F(4×4, 3×3) of
// WinogradF4Convolution.swift, whose transforms are in dae_winograd_f4.h):
//   v  V[tiles][E][Cin]    the transformed input tiles
//   u  U[E][Cin][Cout]     the transformed kernel
//   m  M[tiles][E][Cout]   overwritten: M[t][e][f] = Σ_c V[t][e][c] · U[e][c][f]
// i.e. for each of the E entries e one GEMM [tiles × Cin] · [Cin × Cout]
// whose right-hand operand (Cin·Cout floats) stays in L1 while the tiles
// stream past: no packing. Every M[t][e][f] is one chain of fused
// multiply-adds over c = 0, 1, …, Cin − 1, starting from 0: its bits do not
// depend on the tile count or on which register block the tile falls in.
#ifndef DAE_WINOGRAD_KERNELS_H
#define DAE_WINOGRAD_KERNELS_H

/// The geometry the transforms need (WinogradConvolution's, in C): the
/// batch's images are `inputHeight × inputWidth × inputChannels` and
/// `outputHeight × outputWidth × outputChannels`, NHWC; for F(m×m, 3×3)
/// (m = 2 here, 4 in dae_winograd_f4.h) output tile (r, q) of an image reads
/// the (m+2)×(m+2) input window at row `m·r − padTop`, column `m·q − padLeft`
/// (zero outside the image) and writes output pixels `m·r…m·r+m−1`,
/// `m·q…m·q+m−1` (those inside the output); tiles are numbered image by
/// image, row by row: index = (image · tileRows + r) · tileColumns + q.
typedef struct {
    long inputHeight, inputWidth, inputChannels;
    long outputHeight, outputWidth, outputChannels;
    long padTop, padLeft;
    long tileRows, tileColumns;
} dae_winograd_shape;

#if defined(__x86_64__)

/// 1 when this CPU (and the operating system) runs AVX-512F instructions, else 0.
int dae_winograd_avx512_available(void);

/// The `entries` (16 or 36) GEMMs with 16-wide vectors (AVX-512F): 8 tiles × 48 filters per register block.
void dae_winograd_gemm_avx512(const float *v, const float *u, float *m, long tiles, long inputChannels,
                              long outputChannels, long entries);

/// The `entries` (16 or 36) GEMMs with 8-wide vectors (AVX2 + FMA): 4 tiles × 24 filters per register block.
void dae_winograd_gemm_avx2(const float *v, const float *u, float *m, long tiles, long inputChannels,
                            long outputChannels, long entries);

/// The weight gradient's `entries` (16 or 36) GEMMs in the Winograd domain (training):
///   du[e][c][f] += Σ_{t < tiles} v[t][e][c] · dm[t][e][f]
/// with v laid out as above (V[tiles][E][Cin], the forward input transform),
/// dm as M (dM[tiles][E][Cout], the output-gradient transform) and du as U
/// (dU[E][Cin][Cout]): for each e one GEMM [Cin × tiles] · [tiles × Cout],
/// V read transposed. Every entry is one chain of fused multiply-adds over
/// t = 0, 1, …, tiles − 1 starting from 0, then added once to du: its bits
/// do not depend on the register block it falls in (AVX2 and AVX-512 agree).
/// AVX-512F: 8 input channels × 48 filters per register block.
void dae_winograd_weight_gemm_avx512(const float *v, const float *dm, float *du, long tiles, long inputChannels,
                                     long outputChannels, long entries);
/// The same with AVX2 + FMA, 4 input channels × 24 filters per register block: the same bits.
void dae_winograd_weight_gemm_avx2(const float *v, const float *dm, float *du, long tiles, long inputChannels,
                                   long outputChannels, long entries);


/// The input transform of tiles `first … first + count − 1`:
/// V[k][e][c] = (Bᵀ d B)[e] of tile first + k's window, channel c, with
/// Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]];
/// `v` holds count·16·Cin floats, `edge` 16·Cin floats of scratch (a window
/// that reaches past the image is copied there, zero-padded). AVX-512F: 16 channels at a time.
void dae_winograd_input_transform_avx512(const dae_winograd_shape *shape, const float *input, long first, long count,
                                         float *v, float *edge);
/// The same with AVX2, 8 channels at a time: the same bits.
void dae_winograd_input_transform_avx2(const dae_winograd_shape *shape, const float *input, long first, long count,
                                       float *v, float *edge);

/// The output transform of tiles `first … first + count − 1`: from
/// M[k][e][f] (count·16·Cout floats), y = Aᵀ M A + bias (bias NULL: + 0)
/// with Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]], then max(0, y) when `relu`,
/// written to the tile's output pixels in `output` (the batch's NHWC
/// output). AVX-512F: 16 filters at a time.
void dae_winograd_output_transform_avx512(const dae_winograd_shape *shape, const float *m, long first, long count,
                                          float *output, const float *bias, int relu);
/// The same with AVX2, 8 filters at a time: the same bits.
void dae_winograd_output_transform_avx2(const dae_winograd_shape *shape, const float *m, long first, long count,
                                        float *output, const float *bias, int relu);

/// The output-gradient transform of tiles `first … first + count − 1`
/// (training; the adjoint of the output transform): from the 2×2 pixels
/// dY of each output tile in `outputGradient` (the batch's NHWC ∂L/∂y;
/// pixels past the output's bottom or right edge taken as 0),
/// dm[k][e][f] = (A dY Aᵀ)[e] with A = [[1, 0], [1, 1], [1, −1], [0, −1]]
/// (Aᵀ as above), count·16·Cout floats. AVX-512F: 16 filters at a time.
void dae_winograd_output_gradient_transform_avx512(const dae_winograd_shape *shape, const float *outputGradient, long first,
                                                   long count, float *dm);
/// The same with AVX2, 8 filters at a time: the same bits.
void dae_winograd_output_gradient_transform_avx2(const dae_winograd_shape *shape, const float *outputGradient, long first,
                                                 long count, float *dm);

#endif
#endif
