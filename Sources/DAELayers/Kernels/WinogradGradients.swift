#if arch(x86_64)
import CDirectKernels
#endif

/// The two gradients of a stride-1 3×3 convolution in Winograd F(2×2, 3×3),
/// for training (``Conv2D/withWinograd(_:)``).
///
/// **Input gradient** (`same` padding only): `∂L/∂x` is the `same`
/// convolution of `∂L/∂y` with the kernel rotated 180° and its input and
/// output channels swapped, so it is a ``WinogradConvolution`` of its own,
/// over `∂L/∂y` (``inputGradientConvolution()``): the forward pass's
/// transforms and GEMMs, `[T × Cout] · [Cout × Cin]` per entry. Its
/// transformed kernel needs no transform of its own: with `J` the 3×3
/// reversal, `G·J = P·G` where `P` swaps rows 0 and 3 of `G`, so
/// `G rot(g) Gᵀ = P (G g Gᵀ) Pᵀ` and `U'[e][f][c] = U[π(e)][c][f]`, `π`
/// swapping indices 0 and 3 of both `a` and `b` (`e = 4·a + b`). A `valid`
/// convolution's input gradient (a `full` convolution, padding 2) keeps
/// im2col + GEMM.
///
/// **Weight gradient** (any padding): the adjoint of the forward pass with
/// respect to `U`, in 16 GEMMs `dU[e] += V[:, e, :]ᵀ · dM[:, e, :]` per
/// block of tiles, `dM = A dY Aᵀ` the transform of each tile's 2×2 pixels
/// of `∂L/∂y`, then `dW += Gᵀ dU G` (the loop is ``WinogradPass``'s, shared
/// with F(4×4)).
///
/// Error against float64 and timings: Docs/Benchmarks.md ("Winograd in training").
extension WinogradConvolution {
    /// `π`: entry `e = 4·a + b` of the rotated kernel's transform is entry `π(e)` of this one's.
    private static let rotated: [Int] = {
        let p = [3, 1, 2, 0]
        return (0..<16).map { e in p[e / 4] * 4 + p[e % 4] }
    }()

    /// The geometry of the input gradient's convolution of a `same` layer:
    /// over `∂L/∂y` (`outH × outW × Cout`) into `∂L/∂x`, `same` padding; nil
    /// for any other padding (a `valid` layer's input gradient needs padding 2).
    static func inputGradientGeometry(of g: ConvolutionGeometry, outputChannels: Int) -> ConvolutionGeometry? {
        guard g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1, g.padTop == 1 && g.padLeft == 1,
              g.outputHeight == g.inputHeight && g.outputWidth == g.inputWidth else { return nil }
        return try? ConvolutionGeometry(inputHeight: g.outputHeight, inputWidth: g.outputWidth, inputChannels: outputChannels,
                                        kernelHeight: 3, kernelWidth: 3, stride: 1, padding: .same)
    }

    /// The Winograd convolution that computes this `same` convolution's input
    /// gradient (nil for other padding): over `∂L/∂y`, with `U'[e][f][c] =
    /// U[π(e)][c][f]`, the same blocks, kernels and transforms.
    func inputGradientConvolution() -> WinogradConvolution? {
        guard let g = Self.inputGradientGeometry(of: geometry, outputChannels: outputChannels) else { return nil }
        let cin = geometry.inputChannels, cout = outputChannels
        let kernel = [Float](unsafeUninitializedCapacity: Self.elements * cin * cout) { rotated, initialized in
            transformedKernel.withUnsafeBufferPointer { u in
                for e in 0..<Self.elements {
                    let source = u.baseAddress! + Self.rotated[e] * cin * cout, destination = rotated.baseAddress! + e * cout * cin
                    for c in 0..<cin {
                        for f in 0..<cout { destination[f * cin + c] = source[c * cout + f] }
                    }
                }
            }
            initialized = Self.elements * cin * cout
        }
        return WinogradConvolution(geometry: g, transformedKernel: kernel, outputChannels: cin, blockTiles: blockTiles,
                                   kernels: kernels, transforms: transforms)
    }

    /// `dW[i, j, ·] += (Gᵀ dU G)[i, j]` for one vector of (input channel,
    /// filter) pairs (``WinogradPass`` runs them all), with
    /// `G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]`: `Gᵀ` maps four
    /// values `x` to `[x₀ + ½(x₁ + x₂), ½(x₁ − x₂), ½(x₁ + x₂) + x₃]`, applied to
    /// dU's columns, then to the rows of the result.
    /// `Gᵀ`'s map of four values to three.
    @inline(__always)
    private static func reduce<V: SIMD>(_ x0: V, _ x1: V, _ x2: V, _ x3: V) -> (V, V, V) where V.Scalar == Float {
        let sum = (x1 + x2) * 0.5
        return (x0 + sum, (x1 - x2) * 0.5, sum + x3)
    }

