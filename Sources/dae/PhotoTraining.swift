import DAEKit
import Foundation

/// The patch settings of a photo training run, recorded in the checkpoint for `--resume`.
struct PhotoRecipe: Codable, Equatable {
    var patchSize: Int
    var patchesPerEpoch: Int
    var augment: Bool
    var validationFiles: Int
    var channels: Int
    /// The patch scales; absent in the records of runs before scales existed (full size only).
    var scales: [Int]? = nil
    /// The epochs of the cosine learning-rate decay (the first run's `--epochs`); absent: constant.
    var decayEpochs: Int? = nil
    /// The identity of the image folder the first run trained on (``folderIdentity(of:)``);
    /// absent in the records of runs before it existed (then not checked).
    var folderIdentity: String? = nil
    /// The file a run started from (`--initial-weights`): its name and SHA-256; absent for random weights.
    var initialWeights: String? = nil
    /// The fraction of patches made gray (`--gray-patches`); absent: none.
    var grayFraction: Double? = nil
    /// How each patch's squared error counts (`--loss-weighting`); absent: uniform.
    var lossWeighting: LossWeighting? = nil
    /// The placements each patch is chosen from (`--texture-candidates`); absent: 1.
    var textureCandidates: Int? = nil
    /// Whether each colour patch's channels were put in a random order (`--permute-channels`); absent: no.
    var permuteChannels: Bool? = nil

    /// Names and byte sizes of every file of `folder`, hashed (FNV-1a, 64 bits):
    /// another file, one file fewer, or a file changed in size gives another identity.
    static func folderIdentity(of folder: ImageFolder) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for file in folder.files {
            let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? -1
            for byte in "\(file.name)\t\(size)\n".utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
        }
        return "\(folder.files.count) files, fnv1a64 " + String(hash, radix: 16)
    }

    /// The photo model's learning-rate decay: to a tenth of Adam's rate over `epochs`.
    static func schedule(epochs: Int?) -> LearningRateSchedule {
        epochs.map { .cosine(epochs: $0, floor: 0.1) } ?? .constant
    }
}

/// `dae train --images DIR`: a folder of photographs, cut into patches; the
/// patch settings are recorded in the checkpoint and must agree on `--resume`.
struct PhotoTrainingData: TrainingData {
    let train: Train
    let directory: String
    private var data: PhotoData?
    /// The weights a new run starts from (`--initial-weights`), converted to gray when the run is gray.
    private var initial: DenoisingAutoencoder?
    /// Whether ``initial`` is a colour model converted to gray.
    private var convertedToGray = false

    init(train: Train, directory: String) {
        self.train = train
        self.directory = directory
    }

    func checkResumable(_ loaded: DenoisingAutoencoder, at url: URL) throws {
        guard loaded.configuration.tilingStrategy == .haloTiles else {
            throw CLIError("\(url.path) holds an autoencoder, not a photo model: resume it without --images")
        }
    }

