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
/// other order: its forward pass is the input-gradient pass. A convolution
/// with few input channels (``isDirect``) runs the same three passes as
/// direct loops instead (`DirectConvolution.swift`).
struct LoweredConvolution: Sendable, Equatable {
    /// The geometry of the (forward) convolution.
    let geometry: ConvolutionGeometry
    /// Output channels of the (forward) convolution: the columns of W.
    let outputChannels: Int

    /// True when the passes run as ``ConvolutionGeometry``'s direct loops
    /// (at most ``ConvolutionGeometry/directLoopChannelLimit`` input channels)
    /// instead of im2col + GEMM; see `DirectConvolution.swift`.
    var isDirect: Bool { geometry.usesDirectLoops }

    /// Floats of workspace needed for `batch` images: one patch matrix, or
    /// for the direct loops one padded image (plus the patch matrix of the
    /// lowered input gradient when the stride is not 1).
    func workspaceCount(batch: Int) -> Int {
        let patchMatrix = geometry.isPointwise ? 0 : batch * geometry.outputPixels * geometry.patchSize
        guard isDirect else { return patchMatrix }
        return max(geometry.paddedInputCount, geometry.usesDirectInputGradient ? 0 : patchMatrix)
    }

    /// The patch matrix of `input`: the input itself for a pointwise (1×1,
    /// stride 1) convolution, else `workspace`, filled by im2col unless
    /// `patchesInWorkspace` says an earlier call already did.
    private func patches(of input: UnsafePointer<Float>, batch: Int, workspace: UnsafeMutablePointer<Float>,
                         patchesInWorkspace: Bool) -> UnsafePointer<Float> {
        if geometry.isPointwise { return input }
        if !patchesInWorkspace { geometry.im2col(input, batch: batch, into: workspace) }
        return UnsafePointer(workspace)
    }

    /// The convolution of `input` (`batch` images): `output[M, Cout]` is
    /// overwritten with `bias` (or zero) plus `patches[M, P] × weights[P, Cout]`.
    ///
    /// Lowered, the patch matrix is left in `workspace` for
    /// ``accumulateWeightGradient(input:outputGradient:into:batch:workspace:patchesInWorkspace:)``;
    /// `patchesInWorkspace` skips the im2col when it is already there.
    func forward(_ input: UnsafePointer<Float>, weights: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                 batch: Int, workspace: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>? = nil,
                 patchesInWorkspace: Bool = false) {
        if isDirect {
            geometry.directForward(input, weights: weights, outputChannels: outputChannels, into: output, batch: batch,
                                   padded: workspace, bias: bias)
            return
        }
        let m = batch * geometry.outputPixels, p = geometry.patchSize
        if let bias { VectorKernels.broadcastRows(bias, into: output, rowCount: m, channels: outputChannels) }
        let pieces = patchesInWorkspace || geometry.isPointwise ? 1 : Self.pieces(rows: m, rowLength: p)
        if pieces == 1 {
            let patches = patches(of: input, batch: batch, workspace: workspace, patchesInWorkspace: patchesInWorkspace)
            BLAS.gemm(m: m, n: outputChannels, k: p,
                      a: patches, lda: p, b: weights, ldb: outputChannels,
                      beta: bias != nil ? 1 : 0, c: output, ldc: outputChannels)
            return
        }
        // A large patch matrix is written and multiplied piece by piece: each piece is
        // still in cache when the GEMM packs it, instead of coming back from memory.
        // The whole matrix is still left in the workspace, for the weight gradient.
        for piece in 0..<pieces {
            let rows = (piece * m / pieces)..<((piece + 1) * m / pieces)
            geometry.im2col(input, rows: rows, into: workspace + rows.lowerBound * p)
            // y[rows, Cout] (+)= patches[rows, P] × W[P, Cout]
            BLAS.gemm(m: rows.count, n: outputChannels, k: p,
                      a: workspace + rows.lowerBound * p, lda: p, b: weights, ldb: outputChannels,
                      beta: bias != nil ? 1 : 0, c: output + rows.lowerBound * outputChannels, ldc: outputChannels)
        }
    }

    /// The patch-matrix bytes above which the forward pass is cut into pieces (4 MiB).
    static let pieceThresholdBytes = 4 << 20
    /// The bytes of patches per piece (about 1 MiB: a core's L2), and the fewest rows in one.
    static let pieceBytes = 1 << 20, minimumPieceRows = 256

    /// How many near-equal pieces the forward pass of `rows` patch rows of
    /// `rowLength` floats is cut into: 1 for a matrix of at most
    /// ``pieceThresholdBytes`` (every small model runs as one GEMM, as before).
    static func pieces(rows: Int, rowLength: Int) -> Int {
        let bytes = rows * rowLength * MemoryLayout<Float>.size
        guard bytes > pieceThresholdBytes else { return 1 }
        let rowsPerPiece = max(minimumPieceRows, pieceBytes / max(rowLength * MemoryLayout<Float>.size, 1))
        return max(1, rows / rowsPerPiece)
    }

    /// `inputGradient = col2im(outputGradient[M, Cout] × weightsᵀ[Cout, P])`
    /// (`batch` input images), overwriting `inputGradient` (starting from
    /// `bias`, one value per input channel, when given). Direct loops when
    /// ``ConvolutionGeometry/usesDirectInputGradient``.
    func inputGradient(of outputGradient: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                       into inputGradient: UnsafeMutablePointer<Float>, batch: Int,
                       workspace: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>? = nil) {
        if geometry.usesDirectInputGradient {
            geometry.directInputGradient(of: outputGradient, weights: weights, outputChannels: outputChannels,
                                         into: inputGradient, batch: batch, bias: bias)
            return
        }
        let m = batch * geometry.outputPixels, p = geometry.patchSize
        guard !geometry.isPointwise else {
            // A pointwise convolution's patch matrix is the input: write straight into it.
            if let bias { VectorKernels.broadcastRows(bias, into: inputGradient, rowCount: m, channels: p) }
            BLAS.gemm(transposeB: true, m: m, n: p, k: outputChannels,
                      a: outputGradient, lda: outputChannels, b: weights, ldb: outputChannels,
                      beta: bias != nil ? 1 : 0, c: inputGradient, ldc: p)
            return
        }
        BLAS.gemm(transposeB: true, m: m, n: p, k: outputChannels,
                  a: outputGradient, lda: outputChannels, b: weights, ldb: outputChannels,
                  beta: 0, c: workspace, ldc: p)
        geometry.col2im(workspace, batch: batch, into: inputGradient, accumulate: false, bias: bias)
    }

    /// `weightGradient[P, Cout] += patchesᵀ[P, M] × outputGradient[M, Cout]`,
    /// with the patches of `input` (already in `workspace` when
    /// `patchesInWorkspace`), or the direct loops.
    func accumulateWeightGradient(input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
                                  into weightGradient: UnsafeMutablePointer<Float>, batch: Int,
                                  workspace: UnsafeMutablePointer<Float>, patchesInWorkspace: Bool) {
        if isDirect {
            geometry.directWeightGradient(input: input, outputGradient: outputGradient, outputChannels: outputChannels,
                                          into: weightGradient, batch: batch, padded: workspace)
            return
        }
        let patches = patches(of: input, batch: batch, workspace: workspace, patchesInWorkspace: patchesInWorkspace)
        let m = batch * geometry.outputPixels, p = geometry.patchSize
        BLAS.gemm(transposeA: true, m: p, n: outputChannels, k: m,
                  a: patches, lda: p, b: outputGradient, ldb: outputChannels,
                  beta: 1, c: weightGradient, ldc: outputChannels)
    }
}
