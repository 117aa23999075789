#if arch(x86_64)
import CDirectKernels
#endif

/// What F(2×2, 3×3) (``WinogradConvolution``) and F(4×4, 3×3)
/// (``WinogradF4Convolution``) run the same way: the blocks of tiles of the
/// forward pass, and of the weight gradient in their own Winograd domain.
/// Each supplies its transforms (`E` = ``WinogradTiling/elements`` entries a tile);
/// the loops and the GEMMs between them are here.
///
/// **Forward pass.** Per block of `T` tiles: the input transform
/// `V[T, E, Cin]`, `E` GEMMs `M[T, e, :] = V[T, e, :] · U[e]`,
/// `[T × Cin] · [Cin × Cout]`, and the output transform of `M` into the
/// tiles' pixels. The blocks keep a block's `V` and `M` in the core's L2
/// cache between the transforms and the GEMMs.
///
/// **Weight gradient** (training): the adjoint of the forward pass with
/// respect to the transformed kernel `U`. Per block of `T` tiles, with `V`
/// the forward input transform of `x` (recomputed here, not kept from the
/// forward pass: `E·Cin` floats a tile, tens of MB a layer) and `dM = A dY Aᵀ`
/// the output-gradient transform of each tile's `m × m` pixels of `∂L/∂y`
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
protocol WinogradPass: WinogradTiling {
    /// `U[E, Cin, Cout]`: the transformed kernel.
    var transformedKernel: [Float] { get }
    /// Which implementation runs the GEMMs.
    var kernels: WinogradKernels { get }
    /// Which implementation runs the transforms.
    var transforms: WinogradTransforms { get }
    /// `V[k, e, :]` for tiles `tiles` of the batch (k = tile − tiles.lowerBound),
    /// into `v` (`tiles.count · E · Cin` floats); `edge`: `E·Cin` floats of scratch.
    func inputTransform(_ input: UnsafePointer<Float>, tiles: Range<Int>, into v: UnsafeMutablePointer<Float>,
                        edge: UnsafeMutablePointer<Float>, transforms: WinogradTransforms)
    /// `y = Aᵀ M A + bias` (then ReLU when `relu`) for tiles `tiles` of the
    /// batch from `m` (`tiles.count · E · Cout` floats), into the tiles'
    /// output pixels in `output` (the batch's NHWC output).
    func outputTransform(_ m: UnsafePointer<Float>, tiles: Range<Int>, into output: UnsafeMutablePointer<Float>,
                         bias: UnsafePointer<Float>?, relu: Bool, transforms: WinogradTransforms)
    /// `dM[k, e, :] = (A dY Aᵀ)[e]` for tiles `tiles` of the batch from
    /// `outputGradient` (`batch·outH·outW × Cout`), into `dm` (`tiles.count · E · Cout` floats).
    func outputGradientTransform(_ outputGradient: UnsafePointer<Float>, tiles: Range<Int>, into dm: UnsafeMutablePointer<Float>,
                                 transforms: WinogradTransforms)
    /// `dW[i, j, ·] += (Gᵀ dU G)[i, j]` for one vector of (input channel,
    /// filter) pairs: `du` and `dw` at the pairs' first, planes `count` apart
    /// (dU's `E`, dW's 9), loaded and stored with `load` and `store`.
    static func addKernelGradient<V: SIMD>(_ du: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>, count: Int,
                                           _ load: (UnsafePointer<Float>) -> V,
                                           _ store: (V, UnsafeMutablePointer<Float>) -> Void) where V.Scalar == Float
}

