import Foundation

/// A convolutional denoising autoencoder, trained and run on the CPU with
/// its convolutions lowered to OpenBLAS GEMMs over the whole batch (im2col),
/// or run as direct loops where few channels make those faster.
///
/// ```swift
/// import DAEKit
///
/// var model = try DenoisingAutoencoder(configuration: .init(), seed: 42)
/// let history = try model.fit(trainingImages, validation: testImages,
///                             options: .init(epochs: 10, batchSize: 32))
/// let clean = try model.denoise(noisyBatch)        // [n, 28, 28, 1], values in [0, 1]
/// try model.save(to: URL(fileURLWithPath: "model.safetensors"))
/// ```
///
/// The model is a value: copies are independent, and a model can be
/// shared by any number of tasks calling ``denoise(_:)`` or the
/// ``latentSpace``'s `encode` and `decode` at once. Training (`mutating`) needs exclusive access,
/// as with any Swift value.
///
/// Parameters are named and laid out as Keras stores them (see
/// ``parameters``): `encoder.conv{i}.kernel` `[kh, kw, in, out]`,
/// `encoder.latent.kernel` `[in, out]`, `decoder.dense.*`,
/// `decoder.deconv{i}.kernel` `[kh, kw, out, in]`, `decoder.output.*`.
public struct DenoisingAutoencoder: Sendable {
    /// The architecture and optimizer settings.
    public let configuration: Configuration
    /// The layers, encoder then decoder.
    public internal(set) var network: Sequential
    /// The optimizer and its state (moments and step), saved in checkpoints.
    public internal(set) var optimizer: Adam
    /// Epochs of ``fit(_:validation:options:progress:)-2kqu2`` completed so far (kept in checkpoints for resuming).
    public internal(set) var epochsCompleted: Int = 0
    /// Per-epoch records of every ``fit(_:validation:options:progress:)-2kqu2`` so far.
    public internal(set) var history = TrainingHistory()
    /// The seed of the training run, fixed by the first `fit` and kept in checkpoints.
    public internal(set) var trainingSeed: UInt64?
    /// Strings an application keeps with the model (a tool's training
    /// settings, a data set's name): saved in the checkpoint's metadata under
    /// `app.<key>` and restored by ``init(contentsOf:)``; ``loadWeights(from:)`` clears them.
    public var applicationMetadata: [String: String] = [:]
    /// Threads that split each batch (one OpenBLAS thread each). Results are
    /// bit-identical for a fixed count; another count changes the order of
    /// sums. Defaults to the number of active cores.
    public var workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// How many images ``denoise(_:)`` and friends hand to the ``workers``
    /// at once (each worker then runs its share
    /// `DataParallelEngine.inferencePiece` images at a time, so its buffers
    /// stay in cache and small whatever this is). Results do not depend on it.
    public var inferenceBatchSize: Int = 256
    /// The training engine (buffers), rebuilt when the batch size or worker count changes.
    var trainingEngine = EngineBox()

    /// Index of the first decoder layer in ``network``.
    let decoderStart: Int

    /// A new model with Glorot-uniform kernels and zero biases drawn from `seed`.
    ///
    /// Throws `DAEError/invalidConfiguration(_:)` when the configuration cannot be built.
    public init<Seed: BinaryInteger>(configuration: Configuration = Configuration(), seed: Seed) throws {
        try configuration.validate()
        var rng = SplitMix64(seed: seed)
        let (network, decoderStart) = try Self.buildNetwork(configuration, using: &rng)
        self.configuration = configuration
        self.network = network
        self.decoderStart = decoderStart
        self.optimizer = Adam(settings: configuration.optimizer)
    }

    /// The layer stack of `configuration` (its ``Configuration/layerSpecs``),
    /// and where the decoder starts (the layer count for a model without one).
    static func buildNetwork(_ configuration: Configuration,
                             using rng: inout SplitMix64) throws -> (Sequential, decoderStart: Int) {
        let specs = configuration.layerSpecs
        let network = try specs.makeNetwork(input: configuration.networkInputShape, using: &rng)
        guard network.outputShape == configuration.inputShape else {
            throw DAEError.invalidConfiguration(
                "the \(configuration.hasLatentSpace ? "decoder" : "network") produces \(network.outputShape) for an input of \(configuration.inputShape)")
        }
        return (network, configuration.decoderStart ?? specs.count)
    }

    // MARK: - Parameters

    /// Every weight and bias by its Keras-style name, in Keras's layouts.
    public var parameters: [String: Tensor] { network.parameters }

    /// The parameter names in layer order.
    public var parameterNames: [String] { network.parameterNames }

    /// The number of trainable scalars (178 001 for the tutorial model).
    public var parameterCount: Int { network.parameterCount }

    /// Replaces one parameter; throws when there is none of that name or the shape differs.
    public mutating func setParameter(_ name: String, to value: Tensor) throws {
        try network.setParameter(name, to: value)
    }

    // MARK: - Inference

