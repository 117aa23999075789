import DAEFiles
import ArgumentParser
import DAEKit
import Foundation

/// The noise kinds `--noise` accepts.
enum NoiseKind: String, CaseIterable, ExpressibleByArgument {
    case gaussian
    case saltPepper = "salt-pepper"
    case masking
}

/// `--noise`, `--noise-std`, `--noise-mean`, `--noise-amount`.
struct NoiseOptions: ParsableArguments {
    @Option(name: .customLong("noise"), help: ArgumentHelp("gaussian (default), salt-pepper or masking.", valueName: "kind"))
    var kind: NoiseKind?

    @Option(help: ArgumentHelp("Std of the Gaussian noise (default: 0.5, the tutorial's).", valueName: "σ"))
    var noiseStd: Float?

    @Option(help: ArgumentHelp("Mean of the Gaussian noise (default: 0.5, the tutorial's).", valueName: "µ"))
    var noiseMean: Float?

    @Option(help: ArgumentHelp("Probability that a pixel is hit, for salt-pepper and masking (default: 0.2).", valueName: "p"))
    var noiseAmount: Float?

    func validate() throws {
        let kind = kind ?? .gaussian
        if kind != .gaussian, noiseStd != nil || noiseMean != nil {
            throw ValidationError("--noise-std and --noise-mean apply to gaussian noise only, not \(kind.rawValue)")
        }
        if kind == .gaussian, noiseAmount != nil {
            throw ValidationError("--noise-amount applies to salt-pepper and masking noise only")
        }
        if let model = try model() {
            do { try model.validate() } catch let error as DAEError { throw ValidationError(error.description) }
        }
    }

    /// The noise the options describe, or nil when none was given.
    func model() throws -> NoiseModel? {
        guard kind != nil || noiseStd != nil || noiseMean != nil || noiseAmount != nil else { return nil }
        switch kind ?? .gaussian {
        case .gaussian: return .gaussian(mean: noiseMean ?? 0.5, std: noiseStd ?? 0.5)
        case .saltPepper: return .saltAndPepper(amount: noiseAmount ?? 0.2)
        case .masking: return .masking(fraction: noiseAmount ?? 0.2)
        }
    }
}

/// The settings of a training run beyond the model itself (batch size,
/// noise, `--limit`, `--workers`, seed, `--winograd`), kept in the checkpoint's metadata
/// (`app.dae.train`, as JSON) so that `--resume` repeats them.
///
/// Checkpoints of earlier versions kept them beside the checkpoint in
/// `<checkpoint>.train.json`; that file is still read when the metadata has
/// none. Wherever they come from, they are validated as strictly as the flags.
struct TrainingRecipe: Codable, Equatable {
    var batchSize: Int
    var noise: NoiseModel
    var limit: Int?
    var workers: Int
    var seed: UInt64
    /// The patch settings of training on a folder of images (`--images`), nil for IDX data.
    var photo: PhotoRecipe? = nil
    /// `--winograd`: true when the run trains its stride-1 3×3 convolutions as
    /// Winograd F(2×2, 3×3); absent (nil) for im2col + GEMM, so the records of
    /// runs without it are the same as before it existed.
    var winograd: Bool? = nil
    /// `--winograd-f4`: true when the forward pass and input gradient run as
    /// Winograd F(4×4, 3×3) (``winograd`` is then true too); absent otherwise.
    var winogradF4: Bool? = nil
    /// `--winograd-f4-weight-gradient`: true when the weight gradient runs in
    /// F(4×4, 3×3)'s Winograd domain too (``winogradF4`` is then true too); absent otherwise.
    var winogradF4WeightGradient: Bool? = nil

    /// The key in ``DenoisingAutoencoder/applicationMetadata``.
    static let metadataKey = "dae.train"

    /// `<checkpoint>.train.json`, where earlier versions kept the recipe.
    static func legacyURL(for checkpoint: URL) -> URL {
        checkpoint.deletingLastPathComponent().appendingPathComponent(checkpoint.lastPathComponent + ".train.json")
    }

    /// The options for `fit` (the tutorial's shuffling and fresh noise every epoch).
    var options: TrainingOptions {
        var options = TrainingOptions(batchSize: batchSize, noise: noise, seed: seed)
        options.learningRateSchedule = PhotoRecipe.schedule(epochs: photo?.decayEpochs)
        options.lossWeighting = photo?.lossWeighting ?? .uniform
        options.winogradConvolutions = winograd == true
        options.winogradF4 = winogradF4 == true
        options.winogradF4WeightGradient = winogradF4WeightGradient == true
        return options
    }

    /// The recipe recorded for the checkpoint at `checkpoint`, holding
    /// `model`: from its metadata, else from a legacy sidecar file, else nil.
    static func recorded(in model: DenoisingAutoencoder, checkpoint: URL) throws -> TrainingRecipe? {
        if let text = model.applicationMetadata[metadataKey] {
            return try decode(Data(text.utf8), source: checkpoint.path, what: "metadata 'app.\(metadataKey)'")
        }
        let legacy = legacyURL(for: checkpoint)
        guard FileSystem.exists(legacy) else {
            Console.note("note: the checkpoint records no training settings: using the options given now")
            return nil
        }
        let data = try RegularFile.read(legacy)
        return try decode(data, source: legacy.path, what: "content")
    }

