import DAELayers
import DAETestSupport
import Testing

/// Every layer's hand-written `backward` against central finite differences.
@Suite("Gradient checks")
struct GradientCheckTests {
    static let checker = GradientChecker()

    /// A convolution (or transposed convolution) configuration to check.
    struct ConvCase: Sendable, CustomTestStringConvertible {
        let kernel, stride: Int, padding: Padding, activation: Activation
        var testDescription: String { "k\(kernel) s\(stride) \(padding) \(activation)" }
    }

    /// Kernels 3 and 1, strides 1 and 2, both paddings, every activation.
    static let convCases: [ConvCase] = [(3, 1, Padding.same), (3, 2, .same), (3, 2, .valid), (3, 1, .valid), (1, 1, .same), (1, 2, .valid)]
        .flatMap { k, s, p in Activation.allCases.map { ConvCase(kernel: k, stride: s, padding: p, activation: $0) } }

    /// Sets every bias of `layer` to small random values, so that ReLU patterns do not hinge on zero biases.
    static func withRandomBias<L: Layer>(_ layer: L, seed: UInt64) -> L {
        var layer = layer
        layer.updateParameters { index, tensor in
            if index == 1 { tensor = randomTensor(shape: tensor.shape, seed: seed, range: -0.2...0.2) }
        }
        return layer
    }

    @Test("Conv2D backward matches finite differences (input, kernel, bias)", arguments: convCases)
    func conv2D(_ c: ConvCase) throws {
        var rng = SplitMix64(seed: 21)
        let layer = Self.withRandomBias(
            try Conv2D(name: "conv", inputShape: [6, 5, 2], filters: 3, kernelSize: c.kernel, stride: c.stride,
                       padding: c.padding, activation: c.activation, using: &rng), seed: 22)
        let x = randomTensor(shape: [2, 6, 5, 2], seed: 23)
        Self.checker.expectPasses(try Self.checker.check(layer, input: x), "Conv2D \(c.testDescription)")
    }

    @Test("Conv2DTranspose backward matches finite differences (input, kernel, bias)", arguments: convCases)
    func conv2DTranspose(_ c: ConvCase) throws {
        var rng = SplitMix64(seed: 31)
        let layer = Self.withRandomBias(
            try Conv2DTranspose(name: "deconv", inputShape: [4, 3, 3], filters: 2, kernelSize: c.kernel, stride: c.stride,
                                padding: c.padding, activation: c.activation, using: &rng), seed: 32)
        let x = randomTensor(shape: [2, 4, 3, 3], seed: 33)
        Self.checker.expectPasses(try Self.checker.check(layer, input: x), "Conv2DTranspose \(c.testDescription)")
    }

    @Test("Dense backward matches finite differences (input, kernel, bias)", arguments: Activation.allCases)
    func dense(_ activation: Activation) throws {
        var rng = SplitMix64(seed: 41)
        let layer = Self.withRandomBias(try Dense(name: "dense", inputFeatures: 7, units: 5, activation: activation, using: &rng), seed: 42)
        let x = randomTensor(shape: [3, 7], seed: 43)
        Self.checker.expectPasses(try Self.checker.check(layer, input: x), "Dense \(activation)")
    }

    @Test("Reshape and Flatten pass gradients through unchanged")
    func reshape() throws {
        let flatten = try Reshape.flatten(inputShape: [3, 4, 2])
        Self.checker.expectPasses(try Self.checker.check(flatten, input: randomTensor(shape: [2, 3, 4, 2], seed: 51)), "Flatten")
        let unflatten = try Reshape(name: "reshape", inputShape: [24], outputShape: [4, 3, 2])
        let x = randomTensor(shape: [2, 24], seed: 52)
        Self.checker.expectPasses(try Self.checker.check(unflatten, input: x), "Reshape")
        // Exactly, not only approximately: the gradient is the output gradient, reshaped.
        let dy = randomTensor(shape: [2, 4, 3, 2], seed: 53)
        var none: [Tensor] = []
        #expect(try unflatten.backward(input: x, outputGradient: dy, parameterGradients: &none).scalars == dy.scalars)
    }

    @Test("MeanSquaredError.gradient is the derivative of MeanSquaredError.loss")
    func meanSquaredError() throws {
        let prediction = randomTensor(shape: [2, 3, 4, 1], seed: 61)
        let target = randomTensor(shape: [2, 3, 4, 1], seed: 62)
        let gradient = try MeanSquaredError.gradient(prediction, target)
        let comparison = try Self.checker.compare("prediction", analytic: gradient, at: prediction) {
            Double(try MeanSquaredError.loss($0, target))
        }
        Self.checker.expectPasses([comparison], "MSE")
        // The loss is the mean of squares over every element.
        let mean = zip(prediction.scalars, target.scalars).reduce(0.0) { $0 + pow2(Double($1.0) - Double($1.1)) } / 24
        #expect(abs(Double(try MeanSquaredError.loss(prediction, target)) - mean) <= 1e-6 * mean)
    }

