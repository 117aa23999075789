// The 16 small GEMMs of DAELayers' Winograd F(2×2, 3×3) forward pass
// (Sources/DAELayers/WinogradConvolution.swift), as AVX-512 and AVX2 + FMA
// register-blocked kernels, chosen at run time like the direct loops.
//
// Layouts (row-major, as WinogradConvolution keeps them):
//   v  V[tiles][16][Cin]    the transformed input tiles
//   u  U[16][Cin][Cout]     the transformed kernel
//   m  M[tiles][16][Cout]   overwritten: M[t][e][f] = Σ_c V[t][e][c] · U[e][c][f]
// i.e. for each of the 16 entries e one GEMM [tiles × Cin] · [Cin × Cout]
// whose right-hand operand (Cin·Cout floats) stays in L1 while the tiles
// stream past: no packing. Every M[t][e][f] is one chain of fused
// multiply-adds over c = 0, 1, …, Cin − 1, starting from 0: its bits do not
// depend on the tile count or on which register block the tile falls in.
#ifndef DAE_WINOGRAD_KERNELS_H
#define DAE_WINOGRAD_KERNELS_H

#if defined(__x86_64__)

/// 1 when this CPU (and the operating system) runs AVX-512F instructions, else 0.
int dae_winograd_avx512_available(void);

/// The 16 GEMMs with 16-wide vectors (AVX-512F): 8 tiles × 48 filters per register block.
void dae_winograd_gemm_avx512(const float *v, const float *u, float *m, long tiles, long inputChannels,
                              long outputChannels);

/// The 16 GEMMs with 8-wide vectors (AVX2 + FMA): 4 tiles × 24 filters per register block.
void dae_winograd_gemm_avx2(const float *v, const float *u, float *m, long tiles, long inputChannels,
                            long outputChannels);

#endif
#endif
