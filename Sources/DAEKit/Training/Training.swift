import Foundation

/// How ``DenoisingAutoencoder/fit(_:validation:options:progress:)-2kqu2`` trains.
public struct TrainingOptions: Sendable, Equatable, Codable {
    /// Epochs to run in this call.
    public var epochs: Int
    /// Images per Adam step (the last batch of an epoch may be smaller).
    public var batchSize: Int
    /// The corruption applied to the clean images to make the input.
    public var noise: NoiseModel
    /// Draw new noise every epoch (the default); `false` reproduces the
    /// tutorial, which corrupts the training set once.
    public var freshNoiseEachEpoch: Bool
    /// Shuffle the images every epoch (Keras's default).
    public var shuffle: Bool
    /// The seed of shuffling and noise. Every epoch's randomness is derived
    /// from `(seed, epoch)`, so resuming reproduces an uninterrupted run.
    public var seed: UInt64
    /// How the learning rate changes from epoch to epoch (constant by default, as Keras's).
    public var learningRateSchedule: LearningRateSchedule = .constant
    /// Run the stride-1 3×3 convolutions lowered to GEMMs (not the few-channel
    /// ones on direct loops: the photo models' 48- and 64-channel layers) as
    /// Winograd F(2×2, 3×3) in training too: the
    /// forward pass, the input gradient and the weight gradient
    /// (``Conv2D/withWinograd(_:)``): a step 2.3–3× as fast on the photo presets
    /// (Docs/Benchmarks.md, "Winograd in training"). Off by default: the
    /// results differ from im2col + GEMM's in the last bits, so a run must
    /// keep one setting from start to end to be resumed bit for bit; the
    /// validation loss then runs the same way.
    public var winogradConvolutions = false
    /// With ``winogradConvolutions``: run those convolutions' forward pass
    /// and input gradient as Winograd F(4×4, 3×3) instead, and their weight
    /// gradient in F(2×2, 3×3)'s Winograd domain
    /// (``Conv2D/withWinogradF4(_:gradients:f4WeightGradient:)``): 1.18–1.31× as fast per
    /// layer as F(2×2) (Docs/Benchmarks.md, "Winograd F(4×4, 3×3) in
    /// training"). Off by default; like ``winogradConvolutions``, a run keeps
    /// one setting from start to end to be resumed bit for bit.
    public var winogradF4 = false
    /// With ``winogradF4``: run the weight gradient in F(4×4, 3×3)'s own
    /// Winograd domain instead of F(2×2)'s (`f4WeightGradient` of
    /// ``Conv2D/withWinogradF4(_:gradients:f4WeightGradient:)``): each layer's
    /// three passes 1.2× as fast again (Docs/Benchmarks.md, "Winograd
    /// F(4×4, 3×3) in training"). Off by default, so that runs recorded
    /// with ``winogradF4`` alone resume with the same bits.
    public var winogradF4WeightGradient = false
    /// How much each image's squared error counts in the loss (``LossWeighting/uniform``,
    /// the mean squared error, by default). The reported training loss is the
    /// weighted one; the validation loss stays the plain mean squared error.
    public var lossWeighting: LossWeighting = .uniform

