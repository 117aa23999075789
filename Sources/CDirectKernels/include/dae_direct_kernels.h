// AVX2 + FMA versions of DAELayers' direct convolution loops
// (Sources/DAELayers/DirectConvolution.swift explains the loops; this file
// only states the memory layouts). Swift cannot compile one function for
// AVX2 without a compiler flag, and SwiftPM refuses such flags in a package
// that other packages depend on; C can, per function, with
// __attribute__((target("avx2,fma"))). DAELayers calls these only when
// dae_direct_avx2_available() says the CPU has both extensions, and keeps
// its portable Swift loops for every other machine.
//
// Layouts (row-major, channels last, as in DAELayers):
//   weights        W[kh][kw][C][F]: tap t = j·C + c of kernel row i at
//                  weights + (i·kw·C + t)·F
//   padded image   rows of paddedRow floats; the window of output pixel
//                  (oh, ow) starts at oh·rowStep + ow·windowStep
//   output / ∂L/∂y [outH][outW][F]
#ifndef DAE_DIRECT_KERNELS_H
#define DAE_DIRECT_KERNELS_H

#if defined(__x86_64__)

/// 1 when this CPU runs AVX2 and FMA instructions, else 0.
int dae_direct_avx2_available(void);

/// One image's forward pass: output[oh][ow][f] = bias[f] (0 when bias is
/// NULL) + Σ_i Σ_t window(oh, ow)[i·paddedRow + t] · W[i][t][f], t < tapsPerRow.
void dae_direct_forward_avx2(const float *padded, const float *weights, const float *bias, float *output,
                             long outputHeight, long outputWidth, long outputChannels,
                             long kernelHeight, long tapsPerRow, long windowStep, long rowStep, long paddedRow);

/// One image's weight gradient, accumulated:
/// W̄[i][t][f] += Σ_{oh,ow} window(oh, ow)[i·paddedRow + t] · ∂L/∂y[oh][ow][f].
void dae_direct_weight_gradient_avx2(const float *padded, const float *outputGradient, float *weightGradient,
                                     long outputHeight, long outputWidth, long outputChannels,
                                     long kernelHeight, long tapsPerRow, long windowStep, long rowStep, long paddedRow);

/// One image's input gradient of a stride-1 convolution, one input channel
/// `channel` of `inputChannels`: x̄[ih][iw][channel] = bias +
/// Σ_{i,j} Σ_f ∂L/∂y[ih + padTop − i][iw + padLeft − j][f] · W[i][j][channel][f]
/// over the taps that land inside the output.
void dae_direct_input_gradient_avx2(const float *outputGradient, const float *weights, float bias, float *inputGradient,
                                    long inputHeight, long inputWidth, long inputChannels, long channel,
                                    long outputHeight, long outputWidth, long outputChannels,
                                    long kernelHeight, long kernelWidth, long padTop, long padLeft);

#endif // __x86_64__
#endif // DAE_DIRECT_KERNELS_H
