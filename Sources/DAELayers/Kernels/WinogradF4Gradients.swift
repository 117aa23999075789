import CDirectKernels

/// The weight gradient of a stride-1 3×3 convolution in Winograd F(4×4, 3×3)'s
/// own domain, for training (``Conv2D/withWinogradF4(_:gradients:f4WeightGradient:)``):
/// the adjoint of ``WinogradF4Convolution``'s forward pass with respect to
/// its 36 transformed entries (``WinogradPass`` has the loop).
/// Per block of tiles, `V` is the forward pass's input transform, `dM = A dY Aᵀ`
/// the transform of each tile's 4×4 pixels of `∂L/∂y` (`A` = `Aᵀ`'s
/// transpose, `include/dae_winograd_f4.h`), 36 GEMMs `dU[e] += V[:, e, :]ᵀ · dM[:, e, :]`,
/// then `dW += Gᵀ dU G` once. 2.25 multiplications a pixel per (input
/// channel, filter) pair in the GEMMs, where F(2×2)'s weight gradient needs 4.
///
/// Error against float64 and timings: Docs/Benchmarks.md ("Winograd
/// F(4×4, 3×3) in training").
extension WinogradF4Convolution {
    /// `V[k, e, :]` for tiles `tiles` of the batch (k = tile − tiles.lowerBound),
    /// into `v` (`tiles.count · 36 · Cin` floats); `edge`: 36·Cin floats of scratch.
    func inputTransform(_ input: UnsafePointer<Float>, tiles: Range<Int>, into v: UnsafeMutablePointer<Float>,
                        edge: UnsafeMutablePointer<Float>, transforms: WinogradTransforms) {
        var shape = shape
        switch transforms {
        case .swift: dae_winograd_f4_input_transform_portable(&shape, input, tiles.lowerBound, tiles.count, v, edge)
        #if arch(x86_64)
        case .avx512: dae_winograd_f4_input_transform_avx512(&shape, input, tiles.lowerBound, tiles.count, v, edge)
        case .avx2: dae_winograd_f4_input_transform_avx2(&shape, input, tiles.lowerBound, tiles.count, v, edge)
        #else
        case .avx512, .avx2: preconditionFailure("\(transforms) Winograd transforms on a CPU that is not x86-64")
        #endif
        }
    }

    /// `dM[k, e, :] = (A dY Aᵀ)[e]` for tiles `tiles` of the batch from
    /// `outputGradient` (`batch·outH·outW × Cout`), into `dm` (`tiles.count · 36 · Cout` floats).
    func outputGradientTransform(_ outputGradient: UnsafePointer<Float>, tiles: Range<Int>, into dm: UnsafeMutablePointer<Float>,
                                 transforms: WinogradTransforms) {
        var shape = shape
        switch transforms {
        case .swift: dae_winograd_f4_output_gradient_transform_portable(&shape, outputGradient, tiles.lowerBound, tiles.count, dm)
        #if arch(x86_64)
        case .avx512: dae_winograd_f4_output_gradient_transform_avx512(&shape, outputGradient, tiles.lowerBound, tiles.count, dm)
        case .avx2: dae_winograd_f4_output_gradient_transform_avx2(&shape, outputGradient, tiles.lowerBound, tiles.count, dm)
        #else
        case .avx512, .avx2: preconditionFailure("\(transforms) Winograd transforms on a CPU that is not x86-64")
        #endif
        }
    }

    /// `Gᵀ`'s map of six values to three (``gMatrix``'s columns, each entry
    /// rounded to Float): `x₀/2 + s + 16x₃/15 + x₄/30`, `d + 8x₃/15 − x₄/15`
    /// and `s + 4x₃/15 + 2x₄/15 + x₅/2`, with `s = (x₁ + x₂)/6` and `d = (x₁ − x₂)/6`.
    @inline(__always)
    private static func reduce<V: SIMD>(_ x0: V, _ x1: V, _ x2: V, _ x3: V, _ x4: V, _ x5: V) -> (V, V, V) where V.Scalar == Float {
        let sixth = Float(1.0 / 6), s = (x1 + x2) * sixth, d = (x1 - x2) * sixth
        return (x0 * 0.5 + s + x3 * Float(16.0 / 15) + x4 * Float(1.0 / 30),
                d + x3 * Float(8.0 / 15) - x4 * Float(1.0 / 15),
                s + x3 * Float(4.0 / 15) + x4 * Float(2.0 / 15) + x5 * 0.5)
    }

    /// `dW[i, j, ·] += (Gᵀ dU G)[i, j]` for one vector of (input channel,
    /// filter) pairs (``WinogradPass`` runs them all), with `G` = ``gMatrix``
    /// (6 × 3): `Gᵀ` applied to dU's six columns, then to the rows of the result.
    @inline(__always)
    static func addKernelGradient<V: SIMD>(_ du: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>, count: Int,
                                           _ load: (UnsafePointer<Float>) -> V,
                                           _ store: (V, UnsafeMutablePointer<Float>) -> Void) where V.Scalar == Float {
        @inline(__always) func x(_ a: Int, _ b: Int) -> V { load(du + (6 * a + b) * count) }
        // Columns b: (Gᵀ X)[·, b].
        @inline(__always) func column(_ b: Int) -> (V, V, V) { reduce(x(0, b), x(1, b), x(2, b), x(3, b), x(4, b), x(5, b)) }
        let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3), c4 = column(4), c5 = column(5)
        // Rows i: ((Gᵀ X) G)[i, ·], added to dW[i, ·].
        addKernelGradientRow(reduce(c0.0, c1.0, c2.0, c3.0, c4.0, c5.0), row: 0, to: dw, count: count, load, store)
        addKernelGradientRow(reduce(c0.1, c1.1, c2.1, c3.1, c4.1, c5.1), row: 1, to: dw, count: count, load, store)
        addKernelGradientRow(reduce(c0.2, c1.2, c2.2, c3.2, c4.2, c5.2), row: 2, to: dw, count: count, load, store)
    }
}