    /// Options; the defaults are the tutorial's (10 epochs, batch 32, its noise).
    public init(epochs: Int = 10, batchSize: Int = 32, noise: NoiseModel = .tutorial,
                freshNoiseEachEpoch: Bool = true, shuffle: Bool = true, seed: UInt64 = 0) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.noise = noise
        self.freshNoiseEachEpoch = freshNoiseEachEpoch
        self.shuffle = shuffle
        self.seed = seed
    }

    private enum CodingKeys: String, CodingKey {
        case epochs, batchSize, noise, freshNoiseEachEpoch, shuffle, seed, learningRateSchedule, winogradConvolutions, winogradF4
        case winogradF4WeightGradient, lossWeighting
    }

    /// Encodes options; `winogradConvolutions`, `winogradF4` and `winogradF4WeightGradient` only when on,
    /// and `lossWeighting` only when not uniform, so options without them encode as before.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epochs, forKey: .epochs)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(noise, forKey: .noise)
        try c.encode(freshNoiseEachEpoch, forKey: .freshNoiseEachEpoch)
        try c.encode(shuffle, forKey: .shuffle)
        try c.encode(seed, forKey: .seed)
        try c.encode(learningRateSchedule, forKey: .learningRateSchedule)
        if winogradConvolutions { try c.encode(true, forKey: .winogradConvolutions) }
        if winogradF4 { try c.encode(true, forKey: .winogradF4) }
        if winogradF4WeightGradient { try c.encode(true, forKey: .winogradF4WeightGradient) }
        if lossWeighting != .uniform { try c.encode(lossWeighting, forKey: .lossWeighting) }
    }

    /// Decodes options; `learningRateSchedule` may be absent (constant), `winogradConvolutions` too (off).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(epochs: try c.decode(Int.self, forKey: .epochs), batchSize: try c.decode(Int.self, forKey: .batchSize),
                  noise: try c.decode(NoiseModel.self, forKey: .noise),
                  freshNoiseEachEpoch: try c.decode(Bool.self, forKey: .freshNoiseEachEpoch),
                  shuffle: try c.decode(Bool.self, forKey: .shuffle), seed: try c.decode(UInt64.self, forKey: .seed))
        learningRateSchedule = try c.decodeIfPresent(LearningRateSchedule.self, forKey: .learningRateSchedule) ?? .constant
        winogradConvolutions = try c.decodeIfPresent(Bool.self, forKey: .winogradConvolutions) ?? false
        winogradF4 = try c.decodeIfPresent(Bool.self, forKey: .winogradF4) ?? false
        winogradF4WeightGradient = try c.decodeIfPresent(Bool.self, forKey: .winogradF4WeightGradient) ?? false
        lossWeighting = try c.decodeIfPresent(LossWeighting.self, forKey: .lossWeighting) ?? .uniform
    }

    /// Throws `DAEError/invalidArgument(_:)` for negative epochs (0 is a valid no-op), a non-positive batch size, bad noise,
    /// a bad schedule or bad loss weights.
    public func validate() throws {
        guard epochs >= 0 else { throw DAEError.invalidArgument("epochs must be non-negative, got \(epochs)") }
        guard batchSize > 0 else { throw DAEError.invalidArgument("batch size must be positive, got \(batchSize)") }
        try noise.validate()
        try learningRateSchedule.validate()
        try lossWeighting.validate()
    }
}

/// The learning rate of each epoch, as a factor of the optimizer's own.
///
/// The factor depends only on the epoch's number (counted over every `fit`
/// of the model), so a resumed run follows the same schedule as an
/// uninterrupted one.
///
/// ```swift
/// var options = TrainingOptions(epochs: 16, noise: .photoBlind)
/// options.learningRateSchedule = .cosine(epochs: 16, floor: 0.1)   // 1 → 0.1 over 16 epochs
/// ```
public enum LearningRateSchedule: Sendable, Equatable, Hashable, Codable {
    /// The optimizer's learning rate throughout.
    case constant
    /// Half a cosine from the full rate at epoch 1 down to `floor` times it at
    /// epoch `epochs` (and `floor` after): Adam's steps shrink over the last
    /// epochs, so the weights settle instead of ending wherever the last
    /// full-size steps left them.
    case cosine(epochs: Int, floor: Float)

    /// The factor for epoch `epoch` (from 1).
    public func factor(epoch: Int) -> Float {
        switch self {
        case .constant:
            return 1
        case let .cosine(epochs, floor):
            guard epochs > 1 else { return epoch >= 1 && epochs == 1 ? 1 : floor }
            let progress = min(max(Double(epoch - 1) / Double(epochs - 1), 0), 1)
            return floor + (1 - floor) * Float(0.5 * (1 + cos(Double.pi * progress)))
        }
    }

    /// Throws `DAEError/invalidArgument(_:)` for a non-positive epoch count or a floor outside [0, 1].
    public func validate() throws {
        if case let .cosine(epochs, floor) = self {
            guard epochs > 0, floor.isFinite, (0...1).contains(floor) else {
                throw DAEError.invalidArgument("a cosine schedule needs epochs > 0 and a floor in [0, 1], got \(epochs) and \(floor)")
            }
        }
    }
}

/// One epoch's figures.
public struct EpochRecord: Sendable, Equatable, Codable {
    /// The epoch's number, from 1, counted over every `fit` of the model.
    public var epoch: Int
    /// Mean training loss over the epoch's images (as Keras reports it).
    public var trainLoss: Float
    /// Loss on the validation set after the epoch, if one was given.
    public var validationLoss: Float?
    /// Wall-clock seconds of training (validation excluded).
    public var seconds: Double
    /// Training images per second.
    public var samplesPerSecond: Double
}

