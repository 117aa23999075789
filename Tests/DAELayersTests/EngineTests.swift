import DAELayers
import DAETestSupport
import Testing

/// ``DataParallelEngine`` and ``Sequential`` used the way a trainer and `encode`/`decode` use them.
@Suite("Data-parallel engine")
struct EngineTests {
    /// The miniature autoencoder of the gradient checks.
    static var network: Sequential { get throws { try GradientCheckTests.smallAutoencoder() } }
    static let input = randomTensor(shape: [3, 8, 8, 1], seed: 76)
    static let target = randomTensor(shape: [3, 8, 8, 1], seed: 77)

    /// The outputs of every layer, by chaining the layers' own `callAsFunction`.
    static func layerOutputs(_ network: Sequential, _ x: Tensor) throws -> [Tensor] {
        var outputs: [Tensor] = []
        var current = x
        for layer in network.layers {
            current = try layer(current)
            outputs.append(current)
        }
        return outputs
    }

    /// The MSE gradients of every parameter by full name, by chaining the
    /// layers' own `backward` from the last layer to the first.
    static func layerByLayerGradients(_ network: Sequential, _ input: Tensor, _ outputs: [Tensor],
                                      _ target: Tensor) throws -> [String: Tensor] {
        var gradient = try MeanSquaredError.gradient(outputs.last!, target)
        var expected: [String: Tensor] = [:]
        for (i, layer) in network.layers.enumerated().reversed() {
            var parameterGradients: [Tensor] = []
            gradient = try layer.backward(input: i == 0 ? input : outputs[i - 1], outputGradient: gradient,
                                          parameterGradients: &parameterGradients)
            for (name, g) in zip(layer.parameterNames, parameterGradients) { expected["\(layer.name).\(name)"] = g }
        }
        return expected
    }

    @Test("predict over a range of layers equals running those layers one by one", arguments: [1, 2])
    func predictRange(workers: Int) throws {
        let network = try Self.network
        let outputs = try Self.layerOutputs(network, Self.input)
        let engine = DataParallelEngine(network: network, batchCapacity: 3, workers: workers)
        // The encoder half (up to the latent vector) and the decoder half from it.
        let split = try #require(network.layers.firstIndex { $0.name == "encoder.latent" }) + 1
        var latent = Tensor(zeros: [3] + network.layers[split - 1].outputShape)
        Self.input.withUnsafeBufferPointer { x in
            latent.withUnsafeMutableBufferPointer {
                engine.predict(network: network, input: x.baseAddress!, batch: 3, output: $0.baseAddress!, layers: 0..<split)
            }
        }
        expectApproximatelyEqual(latent, outputs[split - 1], relativeTolerance: 1e-6, "encoder half")
        var decoded = Tensor(zeros: [3] + network.outputShape)
        latent.withUnsafeBufferPointer { z in
            decoded.withUnsafeMutableBufferPointer {
                engine.predict(network: network, input: z.baseAddress!, batch: 3, output: $0.baseAddress!,
                               layers: split..<network.layers.count)
            }
        }
        expectApproximatelyEqual(decoded, outputs.last!, relativeTolerance: 1e-6, "decoder half")
        expectApproximatelyEqual(try enginePredict(network: network, input: Self.input, workers: workers), outputs.last!,
                                 relativeTolerance: 1e-6, "whole network")
    }

    /// An inference-only workspace keeps two activation buffers, used in
    /// turn (a pass-through layer shares its input's): every range of layers,
    /// including ranges that start at a reshape, gives the training
    /// workspace's bits.
    @Test("an inference engine's two activation buffers give the training engine's bits, any range", arguments: [1, 2])
    func inferenceBuffersInTurn(workers: Int) throws {
        let network = try Self.network
        let outputs = try Self.layerOutputs(network, Self.input)
        let training = DataParallelEngine(network: network, batchCapacity: 3, workers: workers)
        let inference = DataParallelEngine(network: network, batchCapacity: 3, workers: workers, forInference: true)
        let count = network.layers.count
        for range in [0..<count, 0..<2, 1..<count, 2..<5, 4..<count, 4..<5] {
            let input = range.lowerBound == 0 ? Self.input : outputs[range.lowerBound - 1]
            func run(_ engine: DataParallelEngine) -> [Float] {
                var y = [Float](repeating: .nan, count: 3 * network.layers[range.upperBound - 1].outputCount)
                input.withUnsafeBufferPointer { x in
                    y.withUnsafeMutableBufferPointer {
                        engine.predict(network: network, input: x.baseAddress!, batch: 3, output: $0.baseAddress!, layers: range)
                    }
                }
                return y
            }
            #expect(run(inference) == run(training), "layers \(range)")
        }
    }

