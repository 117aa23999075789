/// A part of one worker's training pass
/// (``Sequential/sumOfSquaredErrorsAndGradients(input:target:batch:normalizer:weights:workspace:after:)``),
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
    /// errors; the gradients are in `workspace`. With `weights` (one per
    /// example), example `e`'s squared errors count `weights[e]` times, in
    /// the sum and the gradient. `after(part)` is called as
    /// each part ends. ``DataParallelEngine`` runs this on every shard, and
    /// `dae-bench profile` times it.
    package func sumOfSquaredErrorsAndGradients(input: UnsafePointer<Float>, target: UnsafePointer<Float>, batch: Int,
                                                normalizer: Int, weights: UnsafePointer<Float>? = nil, workspace: Workspace,
                                                after: (TrainingPassPart) -> Void = { _ in }) -> Double {
        let prediction = forward(input, batch: batch, workspace: workspace) { after(.forward(layer: $0)) }
        let perExample = bareLayers[bareLayers.count - 1].outputCount
        let sum = if let weights {
            MeanSquaredError.weightedSumOfSquaresAndGradient(
                prediction: prediction, target: target, examples: batch, elementsPerExample: perExample,
                weights: weights, normalizer: normalizer, gradient: workspace.outputGradient)
        } else {
            MeanSquaredError.sumOfSquaresAndGradient(prediction: prediction, target: target, count: batch * perExample,
                                                     normalizer: normalizer, gradient: workspace.outputGradient)
        }
        after(.loss)
        workspace.zeroGradients()
        after(.zeroGradients)
        backward(input: input, batch: batch, workspace: workspace) { after(.backward(layer: $0)) }
        return sum
    }
}