/// The per-epoch records of training.
public struct TrainingHistory: Sendable, Equatable, Codable {
    /// Records in epoch order.
    public var epochs: [EpochRecord] = []
    /// Creates an empty history.
    public init(epochs: [EpochRecord] = []) { self.epochs = epochs }
    /// The training losses.
    public var trainLosses: [Float] { epochs.map(\.trainLoss) }
    /// The validation losses (epochs without validation are skipped).
    public var validationLosses: [Float] { epochs.compactMap(\.validationLoss) }
}

/// What `fit` reports while it runs, for progress bars and logs.
public enum TrainingEvent: Sendable {
    /// After each Adam step: the epoch (from 1), the batch (from 1) of
    /// `batches`, the running mean loss of the epoch and the images per
    /// second so far in the epoch.
    case batch(epoch: Int, batch: Int, batches: Int, loss: Float, samplesPerSecond: Double)
    /// Validation of the epoch is starting.
    case validating(epoch: Int)
    /// An epoch ended (after validation).
    case epochEnd(EpochRecord)
}

/// A training engine with its batch buffers. The model keeps one across
/// `trainStep` calls (a reference so that each step need not rebuild
/// buffers); it is only touched from `mutating` methods after a uniqueness
/// check, so copies of a model never share it concurrently. `fit` uses its
/// own, released when it returns.
final class EngineBox: @unchecked Sendable {
    var engine: DataParallelEngine?
    /// The engine's gradients (after a step: summed over the workers), one flat buffer in parameter order.
    var gradients: UnsafePointer<Float> { engine!.gradients.baseAddress ?? Sequential.noParameters }
    /// The network's input, the target (first the clean images) and the
    /// corrupted images of one batch; `noisy` *is* the corrupted images for a
    /// model without a noise-level map (`corrupted` stays empty).
    var noisy: [Float] = []
    var clean: [Float] = []
    var corrupted: [Float] = []
    var output: [Float] = []

    /// Gives `body` the target, the network input and the corrupted images
    /// (the network input itself when the model has no noise-level map).
    func withBuffers<R>(_ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        try clean.withUnsafeMutableBufferPointer { clean in
            try noisy.withUnsafeMutableBufferPointer { noisy in
                if corrupted.isEmpty { return try body(clean.baseAddress!, noisy.baseAddress!, noisy.baseAddress!) }
                return try corrupted.withUnsafeMutableBufferPointer { try body(clean.baseAddress!, noisy.baseAddress!, $0.baseAddress!) }
            }
        }
    }

    /// Whether the engine runs batches of up to `capacity` with the worker count `workers` asks for.
    func fits(capacity: Int, workers: Int) -> Bool {
        guard let engine else { return false }
        return engine.batchCapacity >= capacity && engine.workers == min(workers, engine.batchCapacity)
    }

    /// (Re)builds the engine and the batch buffers for batches of up to
    /// `capacity` examples of `imageSize` floats (the network's input
    /// example has `inputSize`, more with a noise-level map).
    func build(network: Sequential, capacity: Int, workers: Int, imageSize: Int, inputSize: Int) {
        let engine = DataParallelEngine(network: network, batchCapacity: capacity, workers: workers)
        self.engine = engine
        noisy = [Float](repeating: 0, count: capacity * inputSize)
        clean = [Float](repeating: 0, count: capacity * imageSize)
        corrupted = inputSize == imageSize ? [] : [Float](repeating: 0, count: capacity * imageSize)
    }
}

extension DenoisingAutoencoder {
    /// The model's stored engine for batches of up to `capacity`, reused when possible.
    mutating func engine(capacity: Int) -> EngineBox {
        if !isKnownUniquelyReferenced(&trainingEngine) { trainingEngine = EngineBox() }
        if !trainingEngine.fits(capacity: capacity, workers: workers) {
            trainingEngine.build(network: network, capacity: capacity, workers: workers,
                                 imageSize: Tensor.elementCount(of: configuration.inputShape),
                                 inputSize: Tensor.elementCount(of: configuration.networkInputShape))
        }
        return trainingEngine
    }

    /// A new engine for batches of up to `capacity`, not stored in the model.
    func temporaryEngine(capacity: Int) -> EngineBox {
        let box = EngineBox()
        box.build(network: network, capacity: capacity, workers: workers,
                  imageSize: Tensor.elementCount(of: configuration.inputShape),
                  inputSize: Tensor.elementCount(of: configuration.networkInputShape))
        return box
    }