    @Test("forEachJob runs every job once, each worker with its own workspace", arguments: [1, 2, 3])
    func jobsRunOnce(workers: Int) throws {
        let engine = DataParallelEngine(network: try Self.network, batchCapacity: workers, workers: workers, forInference: true)
        for count in [0, 1, 2, 7, 40] {
            var runs = [Int](repeating: 0, count: count), worker = [Int](repeating: -1, count: count)
            var workspace = [ObjectIdentifier?](repeating: nil, count: count)
            runs.withUnsafeMutableBufferPointer { runs in
                worker.withUnsafeMutableBufferPointer { worker in
                    workspace.withUnsafeMutableBufferPointer { workspace in
                        engine.forEachJob(count) { index, w, space in
                            runs[index] += 1
                            worker[index] = w
                            workspace[index] = ObjectIdentifier(space)
                        }
                    }
                }
            }
            let eachOnce = runs.allSatisfy { $0 == 1 }, inRange = worker.allSatisfy { (0..<engine.workers).contains($0) }
            #expect(eachOnce, "\(count) jobs: \(runs)")
            #expect(inRange, "workers \(worker)")
            // One workspace per worker, never shared between two.
            var spaces: [Int: ObjectIdentifier] = [:]
            for (w, id) in zip(worker, workspace) {
                #expect(spaces[w, default: id!] == id!)
                spaces[w] = id!
            }
            #expect(Set(spaces.values).count == spaces.count)
        }
    }

