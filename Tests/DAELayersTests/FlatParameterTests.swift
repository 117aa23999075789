import DAELayers
import DAETestSupport
import Testing

/// A `Sequential` holds every weight in one flat buffer: value semantics,
/// the layers' views of it, and Adam's one loop over it.
@Suite("Flat parameters")
struct FlatParameterTests {
    /// A gradient for every parameter of `network`, flat, in its order.
    static func flatGradient(_ network: Sequential, seed: UInt64) -> [Float] {
        randomTensor(shape: [network.parameterCount], seed: seed, range: -0.5...0.5).scalars
    }

    /// One Adam step of `network` from `gradient` (one flat buffer).
    static func step(_ network: inout Sequential, _ adam: inout Adam, _ gradient: [Float]) {
        gradient.withUnsafeBufferPointer { adam.apply(to: &network, gradient: $0.baseAddress!) }
    }

    @Test("a copied network, and a layer taken out of one, never see the other's later updates")
    func copiesAreIndependent() throws {
        var network = try GradientCheckTests.smallAutoencoder()
        let copy = network
        let layersBefore = network.layers
        let before = network.parameters
        var adam = Adam()
        Self.step(&network, &adam, Self.flatGradient(network, seed: 5))
        #expect(network.parameters != before, "the step moved the weights")
        #expect(copy.parameters == before, "the copy kept its weights")
        #expect(zip(layersBefore, copy.layers).allSatisfy { $0.parameters == $1.parameters },
                "layers taken out before the step hold the weights of then")
        // And the other way round: the copy's change does not reach the original.
        var changed = copy
        let trained = network.parameters
        try changed.setParameter("decoder.dense.bias", to: Tensor(zeros: [64]))
        #expect(network.parameters == trained && copy.parameters == before)
        #expect(changed.parameters["decoder.dense.bias"] == Tensor(zeros: [64]))
    }

    @Test("the layers a network gives out hold its weights, and make the same network again")
    func layersRoundTrip() throws {
        let network = try GradientCheckTests.smallAutoencoder()
        let rebuilt = try Sequential(network.layers)
        #expect(rebuilt.parameterStorage.map(\.bitPattern) == network.parameterStorage.map(\.bitPattern))
        #expect(rebuilt.parameterNames == network.parameterNames)
        for layer in network.layers {
            for (name, tensor) in layer.namedParameters { #expect(network.parameters[name] == tensor) }
        }
        let x = randomTensor(shape: [2, 8, 8, 1], seed: 3)
        #expect(try enginePredict(network: rebuilt, input: x) == enginePredict(network: network, input: x))
    }

    @Test("Adam's one loop over the flat buffer equals a step per tensor, bit for bit")
    func oneLoopEqualsPerTensor() throws {
        var network = try GradientCheckTests.smallAutoencoder()
        var reference = network
        var flat = Adam(), perTensor = Adam()
        for step in 0..<3 {
            let gradient = Self.flatGradient(network, seed: 40 + UInt64(step))
            Self.step(&network, &flat, gradient)
            let alpha = perTensor.beginStep()
            var offset = 0
            gradient.withUnsafeBufferPointer { g in
                reference.updateParameters { name, _, tensor in
                    perTensor.update(name, weights: &tensor, gradient: g.baseAddress! + offset, alpha: alpha)
                    offset += tensor.count
                }
            }
        }
        #expect(network.parameterStorage.map(\.bitPattern) == reference.parameterStorage.map(\.bitPattern))
        #expect(flat == perTensor)
    }

    @Test("a Winograd convolution follows its network's weights after an Adam step")
    func winogradKernelFollowsTheStep() throws {
        var rng = SplitMix64(seed: 9)
        var network = try Sequential([
            try Conv2D(name: "a", inputShape: [8, 8, 8], filters: 16, kernelSize: 3, activation: .relu, using: &rng),
            try Conv2D(name: "b", inputShape: [8, 8, 16], filters: 8, kernelSize: 3, using: &rng),
        ]).withWinograd()
        #expect(network.usesWinograd)
        var adam = Adam(settings: .init(learningRate: 0.05))
        Self.step(&network, &adam, Self.flatGradient(network, seed: 8))
        // Built afresh from the new weights, the kernels are transformed from them: the same bits.
        let fresh = try Sequential(network.layers.map { layer in
            guard let conv = layer as? Conv2D else { return layer }
            return try Conv2D(name: conv.name, inputShape: conv.inputShape, kernel: conv.kernel, bias: conv.bias,
                              stride: conv.stride, padding: conv.padding, activation: conv.activation)
        }).withWinograd()
        let x = randomTensor(shape: [2, 8, 8, 8], seed: 10)
        #expect(try enginePredict(network: network, input: x) == enginePredict(network: fresh, input: x))
    }

    /// A layer written against the passes on its own weights (`y = w·x`,
    /// one weight), as code outside the package may hold.
    struct HeldScale: Layer {
        var name = "scale"
        var kind: String { "Scale" }
        var inputShape: [Int] { [2] }
        var outputShape: [Int] { [2] }
        var weight = Tensor(shape: [1], scalars: [2])
        var parameterNames: [String] { ["w"] }
        var parameters: [Tensor] { [weight] }
        mutating func updateParameters(_ body: (Int, inout Tensor) throws -> Void) rethrows { try body(0, &weight) }
        func workspaceCount(batch: Int) -> Int { 0 }
        func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                     batch: Int, workspace: UnsafeMutablePointer<Float>) {
            for i in 0..<(batch * 2) { output[i] = weight.scalars[0] * input[i] }
        }
        func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                      outputGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                      parameterGradients: [UnsafeMutablePointer<Float>], batch: Int, workspace: UnsafeMutablePointer<Float>) {
            for i in 0..<(batch * 2) {
                parameterGradients[0][0] += outputGradient[i] * input[i]
                inputGradient?[i] = outputGradient[i] * weight.scalars[0]
            }
        }
    }

    /// A layer that implements neither forward pass (nor backward): the
    /// defaults would call each other without end.
    struct Unfinished: Layer {
        var name = "unfinished"
        var kind: String { "Unfinished" }
        var inputShape: [Int] { [2] }
        var outputShape: [Int] { [2] }
        var parameterNames: [String] { [] }
        var parameters: [Tensor] { [] }
        mutating func updateParameters(_ body: (Int, inout Tensor) throws -> Void) rethrows {}
        func workspaceCount(batch: Int) -> Int { 0 }
    }

    /// Holds a library ``Dense`` (doubling) and runs it through its
    /// held-weights pass, a default, from inside its own: a composite layer,
    /// which the recursion check must allow.
    struct Composite: Layer {
        var name = "composite"
        var kind: String { "Composite" }
        var inner = try! Dense(name: "double", kernel: Tensor(shape: [2, 2], scalars: [2, 0, 0, 2]), bias: Tensor(zeros: [2]))
        var inputShape: [Int] { [2] }
        var outputShape: [Int] { [2] }
        var parameterNames: [String] { [] }
        var parameters: [Tensor] { [] }
        mutating func updateParameters(_ body: (Int, inout Tensor) throws -> Void) rethrows {}
        func workspaceCount(batch: Int) -> Int { 0 }
        func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                     batch: Int, workspace: UnsafeMutablePointer<Float>) {
            inner.forward(input, into: output, batch: batch, workspace: workspace)
        }
        func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                      outputGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                      parameterGradients: [UnsafeMutablePointer<Float>], batch: Int, workspace: UnsafeMutablePointer<Float>) {
            var scratch = [Float](repeating: 0, count: 6)  // the inner layer's kernel and bias gradients, dropped
            scratch.withUnsafeMutableBufferPointer { g in
                inner.backward(input: input, output: output, outputGradient: outputGradient, inputGradient: inputGradient,
                               parameterGradients: [g.baseAddress!, g.baseAddress! + 4], batch: batch, workspace: workspace)
            }
        }
    }

    @Test("a layer implementing neither pass stops with a message instead of recursing; a composite layer runs")
    func unfinishedLayerStops() async throws {
        // The message, not a stack overflow (which would fail too).
        let inNetwork = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let network = try Sequential([Unfinished()])
            _ = try enginePredict(network: network, input: Tensor(shape: [1, 2], scalars: [1, 3]))
        }
        let alone = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = try Unfinished()(Tensor(shape: [1, 2], scalars: [1, 3]))
        }
        for result in [inNetwork, alone] {
            let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
            #expect(message.contains("Unfinished layer 'unfinished'") && message.contains("implements neither forward pass"), "\(message)")
        }
        let network = try Sequential([Composite()])
        #expect(try enginePredict(network: network, input: Tensor(shape: [1, 2], scalars: [1, 3]))
                == Tensor(shape: [1, 2], scalars: [2, 6]))
        var gradients: [Tensor] = []
        let inputGradient = try Composite().backward(input: Tensor(shape: [1, 2], scalars: [1, 3]),
                                                     outputGradient: Tensor(shape: [1, 2], scalars: [1, -1]), parameterGradients: &gradients)
        #expect(inputGradient == Tensor(shape: [1, 2], scalars: [2, -2]))
    }

    @Test("a layer that holds its own weights still trains inside a network")
    func heldWeightsLayerTrains() throws {
        var network = try Sequential([HeldScale()])
        var adam = Adam(settings: .init(learningRate: 0.5))
        Self.step(&network, &adam, [1])
        let weight = try #require(network.parameters["scale.w"]?.scalars.first)
        #expect(weight < 2)
        #expect(try enginePredict(network: network, input: Tensor(shape: [1, 2], scalars: [1, 3]))
                == Tensor(shape: [1, 2], scalars: [weight, 3 * weight]))
    }
}
