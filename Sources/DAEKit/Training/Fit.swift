import Foundation

extension DenoisingAutoencoder {
    /// Trains on `train` (clean images; the input is `options.noise` applied
    /// to them) for `options.epochs` epochs and returns those epochs' records.
    ///
    /// Epochs are numbered across calls: a model loaded from a checkpoint
    /// after `k` epochs continues with epoch `k + 1`, with the same
    /// shuffling and noise an uninterrupted run would have drawn (for the
    /// same `options.seed` and ``workers``), so the weights come out
    /// bit-identical.
    ///
    /// - Parameters:
    ///   - train: clean images of the model's input shape.
    ///   - validation: clean images whose loss (with fixed noise) is measured after each epoch.
    ///   - options: epochs, batch size, noise, shuffling, seed, and whether
    ///     the convolutions run as Winograd (``TrainingOptions/winogradConvolutions``).
    ///   - progress: called after every batch and epoch; throwing from it
    ///     (e.g. on Ctrl-C) stops training after the current step.
    /// - Throws: `DAEError/nonFiniteLoss(epoch:batch:loss:)` when a loss is
    ///   NaN or infinite (the model keeps its last finite weights), shape
    ///   errors, or whatever `progress` throws.
    @discardableResult
    public mutating func fit(
        _ train: some ImageSource, validation: (any ImageSource)? = nil,
        options: TrainingOptions = TrainingOptions(),
        progress: ((TrainingEvent) throws -> Void)? = nil
    ) throws -> TrainingHistory {
        try options.validate()
        let shape = configuration.inputShape
        guard train.imageShape == shape else {
            throw DAEError.shapeMismatch("training images", expected: shape, actual: train.imageShape)
        }
        guard train.imageCount > 0 else { throw DAEError.invalidArgument("the training set is empty") }
        if let validation, validation.imageShape != shape {
            throw DAEError.shapeMismatch("validation images", expected: shape, actual: validation.imageShape)
        }
        try train.validatePixels("training images")
        try validation?.validatePixels("validation images")
        trainingSeed = options.seed
        if options.winogradConvolutions {
            // Kernels transformed here and after every Adam step (Layer.parametersDidChange); the
            // model's network goes back to im2col + GEMM when `fit` returns, so that nothing
            // else it runs (trainStep, a later fit without the option) changes.
            network = options.winogradF4
                ? network.withWinogradF4(gradients: true, f4WeightGradient: options.winogradF4WeightGradient)
                : network.withWinograd()
        }
        defer { if options.winogradConvolutions { network = network.withWinograd(false) } }
        let count = train.imageCount
        let batchSize = min(options.batchSize, count)
        try configuration.checkResources(batch: batchSize)  // the buffers of this batch size, before allocating them
        let batches = (count + batchSize - 1) / batchSize
        let imageSize = Tensor.elementCount(of: shape)
        let inputSize = Tensor.elementCount(of: configuration.networkInputShape)
        // The call's own engine: the workers' workspaces (about 20 MB for the
        // tutorial model at batch 32 on 2 workers) are freed when `fit` returns,
        // not kept alive by the model while it is evaluated or saved.
        let box = temporaryEngine(capacity: batchSize)
        var order = Array(0..<count)
        var records: [EpochRecord] = []
        let residual = configuration.target == .noise, noiseMap = configuration.noiseMap

        for _ in 0..<options.epochs {
            let epoch = epochsCompleted + 1
            if options.shuffle {
                var rng = RandomStreams.generator(seed: options.seed, .shuffle, epoch)
                for i in order.indices { order[i] = i }
                order.shuffle(using: &rng)
            }
            let noiseEpoch = options.freshNoiseEachEpoch ? epoch : 0
            let start = DispatchTime.now().uptimeNanoseconds
            var lossSum: Double = 0
            for b in 0..<batches {
                let indices = order[(b * batchSize)..<min((b + 1) * batchSize, count)]
                // The noise std each image's stream draws, once per batch: the noise map's and the loss weights' source.
                let levels = noiseMap || options.lossWeighting != .uniform
                    ? RandomStreams.noiseLevels(indices: indices, noise: options.noise, seed: options.seed, .trainingNoise,
                                                major: noiseEpoch) : []
                // Each image's loss weight (nil: all 1, the plain MSE).
                let weights = options.lossWeighting == .uniform ? nil : levels.map { options.lossWeighting.weight(noiseStd: $0) }
                let loss = box.withBuffers { clean, noisy, corrupted in
                    // Each worker converts and corrupts its own shard of the batch.
                    box.engine!.lossAndGradients(network: network, input: noisy, target: clean,
                                                 batch: indices.count, weights: weights) { shard in
                        let images = indices[(indices.startIndex + shard.lowerBound)..<(indices.startIndex + shard.upperBound)]
                        let offset = shard.lowerBound * imageSize
                        train.fill(images, epoch: epoch, into: clean + offset)
                        (corrupted + offset).update(from: clean + offset, count: shard.count * imageSize)
                        RandomStreams.corrupt(corrupted + offset, indices: images, imageSize: imageSize,
                                              noise: options.noise, seed: options.seed, .trainingNoise, major: noiseEpoch)
                        if noiseMap {
                            Self.attachNoiseMap(corrupted + offset, levels: levels[shard], pixelsPerImage: shape[0] * shape[1],
                                                channels: shape[2], into: noisy + shard.lowerBound * inputSize)
                        }
                        if residual { Self.makeNoiseTarget(clean + offset, noisy: corrupted + offset, count: shard.count * imageSize) }
                    }
                }
                guard loss.isFinite else { throw DAEError.nonFiniteLoss(epoch: epoch, batch: b + 1, loss: loss) }
                applyOptimizer(box.gradients, learningRateFactor: options.learningRateSchedule.factor(epoch: epoch))
                lossSum += Double(loss) * Double(indices.count)
                if let progress {
                    let seen = b * batchSize + indices.count
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    try progress(.batch(epoch: epoch, batch: b + 1, batches: batches, loss: Float(lossSum / Double(seen)),
                                        samplesPerSecond: Double(seen) / max(seconds, 1e-9)))
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            var validationLoss: Float?
            if let validation {
                try progress?(.validating(epoch: epoch))
                validationLoss = try self.validationLoss(validation, noise: options.noise, seed: options.seed, box: box)
            }
            let record = EpochRecord(epoch: epoch, trainLoss: Float(lossSum / Double(count)), validationLoss: validationLoss,
                                     seconds: seconds, samplesPerSecond: Double(count) / max(seconds, 1e-9))
            records.append(record)
            history.epochs.append(record)
            epochsCompleted = epoch
            try progress?(.epochEnd(record))
        }
        return TrainingHistory(epochs: records)
    }

    /// Writes the network input of a model with a noise-level map: each
    /// image of `images` (`levels.count` images of `channels`-channel
    /// pixels) with one more channel holding its noise std.
    static func attachNoiseMap(_ images: UnsafePointer<Float>, levels: some Collection<Float>, pixelsPerImage: Int, channels c: Int,
                               into input: UnsafeMutablePointer<Float>) {
        var from = images, to = input
        for level in levels {
            for _ in 0..<pixelsPerImage {
                to.update(from: from, count: c)
                to[c] = level
                from += c
                to += c + 1
            }
        }
    }

    /// Turns the clean images at `target` into the residual model's target, `noisy − clean`.
    static func makeNoiseTarget(_ target: UnsafeMutablePointer<Float>, noisy: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { target[i] = noisy[i] - target[i] }
    }

    /// The mean squared error on `images` corrupted by `noise` with a fixed
    /// stream per image (the same every epoch), using the training buffers.
    private func validationLoss(_ images: any ImageSource, noise: NoiseModel, seed: UInt64, box: EngineBox) throws -> Float {
        guard let engine = box.engine else { return .nan }
        let imageSize = Tensor.elementCount(of: configuration.inputShape)
        let chunk = engine.batchCapacity
        if box.output.count < chunk * imageSize { box.output = [Float](repeating: 0, count: chunk * imageSize) }
        var sum: Double = 0
        for start in stride(from: 0, to: images.imageCount, by: chunk) {
            let indices = start..<min(start + chunk, images.imageCount)
            box.withBuffers { clean, input, noisy in
                box.output.withUnsafeMutableBufferPointer { output in
                    images.fill(indices, into: clean)
                    noisy.update(from: clean, count: indices.count * imageSize)
                    RandomStreams.corrupt(noisy, indices: indices, imageSize: imageSize,
                                          noise: noise, seed: seed, .validationNoise, major: 0)
                    if configuration.noiseMap {
                        let levels = RandomStreams.noiseLevels(indices: indices, noise: noise, seed: seed, .validationNoise, major: 0)
                        let shape = configuration.inputShape
                        Self.attachNoiseMap(noisy, levels: levels, pixelsPerImage: shape[0] * shape[1], channels: shape[2], into: input)
                    }
                    engine.predict(network: network, input: configuration.noiseMap ? input : noisy, batch: indices.count,
                                   output: output.baseAddress!)
                    // A residual model's output is the noise: the image is noisy − output.
                    let residual = configuration.target == .noise
                    for i in 0..<(indices.count * imageSize) {
                        let prediction = residual ? noisy[i] - output[i] : output[i]
                        let d = Double(prediction - clean[i])
                        sum += d * d
                    }
                }
            }
        }
        return Float(sum / Double(images.imageCount * imageSize))
    }
}
