import DAELayers
import Testing

/// The outcome of comparing one tensor's analytic gradient with central
/// finite differences.
public struct GradientComparison: Sendable, CustomStringConvertible {
    /// What was differentiated against, e.g. `input` or `conv.kernel`.
    public let name: String
    /// How many elements were perturbed and compared.
    public let checkedElements: Int
    /// Elements left out because a ReLU switched (its output left or reached
    /// exactly 0) even within the smallest step: the loss has a kink there.
    public let skippedElements: Int
    /// `max |analytic − numerical|` over the compared elements.
    public let maxAbsDifference: Double
    /// `max |numerical|` over the compared elements: the scale of the gradient.
    public let maxNumerical: Double
    /// The flat index of the element with the largest difference, with both values there.
    public let worst: (index: Int, analytic: Double, numerical: Double)

    /// `maxAbsDifference / max(maxNumerical, 1e-30)`: see ``relativeError(_:_:tiny:)``.
    public var relativeError: Double { maxAbsDifference / max(maxNumerical, 1e-30) }

    public var description: String {
        "\(name): relative error \(relativeError) (max |a − n| \(maxAbsDifference), max |n| \(maxNumerical); "
            + "worst at \(worst.index): analytic \(worst.analytic), numerical \(worst.numerical); "
            + "\(checkedElements) checked, \(skippedElements) skipped at kinks)"
    }
}

/// Central finite differences for layers, networks and any scalar function
/// of a tensor: the reference that every hand-written `backward` is checked
/// against.
///
/// The function under test runs in `Float`; the loss is accumulated in
/// `Double`, and each element is perturbed by `±step` (rounded to the
/// nearest `Float`, with the step that was *actually* taken in the
/// denominator). With inputs and weights of order 1, `step = 1e-2` keeps
/// the float32 rounding noise of the outputs around 1e-4 of the gradient's
/// scale, while the truncation error of a smooth function is O(step²).
///
/// Kinks (ReLU) are detected exactly: an ``Evaluation`` carries the pattern
/// of activations that are exactly zero, and when a perturbation changes it
/// the element is retried with steps 4, 16 and 64 times smaller, and
/// skipped if a ReLU still switches. Skips are counted, and too many is
/// itself a failure (``expectPasses(_:_:sourceLocation:)``).
///
/// ```swift
/// let checker = GradientChecker()
/// checker.expectPasses(try checker.check(layer, input: x), "my layer")
/// ```
public struct GradientChecker: Sendable {
    /// The perturbation of each element (absolute; inputs and weights are of order 1).
    public var step: Double
    /// The largest acceptable ``GradientComparison/relativeError``.
    public var tolerance: Double
    /// Tensors with more elements are checked at this many elements, chosen at random (seeded).
    public var maxElementsPerTensor: Int
    /// The largest fraction of elements that may be skipped at kinks (one is always allowed).
    public var maxSkippedFraction: Double
    /// Seeds the loss weights and the choice of elements.
    public var seed: UInt64

    /// A checker; the defaults suit layers with inputs in [0, 1] and Glorot weights.
    public init(step: Double = 1e-2, tolerance: Double = 1e-2, maxElementsPerTensor: Int = 160,
                maxSkippedFraction: Double = 0.1, seed: UInt64 = 0x5EED) {
        self.step = step
        self.tolerance = tolerance
        self.maxElementsPerTensor = maxElementsPerTensor
        self.maxSkippedFraction = maxSkippedFraction
        self.seed = seed
    }

    /// The flat indices that are checked in a tensor of `count` elements:
    /// all of them, or a seeded random subset that always holds the first and last.
    public func indices(count: Int, salt: UInt64 = 0) -> [Int] {
        guard count > maxElementsPerTensor else { return Array(0..<count) }
        var rng = SplitMix64(seed: seed ^ (salt &* 0x9E37_79B9_7F4A_7C15))
        var chosen: Set<Int> = [0, count - 1]
        while chosen.count < maxElementsPerTensor { chosen.insert(Int(rng.next() % UInt64(count))) }
        return chosen.sorted()
    }

    /// Compares `analytic` (∂loss/∂tensor, same shape as `tensor`) with
    /// central differences of a smooth `loss` around `tensor`.
    public func compare(_ name: String, analytic: Tensor, at tensor: Tensor,
                        loss: (Tensor) throws -> Double) rethrows -> GradientComparison {
        try compare(name, analytic: analytic, at: tensor, evaluate: { Evaluation(loss: try loss($0)) })
    }

    /// Compares `analytic` (∂loss/∂tensor, same shape as `tensor`) with
    /// central differences of `evaluate(_:).loss` around `tensor`, skipping
    /// elements where the zero pattern shows a kink within the step.
    ///
    /// `evaluate` is called with copies of `tensor` in which one element is
    /// moved by `±step`, and once with `tensor` itself.
    public func compare(_ name: String, analytic: Tensor, at tensor: Tensor,
                        evaluate: (Tensor) throws -> Evaluation) rethrows -> GradientComparison {
        precondition(analytic.shape == tensor.shape, "\(name): gradient \(analytic.shape) vs tensor \(tensor.shape)")
        let checked = indices(count: tensor.count, salt: name.hashValueStable)
        let center = try evaluate(tensor).zeroPattern
        var perturbed = tensor
        var kept: [(index: Int, analytic: Double, numerical: Double)] = []
        for index in checked {
            let original = tensor.scalars[index]
            for h in [step, step / 4, step / 16, step / 64] {
                let up = Float(Double(original) + h), down = Float(Double(original) - h)
                perturbed.withUnsafeMutableBufferPointer { $0[index] = up }
                let plus = try evaluate(perturbed)
                perturbed.withUnsafeMutableBufferPointer { $0[index] = down }
                let minus = try evaluate(perturbed)
                perturbed.withUnsafeMutableBufferPointer { $0[index] = original }
                guard plus.zeroPattern == center, minus.zeroPattern == center else { continue }
                let numerical = (plus.loss - minus.loss) / (Double(up) - Double(down))
                kept.append((index, Double(analytic.scalars[index]), numerical))
                break
            }
        }
        var worst = (index: -1, analytic: 0.0, numerical: 0.0), worstDifference = -1.0
        for k in kept {
            let difference = abs(k.analytic - k.numerical)
            if !(difference <= worstDifference) {
                worstDifference = difference.isNaN ? .infinity : difference
                worst = k
            }
        }
        return GradientComparison(
            name: name, checkedElements: kept.count, skippedElements: checked.count - kept.count,
            maxAbsDifference: kept.isEmpty ? .infinity : worstDifference,
            maxNumerical: maxMagnitude(kept.map(\.numerical)), worst: worst)
    }