extension WinogradPass {
    /// The convolution of `input` (`batch` images) into `output`
    /// (`batch·outH·outW × Cout`, overwritten): `bias` (or zero) added in the
    /// output transform, then ReLU when `relu` (any other activation is the caller's).
    ///
    /// Per block of `T` tiles: `E` GEMMs of `[T × Cin] · [Cin × Cout]`
    /// (`V[T, e, Cin]` with row stride `E·Cin` times `U[e]`, into `M[T, e, Cout]`, row stride `E·Cout`).
    ///
    /// With ``WinogradTiling/threads`` above 1 the blocks are dealt out in
    /// turn (thread `t` takes blocks `t`, `t + threads`, …), each thread with
    /// its own block scratch: a tile's output depends only on its own input
    /// tile, so the bits are those of one thread.
    func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batch: Int,
                 workspace: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, relu: Bool,
                 kernels: WinogradKernels? = nil, transforms: WinogradTransforms? = nil) {
        let kernels = kernels ?? self.kernels, transforms = transforms ?? self.transforms
        let cin = geometry.inputChannels, cout = outputChannels
        let total = batch * tilesPerImage
        guard total > 0 else { return }
        let capacity = min(blockTiles, total)
        let blocks = (total + capacity - 1) / capacity, threads = min(self.threads, blocks)
        let scratch = blockWorkspaceCount(batch: batch)
        transformedKernel.withUnsafeBufferPointer { u in
            let u = u.baseAddress!
            concurrentForEach(threads) { thread in
                let v = workspace + thread * scratch, m = v + capacity * Self.elements * cin
                let edge = m + capacity * Self.elements * cout
                for block in stride(from: thread, to: blocks, by: threads) {
                    let tiles = (block * capacity)..<min((block + 1) * capacity, total)
                    inputTransform(input, tiles: tiles, into: v, edge: edge, transforms: transforms)
                    // For each e < E, M[T, e, :] = V[T, e, :] · U[e]: [T × Cin] · [Cin × Cout].
                    kernels.multiply(v, u, into: m, tiles: tiles.count, inputChannels: cin, outputChannels: cout, entries: Self.elements)
                    outputTransform(m, tiles: tiles, into: output, bias: bias, relu: relu, transforms: transforms)
                }
            }
        }
    }

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
        for start in stride(from: 0, to: total, by: capacity) {
            let tiles = start..<min(start + capacity, total)
            inputTransform(input, tiles: tiles, into: v, edge: edge, transforms: transforms)
            outputGradientTransform(outputGradient, tiles: tiles, into: dm, transforms: transforms)
            // For each e < E, dU[e] += V[T, e, :]ᵀ · dM[T, e, :]: [Cin × T] · [T × Cout].
            kernels.accumulateWeightGradient(v, dm, into: du, tiles: tiles.count, inputChannels: cin, outputChannels: cout,
                                             entries: Self.elements)
        }
        Self.addKernelGradient(du, into: weightGradient, count: cin * cout)
    }

    /// `dW[i, j, ·] += (Gᵀ dU G)[i, j]` for every (input channel, filter)
    /// pair (`count` of them, contiguous in each of dU's `E` and dW's 9
    /// planes), 8 pairs at a time.
    static func addKernelGradient(_ du: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>, count: Int) {
        var p = 0
        while p + VectorKernels.width <= count {
            addKernelGradient(du + p, into: dw + p, count: count, VectorKernels.load, VectorKernels.store)
            p += VectorKernels.width
        }
        while p < count {
            addKernelGradient(du + p, into: dw + p, count: count, { SIMD2<Float>($0.pointee, 0) }, { $1.pointee = $0[0] })
            p += 1
        }
    }

    /// Adds `z` to row `row` of dW (its three planes, `count` apart) at `dw`.
    @inline(__always)
    static func addKernelGradientRow<V: SIMD>(_ z: (V, V, V), row: Int, to dw: UnsafeMutablePointer<Float>, count: Int,
                                              _ load: (UnsafePointer<Float>) -> V,
                                              _ store: (V, UnsafeMutablePointer<Float>) -> Void) where V.Scalar == Float {
        let w = dw + 3 * row * count
        store(load(UnsafePointer(w)) + z.0, w)
        store(load(UnsafePointer(w + count)) + z.1, w + count)
        store(load(UnsafePointer(w + 2 * count)) + z.2, w + 2 * count)
    }
}

extension Sequential {
    /// This network with every Winograd forward pass (F(2×2) or F(4×4)) split
    /// across `threads` threads (``Conv2D/withWinogradThreads(_:)``): one
    /// image's pass on every core, with the same bits. The weights and
    /// transformed kernels are kept.
    public func withWinogradThreads(_ threads: Int) -> Sequential {
        mappingConvolutions(where: { $0.usesWinograd && $0.winogradThreads != max(1, threads) }) { conv, _ in
            conv.withWinogradThreads(threads)
        }
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