    mutating func prepare(recorded: TrainingRecipe?, model: DenoisingAutoencoder?, checkpoint: URL) throws
        -> (recipe: TrainingRecipe, configuration: DenoisingAutoencoder.Configuration) {
        // Flags given now must agree with the first run's; omitted ones take its values.
        var options = train.photos
        var weighting = options.lossWeighting?.weighting ?? .uniform
        if let photo = recorded?.photo {
            try Self.agree("--patch-size", options.patchSize, photo.patchSize)
            try Self.agree("--patches-per-epoch", options.patchesPerEpoch, photo.patchesPerEpoch)
            try Self.agree("--validation-files", options.validationFiles, photo.validationFiles)
            try Self.agree("--channels", options.channels, photo.channels)
            if options.noAugment && photo.augment { throw CLIError("--no-augment differs from the first run, which flipped and rotated its patches") }
            options.patchSize = photo.patchSize
            options.patchesPerEpoch = photo.patchesPerEpoch
            options.validationFiles = photo.validationFiles
            options.channels = photo.channels
            options.noAugment = !photo.augment
            let scales = photo.scales ?? [1]
            if let given = options.patchScales, given != scales {
                throw CLIError("--patch-scales \(given.map(String.init).joined(separator: ",")) differs from the first run's "
                    + "\(scales.map(String.init).joined(separator: ",")); omit it to resume with the same result as an uninterrupted run")
            }
            options.patchScales = scales
            let gray = photo.grayFraction ?? 0
            if let given = options.grayPatches, given != gray {
                throw CLIError("--gray-patches \(given) differs from the first run's \(gray); omit it to resume with the same result as an uninterrupted run")
            }
            options.grayPatches = gray
            let candidates = photo.textureCandidates ?? 1
            if let given = options.textureCandidates, given != candidates {
                throw CLIError("--texture-candidates \(given) differs from the first run's \(candidates); omit it to resume with the same result as an uninterrupted run")
            }
            options.textureCandidates = candidates
            let permuted = photo.permuteChannels ?? false
            if options.permuteChannels && !permuted {
                throw CLIError("--permute-channels differs from the first run, which kept the channels in order; "
                    + "omit it to resume with the same result as an uninterrupted run")
            }
            options.permuteChannels = permuted
            // The recorded weighting itself is kept (its constants), whatever the flag's are now.
            weighting = photo.lossWeighting ?? .uniform
            if let given = options.lossWeighting, given != LossWeightingKind(weighting) {
                throw CLIError("--loss-weighting \(given.rawValue) differs from the first run's (\(weighting)); "
                    + "omit it to resume with the same result as an uninterrupted run")
            }
        } else if let model {
            options.channels = options.channels ?? model.configuration.inputShape[2]
            options.patchSize = options.patchSize ?? model.configuration.inputShape[0]
        }
        let data = try options.load(directory)
        self.data = data
        let identity = PhotoRecipe.folderIdentity(of: data.folder)
        if let first = recorded?.photo?.folderIdentity, first != identity, !train.photos.acceptChangedImages {
            throw CLIError("\(data.folder.root.path) is not the folder the first run trained on (then \(first), now \(identity)): "
                + "a resumed run would not match an uninterrupted one; give the same folder, or --accept-changed-images")
        }
        var recipe = try TrainingRecipe.merge(
            recorded: recorded, checkpointSeed: model?.trainingSeed,
            batchSize: train.batchSize, noise: NoiseModel.photoBlind, limit: nil, workers: train.workers.workers, seed: train.seed,
            winograd: train.winograd, winogradF4: train.winogradF4, winogradF4WeightGradient: train.winogradF4WeightGradient)
        let initialWeights = try recorded?.photo?.initialWeights ?? loadInitialWeights(channels: data.folder.channels)
        recipe.photo = PhotoRecipe(patchSize: data.patches.patchSize, patchesPerEpoch: data.patches.patchesPerEpoch,
                                   augment: data.patches.augment, validationFiles: data.validation.count, channels: data.folder.channels,
                                   scales: data.patches.scales,
                                   // A new run decays over its --epochs; a resumed one keeps what its first run recorded.
                                   decayEpochs: recorded?.photo.map { $0.decayEpochs } ?? (model == nil ? train.epochs : nil),
                                   folderIdentity: recorded?.photo?.folderIdentity ?? identity,
                                   initialWeights: initialWeights,
                                   grayFraction: data.patches.grayFraction > 0 ? data.patches.grayFraction : nil,
                                   lossWeighting: weighting == .uniform ? nil : weighting,
                                   textureCandidates: data.patches.textureCandidates > 1 ? data.patches.textureCandidates : nil,
                                   permuteChannels: data.patches.permuteChannels ? true : nil)
        if let model, let preset = options.preset {
            var named = preset.configuration(channels: model.configuration.inputShape[2])
            named.inputShape = model.configuration.inputShape
            named.optimizer = model.configuration.optimizer  // --learning-rate is the first run's choice, not the architecture
            guard named == model.configuration else {
                throw CLIError("--preset \(preset.rawValue) differs from the checkpoint's architecture; omit it to resume")
            }
        }
        var configuration = (options.preset ?? .photo).configuration(channels: data.folder.channels)
        configuration.inputShape = [data.patches.patchSize, data.patches.patchSize, data.folder.channels]
        if let rate = options.learningRate { configuration.optimizer.learningRate = rate }
        if let model, model.configuration.inputShape != configuration.inputShape {
            throw CLIError("the checkpoint's patches are \(model.configuration.inputShape), these flags ask for \(configuration.inputShape)")
        }
        return (recipe, configuration)
    }

    /// Reads `--initial-weights` for a new run of `channels`: the model
    /// (a colour one converted to gray for a gray run, ``DenoisingAutoencoder/grayscale()``),
    /// kept for ``start(_:)``, and the file's name and SHA-256 for the record.
    private mutating func loadInitialWeights(channels: Int) throws -> String? {
        guard let path = train.photos.initialWeights else { return nil }
        var model = try ModelFile.load(path, flag: "--initial-weights")
        if channels == 1, model.configuration.inputShape.count == 3, model.configuration.inputShape[2] == 3 {
            model = try model.grayscale()
            convertedToGray = true
        }
        initial = model
        let url = FileSystem.url(path)
        return "\(url.lastPathComponent), sha256 \(MNISTFiles.sha256(try Data(contentsOf: url)))"
    }

    func start(_ model: inout DenoisingAutoencoder) throws {
        guard var initial else { return }
        // A shallower residual model of the same kind deepens to this run's depth (identity layers, the same outputs).
        var deepenedFrom: Int?
        if initial.configuration.kind == model.configuration.kind,
           initial.configuration.layerFilters.count < model.configuration.layerFilters.count {
            deepenedFrom = initial.configuration.layerFilters.count
            initial = try initial.deepened(toHiddenLayers: model.configuration.layerFilters.count)
        }
        // The training size and Adam's settings are this run's; the layers must be the same.
        var probe = initial.configuration, own = model.configuration
        probe.inputShape = [0, 0, probe.inputShape[2]]
        own.inputShape = [0, 0, own.inputShape[2]]
        probe.optimizer = own.optimizer
        guard probe == own else {
            throw CLIError("--initial-weights \(train.photos.initialWeights ?? ""): that model's architecture differs from the one "
                + "this run trains (give the same --preset and --channels)")
        }
        try model.loadWeights(of: initial)
        let path = train.photos.initialWeights ?? ""
        let deepened = deepenedFrom.map { " (deepened from \($0) to \(model.configuration.layerFilters.count) hidden layers)" } ?? ""
        Console.note("starting from the weights of \(path)\(convertedToGray ? " (a colour model's, converted to gray)" : "")\(deepened)")
    }

    func announce() { data?.announce() }
    func describe(_ model: DenoisingAutoencoder) -> (what: String, images: String) {
        ("photo model", "\(data?.patches.patchesPerEpoch ?? 0) patches per epoch")
    }
    var trainingSource: any ImageSource { data!.patches }
    var validationSource: (any ImageSource)? { data!.validationPatches }
    var report: any Encodable { PhotoDataReport(data!) }

    private static func agree(_ flag: String, _ given: Int?, _ recorded: Int) throws {
        if let given, given != recorded {
            throw CLIError("\(flag) \(given) differs from the first run's \(recorded); omit it to resume with the same result as an uninterrupted run")
        }
    }
}
