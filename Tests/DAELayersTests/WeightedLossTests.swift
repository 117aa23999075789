import DAELayers
import DAETestSupport
import Testing

/// The per-example weighted squared error that blind-noise training uses
/// (`TrainingOptions.lossWeighting` in DAEKit), from the loss itself up to
/// the data-parallel engine.
@Suite("Weighted loss")
struct WeightedLossTests {
    /// `Σₑ wₑ Σ (p − t)²` and its gradient, for `examples` examples of `size` elements.
    static func weighted(_ prediction: [Float], _ target: [Float], weights: [Float], size: Int,
                         normalizer: Int) -> (sum: Double, gradient: [Float]) {
        var gradient = [Float](repeating: .nan, count: prediction.count)
        let sum = gradient.withUnsafeMutableBufferPointer { g in
            MeanSquaredError.weightedSumOfSquaresAndGradient(
                prediction: prediction, target: target, examples: weights.count, elementsPerExample: size,
                weights: weights, normalizer: normalizer, gradient: g.baseAddress!)
        }
        return (sum, gradient)
    }

    @Test("weights of 1 give the unweighted gradient to the bit, and its sum to rounding")
    func unitWeights() {
        let prediction = randomTensor(shape: [3, 7], seed: 1).scalars, target = randomTensor(shape: [3, 7], seed: 2).scalars
        var gradient = [Float](repeating: .nan, count: 21)
        let plain = gradient.withUnsafeMutableBufferPointer {
            MeanSquaredError.sumOfSquaresAndGradient(prediction: prediction, target: target, count: 21, normalizer: 21,
                                                     gradient: $0.baseAddress!)
        }
        let weighted = Self.weighted(prediction, target, weights: [1, 1, 1], size: 7, normalizer: 21)
        // The sum is added example by example: the same terms, maybe another rounding of the Double.
        #expect(abs(weighted.sum - plain) <= 1e-12 * plain)
        #expect(weighted.gradient.map(\.bitPattern) == gradient.map(\.bitPattern))
    }

    @Test("each example counts its weight: the sum by hand, the gradient by central differences")
    func againstFiniteDifferences() {
        let size = 5, weights: [Float] = [0.5, 2, 1.25]
        let prediction = randomTensor(shape: [3, size], seed: 3).scalars, target = randomTensor(shape: [3, size], seed: 4).scalars
        let normalizer = 15
        let (sum, gradient) = Self.weighted(prediction, target, weights: weights, size: size, normalizer: normalizer)
        var expected: Double = 0
        for i in prediction.indices {
            let d = Double(prediction[i]) - Double(target[i])
            expected += Double(weights[i / size]) * d * d
        }
        #expect(abs(sum - expected) <= 1e-6 * expected)
        // L = sum / normalizer, in Double, differentiated numerically at every element.
        func loss(_ p: [Double]) -> Double {
            p.indices.reduce(0) { total, i in
                let d = p[i] - Double(target[i])
                return total + Double(weights[i / size]) * d * d
            } / Double(normalizer)
        }
        let point = prediction.map(Double.init), h = 1e-4
        for i in point.indices {
            var up = point, down = point
            up[i] += h
            down[i] -= h
            let numeric = (loss(up) - loss(down)) / (2 * h)
            #expect(abs(Double(gradient[i]) - numeric) <= 1e-5, "element \(i): \(gradient[i]) against \(numeric)")
        }
    }

    @Test("the engine's weighted gradients are the weighted sum of each example's, on 1 and 2 workers",
          arguments: [1, 2])
    func engineCombinesExamples(workers: Int) throws {
        let network = try GradientCheckTests.smallAutoencoder()
        let batch = 3, weights: [Float] = [0.25, 3, 1.5]
        let input = randomTensor(shape: [batch, 8, 8, 1], seed: 5), target = randomTensor(shape: [batch, 8, 8, 1], seed: 6)
        let engine = DataParallelEngine(network: network, batchCapacity: batch, workers: workers)
        let loss = input.withUnsafeBufferPointer { x in
            target.withUnsafeBufferPointer { t in
                engine.lossAndGradients(network: network, input: x.baseAddress!, target: t.baseAddress!, batch: batch,
                                        weights: weights)
            }
        }
        let combined = gradientsByName(engine.gradients, network: network)
        // Example by example: each one's mean loss and gradients, weighted and averaged over the batch.
        let size = input.count / batch
        var expectedLoss: Double = 0
        var expected: [String: [Double]] = [:]
        for e in 0..<batch {
            let one = Tensor(shape: [1, 8, 8, 1], scalars: Array(input.scalars[(e * size)..<((e + 1) * size)]))
            let oneTarget = Tensor(shape: [1, 8, 8, 1], scalars: Array(target.scalars[(e * size)..<((e + 1) * size)]))
            let (exampleLoss, gradients) = try engineLossAndGradients(network: network, input: one, target: oneTarget)
            expectedLoss += Double(weights[e]) * Double(exampleLoss) / Double(batch)
            for (name, g) in gradients {
                let add = g.scalars.map { Double(weights[e]) * Double($0) / Double(batch) }
                expected[name] = expected[name].map { zip($0, add).map(+) } ?? add
            }
        }
        #expect(abs(Double(loss) - expectedLoss) <= 1e-5 * expectedLoss)
        for (name, values) in expected {
            let got = try #require(combined[name]).scalars
            let scale = values.map(abs).max() ?? 1
            let error = zip(got, values).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(error <= 1e-5 * max(scale, 1e-3), "\(name): off by \(error) (largest \(scale))")
        }
    }

    @Test("no weights and weights of 1 give the same gradients to the bit, and the loss to rounding")
    func engineUnitWeights() throws {
        let network = try GradientCheckTests.smallAutoencoder()
        let input = randomTensor(shape: [4, 8, 8, 1], seed: 7), target = randomTensor(shape: [4, 8, 8, 1], seed: 8)
        let (plainLoss, plain) = try engineLossAndGradients(network: network, input: input, target: target, workers: 2)
        let engine = DataParallelEngine(network: network, batchCapacity: 4, workers: 2)
        let loss = input.withUnsafeBufferPointer { x in
            target.withUnsafeBufferPointer { t in
                engine.lossAndGradients(network: network, input: x.baseAddress!, target: t.baseAddress!, batch: 4,
                                        weights: [1, 1, 1, 1])
            }
        }
        #expect(abs(loss - plainLoss) <= 1e-6 * plainLoss)
        #expect(gradientsByName(engine.gradients, network: network).mapValues(\.scalars) == plain.mapValues(\.scalars))
    }
}
