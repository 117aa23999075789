import DAEKit

/// One training step of a network taken apart: batch fill, noise, zeroing
/// the gradients, each layer's forward, the loss, each layer's backward and
/// the Adam update, each timed (the "laps" of a step, in that order).
///
/// The layers, the loss and Adam are the library's own step, not a copy:
/// the pass one worker of `DenoisingAutoencoder.fit` runs
/// (`Sequential.sumOfSquaredErrorsAndGradients`, on a ``Workspace`` of the
/// library, reporting as each part ends) and the model's own optimizer step
/// (`DenoisingAutoencoder.applyOptimizer`). Batch fill and noise are the
/// benchmark's (from its synthetic images).
final class ProfiledStep {
    private var model: DenoisingAutoencoder
    private var network: Sequential { model.network }
    let batch: Int
    /// The library's own buffers for this network (outputs, scratch, gradients): the layout cannot drift.
    private let workspace: Workspace
    private let clean: FloatBuffer, noisy: FloatBuffer
    private let imageSize: Int

    init(model: DenoisingAutoencoder, batch: Int) {
        self.model = model
        self.batch = batch
        workspace = Workspace(network: model.network, batchCapacity: batch)
        imageSize = model.network.bareLayers[0].inputCount
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
        let count = network.bareLayers.count
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
        let outputCount = batch * network.bareLayers[count - 1].outputCount
        _ = network.sumOfSquaredErrorsAndGradients(input: noisy.readOnly, target: clean.readOnly, batch: batch,
                                                   normalizer: outputCount, workspace: workspace) { part in
            switch part {
            case .forward(let i): laps[Self.forwardPart(i)] = watch.lap()
            case .loss: laps[3 + count] = watch.lap()
            case .zeroGradients: laps[2] = watch.lap()
            case .backward(let i): laps[Self.backwardPart(i, layers: count)] = watch.lap()
            }
        }
        model.applyOptimizer(workspace.gradientStorage.baseAddress!)
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
