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

/// The settings of a training run that a checkpoint does not hold, kept
/// beside it in `<checkpoint>.train.json` so that `--resume` repeats them.
struct TrainingRecipe: Codable, Equatable {
    var batchSize: Int
    var noise: NoiseModel
    var limit: Int?
    var workers: Int
    var seed: UInt64
    /// The patch settings of training on a folder of images (`--images`), nil for IDX data.
    var photo: PhotoRecipe? = nil

    /// `<checkpoint>.train.json`.
    static func url(for checkpoint: URL) -> URL {
        checkpoint.deletingLastPathComponent().appendingPathComponent(checkpoint.lastPathComponent + ".train.json")
    }

    /// The options for `fit` (the tutorial's shuffling and fresh noise every epoch).
    var options: TrainingOptions {
        TrainingOptions(batchSize: batchSize, noise: noise, seed: seed)
    }

    /// The recipe recorded at `url`, or nil when there is none.
    static func read(from url: URL) throws -> TrainingRecipe? {
        guard FileSystem.exists(url) else {
            Console.note("note: no \(url.lastPathComponent) beside the checkpoint: using the options given now")
            return nil
        }
        do {
            return try JSONDecoder().decode(TrainingRecipe.self, from: Data(contentsOf: url))
        } catch {
            throw DAEError.corruptFile(path: url.path, reason: "not a training recipe written by 'dae train' (delete it to resume with the options given now)")
        }
    }

    /// Writes the recipe atomically.
    func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: url)
    }

    /// The recipe of this run: each given value, else the recorded one, else
    /// the default. A given value that differs from a recorded one is an error.
    static func merge(recorded: TrainingRecipe?, checkpointSeed: UInt64?, recipeURL: URL,
                      batchSize: Int?, noise: NoiseModel?, limit: Int?, workers: Int?, seed: UInt64?) throws -> TrainingRecipe {
        func pick<T: Equatable>(_ flag: String, _ given: T?, _ recorded: T?, _ fallback: T, _ text: (T) -> String) throws -> T {
            if let given, let recorded, given != recorded {
                throw CLIError("\(flag) \(text(given)) differs from the first run's \(text(recorded)) "
                    + "(\(recipeURL.lastPathComponent)); omit it to resume with the same result as an uninterrupted run")
            }
            return given ?? recorded ?? fallback
        }
        if let seed, let checkpointSeed, seed != checkpointSeed {
            throw CLIError("--seed \(seed) differs from the checkpoint's seed \(checkpointSeed); omit it to resume")
        }
        var effectiveLimit = limit
        if let recorded {
            if let limit, limit != recorded.limit {
                throw CLIError("--limit \(limit) differs from the first run's \(recorded.limit.map(String.init) ?? "none") "
                    + "(\(recipeURL.lastPathComponent)); omit it to resume")
            }
            effectiveLimit = recorded.limit
        }
        return TrainingRecipe(
            batchSize: try pick("--batch-size", batchSize, recorded?.batchSize, 32, String.init),
            noise: try pick("--noise", noise, recorded?.noise, .tutorial, \.description),
            limit: effectiveLimit,
            workers: try pick("--workers", workers, recorded?.workers, max(1, ProcessInfo.processInfo.activeProcessorCount), String.init),
            seed: seed ?? checkpointSeed ?? recorded?.seed ?? 42)
    }
}