    /// The loss of the model on `noisy` → `clean` and its gradient for every parameter, by name.
    ///
    /// Both batches are `[n] + inputShape` with values in [0, 1]. For a
    /// residual model the loss is the mean squared error of the predicted
    /// noise against `noisy − clean`, which equals that of the unclipped
    /// output `noisy − prediction` against `clean`.
    public mutating func lossAndGradients(noisy: Tensor, clean: Tensor) throws -> (loss: Float, gradients: [String: Tensor]) {
        let (box, loss) = try computeGradients(noisy: noisy, clean: clean)
        return (loss, network.tensors(of: box.engine!.gradients))
    }

    /// One Adam step on a batch, like Keras's `train_on_batch`; returns the
    /// loss *before* the step. A non-finite loss throws and leaves the model unchanged.
    @discardableResult
    public mutating func trainStep(noisy: Tensor, clean: Tensor) throws -> Float {
        let (box, loss) = try computeGradients(noisy: noisy, clean: clean)
        guard loss.isFinite else {
            throw DAEError.nonFiniteLoss(epoch: epochsCompleted + 1, batch: 1, loss: loss)
        }
        applyOptimizer(box.gradients)
        return loss
    }

    private mutating func computeGradients(noisy: Tensor, clean: Tensor) throws -> (box: EngineBox, loss: Float) {
        try ImageValidation.check(noisy, imageShape: configuration.inputShape, what: "noisy batch")
        try ImageValidation.check(clean, imageShape: configuration.inputShape, what: "clean batch")
        try clean.checkShape(noisy.shape, "clean batch (must match the noisy batch)")
        let n = noisy.shape[0]
        let box = engine(capacity: n)
        let network = self.network
        // A residual model learns the noise: its target is noisy − clean.
        var target = clean
        if configuration.target == .noise {
            target.withUnsafeMutableBufferPointer { t in
                noisy.withUnsafeBufferPointer { Self.makeNoiseTarget(t.baseAddress!, noisy: $0.baseAddress!, count: t.count) }
            }
        }
        let input = try networkInput(noisy, noiseLevels: configuration.noiseMap ? Self.noiseLevels(noisy: noisy, clean: clean) : nil)
        let loss = input.withUnsafeBufferPointer { x in
            target.withUnsafeBufferPointer { t in
                box.engine!.lossAndGradients(network: network, input: x.baseAddress!, target: t.baseAddress!, batch: n)
            }
        }
        return (box, loss)
    }

    /// The noise std of each image of a `noisy`/`clean` pair, `√mean((noisy − clean)²)`:
    /// the noise-level map ``lossAndGradients(noisy:clean:)`` and
    /// ``trainStep(noisy:clean:)`` give a model that takes one.
    static func noiseLevels(noisy: Tensor, clean: Tensor) -> [Float] {
        let n = noisy.shape[0], size = noisy.count / max(n, 1)
        return (0..<n).map { image in
            var sum: Double = 0
            for i in (image * size)..<((image + 1) * size) {
                let d = Double(noisy.scalars[i] - clean.scalars[i])
                sum += d * d
            }
            return Float((sum / Double(max(size, 1))).squareRoot())
        }
    }

    /// `images` (`[n, h, w, c]`) as the network takes them: unchanged, or
    /// with the noise-level channel holding `noiseLevels[i]` for image `i`.
    func networkInput(_ images: Tensor, noiseLevels: [Float]?) throws -> Tensor {
        guard configuration.noiseMap, let noiseLevels else { return images }
        let (n, h, w, c) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        guard noiseLevels.count == n else {
            throw DAEError.invalidArgument("\(noiseLevels.count) noise levels for \(n) images")
        }
        var input = Tensor(zeros: [n, h, w, c + 1])
        images.withUnsafeBufferPointer { x in
            input.withUnsafeMutableBufferPointer { y in
                Self.attachNoiseMap(x.baseAddress!, levels: noiseLevels, pixelsPerImage: h * w, channels: c, into: y.baseAddress!)
            }
        }
        return input
    }

    /// One Adam update of every parameter from `gradient` (the engine's flat
    /// gradient buffer): one loop over the flat parameters, gradients and
    /// moments. `dae-bench profile` times this call.
    package mutating func applyOptimizer(_ gradient: UnsafePointer<Float>, learningRateFactor: Float = 1) {
        optimizer.apply(to: &network, gradient: gradient, learningRateFactor: learningRateFactor)
    }
}