    /// Checks `layer.backward` against finite differences, with respect to
    /// the input and to every parameter.
    ///
    /// The loss is `L = Σ w·layer(input)` with fixed random weights `w` in
    /// [−1, 1] (exactly representable in `Float`, so the analytic side gets
    /// the same `w` as its output gradient). Returns one comparison for
    /// `input` and one per parameter, named `layer.parameter`.
    public func check(_ layer: some Layer, input: Tensor) throws -> [GradientComparison] {
        let output = try layer(input)
        let weights = randomTensor(shape: output.shape, seed: seed &+ 17, range: -1...1)
        func weightedSum(_ y: Tensor) -> Evaluation { Evaluation(weightedSumOf: y, weights: weights) }
        var parameterGradients: [Tensor] = []
        let inputGradient = try layer.backward(input: input, outputGradient: weights,
                                               parameterGradients: &parameterGradients)
        var comparisons = [try compare("input", analytic: inputGradient, at: input, evaluate: { try weightedSum(layer($0)) })]
        for (p, parameter) in layer.parameters.enumerated() {
            let name = "\(layer.name).\(layer.parameterNames[p])"
            comparisons.append(try compare(name, analytic: parameterGradients[p], at: parameter, evaluate: { value in
                var perturbed = layer
                perturbed.updateParameters { index, tensor in if index == p { tensor = value } }
                return try weightedSum(perturbed(input))
            }))
        }
        return comparisons
    }

    /// Checks the gradients that a ``DataParallelEngine`` with `workers`
    /// workers computes for the mean squared error of `network`, against
    /// finite differences of the loss recomputed in `Double` from the
    /// network's output (with the zero pattern of every layer's output).
    /// Returns one comparison per parameter, by full name.
    public func check(network: Sequential, input: Tensor, target: Tensor, workers: Int = 1) throws -> [GradientComparison] {
        let (_, gradients) = try engineLossAndGradients(network: network, input: input, target: target, workers: workers)
        let batch = input.shape[0]
        return try network.parameterNames.map { name in
            let parameter = try #require(network.parameters[name])
            return try compare(name, analytic: try #require(gradients[name]), at: parameter, evaluate: { value in
                var perturbed = network
                try perturbed.setParameter(name, to: value)
                let workspace = Workspace(network: perturbed, batchCapacity: batch)
                let output = input.withUnsafeBufferPointer { perturbed.forward($0.baseAddress!, batch: batch, workspace: workspace) }
                var sum = 0.0
                for (i, t) in target.scalars.enumerated() { sum += (Double(output[i]) - Double(t)) * (Double(output[i]) - Double(t)) }
                var pattern: [Bool] = []
                for (l, layer) in perturbed.layers.enumerated() {
                    pattern += UnsafeBufferPointer(start: workspace.outputs[l], count: batch * layer.outputCount).map { $0 == 0 }
                }
                return Evaluation(loss: sum / Double(target.count), zeroPattern: pattern)
            })
        }
    }

    /// Records an issue for every comparison whose relative error exceeds
    /// ``tolerance``, that compared nothing, or that skipped more than
    /// ``maxSkippedFraction`` of its elements (one is always allowed) at kinks.
    public func expectPasses(_ comparisons: [GradientComparison], _ what: @autoclosure () -> String = "",
                             sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!comparisons.isEmpty, "\(what()): nothing was compared", sourceLocation: sourceLocation)
        for c in comparisons {
            #expect(c.checkedElements > 0 && c.relativeError <= tolerance, "\(what()) \(c)", sourceLocation: sourceLocation)
            let checked = c.checkedElements + c.skippedElements
            #expect(c.skippedElements <= max(1, Int(maxSkippedFraction * Double(checked))),
                    "\(what()) \(c): too many elements sit at kinks", sourceLocation: sourceLocation)
        }
    }
}

extension String {
    /// A hash that is the same in every process (`hashValue` is randomly seeded).
    var hashValueStable: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}

extension GradientChecker {
    /// One evaluation of the function under test: the loss, and which
    /// activations sit exactly at zero (a ReLU's flat side).
    public struct Evaluation: Sendable {
        /// The scalar whose gradient is checked.
        public var loss: Double
        /// `true` for every activation that is exactly 0. When a perturbation
        /// changes this pattern, a ReLU crossed its kink within the step and the
        /// finite difference is not a derivative.
        public var zeroPattern: [Bool]

        public init(loss: Double, zeroPattern: [Bool] = []) {
            self.loss = loss
            self.zeroPattern = zeroPattern
        }

        /// The loss `Σ weights·output` with the zero pattern of `output` (for a single layer).
        public init(weightedSumOf output: Tensor, weights: Tensor) {
            self.init(loss: innerProduct(output, weights), zeroPattern: output.scalars.map { $0 == 0 })
        }
    }
}