    @Test("predict runs any number of examples, each worker a few at a time, with the same results", arguments: [1, 2])
    func predictManyExamples(workers: Int) throws {
        let network = try Self.network
        let input = randomTensor(shape: [21, 8, 8, 1], seed: 78)
        let expected = try Self.layerOutputs(network, input).last!
        // Capacity 2 per worker at most, 21 examples: shards of 10–21, each run in pieces.
        let engine = DataParallelEngine(network: network, batchCapacity: 2 * workers, workers: workers)
        var output = Tensor(repeating: .nan, shape: [21] + network.outputShape)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer {
                engine.predict(network: network, input: x.baseAddress!, batch: 21, output: $0.baseAddress!)
            }
        }
        expectApproximatelyEqual(output, expected, relativeTolerance: 1e-6, "21 examples through capacity \(2 * workers)")
    }

    @Test("pass-through layers (Flatten, Reshape) first, inside and at the start of a range")
    func passThroughLayers() throws {
        var rng = SplitMix64(seed: 79)
        let unflatten = try Reshape(name: "unflatten", inputShape: [64], outputShape: [8, 8, 1])
        let conv = try Conv2D(name: "conv", inputShape: [8, 8, 1], filters: 2, kernelSize: 3, stride: 2,
                              activation: .relu, using: &rng)
        let flatten = try Reshape.flatten(inputShape: conv.outputShape)
        let dense = try Dense(name: "dense", inputFeatures: 32, units: 64, activation: .sigmoid, using: &rng)
        let network = try Sequential([unflatten, conv, flatten, dense])
        #expect(network.layers.map(\.passesInputThrough) == [true, false, true, false])
        let input = randomTensor(shape: [3, 64], seed: 80), target = randomTensor(shape: [3, 64], seed: 81)
        let outputs = try Self.layerOutputs(network, input)
        expectApproximatelyEqual(try enginePredict(network: network, input: input, workers: 2), outputs.last!,
                                 relativeTolerance: 1e-6, "whole network")
        // A range that starts at the flatten: its input is the caller's, so it must be copied in.
        let engine = DataParallelEngine(network: network, batchCapacity: 3, workers: 1)
        var tail = Tensor(zeros: [3, 64])
        outputs[1].withUnsafeBufferPointer { x in
            tail.withUnsafeMutableBufferPointer {
                engine.predict(network: network, input: x.baseAddress!, batch: 3, output: $0.baseAddress!, layers: 2..<4)
            }
        }
        expectApproximatelyEqual(tail, outputs.last!, relativeTolerance: 1e-6, "range from the flatten")
        // Gradients skip the pass-through layers without losing ∂L/∂output.
        let expected = try Self.layerByLayerGradients(network, input, outputs, target)
        let (_, gradients) = try engineLossAndGradients(network: network, input: input, target: target, workers: 2)
        for (name, g) in expected {
            expectApproximatelyEqual(try #require(gradients[name]), g, relativeTolerance: 1e-5, absoluteTolerance: 1e-9, name)
        }
    }

    @Test("an engine reused with a smaller batch forgets the previous call's gradients")
    func engineReuse() throws {
        let network = try Self.network, input = Self.input, target = Self.target
        let engine = DataParallelEngine(network: network, batchCapacity: 3, workers: 2)
        func run(_ batch: Int) -> (Float, [String: Tensor]) {
            let loss = input.withUnsafeBufferPointer { x in
                target.withUnsafeBufferPointer { t in
                    engine.lossAndGradients(network: network, input: x.baseAddress!, target: t.baseAddress!, batch: batch)
                }
            }
            return (loss, gradientsByName(engine.gradients, network: network))
        }
        _ = run(3)
        let (loss, gradients) = run(1)   // one shard only: worker 1's stale gradients must not leak in
        let fresh = try engineLossAndGradients(network: network, input: input.slice(0..<1), target: target.slice(0..<1), workers: 1)
        #expect(abs(loss - fresh.loss) <= 1e-6 * fresh.loss)
        for name in network.parameterNames {
            expectApproximatelyEqual(try #require(gradients[name]), try #require(fresh.gradients[name]),
                                     relativeTolerance: 1e-5, absoluteTolerance: 1e-9, name)
        }
        _ = run(2)
        let (_, again) = run(3)
        let reference = try engineLossAndGradients(network: network, input: input, target: target, workers: 2)
        for name in network.parameterNames {
            #expect(again[name] == reference.gradients[name], "\(name): a second batch-3 call differs from a fresh engine's")
        }
    }

    @Test("the engine's gradients equal back-propagation through the layers' own backward")
    func engineMatchesLayerBackward() throws {
        let network = try Self.network, input = Self.input, target = Self.target
        let outputs = try Self.layerOutputs(network, input)
        let expected = try Self.layerByLayerGradients(network, input, outputs, target)
        let (loss, gradients) = try engineLossAndGradients(network: network, input: input, target: target, workers: 2)
        #expect(abs(loss - (try MeanSquaredError.loss(outputs.last!, target))) <= 1e-6 * loss)
        #expect(Set(gradients.keys) == Set(expected.keys))
        for (name, g) in expected {
            expectApproximatelyEqual(try #require(gradients[name]), g, relativeTolerance: 1e-5, absoluteTolerance: 1e-9, name)
        }
    }

    @Test("more workers than examples: the extra workers stay idle")
    func moreWorkersThanExamples() throws {
        let one = try engineLossAndGradients(network: try Self.network, input: Self.input.slice(0..<2), target: Self.target.slice(0..<2), workers: 1)
        let engine = DataParallelEngine(network: try Self.network, batchCapacity: 2, workers: 8)
        #expect(engine.workers == 2)
        #expect(engine.shards(of: 1) == [0..<1])
        #expect(engine.shards(of: 2) == [0..<1, 1..<2])
        let many = try engineLossAndGradients(network: try Self.network, input: Self.input.slice(0..<2), target: Self.target.slice(0..<2), workers: 8)
        #expect(abs(one.loss - many.loss) <= 1e-6 * one.loss)
        for name in try Self.network.parameterNames {
            expectApproximatelyEqual(try #require(many.gradients[name]), try #require(one.gradients[name]),
                                     relativeTolerance: 1e-5, absoluteTolerance: 1e-9, name)
        }
    }

    @Test("shards are contiguous, cover the batch and differ in size by at most one")
    func shards() throws {
        let engine = DataParallelEngine(network: try Self.network, batchCapacity: 32, workers: 3)
        for batch in 1...32 {
            let shards = engine.shards(of: batch)
            #expect(shards.first?.lowerBound == 0 && shards.last?.upperBound == batch)
            #expect(zip(shards, shards.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
            #expect(shards.allSatisfy { !$0.isEmpty })
            let sizes = shards.map(\.count)
            #expect(sizes.max()! - sizes.min()! <= 1, "batch \(batch): \(sizes)")
        }
    }
}
