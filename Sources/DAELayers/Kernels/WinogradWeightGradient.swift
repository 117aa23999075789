#if arch(x86_64)
import CDirectKernels
#endif

/// A Winograd pass whose weight gradient runs in its own Winograd domain
/// (training): F(2×2, 3×3) (``WinogradConvolution``, `WinogradGradients.swift`)
/// and F(4×4, 3×3) (``WinogradF4Convolution``, `WinogradF4Gradients.swift`).
///
/// The weight gradient is the adjoint of the forward pass with respect to
/// the transformed kernel `U`. Per block of `T` tiles, with `V` the forward
/// input transform of `x` (recomputed here, not kept from the forward pass:
/// `E·Cin` floats a tile, tens of MB a layer) and `dM = A dY Aᵀ` the
/// output-gradient transform of each tile's `m × m` pixels of `∂L/∂y`
/// (pixels past the output's edge taken as 0),
///
///     dU[e] += V[:, e, :]ᵀ · dM[:, e, :]     E GEMMs [Cin × T] · [T × Cout]
///
/// summed over the blocks in the workspace, then `dW[·, ·, c, f] += Gᵀ dU[·, c, f] G`
/// once, added to the parameter gradient (the ``Layer`` contract). With the
/// C kernels every entry of `dU` is one chain of FMAs over a block's tiles,
/// added to the sum of the blocks before: the bits depend on the batch (and
/// its split across workers) and the block size, never on the CPU's vector
/// width or on anything else, so a given batch split gives the same bits every run.
protocol WinogradWeightGradient: WinogradTiling {
    /// Which implementation runs the GEMMs.
    var kernels: WinogradKernels { get }
    /// Which implementation runs the transforms.
    var transforms: WinogradTransforms { get }
    /// `V[k, e, :]` for tiles `tiles` of the batch (k = tile − tiles.lowerBound),
    /// into `v` (`tiles.count · E · Cin` floats); `edge`: `E·Cin` floats of scratch.
    func inputTransform(_ input: UnsafePointer<Float>, tiles: Range<Int>, into v: UnsafeMutablePointer<Float>,
                        edge: UnsafeMutablePointer<Float>, transforms: WinogradTransforms)
    /// `dM[k, e, :] = (A dY Aᵀ)[e]` for tiles `tiles` of the batch from
    /// `outputGradient` (`batch·outH·outW × Cout`), into `dm` (`tiles.count · E · Cout` floats).
    func outputGradientTransform(_ outputGradient: UnsafePointer<Float>, tiles: Range<Int>, into dm: UnsafeMutablePointer<Float>,
                                 transforms: WinogradTransforms)
    /// `dW[i, j, ·] += (Gᵀ dU G)[i, j]` for every (input channel, filter)
    /// pair (`count` of them, contiguous in each of dU's `E` and dW's 9 planes).
    static func addKernelGradient(_ du: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>, count: Int)
}

extension WinogradWeightGradient {
    /// Floats of workspace the weight gradient needs for `batch` images:
    /// `dU`, one block's `V` and `dM`, and one edge tile.
    func weightGradientWorkspaceCount(batch: Int) -> Int {
        let cin = geometry.inputChannels, cout = outputChannels
        let tiles = min(blockTiles, max(1, batch * tilesPerImage))
        return Self.elements * cin * cout + tiles * Self.elements * (cin + cout) + Self.elements * cin
    }

    /// `weightGradient[3, 3, Cin, Cout] += ∂L/∂kernel` of `batch` images of
    /// `input` and `outputGradient` (`∂L/∂y`, after the activation's backward).
    ///
    /// Per block of `T` tiles: the input transform `V[T, E, Cin]` of `input`,
    /// the output-gradient transform `dM[T, E, Cout]` of `outputGradient`,
    /// and `E` GEMMs `dU[e] += V[:, e, :]ᵀ · dM[:, e, :]`, `[Cin × T] · [T × Cout]`
    /// (`V` with row stride `E·Cin` read transposed, `dM` with row stride
    /// `E·Cout`, `dU[e]` `Cin × Cout`); then `dW += Gᵀ dU G`.
    func accumulateWeightGradient(input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
                                  into weightGradient: UnsafeMutablePointer<Float>, batch: Int,
                                  workspace: UnsafeMutablePointer<Float>,
                                  kernels: WinogradKernels? = nil, transforms: WinogradTransforms? = nil) {
        let kernels = kernels ?? self.kernels, transforms = transforms ?? self.transforms
        let cin = geometry.inputChannels, cout = outputChannels
        let total = batch * tilesPerImage
        guard total > 0 else { return }
        let capacity = min(blockTiles, total)
        let du = workspace, v = du + Self.elements * cin * cout
        let dm = v + capacity * Self.elements * cin, edge = dm + capacity * Self.elements * cout
        du.update(repeating: 0, count: Self.elements * cin * cout)
        var start = 0
        while start < total {
            let count = min(capacity, total - start)
            inputTransform(input, tiles: start..<(start + count), into: v, edge: edge, transforms: transforms)
            outputGradientTransform(outputGradient, tiles: start..<(start + count), into: dm, transforms: transforms)
            // For each e < E, dU[e] += V[T, e, :]ᵀ · dM[T, e, :]: [Cin × T] · [T × Cout].
            kernels.accumulateWeightGradient(v, dm, into: du, tiles: count, inputChannels: cin, outputChannels: cout,
                                             entries: Self.elements)
            start += count
        }
        Self.addKernelGradient(du, into: weightGradient, count: cin * cout)
    }
}

extension WinogradKernels {
    /// The weight gradient's `entries` GEMMs of a block of `tiles` tiles: for
    /// each entry `e`, `dU[e] += V[T, e, :]ᵀ · dM[T, e, :]`, `[Cin × T] · [T × Cout]`,
    /// with `v` = `V[tiles, entries, Cin]` (row stride `entries·Cin`, read
    /// transposed), `dm` = `dM[tiles, entries, Cout]` (row stride
    /// `entries·Cout`) and `du` = `dU[entries, Cin, Cout]` (added to).
    @inline(__always)
    func accumulateWeightGradient(_ v: UnsafePointer<Float>, _ dm: UnsafePointer<Float>, into du: UnsafeMutablePointer<Float>,
                                  tiles: Int, inputChannels cin: Int, outputChannels cout: Int, entries: Int) {
        switch self {
        case .blas:
            for e in 0..<entries {
                BLAS.gemm(transposeA: true, m: cin, n: cout, k: tiles, a: v + e * cin, lda: entries * cin,
                          b: dm + e * cout, ldb: entries * cout, beta: 1, c: du + e * cin * cout, ldc: cout)
            }
        #if arch(x86_64)
        case .avx512: dae_winograd_weight_gemm_avx512(v, dm, du, tiles, cin, cout, entries)
        case .avx2: dae_winograd_weight_gemm_avx2(v, dm, du, tiles, cin, cout, entries)
        #else
        case .avx512, .avx2: preconditionFailure("\(self) Winograd kernels on a CPU that is not x86-64")
        #endif
        }
    }
}
