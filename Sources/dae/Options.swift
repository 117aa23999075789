import ArgumentParser
import DAEKit
import Foundation

/// Parsing helpers shared by the commands' options.
enum Parse {
    /// A comma-separated list of positive integers, e.g. `32,64`.
    static func positiveIntegers(_ text: String) throws -> [Int] {
        let values = try text.split(separator: ",", omittingEmptySubsequences: false).map { part -> Int in
            guard let value = Int(part.trimmingCharacters(in: .whitespaces)), value > 0 else {
                throw ValidationError("'\(part)' in '\(text)' is not a positive integer")
            }
            return value
        }
        guard !values.isEmpty else { throw ValidationError("expected a comma-separated list of positive integers") }
        return values
    }

    /// A comma-separated list of finite non-negative numbers, e.g. `0.5,0.75,1.0`.
    static func noiseLevels(_ text: String) throws -> [Float] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map { part -> Float in
            guard let value = Float(part.trimmingCharacters(in: .whitespaces)), value.isFinite, value >= 0 else {
                throw ValidationError("'\(part)' in '\(text)' is not a noise std (a finite number >= 0)")
            }
            return value
        }
    }
}

/// Throws a ``ValidationError`` unless `value` (when given) is at least `minimum`.
func require(_ value: Int?, atLeast minimum: Int, _ flag: String) throws {
    if let value, value < minimum {
        throw ValidationError("\(flag) must be at least \(minimum), got \(value)")
    }
}

/// `--workers N`: threads that split each batch.
struct WorkerOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Threads that split each batch (default: the number of cores); a fixed count gives bit-identical results.",
        valueName: "n"))
    var workers: Int?

    func validate() throws {
        try require(workers, atLeast: 1, "--workers")
    }

    /// The count to use: the flag, else the number of active cores.
    var count: Int { workers ?? max(1, ProcessInfo.processInfo.activeProcessorCount) }
}

/// `--input-shape h,w,c` for a weights-only model file, whose input size is inferred otherwise.
struct ModelInputShapeOption: ParsableArguments {
    @Option(name: .customLong("input-shape"),
            help: ArgumentHelp("For a weights-only model file (no configuration in its metadata): the input's "
                + "height,width,channels, instead of the size inferred from its weights.", valueName: "h,w,c"),
            transform: Parse.positiveIntegers)
    var value: [Int]?

    func validate() throws {
        if let value, value.count != 3 {
            throw ValidationError("--input-shape needs three numbers: height,width,channels")
        }
    }
}

/// `--filters`, `--kernel-size`, `--latent-dim`: the architecture of a new model.
struct ArchitectureOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Filters of each encoder convolution, comma-separated (default: 32,64).", valueName: "list"),
            transform: Parse.positiveIntegers)
    var filters: [Int]?

    @Option(help: ArgumentHelp("Side of the square kernels, odd (default: 3).", valueName: "k"))
    var kernelSize: Int?

    @Option(help: ArgumentHelp("Size of the latent vector (default: 16).", valueName: "n"))
    var latentDim: Int?

    func validate() throws {
        try require(kernelSize, atLeast: 1, "--kernel-size")
        try require(latentDim, atLeast: 1, "--latent-dim")
        if let kernelSize, kernelSize % 2 == 0 {
            throw ValidationError("--kernel-size must be odd, got \(kernelSize)")
        }
    }

    /// Whether any of the options was given.
    var isSpecified: Bool { filters != nil || kernelSize != nil || latentDim != nil }

    /// The tutorial's configuration with the given options and input shape.
    func configuration(inputShape: [Int]) -> DenoisingAutoencoder.Configuration {
        let tutorial = DenoisingAutoencoder.Configuration()
        return DenoisingAutoencoder.Configuration(
            inputShape: inputShape, layerFilters: filters ?? tutorial.layerFilters,
            kernelSize: kernelSize ?? tutorial.kernelSize, latentDim: latentDim ?? tutorial.latentDim)
    }

    /// Throws when a given option disagrees with `configuration` (of a checkpoint being resumed).
    func checkMatches(_ configuration: DenoisingAutoencoder.Configuration, checkpoint: String) throws {
        func differs(_ flag: String, _ given: String, _ actual: String) -> CLIError {
            CLIError("\(flag) \(given) differs from the checkpoint's \(actual) (\(checkpoint)); omit it to resume")
        }
        if let filters, filters != configuration.layerFilters {
            throw differs("--filters", filters.map(String.init).joined(separator: ","),
                          configuration.layerFilters.map(String.init).joined(separator: ","))
        }
        if let kernelSize, kernelSize != configuration.kernelSize {
            throw differs("--kernel-size", String(kernelSize), String(configuration.kernelSize))
        }
        if let latentDim, latentDim != configuration.latentDim {
            throw differs("--latent-dim", String(latentDim), String(configuration.latentDim))
        }
    }
}

/// An IDX data set as `train` and `demo` load it: where it is, what it
/// holds, and the subset `--limit` keeps.
struct LoadedIDX {
    let location: DataLocation
    let dataset: IDXDataset
    let subset: DataSubset

    /// Resolves `--data` (`flag`) and loads the data set, keeping `limit` training images.
    init(flag: String?, limit: Int?) throws {
        location = try DataLocation.resolve(flag: flag)
        dataset = try location.load(limit: limit)
        subset = DataSubset(dataset, limit: limit)
    }

    /// Says what was loaded, on standard error.
    func announce() { location.announce(dataset) }
}

/// The part of a data set a command uses under `--limit N`: the first `N`
/// training images and the first `max(100, N / 6)` test images (the
/// tutorial's 6:1 ratio), or everything without a limit.
struct DataSubset {
    /// Training images.
    let train: ImageDataset
    /// Test images (validation and evaluation).
    let test: ImageDataset

    /// The smallest test subset under a limit.
    static let minimumTestImages = 100

    init(_ data: IDXDataset, limit: Int?) {
        guard let limit else {
            train = data.train
            test = data.test
            return
        }
        train = data.train.prefix(limit)
        test = data.test.prefix(Self.testCount(forLimit: limit))
    }

    /// The test images kept under `limit`: `max(100, limit / 6)`.
    static func testCount(forLimit limit: Int) -> Int { max(minimumTestImages, limit / 6) }
}

extension DenoisingAutoencoder.Configuration {
    /// `28x28x1`.
    var shapeText: String { inputShape.map(String.init).joined(separator: "x") }
}

extension ImageDataset {
    /// `28x28x1`.
    var shapeText: String { imageShape.map(String.init).joined(separator: "x") }
}
