import DAEFiles
import DAEKit
import Foundation

// The `--json` reports of the commands, as `Encodable` structs written by the
// package's one JSON policy (`JSONCoding`: one line, sorted keys). A number
// that is not finite (a diverged loss) is written as `null`. A command's
// report is its own part (the data it used, its outputs) joined with the
// shared parts below (`Joined`), so each key is defined once.

/// Prints `report` as one line of JSON on standard output.
func printJSON(_ report: some Encodable) {
    Console.output((try? JSONCoding.string(report)) ?? "null")
}

/// Reports written as one JSON object: the keys of every part (they must differ).
struct Joined: Encodable {
    let parts: [any Encodable]
    init(_ parts: any Encodable...) { self.parts = parts }

    func encode(to encoder: any Encoder) throws {
        for part in parts { try part.encode(to: encoder) }
    }
}

/// A value written as `null` when absent (where a plain optional would leave the key out).
struct Nullable<Value: Encodable>: Encodable {
    let value: Value?
    init(_ value: Value?) { self.value = value }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}

/// A number written as `null` when absent or not finite.
struct FiniteNumber<Value: BinaryFloatingPoint & Encodable>: Encodable {
    let value: Value?
    init(_ value: Value?) { self.value = value }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value, value.isFinite { try container.encode(value) } else { try container.encodeNil() }
    }
}

/// One epoch: `{"epoch", "trainLoss", "valLoss", "seconds", "samplesPerSecond"}`.
struct EpochReport: Encodable {
    let epoch: Int
    let trainLoss: FiniteNumber<Float>, valLoss: FiniteNumber<Float>
    let seconds: FiniteNumber<Double>, samplesPerSecond: FiniteNumber<Double>

    init(_ record: EpochRecord) {
        epoch = record.epoch
        trainLoss = FiniteNumber(record.trainLoss)
        valLoss = FiniteNumber(record.validationLoss)
        seconds = FiniteNumber(record.seconds)
        samplesPerSecond = FiniteNumber(record.samplesPerSecond)
    }

    /// Every epoch of `history`.
    static func all(_ history: TrainingHistory) -> [EpochReport] { history.epochs.map(EpochReport.init) }
}

/// One noise level: `{"std", "noisyMSE", "noisyPSNR", "noisySSIM", "mse", "psnr", "ssim"}`.
struct RobustnessReport: Encodable {
    let std: FiniteNumber<Float>
    let noisyMSE, noisyPSNR, noisySSIM, mse, psnr, ssim: FiniteNumber<Double>

    init(_ result: RobustnessResult) {
        std = FiniteNumber(result.std)
        noisyMSE = FiniteNumber(result.noisy.mse)
        noisyPSNR = FiniteNumber(result.noisy.psnr)
        noisySSIM = FiniteNumber(result.noisy.ssim)
        mse = FiniteNumber(result.denoised.mse)
        psnr = FiniteNumber(result.denoised.psnr)
        ssim = FiniteNumber(result.denoised.ssim)
    }

    /// Every row of a robustness table.
    static func all(_ results: [RobustnessResult]) -> [RobustnessReport] { results.map(RobustnessReport.init) }
}

/// The architecture and its parameter count.
struct ConfigurationReport: Encodable {
    let architecture: String
    let inputShape, layerFilters: [Int]
    let kernelSize, latentDim, stride, parameters: Int

    init(of model: DenoisingAutoencoder) {
        let c = model.configuration
        architecture = c.architecture.rawValue
        inputShape = c.inputShape
        layerFilters = c.layerFilters
        kernelSize = c.kernelSize
        latentDim = c.latentDim  // 0 and 1 for a residual model, which has neither (the report's keys stay)
        stride = c.stride
        parameters = model.parameterCount
    }
}

/// What every `dae train` reports after its data: epochs, settings, configuration, history.
struct TrainingReport: Encodable {
    let epochs, batchSize: Int
    let noise: String
    let seed: UInt64
    let workers: Int
    /// True when trained with `--winograd`; absent otherwise.
    let winograd: Bool?
    /// True when trained with `--winograd-f4`; absent otherwise.
    let winogradF4: Bool?
    /// True when trained with `--winograd-f4-weight-gradient`; absent otherwise.
    let winogradF4WeightGradient: Bool?
    /// How each image's squared error counted (`--loss-weighting`), when not uniform; absent otherwise.
    let lossWeighting: String?
    let configuration: ConfigurationReport
    let history: [EpochReport]

    init(recipe: TrainingRecipe, model: DenoisingAutoencoder) {
        epochs = model.epochsCompleted
        batchSize = recipe.batchSize
        noise = recipe.noise.description
        seed = recipe.seed
        workers = recipe.workers
        winograd = recipe.winograd
        winogradF4 = recipe.winogradF4
        winogradF4WeightGradient = recipe.winogradF4WeightGradient
        lossWeighting = recipe.photo?.lossWeighting?.description
        configuration = ConfigurationReport(of: model)
        history = EpochReport.all(model.history)
    }
}

/// The image folder a photo command trained on: its files and how patches were cut.
struct PhotoDataReport: Encodable {
    let dataset = "images"
    let dataDirectory: String
    let trainImages, heldOutImages: [String]
    let patchSize, patchesPerEpoch: Int
    let patchScales: [Int]
    /// The fraction of patches made gray (`--gray-patches`).
    let grayPatches: Double
    /// The placements each patch is the most textured of (`--texture-candidates`).
    let textureCandidates: Int
    /// Whether each colour patch's channels were put in a random order (`--permute-channels`).
    let permuteChannels: Bool

    init(_ data: PhotoData) {
        dataDirectory = data.folder.root.path
        trainImages = data.train.files.map(\.name)
        heldOutImages = data.validation.files.map(\.name)
        patchSize = data.patches.patchSize
        patchesPerEpoch = data.patches.patchesPerEpoch
        patchScales = data.patches.scales
        grayPatches = data.patches.grayFraction
        textureCandidates = data.patches.textureCandidates
        permuteChannels = data.patches.permuteChannels
    }
}
