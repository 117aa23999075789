/// A part of one worker's training pass
/// (``Sequential/sumOfSquaredErrorsAndGradients(input:target:batch:normalizer:workspace:after:)``),
/// in the order they run: what a profiler times.
package enum TrainingPassPart: Sendable, Equatable {
    /// Layer `layer`'s forward pass.
    case forward(layer: Int)
    /// The squared errors and ∂L/∂output.
    case loss
    /// Zeroing the parameter gradients.
    case zeroGradients
    /// Layer `layer`'s backward pass.
    case backward(layer: Int)
}

extension Sequential {
    /// One worker's training pass on `batch` examples: forward, the mean
    /// squared error's sum and gradient against `target` (∂L/∂output
    /// divided by `normalizer`, the whole batch's element count), the
    /// workspace's gradients zeroed, and backward. Returns the sum of squared
    /// errors; the gradients are in `workspace`. `after(part)` is called as
    /// each part ends. ``DataParallelEngine`` runs this on every shard, and
    /// `dae-bench profile` times it.
    package func sumOfSquaredErrorsAndGradients(input: UnsafePointer<Float>, target: UnsafePointer<Float>, batch: Int,
                                                normalizer: Int, workspace: Workspace,
                                                after: (TrainingPassPart) -> Void = { _ in }) -> Double {
        let prediction = forward(input, batch: batch, workspace: workspace) { after(.forward(layer: $0)) }
        let count = batch * bareLayers[bareLayers.count - 1].outputCount
        let sum = MeanSquaredError.sumOfSquaresAndGradient(prediction: prediction, target: target, count: count,
                                                           normalizer: normalizer, gradient: workspace.outputGradient)
        after(.loss)
        workspace.zeroGradients()
        after(.zeroGradients)
        backward(input: input, batch: batch, workspace: workspace) { after(.backward(layer: $0)) }
        return sum
    }
}
