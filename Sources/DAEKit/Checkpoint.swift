import Foundation

/// The checkpoint format: safetensors with the weights under their Keras
/// names and layouts, the configuration and training state in
/// `__metadata__`, and Adam's moments under `optimizer.adam.m.<name>` /
/// `optimizer.adam.v.<name>`.
enum CheckpointKeys {
    static let format = "format"
    static let formatValue = "DAEKit checkpoint"
    static let formatVersion = "format_version"
    static let configuration = "configuration"
    static let architecture = "architecture"
    static let optimizerStep = "optimizer_step"
    static let epochsCompleted = "epochs_completed"
    static let trainingSeed = "training_seed"
    static let history = "history"
    static func firstMoment(_ name: String) -> String { "optimizer.adam.m.\(name)" }
    static func secondMoment(_ name: String) -> String { "optimizer.adam.v.\(name)" }
}

extension DenoisingAutoencoder {
    /// Writes a checkpoint (safetensors): weights, configuration, Adam state
    /// and training progress, so that ``init(contentsOf:)`` followed by
    /// `fit` continues exactly where this model stopped.
    ///
    /// The write is atomic: the file is written under a temporary name in
    /// the same directory, flushed to disk and renamed over `url`; a crash
    /// or error never leaves a partial file in its place.
    public func save(to url: URL) throws {
        var tensors = parameters
        for (name, moment) in optimizer.firstMoments { tensors[CheckpointKeys.firstMoment(name)] = moment }
        for (name, moment) in optimizer.secondMoments { tensors[CheckpointKeys.secondMoment(name)] = moment }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var metadata: [String: String] = [
            CheckpointKeys.format: CheckpointKeys.formatValue,
            CheckpointKeys.formatVersion: "1",
            CheckpointKeys.configuration: String(decoding: try encoder.encode(configuration), as: UTF8.self),
            CheckpointKeys.architecture: configuration.architectureJSON,
            CheckpointKeys.optimizerStep: String(optimizer.step),
            CheckpointKeys.epochsCompleted: String(epochsCompleted),
            CheckpointKeys.history: String(decoding: try encoder.encode(history), as: UTF8.self),
        ]
        if let trainingSeed { metadata[CheckpointKeys.trainingSeed] = String(trainingSeed) }
        try SafetensorsFile(tensors: tensors, metadata: metadata).write(to: url)
    }

    /// Loads a model from a checkpoint: its configuration from the metadata
    /// (`configuration`, or a Keras-style `architecture`), its weights, and
    /// its optimizer state and training progress when present.
    public init(contentsOf url: URL) throws {
        let file = try SafetensorsFile(contentsOf: url)
        let path = url.path
        let configuration = try Self.configuration(in: file, path: path)
        do {
            try configuration.validate()
            try Self.checkWeightsFit(configuration, in: file, path: path)
            try self.init(configuration: configuration, seed: 0)
        } catch let DAEError.invalidConfiguration(reason) {
            throw DAEError.corruptFile(path: path, reason: "its configuration cannot be built: \(reason)")
        }
        try loadWeights(from: file, path: path)
        try restoreTrainingState(from: file, path: path)
    }

    /// Replaces the weights with those in a safetensors file, found by their
    /// Keras names (a file with only weights, as another framework writes
    /// it, is enough; other tensors are ignored). Resets the optimizer and
    /// the training progress.
    ///
    /// Throws `DAEError/missingTensor(name:path:)` or a shape mismatch
    /// naming the file and tensor when the file belongs to another model;
    /// the model is unchanged then.
    public mutating func loadWeights(from url: URL) throws {
        try loadWeights(from: SafetensorsFile(contentsOf: url), path: url.path)
    }

    private mutating func loadWeights(from file: SafetensorsFile, path: String) throws {
        var updated = network
        for name in network.parameterNames {
            guard let tensor = file.tensors[name] else { throw DAEError.missingTensor(name: name, path: path) }
            do {
                try updated.setParameter(name, to: tensor)
            } catch DAEError.shapeMismatch(_, let expected, let actual) {
                throw DAEError.shapeMismatch("\(path): tensor '\(name)' (a checkpoint of another configuration?)",
                                             expected: expected, actual: actual)
            }
            if let index = tensor.scalars.firstIndex(where: { !$0.isFinite }) {
                throw DAEError.corruptFile(path: path, reason: "tensor '\(name)' holds a non-finite value at element \(index)")
            }
        }
        network = updated
        optimizer = Adam(settings: configuration.optimizer)
        epochsCompleted = 0
        history = TrainingHistory()
        trainingSeed = nil
    }

