import DAEKit

/// One training step of a network taken apart: batch fill, noise, zeroing
/// the gradients, each layer's forward, the loss, each layer's backward and
/// the Adam update, each timed (the "laps" of a step, in that order).
///
/// It mirrors what `DenoisingAutoencoder.fit` does with one worker, on a
/// ``Workspace`` of the library (so its buffers are laid out exactly as the
/// engine's), through the public layer API.
final class ProfiledStep {
    private(set) var network: Sequential
    private var optimizer: Adam
    let batch: Int
    /// The library's own buffers for this network (outputs, scratch, gradients): the layout cannot drift.
    private let workspace: Workspace
    private var flatGradients: [UnsafeMutablePointer<Float>] { workspace.parameterGradients.flatMap { $0 } }
    private let clean: FloatBuffer, noisy: FloatBuffer
    private let imageSize: Int

    init(network: Sequential, optimizer: Adam, batch: Int) {
        self.network = network
        self.optimizer = optimizer
        self.batch = batch
        workspace = Workspace(network: network, batchCapacity: batch)
        imageSize = network.layers[0].inputCount
        clean = FloatBuffer(count: batch * imageSize)
        noisy = FloatBuffer(count: batch * imageSize)
    }

    // MARK: The laps of a step

    /// The parts outside the layers, with their lap index for a network of `layers` layers.
    static let segmentNames: [(String, @Sendable (Int) -> Int)] = [
        ("batch fill (bytes → floats)", { _ in 0 }),
        ("noise", { _ in 1 }),
        ("zero gradients", { _ in 2 }),
        ("loss (MSE and its gradient)", { layers in 3 + layers }),
        ("optimizer (Adam)", { layers in 4 + 2 * layers }),
    ]

    /// Lap index of layer `i`'s forward pass.
    static func forwardPart(_ i: Int) -> Int { 3 + i }
    /// Lap index of layer `i`'s backward pass, in a network of `layers` layers.
    static func backwardPart(_ i: Int, layers: Int) -> Int { 4 + layers + i }

    /// Runs one step on the images `indices` of `data` and returns the seconds of each lap.
    func step(data: ImageDataset, indices: some Collection<Int>, seed: UInt64) -> [Double] {
        let count = network.layers.count
        var laps = [Double](repeating: 0, count: 5 + 2 * count)
        var watch = Stopwatch()
        data.fill(indices, into: clean.pointer)
        laps[0] = watch.lap()
        noisy.copy(from: clean.readOnly, count: batch * imageSize)
        let root = SplitMix64(seed: seed)
        for (k, index) in indices.enumerated() {
            var rng = root.derived(stream: UInt64(index))
            NoiseModel.tutorial.apply(to: UnsafeMutableBufferPointer(start: noisy.pointer + k * imageSize, count: imageSize),
                                      using: &rng)
        }
        laps[1] = watch.lap()
        workspace.zeroGradients()
        laps[2] = watch.lap()
        var input = noisy.readOnly
        for i in 0..<count {
            // As Sequential: a pass-through layer (Flatten, Reshape) reuses its input's buffer and does no work.
            if !(network.layers[i].passesInputThrough && i > 0) {
                network.layers[i].forward(input, into: workspace.outputs[i], batch: batch, workspace: workspace.scratch[i])
            }
            input = UnsafePointer(workspace.outputs[i])
            laps[Self.forwardPart(i)] = watch.lap()
        }
        let outputCount = batch * network.layers[count - 1].outputCount
        _ = MeanSquaredError.sumOfSquaresAndGradient(prediction: workspace.outputs[count - 1], target: clean.readOnly,
                                                     count: outputCount, normalizer: outputCount,
                                                     gradient: workspace.outputGradient)
        laps[3 + count] = watch.lap()
        var (current, other) = (workspace.outputGradient, workspace.spareGradient)
        for i in (0..<count).reversed() {
            if network.layers[i].passesInputThrough && i > 0 {
                laps[Self.backwardPart(i, layers: count)] = watch.lap()
                continue
            }
            network.layers[i].backward(input: i == 0 ? noisy.readOnly : UnsafePointer(workspace.outputs[i - 1]),
                                       output: workspace.outputs[i], outputGradient: current,
                                       inputGradient: i == 0 ? nil : other, parameterGradients: workspace.parameterGradients[i],
                                       batch: batch, workspace: workspace.scratch[i])
            swap(&current, &other)
            laps[Self.backwardPart(i, layers: count)] = watch.lap()
        }
        // The library's own optimizer step (what DenoisingAutoencoder.applyOptimizer calls).
        optimizer.apply(to: &network, gradients: flatGradients)
        laps[4 + 2 * count] = watch.lap()
        return laps
    }

    /// The library's own forward + loss + backward on a batch
    /// (`DataParallelEngine.lossAndGradients`, 1 worker), for comparison
    /// with the sum of the layers' laps.
    func engineTiming(data: ImageDataset, settings: BenchmarkSettings) -> Timing {
        let engine = DataParallelEngine(network: network, batchCapacity: batch, workers: 1)
        data.fill(0..<batch, into: clean.pointer)
        noisy.copy(from: clean.readOnly, count: batch * imageSize)
        let network = self.network
        return measure(warmup: settings.warmup, repetitions: settings.repetitions) {
            _ = engine.lossAndGradients(network: network, input: noisy.readOnly, target: clean.readOnly, batch: batch)
        }
    }
}