    // MARK: - A whole network through the data-parallel engine

    /// conv → flatten → dense → dense → reshape → deconv → deconv(sigmoid): the autoencoder in miniature.
    static func smallAutoencoder(seed: UInt64 = 71) throws -> Sequential {
        var rng = SplitMix64(seed: seed)
        let conv = try Conv2D(name: "encoder.conv0", inputShape: [8, 8, 1], filters: 4, kernelSize: 3, stride: 2,
                              padding: .same, activation: .relu, using: &rng)                                  // 4×4×4
        let flatten = try Reshape.flatten(inputShape: conv.outputShape)
        let latent = try Dense(name: "encoder.latent", inputFeatures: 64, units: 6, using: &rng)
        let dense = try Dense(name: "decoder.dense", inputFeatures: 6, units: 64, using: &rng)
        let reshape = try Reshape(name: "reshape", inputShape: [64], outputShape: [4, 4, 4])
        let deconv = try Conv2DTranspose(name: "decoder.deconv0", inputShape: [4, 4, 4], filters: 3, kernelSize: 3, stride: 2,
                                         padding: .same, activation: .relu, using: &rng)                       // 8×8×3
        let output = try Conv2DTranspose(name: "decoder.output", inputShape: [8, 8, 3], filters: 1, kernelSize: 3, stride: 1,
                                         padding: .same, activation: .sigmoid, using: &rng)
        var network = try Sequential([conv, flatten, latent, dense, reshape, deconv, output])
        // Non-zero biases, so every bias gradient path is exercised away from ReLU's kink.
        network.updateParameters { name, _, tensor in
            if name.hasSuffix(".bias") { tensor = randomTensor(shape: tensor.shape, seed: seed &+ UInt64(tensor.count), range: -0.2...0.2) }
        }
        return network
    }

    @Test("a whole network's engine gradients match finite differences of its loss")
    func network() throws {
        let network = try Self.smallAutoencoder()
        let input = randomTensor(shape: [3, 8, 8, 1], seed: 72)
        let target = randomTensor(shape: [3, 8, 8, 1], seed: 73)
        // A change in an early weight moves hundreds of ReLU inputs downstream: more of them
        // sit near a kink than in a single layer, so more elements may be skipped.
        let checker = GradientChecker(maxElementsPerTensor: 48, maxSkippedFraction: 0.25)
        let comparisons = try checker.check(network: network, input: input, target: target)
        #expect(comparisons.map(\.name) == network.parameterNames)
        checker.expectPasses(comparisons, "network")
    }