    private mutating func restoreTrainingState(from file: SafetensorsFile, path: String) throws {
        let metadata = file.metadata
        if let text = metadata[CheckpointKeys.optimizerStep] {
            guard let step = Int(text), step >= 0 else {
                throw DAEError.corruptFile(path: path, reason: "metadata '\(CheckpointKeys.optimizerStep)' is not a step count: \(text)")
            }
            var first: [String: Tensor] = [:], second: [String: Tensor] = [:]
            if step > 0 {
                for (name, weights) in parameters {
                    let mName = CheckpointKeys.firstMoment(name), vName = CheckpointKeys.secondMoment(name)
                    guard let m = file.tensors[mName] else { throw DAEError.missingTensor(name: mName, path: path) }
                    guard let v = file.tensors[vName] else { throw DAEError.missingTensor(name: vName, path: path) }
                    try m.checkShape(weights.shape, "\(path): tensor '\(mName)'")
                    try v.checkShape(weights.shape, "\(path): tensor '\(vName)'")
                    first[name] = m
                    second[name] = v
                }
            }
            optimizer = try Adam(settings: configuration.optimizer, step: step, firstMoments: first, secondMoments: second)
        }
        if let text = metadata[CheckpointKeys.epochsCompleted] {
            guard let epochs = Int(text), epochs >= 0 else {
                throw DAEError.corruptFile(path: path, reason: "metadata '\(CheckpointKeys.epochsCompleted)' is not an epoch count: \(text)")
            }
            epochsCompleted = epochs
        }
        if let text = metadata[CheckpointKeys.trainingSeed] {
            guard let seed = UInt64(text) else {
                throw DAEError.corruptFile(path: path, reason: "metadata '\(CheckpointKeys.trainingSeed)' is not a seed: \(text)")
            }
            trainingSeed = seed
        }
        if let text = metadata[CheckpointKeys.history] {
            do {
                history = try JSONDecoder().decode(TrainingHistory.self, from: Data(text.utf8))
            } catch {
                throw DAEError.corruptFile(path: path, reason: "metadata '\(CheckpointKeys.history)' is not a training history")
            }
        }
    }

    /// Throws unless the file holds at least as many tensor elements as the
    /// configuration has weights, so that a small file claiming a huge model
    /// is rejected before the model is allocated (its weights must all be in
    /// the file, so the check never rejects a loadable checkpoint).
    static func checkWeightsFit(_ configuration: Configuration, in file: SafetensorsFile, path: String) throws {
        let needed = configuration.checkedParameterCount()
        let held = file.tensors.values.reduce(0) { $0 + $1.count }
        guard let needed, needed <= held else {
            throw DAEError.corruptFile(
                path: path, reason: "its configuration needs \(needed.map(String.init) ?? "more than Int.max") weights "
                    + "but the file holds only \(held) tensor elements")
        }
    }

    /// The configuration stated in a file's metadata.
    static func configuration(in file: SafetensorsFile, path: String) throws -> Configuration {
        if let text = file.metadata[CheckpointKeys.configuration] {
            do {
                return try JSONDecoder().decode(Configuration.self, from: Data(text.utf8))
            } catch {
                throw DAEError.corruptFile(path: path, reason: "metadata 'configuration' is not a model configuration")
            }
        }
        if let text = file.metadata[CheckpointKeys.architecture] {
            return try Configuration(architectureJSON: text, path: path)
        }
        throw DAEError.corruptFile(path: path, reason: "no 'configuration' or 'architecture' in the metadata: not a model checkpoint")
    }
}

extension DenoisingAutoencoder.Configuration {
    /// The number of weights of the network this (validated) configuration
    /// builds, computed without allocating anything; nil when it overflows `Int`.
    /// Call it on a validated configuration (positive sizes).
    func checkedParameterCount() -> Int? {
        guard inputShape.count == 3, kernelSize > 0, stride > 0 else { return nil }
        var total = 0, overflow = false
        func add(_ terms: Int...) {
            var product = 1
            for term in terms {
                let (next, o) = product.multipliedReportingOverflow(by: term)
                product = next
                overflow = overflow || o
            }
            let (sum, o) = total.addingReportingOverflow(product)
            total = sum
            overflow = overflow || o
        }
        let k = kernelSize
        var (height, width, channels) = (inputShape[0], inputShape[1], inputShape[2])
        if architecture == .residual {
            for filters in layerFilters + [inputShape[2]] {  // Conv2D kernels [k, k, in, out] and biases
                add(k, k, channels, filters)
                add(filters)
                channels = filters
            }
            return overflow ? nil : total
        }
        for filters in layerFilters { // Conv2D kernels [k, k, in, out] and biases
            add(k, k, channels, filters)
            add(filters)
            channels = filters
            height = (height + stride - 1) / stride
            width = (width + stride - 1) / stride
        }
        let (area, o1) = height.multipliedReportingOverflow(by: width)
        let (features, o2) = area.multipliedReportingOverflow(by: channels)
        overflow = overflow || o1 || o2
        add(features, latentDim); add(latentDim)  // encoder.latent
        add(latentDim, features); add(features)   // decoder.dense
        for filters in layerFilters.reversed() {  // Conv2DTranspose kernels [k, k, out, in] and biases
            add(k, k, filters, channels)
            add(filters)
            channels = filters
        }
        add(k, k, inputShape[2], channels)        // decoder.output
        add(inputShape[2])
        return overflow ? nil : total
    }
}
