/// Mean squared error over every element, as Keras's `mse` loss:
/// `L = Σ (prediction − target)² / count`.
public enum MeanSquaredError {
    /// Writes `∂L/∂prediction = 2·(prediction − target) / normalizer` into
    /// `gradient` and returns the *sum* of squared differences (in `Double`).
    ///
    /// `normalizer` is the element count of the whole batch: a worker that
    /// holds a shard of the batch still divides by the full count, so that
    /// the shards' gradients add up to the batch's.
    @inlinable
    public static func sumOfSquaresAndGradient(
        prediction: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
        normalizer: Int, gradient: UnsafeMutablePointer<Float>
    ) -> Double {
        sumOfSquaresAndGradient(prediction: prediction, target: target, count: count, scale: 2 / Float(normalizer),
                                gradient: gradient)
    }

    /// As ``sumOfSquaresAndGradient(prediction:target:count:normalizer:gradient:)``
    /// with each example's squared errors weighted: `examples` examples of
    /// `elementsPerExample` elements each, example `e` counting `weights[e]`
    /// times. Writes `∂L/∂prediction = 2·weights[e]·(prediction − target) / normalizer`
    /// and returns `Σₑ weights[e] · Σ (prediction − target)²` (in `Double`).
    @inlinable
    public static func weightedSumOfSquaresAndGradient(
        prediction: UnsafePointer<Float>, target: UnsafePointer<Float>, examples: Int, elementsPerExample: Int,
        weights: UnsafePointer<Float>, normalizer: Int, gradient: UnsafeMutablePointer<Float>
    ) -> Double {
        var sum: Double = 0
        for e in 0..<examples {
            let offset = e * elementsPerExample
            // With every weight 1 the gradient is sumOfSquaresAndGradient's to the bit (the sum, added
            // example by example, may differ from it in the last bits of the Double).
            let exampleSum = sumOfSquaresAndGradient(prediction: prediction + offset, target: target + offset,
                                                     count: elementsPerExample, scale: 2 * weights[e] / Float(normalizer),
                                                     gradient: gradient + offset)
            sum += Double(weights[e]) * exampleSum
        }
        return sum
    }

    /// `Σ (prediction − target)²` (in `Double`), writing `scale·(prediction − target)` into `gradient`.
    @inlinable
    static func sumOfSquaresAndGradient(prediction: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
                                        scale: Float, gradient: UnsafeMutablePointer<Float>) -> Double {
        var sum: Double = 0
        for i in 0..<count {
            let difference = prediction[i] - target[i]
            sum += Double(difference) * Double(difference)
            gradient[i] = scale * difference
        }
        return sum
    }

    /// The loss of `prediction` against `target` (same shape).
    public static func loss(_ prediction: Tensor, _ target: Tensor) throws -> Float {
        try prediction.checkShape(target.shape, "mean squared error: prediction")
        guard prediction.count > 0 else { throw DAEError.invalidArgument("mean squared error of empty tensors") }
        var sum: Double = 0
        for (p, t) in zip(prediction.scalars, target.scalars) {
            let difference = p - t
            sum += Double(difference) * Double(difference)
        }
        return Float(sum / Double(prediction.count))
    }

    /// The gradient `2·(prediction − target) / count` of ``loss(_:_:)``.
    public static func gradient(_ prediction: Tensor, _ target: Tensor) throws -> Tensor {
        try prediction.checkShape(target.shape, "mean squared error: prediction")
        let scale = 2 / Float(max(prediction.count, 1))
        return Tensor(shape: prediction.shape, scalars: zip(prediction.scalars, target.scalars).map { scale * ($0 - $1) })
    }
}
