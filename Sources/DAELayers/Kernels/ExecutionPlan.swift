/// One matrix product a layer's pass issues through ``BLAS/gemm``:
/// `C[m, n] (+)= op(A)[m, k] × op(B)[k, n]`.
///
/// Layers report their products with ``Layer/gemmPlan(batch:needsInputGradient:)``,
/// computed by the same predicates that choose between GEMMs and direct
/// loops in the passes, so profilers and benchmarks need not re-derive it.
public struct GemmPlan: Sendable, Equatable, Codable {
    /// `forward` or `backward`.
    public var pass: String
    /// What the product computes, e.g. `y = cols·K`.
    public var role: String
    public var transposeA: Bool
    public var transposeB: Bool
    public var m: Int
    public var n: Int
    public var k: Int
    /// 1 when the product accumulates into C (weight gradients), else 0.
    public var beta: Float
}

/// The im2col / col2im work of a convolution's passes (nil where a pass has none).
public struct LoweringPlan: Sendable, Equatable {
    /// A lowering step.
    public enum Step: String, Sendable {
        /// Image → patch matrix.
        case im2col
        /// Patch matrix → image (summing overlaps).
        case col2im
    }

    /// The geometry whose ``ConvolutionGeometry/im2col(_:batch:into:)`` and
    /// ``ConvolutionGeometry/col2im(_:batch:into:accumulate:bias:)`` run.
    public var geometry: ConvolutionGeometry
    /// The forward pass's step.
    public var forward: Step?
    /// The backward pass's step.
    public var backward: Step?
}

extension LoweredConvolution {
    /// Whether the forward convolution's im2col runs (lowered and not pointwise).
    var runsIm2col: Bool { !isDirect && !geometry.isPointwise }
    /// Whether the input gradient's col2im runs.
    var runsCol2im: Bool { !geometry.usesDirectInputGradient && !geometry.isPointwise }

    /// `y = cols·K`, or nil for the direct loops.
    func forwardGemm(batch: Int, pass: String, role: String) -> GemmPlan? {
        guard !isDirect else { return nil }
        return GemmPlan(pass: pass, role: role, transposeA: false, transposeB: false,
                        m: batch * geometry.outputPixels, n: outputChannels, k: geometry.patchSize, beta: 0)
    }

    /// `dcols = dy·Kᵀ`, or nil for the direct loops.
    func inputGradientGemm(batch: Int, pass: String, role: String) -> GemmPlan? {
        guard !geometry.usesDirectInputGradient else { return nil }
        return GemmPlan(pass: pass, role: role, transposeA: false, transposeB: true,
                        m: batch * geometry.outputPixels, n: geometry.patchSize, k: outputChannels, beta: 0)
    }

    /// `dK += colsᵀ·dy`, or nil for the direct loops.
    func weightGradientGemm(batch: Int, role: String) -> GemmPlan? {
        guard !isDirect else { return nil }
        return GemmPlan(pass: "backward", role: role, transposeA: true, transposeB: false,
                        m: geometry.patchSize, n: outputChannels, k: batch * geometry.outputPixels, beta: 1)
    }
}

extension LoweredConvolution {
    /// The GEMMs of a convolution's passes (`transposed`: of a transposed
    /// convolution, whose forward pass is this convolution's input gradient).
    func gemmPlan(batch: Int, needsInputGradient: Bool, transposed: Bool) -> [GemmPlan] {
        let plans = transposed
            ? [inputGradientGemm(batch: batch, pass: "forward", role: "cols = x·Kᵀ"),
               weightGradientGemm(batch: batch, role: "dK += cols(dy)ᵀ·x"),
               needsInputGradient ? forwardGemm(batch: batch, pass: "backward", role: "dx = cols(dy)·K") : nil]
            : [forwardGemm(batch: batch, pass: "forward", role: "y = cols·K"),
               weightGradientGemm(batch: batch, role: "dK += colsᵀ·dy"),
               needsInputGradient ? inputGradientGemm(batch: batch, pass: "backward", role: "dcols = dy·Kᵀ") : nil]
        return plans.compactMap { $0 }
    }

    /// A convolution runs im2col forward and col2im for its input gradient;
    /// a transposed one col2im forward and im2col of ∂L/∂y backward.
    func loweringPlan(needsInputGradient: Bool, transposed: Bool) -> LoweringPlan {
        transposed
            ? LoweringPlan(geometry: geometry, forward: runsCol2im ? .col2im : nil, backward: runsIm2col ? .im2col : nil)
            : LoweringPlan(geometry: geometry, forward: runsIm2col ? .im2col : nil,
                           backward: needsInputGradient && runsCol2im ? .col2im : nil)
    }
}

extension Conv2D {
    /// The GEMMs of this layer's passes at `batch` (a few-channel convolution runs direct loops instead).
    public func gemmPlan(batch: Int, needsInputGradient: Bool) -> [GemmPlan] {
        lowered.gemmPlan(batch: batch, needsInputGradient: needsInputGradient, transposed: false)
    }

    /// im2col forward, col2im for the input gradient, where they run.
    public func loweringPlan(needsInputGradient: Bool) -> LoweringPlan? {
        lowered.loweringPlan(needsInputGradient: needsInputGradient, transposed: false)
    }
}

extension Conv2DTranspose {
    /// The GEMMs of this layer's passes at `batch`: the adjoint convolution's, in the other order.
    public func gemmPlan(batch: Int, needsInputGradient: Bool) -> [GemmPlan] {
        lowered.gemmPlan(batch: batch, needsInputGradient: needsInputGradient, transposed: true)
    }

    /// col2im forward, im2col of ∂L/∂y backward, where they run.
    public func loweringPlan(needsInputGradient: Bool) -> LoweringPlan? {
        lowered.loweringPlan(needsInputGradient: needsInputGradient, transposed: true)
    }
}

extension Dense {
    /// `y = x·K`, `dK += xᵀ·dy` and (when needed) `dx = dy·Kᵀ`.
    public func gemmPlan(batch: Int, needsInputGradient: Bool) -> [GemmPlan] {
        let (features, units) = (inputShape[0], outputShape[0])
        var plans = [
            GemmPlan(pass: "forward", role: "y = x·K", transposeA: false, transposeB: false, m: batch, n: units, k: features, beta: 0),
            GemmPlan(pass: "backward", role: "dK += xᵀ·dy", transposeA: true, transposeB: false,
                     m: features, n: units, k: batch, beta: 1),
        ]
        if needsInputGradient {
            plans.append(GemmPlan(pass: "backward", role: "dx = dy·Kᵀ", transposeA: false, transposeB: true,
                                  m: batch, n: features, k: units, beta: 0))
        }
        return plans
    }
}

extension Layer {
    /// No matrix products (a reshape, an activation-free pass-through).
    public func gemmPlan(batch: Int, needsInputGradient: Bool) -> [GemmPlan] { [] }
    /// No lowering.
    public func loweringPlan(needsInputGradient: Bool) -> LoweringPlan? { nil }
}