    /// Decodes and validates a recipe; errors name `source`.
    private static func decode(_ data: Data, source: String, what: String) throws -> TrainingRecipe {
        let recipe: TrainingRecipe
        do {
            recipe = try JSONCoding.decoder().decode(TrainingRecipe.self, from: data)
        } catch {
            throw DAEError.corruptFile(path: source, reason: "\(what) is not a training recipe written by 'dae train'")
        }
        do {
            try recipe.validate()
        } catch let error as DAEError {
            throw DAEError.corruptFile(path: source, reason: "\(what): \(error.description)")
        }
        return recipe
    }

    /// Throws `DAEError.invalidArgument` unless every value is one the flags
    /// would accept: batch size, workers and limit at least 1, valid noise,
    /// positive patch settings.
    func validate() throws {
        var counts = [("batchSize", batchSize, 1), ("workers", workers, 1), ("limit", limit ?? 1, 1)]
        if let photo {
            counts += [("photo.patchSize", photo.patchSize, 1), ("photo.patchesPerEpoch", photo.patchesPerEpoch, 1),
                       ("photo.channels", photo.channels, 1), ("photo.validationFiles", photo.validationFiles, 0)]
        }
        for (name, value, minimum) in counts where value < minimum {
            throw DAEError.invalidArgument("\(name) must be at least \(minimum), got \(value)")
        }
        try noise.validate()
    }

    /// Records the recipe in `model`'s metadata, which its checkpoints keep.
    func record(in model: inout DenoisingAutoencoder) throws {
        model.applicationMetadata[Self.metadataKey] = try JSONCoding.string(self)
    }

    /// The recipe of this run: each given value, else the recorded one, else
    /// the default. A given value that differs from a recorded one is an error;
    /// `winograd` (the flag) likewise, against a recorded run without it.
    static func merge(recorded: TrainingRecipe?, checkpointSeed: UInt64?,
                      batchSize: Int?, noise: NoiseModel?, limit: Int?, workers: Int?, seed: UInt64?,
                      winograd: Bool = false, winogradF4: Bool = false, winogradF4WeightGradient: Bool = false) throws -> TrainingRecipe {
        func pick<T: Equatable>(_ flag: String, _ given: T?, _ recorded: T?, _ fallback: T, _ text: (T) -> String) throws -> T {
            if let given, let recorded, given != recorded {
                throw CLIError("\(flag) \(text(given)) differs from the first run's \(text(recorded)); "
                    + "omit it to resume with the same result as an uninterrupted run")
            }
            return given ?? recorded ?? fallback
        }
        if let seed, let checkpointSeed, seed != checkpointSeed {
            throw CLIError("--seed \(seed) differs from the checkpoint's seed \(checkpointSeed); omit it to resume")
        }
        var effectiveLimit = limit
        if let recorded {
            if let limit, limit != recorded.limit {
                throw CLIError("--limit \(limit) differs from the first run's \(recorded.limit.map(String.init) ?? "none"); omit it to resume")
            }
            effectiveLimit = recorded.limit
        }
        let winogradF4 = winogradF4 || winogradF4WeightGradient, winograd = winograd || winogradF4
        let flag = winogradF4WeightGradient ? "--winograd-f4-weight-gradient" : winogradF4 ? "--winograd-f4" : "--winograd"
        if winograd, let recorded, recorded.winograd != true {
            throw CLIError("\(flag) differs from the first run, which trained with im2col + GEMM; "
                + "omit it to resume with the same result as an uninterrupted run")
        }
        if winogradF4, let recorded, recorded.winogradF4 != true {
            throw CLIError("\(flag) differs from the first run, which trained with Winograd F(2×2, 3×3); "
                + "omit it to resume with the same result as an uninterrupted run")
        }
        if winogradF4WeightGradient, let recorded, recorded.winogradF4WeightGradient != true {
            throw CLIError("\(flag) differs from the first run, whose weight gradient ran in F(2×2, 3×3)'s Winograd domain; "
                + "omit it to resume with the same result as an uninterrupted run")
        }
        return TrainingRecipe(
            batchSize: try pick("--batch-size", batchSize, recorded?.batchSize, 32, String.init),
            noise: try pick("--noise", noise, recorded?.noise, .tutorial, \.description),
            limit: effectiveLimit,
            workers: try pick("--workers", workers, recorded?.workers, max(1, ProcessInfo.processInfo.activeProcessorCount), String.init),
            seed: seed ?? checkpointSeed ?? recorded?.seed ?? 42,
            winograd: winograd || recorded?.winograd == true ? true : nil,
            winogradF4: winogradF4 || recorded?.winogradF4 == true ? true : nil,
            winogradF4WeightGradient: winogradF4WeightGradient || recorded?.winogradF4WeightGradient == true ? true : nil)
    }
}
