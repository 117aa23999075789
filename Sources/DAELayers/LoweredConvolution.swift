/// The three matrix products of a convolution lowered by `im2col`, written
/// once and shared by ``Conv2D`` and ``Conv2DTranspose`` (as Caffe's
/// `forward_cpu_gemm`, `backward_cpu_gemm` and `weight_cpu_gemm`).
///
/// With `M = batch·outH·outW` output pixels, `P = kh·kw·Cin` patch entries
/// and `Cout` output channels, a convolution is
///
///     forward:          y[M, Cout]  = patches[M, P] × W[P, Cout]
///     input gradient:   dx          = col2im(dy[M, Cout] × Wᵀ[Cout, P])
///     weight gradient:  dW[P, Cout] += patchesᵀ[P, M] × dy[M, Cout]
///
/// The whole batch is one GEMM: its rows run over every output pixel of
/// every image. A transposed convolution runs the same products in the
/// other order: its forward pass is the input-gradient pass.
struct LoweredConvolution: Sendable, Equatable {
    /// The geometry of the (forward) convolution.
    let geometry: ConvolutionGeometry
    /// Output channels of the (forward) convolution: the columns of W.
    let outputChannels: Int

    /// Floats of workspace needed for `batch` images: one patch matrix.
    func workspaceCount(batch: Int) -> Int {
        geometry.isPointwise ? 0 : batch * geometry.outputPixels * geometry.patchSize
    }

    /// The patch matrix of `input`: `workspace` filled by im2col, or the
    /// input itself for a pointwise (1×1, stride 1) convolution.
    func patches(of input: UnsafePointer<Float>, batch: Int, workspace: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        if geometry.isPointwise { return input }
        geometry.im2col(input, batch: batch, into: workspace)
        return UnsafePointer(workspace)
    }

    /// `output[M, Cout] = patches[M, P] × weights[P, Cout]`, or `+=` when `accumulate`.
    func multiply(patches: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                  into output: UnsafeMutablePointer<Float>, batch: Int, accumulate: Bool = false) {
        let m = batch * geometry.outputPixels, p = geometry.patchSize
        BLAS.gemm(m: m, n: outputChannels, k: p,
                  a: patches, lda: p, b: weights, ldb: outputChannels,
                  beta: accumulate ? 1 : 0, c: output, ldc: outputChannels)
    }

    /// `inputGradient = col2im(outputGradient[M, Cout] × weightsᵀ[Cout, P])`
    /// (`batch` input images), overwriting `inputGradient` (starting from
    /// `bias`, one value per input channel, when given) or, when
    /// `accumulate`, adding to it.
    func inputGradient(of outputGradient: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                       into inputGradient: UnsafeMutablePointer<Float>, batch: Int,
                       workspace: UnsafeMutablePointer<Float>, accumulate: Bool = false,
                       bias: UnsafePointer<Float>? = nil) {
        let m = batch * geometry.outputPixels, p = geometry.patchSize
        guard !geometry.isPointwise else {
            // A pointwise convolution's patch matrix is the input: write straight into it.
            if !accumulate, let bias {
                VectorKernels.broadcastRows(bias, into: inputGradient, rowCount: m, channels: p)
            }
            BLAS.gemm(transposeB: true, m: m, n: p, k: outputChannels,
                      a: outputGradient, lda: outputChannels, b: weights, ldb: outputChannels,
                      beta: accumulate || bias != nil ? 1 : 0, c: inputGradient, ldc: p)
            return
        }
        BLAS.gemm(transposeB: true, m: m, n: p, k: outputChannels,
                  a: outputGradient, lda: outputChannels, b: weights, ldb: outputChannels,
                  beta: 0, c: workspace, ldc: p)
        geometry.col2im(workspace, batch: batch, into: inputGradient, accumulate: accumulate, bias: bias)
    }

    /// `weightGradient[P, Cout] += patchesᵀ[P, M] × outputGradient[M, Cout]`.
    func accumulateWeightGradient(patches: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
                                  into weightGradient: UnsafeMutablePointer<Float>, batch: Int) {
        let m = batch * geometry.outputPixels, p = geometry.patchSize
        BLAS.gemm(transposeA: true, m: p, n: outputChannels, k: m,
                  a: patches, lda: p, b: outputGradient, ldb: outputChannels,
                  beta: 1, c: weightGradient, ldc: outputChannels)
    }
}
