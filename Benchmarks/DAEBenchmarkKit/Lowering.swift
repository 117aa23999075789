import DAEKit

/// The im2col / col2im work of a layer's passes, as the layer reports it
/// (``Layer/loweringPlan(needsInputGradient:)``): a Conv2D runs im2col
/// forward and col2im for its input gradient; a Conv2DTranspose runs col2im
/// forward and im2col of ∂L/∂y backward; direct loops run neither.
final class Lowering {
    private let geometry: ConvolutionGeometry
    private let batch: Int
    private let forward: LoweringPlan.Step?, backward: LoweringPlan.Step?
    private let image: FloatBuffer, columns: FloatBuffer

    /// The lowering of `layer` at `batch` on its own buffers, or nil for a layer without one.
    init?(of layer: any Layer, batch: Int, needsInputGradient: Bool, using rng: inout SplitMix64) {
        guard let plan = layer.loweringPlan(needsInputGradient: needsInputGradient),
              plan.forward != nil || plan.backward != nil else { return nil }
        (geometry, forward, backward) = (plan.geometry, plan.forward, plan.backward)
        self.batch = batch
        image = FloatBuffer(SyntheticData.floats(batch * geometry.inputCount, using: &rng))
        columns = FloatBuffer(SyntheticData.floats(batch * geometry.outputPixels * geometry.patchSize, using: &rng))
    }

    private func run(_ step: LoweringPlan.Step) {
        switch step {
        case .im2col: geometry.im2col(image.readOnly, batch: batch, into: columns.pointer)
        case .col2im: geometry.col2im(columns.readOnly, batch: batch, into: image.pointer, accumulate: false)
        }
    }

    /// Runs the forward pass's lowering once and returns its seconds (0 when it has none).
    func timeForward() -> Double {
        guard let forward else { return 0 }
        return Stopwatch.time { run(forward) }
    }

    /// Runs the backward pass's lowering once and returns its seconds (0 when it has none).
    func timeBackward() -> Double {
        guard let backward else { return 0 }
        return Stopwatch.time { run(backward) }
    }
}