    @inline(__always)
    static func addKernelGradient<V: SIMD>(_ du: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>, count: Int,
                                           _ load: (UnsafePointer<Float>) -> V,
                                           _ store: (V, UnsafeMutablePointer<Float>) -> Void) where V.Scalar == Float {
        @inline(__always) func x(_ a: Int, _ b: Int) -> V { load(du + (4 * a + b) * count) }
        // Columns b: (Gᵀ X)[·, b].
        let c0 = reduce(x(0, 0), x(1, 0), x(2, 0), x(3, 0)), c1 = reduce(x(0, 1), x(1, 1), x(2, 1), x(3, 1))
        let c2 = reduce(x(0, 2), x(1, 2), x(2, 2), x(3, 2)), c3 = reduce(x(0, 3), x(1, 3), x(2, 3), x(3, 3))
        // Rows i: ((Gᵀ X) G)[i, ·], added to dW[i, ·].
        addKernelGradientRow(reduce(c0.0, c1.0, c2.0, c3.0), row: 0, to: dw, count: count, load, store)
        addKernelGradientRow(reduce(c0.1, c1.1, c2.1, c3.1), row: 1, to: dw, count: count, load, store)
        addKernelGradientRow(reduce(c0.2, c1.2, c2.2, c3.2), row: 2, to: dw, count: count, load, store)
    }

    /// `dM[k, e, :]` for tiles `tiles` of the batch (k = tile − tiles.lowerBound)
    /// from `outputGradient` (`batch·outH·outW × Cout`), into `dm`
    /// (`tiles.count · 16 · Cout` floats).
    func outputGradientTransform(_ outputGradient: UnsafePointer<Float>, tiles: Range<Int>, into dm: UnsafeMutablePointer<Float>,
                                 transforms: WinogradTransforms) {
        switch transforms {
        case .swift:
            let stride = Self.elements * outputChannels
            for k in 0..<tiles.count { outputGradientTransform(outputGradient, tile: tiles.lowerBound + k, into: dm + k * stride) }
        #if arch(x86_64)
        case .avx512:
            var shape = shape
            dae_winograd_output_gradient_transform_avx512(&shape, outputGradient, tiles.lowerBound, tiles.count, dm)
        case .avx2:
            var shape = shape
            dae_winograd_output_gradient_transform_avx2(&shape, outputGradient, tiles.lowerBound, tiles.count, dm)
        #else
        case .avx512, .avx2: preconditionFailure("\(transforms) Winograd transforms on a CPU that is not x86-64")
        #endif
        }
    }

    /// `dM = A dY Aᵀ` for one tile, with `A = [[1, 0], [1, 1], [1, −1], [0, −1]]`,
    /// 8 filters at a time: rows `t = A dY`, then columns `dM = t Aᵀ`. The
    /// same operations as the C transforms (negation as `0 − x`), so the same bits.
    @inline(__always)
    private func outputGradientTransform(_ dy: UnsafePointer<Float>, tile index: Int, into dm: UnsafeMutablePointer<Float>) {
        typealias V = VectorKernels.Vector
        let cout = outputChannels
        let pixels = outputPixels(ofTile: index)
        let (hasRight, hasBottom) = (pixels.hasRight, pixels.hasBottom)
        let y00 = dy + pixels.offset
        let y01 = y00 + pixels.right, y10 = y00 + pixels.below, y11 = y00 + pixels.belowRight
        var f0 = 0
        while f0 < cout {
            let lanes = min(VectorKernels.width, cout - f0)
            let p00 = Self.load(y00 + f0, lanes: lanes)
            let p01 = hasRight ? Self.load(y01 + f0, lanes: lanes) : .zero
            let p10 = hasBottom ? Self.load(y10 + f0, lanes: lanes) : .zero
            let p11 = hasRight && hasBottom ? Self.load(y11 + f0, lanes: lanes) : .zero
            // Row a of t = A dY, then its four columns t Aᵀ: entries 4·a … 4·a + 3.
            @inline(__always) func columns(_ a: Int, _ t0: V, _ t1: V) {
                Self.store(t0, dm + (4 * a) * cout + f0, lanes: lanes)
                Self.store(t0 + t1, dm + (4 * a + 1) * cout + f0, lanes: lanes)
                Self.store(t0 - t1, dm + (4 * a + 2) * cout + f0, lanes: lanes)
                Self.store(V.zero - t1, dm + (4 * a + 3) * cout + f0, lanes: lanes)
            }
            columns(0, p00, p01)
            columns(1, p00 + p10, p01 + p11)
            columns(2, p00 - p10, p01 - p11)
            columns(3, V.zero - p10, V.zero - p11)
            f0 += VectorKernels.width
        }
    }
}
