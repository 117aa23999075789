import DAEFiles
import Foundation

/// The checkpoint format: safetensors with the weights under their Keras
/// names and layouts, the configuration and training state in
/// `__metadata__`, and Adam's moments under `optimizer.adam.m.<name>` /
/// `optimizer.adam.v.<name>`.
enum CheckpointKeys {
    static let format = "format"
    static let formatValue = "DAEKit checkpoint"
    static let formatVersion = "format_version"
    /// The newest `format_version` this reader understands (and the one it writes).
    static let currentFormatVersion = 1
    static let configuration = "configuration"
    static let architecture = "architecture"
    static let optimizerStep = "optimizer_step"
    static let epochsCompleted = "epochs_completed"
    static let trainingSeed = "training_seed"
    static let history = "history"
    /// The prefix of ``DenoisingAutoencoder/applicationMetadata``'s keys.
    static let applicationPrefix = "app."
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
        try write(to: url, optimizerState: true)
    }

    /// Writes the model for use, not for further training: the weights,
    /// the configuration, the history and the application metadata, without
    /// Adam's moments (a third of the size of ``save(to:)``'s file). It loads
    /// with ``init(contentsOf:)`` like any checkpoint; training it again
    /// starts a fresh optimizer. The built-in models ship this way.
    public func saveForInference(to url: URL) throws {
        try write(to: url, optimizerState: false)
    }

    private func write(to url: URL, optimizerState: Bool) throws {
        var tensors = parameters
        if optimizerState {
            for (name, moment) in optimizer.firstMoments { tensors[CheckpointKeys.firstMoment(name)] = moment }
            for (name, moment) in optimizer.secondMoments { tensors[CheckpointKeys.secondMoment(name)] = moment }
        }
        var metadata: [String: String] = [
            CheckpointKeys.format: CheckpointKeys.formatValue,
            CheckpointKeys.formatVersion: String(CheckpointKeys.currentFormatVersion),
            CheckpointKeys.configuration: try JSONCoding.string(configuration),
            CheckpointKeys.architecture: configuration.architectureJSON,
            CheckpointKeys.optimizerStep: String(optimizerState ? optimizer.step : 0),
            CheckpointKeys.epochsCompleted: String(epochsCompleted),
            CheckpointKeys.history: try JSONCoding.string(history),
        ]
        if let trainingSeed { metadata[CheckpointKeys.trainingSeed] = String(trainingSeed) }
        for (key, value) in applicationMetadata { metadata[CheckpointKeys.applicationPrefix + key] = value }
        try SafetensorsFile(tensors: tensors, metadata: metadata).write(to: url)
    }

    /// Loads a model from a checkpoint: its configuration from the metadata
    /// (`configuration`, or a Keras-style `architecture`), its weights, and
    /// its optimizer state and training progress when present.
    ///
    /// A weights-only file (another framework's, under DAEKit's names) loads
    /// too: its architecture is inferred from the tensor names and shapes,
    /// see ``load(contentsOf:inputShape:)``, which also says what it inferred.
    public init(contentsOf url: URL) throws {
        try self.init(checkpoint: SafetensorsFile(contentsOf: url), path: url.path)
    }

    /// Loads a model from a parsed checkpoint; `path` names it in errors (the
    /// fuzz target's entry). Without a configuration in the metadata, the
    /// architecture is inferred from the weights.
    init(checkpoint file: SafetensorsFile, path: String) throws {
        self = try Self.load(file, path: path, inputShape: nil).model
    }

    /// The model of a checkpoint whose metadata states its configuration.
    init(statedCheckpoint file: SafetensorsFile, path: String) throws {
        try Self.checkFormatVersion(of: file, path: path)
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

    mutating func loadWeights(from file: SafetensorsFile, path: String) throws {
        try loadWeights(path: path) { file.tensors[$0] }
    }

    /// Replaces the weights with another model's, found by their Keras
    /// names: how a run starts from trained weights (fine-tuning; the
    /// built-in gray model starts from ``grayscale()`` of the colour one).
    /// The other model's training size may differ (a residual model's
    /// weights do not depend on it). Resets the optimizer and the training
    /// progress, as ``loadWeights(from:)`` does.
    ///
    /// Throws `DAEError/missingTensor(name:path:)` or a shape mismatch when
    /// `other` is another architecture; the model is unchanged then.
    public mutating func loadWeights(of other: DenoisingAutoencoder) throws {
        let weights = other.network.parameters
        try loadWeights(path: "the model given") { weights[$0] }
    }

    /// Sets every parameter from `tensor(name)`, checking shapes and finiteness, and resets the training state.
    private mutating func loadWeights(path: String, _ tensor: (String) -> Tensor?) throws {
        var updated = network
        for name in network.parameterNames {
            guard let tensor = tensor(name) else { throw DAEError.missingTensor(name: name, path: path) }
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
        applicationMetadata = [:]
    }

    private mutating func restoreTrainingState(from file: SafetensorsFile, path: String) throws {
        let metadata = file.metadata
        for (key, value) in metadata where key.hasPrefix(CheckpointKeys.applicationPrefix) {
            applicationMetadata[String(key.dropFirst(CheckpointKeys.applicationPrefix.count))] = value
        }
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
            do {
                optimizer = try Adam(settings: configuration.optimizer, step: step, firstMoments: first, secondMoments: second)
            } catch let DAEError.invalidArgument(reason) {
                throw DAEError.corruptFile(path: path, reason: "optimizer state: \(reason)")
            }
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
                history = try JSONCoding.decode(TrainingHistory.self, from: text)
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

    /// Throws unless the file's `format_version` (when present) is one this
    /// reader knows: a newer writer may have changed what the fields mean.
    static func checkFormatVersion(of file: SafetensorsFile, path: String) throws {
        guard let text = file.metadata[CheckpointKeys.formatVersion] else { return }
        guard let version = Int(text), version >= 1 else {
            throw DAEError.corruptFile(path: path, reason: "metadata '\(CheckpointKeys.formatVersion)' is not a version number: \(text.prefix(40))")
        }
        guard version <= CheckpointKeys.currentFormatVersion else {
            throw DAEError.corruptFile(
                path: path, reason: "checkpoint format version \(version) is newer than this reader knows "
                    + "(\(CheckpointKeys.currentFormatVersion)); use a newer version of DAEKit")
        }
    }

    /// The configuration stated in a file's metadata. Fields its kind cannot
    /// have (a residual model's stride 2) are refused with the words of a
    /// configuration that cannot be built, as when ``Configuration/validate()``
    /// checked them.
    static func configuration(in file: SafetensorsFile, path: String) throws -> Configuration {
        func unbuildable(_ reason: String) -> DAEError {
            DAEError.corruptFile(path: path, reason: "its configuration cannot be built: \(reason)")
        }
        if let text = file.metadata[CheckpointKeys.configuration] {
            do {
                return try JSONCoding.decode(Configuration.self, from: text)
            } catch let DAEError.invalidConfiguration(reason) {
                throw unbuildable(reason)
            } catch {
                throw DAEError.corruptFile(path: path, reason: "metadata 'configuration' is not a model configuration")
            }
        }
        if let text = file.metadata[CheckpointKeys.architecture] {
            do {
                return try Configuration(architectureJSON: text, path: path)
            } catch let DAEError.invalidConfiguration(reason) {
                throw unbuildable(reason)
            }
        }
        throw DAEError.corruptFile(path: path, reason: "no 'configuration' or 'architecture' in the metadata: not a model checkpoint")
    }
}