    /// Removes noise: runs the whole autoencoder on `batch` (`[n] + inputShape`,
    /// values in [0, 1]) and returns the reconstruction of the same shape.
    ///
    /// A ``Configuration/Architecture/residual`` model takes images of any
    /// size, `[n, height, width, channels]`: it runs tile by tile with a
    /// halo of its receptive radius, so the result equals one pass
    /// over the whole image, in memory bounded by the tile size.
    ///
    /// Throws `DAEError/invalidValue(_:reason:)` ("model output: …") when
    /// the model's output is not finite (finite but huge weights overflow):
    /// a wrong image is never returned as a result. The same holds for
    /// ``encode(_:)`` and ``decode(_:)``.
    ///
    /// A model with a noise-level map (``Configuration/noiseMap``) is told
    /// each image's noise std as ``NoiseLevelEstimator`` estimates it; use
    /// ``denoise(_:noiseLevel:)`` to set it.
    public func denoise(_ batch: Tensor) throws -> Tensor {
        try denoise(batch, noiseLevel: nil)
    }

    /// Removes noise of std `noiseLevel` (in [0, 1] units: 25/255 for σ 25)
    /// with a model that takes a noise-level map: a higher level removes
    /// more, a lower one keeps more detail. Nil estimates it per image
    /// (``estimatedNoiseLevels(_:)``). Other models ignore the level.
    ///
    /// - Throws: `DAEError/invalidArgument(_:)` for a level outside 0...1,
    ///   and the errors of ``denoise(_:)``.
    public func denoise(_ batch: Tensor, noiseLevel: Float?) throws -> Tensor {
        if let noiseLevel, !(0...1).contains(noiseLevel) {
            throw DAEError.invalidArgument("noise level \(noiseLevel) must be in [0, 1] (σ/255 for 8-bit images)")
        }
        if configuration.tilingStrategy == .haloTiles {
            let size = batch.rank == 4 ? [batch.shape[1], batch.shape[2]] : [1, 1]
            try ImageValidation.check(batch, imageShape: size + [configuration.inputShape[2]], what: "denoise input")
            let levels = noiseLevel.map { Array(repeating: $0, count: batch.shape[0]) } ?? estimatedNoiseLevels(batch)
            return try Self.requireFinite(residualDenoise(batch, noiseLevels: levels))
        }
        try ImageValidation.check(batch, imageShape: configuration.inputShape, what: "denoise input")
        return try run(batch, layers: network.bareLayers.indices)
    }

    /// The noise std ``NoiseLevelEstimator`` estimates for each image of
    /// `batch` (`[n, h, w, c]`, values in [0, 1]), as ``denoise(_:)`` uses it.
    public func estimatedNoiseLevels(_ batch: Tensor) -> [Float] {
        guard batch.rank == 4 else { return [] }
        let (n, h, w, c) = (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3])
        return batch.withUnsafeBufferPointer { x in
            (0..<n).map { image in
                NoiseLevelEstimator.estimate(UnsafeBufferPointer(rebasing: x[(image * h * w * c)..<((image + 1) * h * w * c)]),
                                             height: h, width: w, channels: c)
            }
        }
    }

    /// The `what` of the `DAEError/invalidValue(_:reason:)` thrown for a non-finite output.
    public static let nonFiniteOutputSubject = "model output"

    /// Runs `layers` on `input` in chunks of ``inferenceBatchSize``, across
    /// ``workers``, and checks that every output value is finite.
    func run(_ input: Tensor, layers range: Range<Int>) throws -> Tensor {
        let n = input.shape[0]
        let inCount = network.bareLayers[range.lowerBound].inputCount
        let outShape = network.bareLayers[range.upperBound - 1].outputShape
        let outCount = Tensor.elementCount(of: outShape)
        let chunk = max(1, min(inferenceBatchSize, n))
        // Each worker runs its share of a chunk a few images at a time: its workspace needs no more.
        let workers = min(workers, chunk)
        // Stride-1 3×3 convolutions as Winograd F(2×2, 3×3), kernels transformed once for the whole call.
        let network = network.withWinograd()
        let engine = DataParallelEngine(network: network, batchCapacity: workers * min(DataParallelEngine.inferencePiece, chunk),
                                        workers: workers, forInference: true)
        var output = Tensor(zeros: [n] + outShape)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                for start in stride(from: 0, to: n, by: chunk) {
                    let count = min(chunk, n - start)
                    engine.predict(network: network, input: x.baseAddress! + start * inCount, batch: count,
                                   output: y.baseAddress! + start * outCount, layers: range)
                }
            }
        }
        return try Self.requireFinite(output)
    }

    /// `output` (`[n, …]`), after checking that every value is finite.
    ///
    /// - Throws: `DAEError/invalidValue(_:reason:)` with ``nonFiniteOutputSubject``, naming the image.
    public static func requireFinite(_ output: Tensor) throws -> Tensor {
        if let index = output.scalars.firstIndex(where: { !$0.isFinite }) {
            let perImage = max(1, output.count / max(1, output.shape.first ?? 1))
            throw DAEError.invalidValue(
                nonFiniteOutputSubject, reason: "the model computed \(output.scalars[index]) for image \(index / perImage) "
                    + "(its weights overflow Float: finite but far too large); the model is unusable")
        }
        return output
    }
}