    @Test("one and two workers give the same loss and gradients; the loss is the MSE of the forward output")
    func workersAgree() throws {
        let network = try Self.smallAutoencoder()
        let input = randomTensor(shape: [3, 8, 8, 1], seed: 74)    // odd batch: shards of 1 and 2
        let target = randomTensor(shape: [3, 8, 8, 1], seed: 75)
        let one = try engineLossAndGradients(network: network, input: input, target: target, workers: 1)
        let two = try engineLossAndGradients(network: network, input: input, target: target, workers: 2)
        let three = try engineLossAndGradients(network: network, input: input, target: target, workers: 3)
        #expect(abs(one.loss - two.loss) <= 1e-6 * one.loss)
        #expect(abs(one.loss - three.loss) <= 1e-6 * one.loss)
        #expect(Set(one.gradients.keys) == Set(network.parameterNames))
        for name in network.parameterNames {
            let reference = try #require(one.gradients[name])
            expectApproximatelyEqual(try #require(two.gradients[name]), reference, relativeTolerance: 1e-5, absoluteTolerance: 1e-9, "2 workers: \(name)")
            expectApproximatelyEqual(try #require(three.gradients[name]), reference, relativeTolerance: 1e-5, absoluteTolerance: 1e-9, "3 workers: \(name)")
            #expect(reference.maxAbs > 0, "\(name): gradient is all zeros")
        }
        let prediction = try enginePredict(network: network, input: input, workers: 2)
        let expectedLoss = try MeanSquaredError.loss(prediction, target)
        #expect(abs(one.loss - expectedLoss) <= 1e-6 * expectedLoss, "engine \(one.loss) vs MSE of the output \(expectedLoss)")
    }

    // MARK: - The checker itself must fail on wrong gradients

    /// A layer that runs `forwardLayer` but back-propagates with `backwardLayer`
    /// and then applies a mistake: the kinds of bugs a gradient check must catch.
    struct Mutant<Forward: Layer, Backward: Layer>: Layer {
        enum Mistake: Sendable { case none, scaleInputGradient(Float), negateBiasGradient, shiftInputGradient(by: Int) }
        var forwardLayer: Forward
        var backwardLayer: Backward
        var mistake: Mistake
        var name: String { forwardLayer.name }
        var kind: String { "Mutant" }
        var inputShape: [Int] { forwardLayer.inputShape }
        var outputShape: [Int] { forwardLayer.outputShape }
        var parameterNames: [String] { forwardLayer.parameterNames }
        var parameters: [Tensor] { forwardLayer.parameters }
        mutating func updateParameters(_ body: (Int, inout Tensor) throws -> Void) rethrows {
            try forwardLayer.updateParameters(body)
            try backwardLayer.updateParameters(body)
        }
        func workspaceCount(batch: Int) -> Int { max(forwardLayer.workspaceCount(batch: batch), backwardLayer.workspaceCount(batch: batch)) }
        func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batch: Int, workspace: UnsafeMutablePointer<Float>) {
            forwardLayer.forward(input, into: output, batch: batch, workspace: workspace)
        }
        func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient: UnsafeMutablePointer<Float>,
                      inputGradient: UnsafeMutablePointer<Float>?, parameterGradients: [UnsafeMutablePointer<Float>],
                      batch: Int, workspace: UnsafeMutablePointer<Float>) {
            let biasCount = parameters[1].count
            let biasBefore = Array(UnsafeBufferPointer(start: parameterGradients[1], count: biasCount))
            backwardLayer.backward(input: input, output: output, outputGradient: outputGradient, inputGradient: inputGradient,
                                   parameterGradients: parameterGradients, batch: batch, workspace: workspace)
            let count = batch * inputCount
            switch mistake {
            case .none: break
            case .scaleInputGradient(let factor): for i in 0..<count { inputGradient?[i] *= factor }
            case .negateBiasGradient: for i in 0..<biasCount { parameterGradients[1][i] = 2 * biasBefore[i] - parameterGradients[1][i] }
            case .shiftInputGradient(let offset):
                guard let dx = inputGradient else { break }
                let copy = Array(UnsafeBufferPointer(start: dx, count: count))
                for i in 0..<count { dx[i] = copy[(i + offset) % count] }
            }
        }
    }

    @Test("the checker fails on typical backward mistakes (and passes the unmutated layer)")
    func checkerCatchesMistakes() throws {
        var rng = SplitMix64(seed: 81)
        let relu = Self.withRandomBias(try Conv2D(name: "conv", inputShape: [6, 5, 2], filters: 3, kernelSize: 3, stride: 2,
                                                  activation: .relu, using: &rng), seed: 82)
        let identity = try Conv2D(name: "conv", inputShape: [6, 5, 2], kernel: relu.kernel, bias: relu.bias,
                                  stride: 2, padding: .same, activation: .identity)
        let x = randomTensor(shape: [2, 6, 5, 2], seed: 83)
        let checker = Self.checker

        func worst(_ mutant: Mutant<Conv2D, Conv2D>, _ name: String) throws -> Double {
            try #require(checker.check(mutant, input: x).first { $0.name == name }).relativeError
        }
        #expect(try worst(Mutant(forwardLayer: relu, backwardLayer: relu, mistake: .none), "input") <= checker.tolerance)
        // A 5 % error in the input gradient.
        #expect(try worst(Mutant(forwardLayer: relu, backwardLayer: relu, mistake: .scaleInputGradient(1.05)), "input") > checker.tolerance)
        // A sign error in the bias gradient.
        #expect(try worst(Mutant(forwardLayer: relu, backwardLayer: relu, mistake: .negateBiasGradient), "conv.bias") > checker.tolerance)
        // An input gradient one pixel off (a padding mistake).
        #expect(try worst(Mutant(forwardLayer: relu, backwardLayer: relu, mistake: .shiftInputGradient(by: 2)), "input") > checker.tolerance)
        // ReLU's derivative forgotten: back-propagating as if the activation were the identity.
        let forgotten = Mutant(forwardLayer: relu, backwardLayer: identity, mistake: .none)
        #expect(try worst(forgotten, "input") > checker.tolerance)
        #expect(try worst(forgotten, "conv.kernel") > checker.tolerance)
    }
}

private func pow2(_ x: Double) -> Double { x * x }
