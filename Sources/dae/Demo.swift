import ArgumentParser
import DAEImageIO
import DAEKit
import Foundation

/// `dae demo`: the Keras tutorial end to end.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the tutorial's denoising autoencoder and show what it does.",
        discussion: """
        Trains the Keras tutorial's model (Conv 32-64, latent 16) on clean images \
        corrupted with its noise, clip(x + N(0.5, 0.5), 0, 1), validating on the \
        noisy test set after each epoch. Then writes, in the output directory:

          denoised.png       the tutorial's figure: 3 groups of 3 rows
                             (original, noisy, denoised) of 9 test images
          robustness.png     9 test images at noise std 0.5, 0.75 and 1.0,
                             noisy above denoised
          model.safetensors  the trained model (for evaluate, denoise, summary)

        and prints the training history and the robustness table: for each noise \
        std, MSE / PSNR / SSIM of the noisy input and of the denoised output on the \
        whole test set. With --json the last line of standard output is one JSON \
        object: {"dataset", "history": [{"epoch", "trainLoss", "valLoss", "seconds", \
        "samplesPerSecond"}], "robustness": [{"std", "noisyMSE", "noisyPSNR", \
        "noisySSIM", "mse", "psnr", "ssim"}], ...}.

        --limit N trains on the first N training images and validates and \
        evaluates on the first max(100, N/6) test images.

        Examples:
          dae demo                           # 10 epochs, figures in ./out
          dae demo --epochs 3 --output /tmp/dae-demo
          dae demo --limit 2048 --epochs 1   # a quick look
          dae demo --data ~/.cache/dae/mnist --json | tail -n 1
        """)

    @Option(help: ArgumentHelp("IDX data directory (default: $DAE_DATA, the MNIST cache, Fashion-MNIST; see 'dae --help').", valueName: "dir"))
    var data: String?

    @Option(help: ArgumentHelp("Epochs to train (default: 10; with --images \(PhotoDemoData.defaultEpochs)).", valueName: "n"))
    var epochs: Int?

    @Option(help: ArgumentHelp("Images per Adam step.", valueName: "n"))
    var batchSize = 32

    @Option(help: ArgumentHelp("Seed of the weights, shuffling and noise.", valueName: "n"))
    var seed: UInt64 = 42

    @Option(help: ArgumentHelp("Train on the first N training images only.", valueName: "n"))
    var limit: Int?

    @Option(help: ArgumentHelp("Directory for the figures and the model.", valueName: "dir"))
    var output = "out"

    @OptionGroup(title: "Photographs")
    var photos: PhotoOptions

    @OptionGroup var workers: WorkerOptions

    @Flag(help: "Print one JSON object as the last line of standard output.")
    var json = false

    @Flag(help: "Replace the files an earlier run left in the output directory (model.safetensors, the figures).")
    var force = false

    /// Throws when one of `names` exists in the output directory and --force was not given:
    /// a demo never writes over a file it did not create in this run unasked.
    func checkOutputsAreNew(_ names: [String], in directory: URL) throws {
        guard !force else { return }
        for name in names where FileSystem.exists(directory.appendingPathComponent(name)) {
            throw CLIError("\(directory.appendingPathComponent(name).path) already exists; add --force to replace it, or choose another --output")
        }
    }

    func validate() throws {
        try require(epochs, atLeast: 1, "--epochs")
        try require(batchSize, atLeast: 1, "--batch-size")
        try require(limit, atLeast: 1, "--limit")
        if photos.images != nil, data != nil || limit != nil {
            throw ValidationError("--images trains on a folder of images: --data and --limit are for IDX data")
        }
        if photos.initialWeights != nil || photos.learningRate != nil {
            throw ValidationError("--initial-weights and --learning-rate are for 'dae train --images'; the demo trains its own model from scratch")
        }
    }

    /// One skeleton for both kinds of data: the data (``DemoData``) is picked
    /// once from the flags, and every step that differs is its method.
    func run() throws {
        var data: any DemoData = photos.images.map { PhotoDemoData(demo: self, directory: $0) } ?? TutorialDemoData(demo: self)
        let epochs = self.epochs ?? data.defaultEpochs
        let outputURL = FileSystem.url(output)
        try FileSystem.checkOutputDirectoryName(outputURL)
        try checkOutputsAreNew(["model.safetensors"] + data.figureNames, in: outputURL)
        try data.load()
        try FileSystem.prepareOutputDirectory(outputURL)
        data.announce()
        var model = try DenoisingAutoencoder(configuration: try data.configuration(batchSize: batchSize), seed: seed)
        model.workers = workers.count
        Console.note("model: \(data.modelDescription(model)), epochs: \(epochs)\(data.scheduleNote), batch \(batchSize), "
            + "\(data.imagesDescription)workers: \(model.workers)")

        var loop = TrainingLoop(totalEpochs: epochs, options: data.options(epochs: epochs, batchSize: batchSize, seed: seed))
        loop.interruptedMessage = { "interrupted after \($0) of \(epochs) epochs: no figure or model was written" }
        try loop.run(&model, train: data.trainingSource, validation: data.validationSource)

        let modelURL = outputURL.appendingPathComponent("model.safetensors")
        try model.save(to: modelURL)
        let results = try data.finish(model, in: outputURL)
        Console.note("wrote \((results.figures + [modelURL]).map(\.path).joined(separator: ", "))")

        Tables.history(model.history).print()
        Console.output("")
        Tables.robustness(results.robustness, stdScale: data.stdScale).print()
        if let builtIn = results.builtInRobustness {
            Console.output("")
            Console.output("The built-in photo denoiser (dae denoise without --model) on the same held-out images:")
            Tables.robustness(builtIn, stdScale: data.stdScale).print()
        }
        if json {
            struct Report: Encodable {
                let epochs, batchSize: Int
                let seed: UInt64
                let workers: Int
                let configuration: ConfigurationReport
                let history: [EpochReport]
                let robustness: [RobustnessReport]
                /// Photographs only: the built-in denoiser's table, `null` for a gray folder.
                let builtInRobustness: Nullable<[RobustnessReport]>?
                let outputs: [String: String]
            }
            // {"denoised", "robustness" (the tutorial's), "model"}: each file's name without its extension.
            let outputs = Dictionary(uniqueKeysWithValues: (results.figures + [modelURL]).map {
                ($0.deletingPathExtension().lastPathComponent, $0.path)
            })
            printJSON(Joined(data.report, Report(
                epochs: epochs, batchSize: batchSize, seed: seed, workers: model.workers, configuration: ConfigurationReport(of: model),
                history: EpochReport.all(model.history), robustness: RobustnessReport.all(results.robustness),
                builtInRobustness: data.comparesWithBuiltIn ? Nullable(results.builtInRobustness.map(RobustnessReport.all)) : nil,
                outputs: outputs)))
        }
    }
}

/// What `dae demo` trains on and shows, chosen once from its flags: the
/// tutorial's IDX data set (``TutorialDemoData``) or a folder of photographs
/// (``PhotoDemoData``). ``Demo/run()`` is the one skeleton around them:
/// load, build the model, train, save, write the figures, evaluate, report.
protocol DemoData {
    /// Epochs when `--epochs` is not given.
    var defaultEpochs: Int { get }
    /// The figures written into `--output` (besides `model.safetensors`).
    var figureNames: [String] { get }
    /// The noise levels' scale in the tables (255 for photographs).
    var stdScale: Double { get }
    /// Whether the built-in photo denoiser is measured beside the trained
    /// model (photographs: its table, or `null` in the JSON for a gray folder).
    var comparesWithBuiltIn: Bool { get }
    /// Loads the data.
    mutating func load() throws
    /// Says what was loaded, on standard error.
    func announce()
    /// The new model's configuration, checked for a batch of `batchSize`.
    func configuration(batchSize: Int) throws -> DenoisingAutoencoder.Configuration
    /// The model, the learning-rate schedule and the images, in a few words each, for the opening note.
    func modelDescription(_ model: DenoisingAutoencoder) -> String
    var scheduleNote: String { get }
    var imagesDescription: String { get }
    /// How to train.
    func options(epochs: Int, batchSize: Int, seed: UInt64) -> TrainingOptions
    /// The images (or patches) of each epoch, and those that validate.
    var trainingSource: any ImageSource { get }
    var validationSource: (any ImageSource)? { get }
    /// Writes the figures into `directory` and evaluates the trained model.
    func finish(_ model: DenoisingAutoencoder, in directory: URL) throws -> DemoResults
    /// The data's part of the `--json` report.
    var report: any Encodable { get }
}

/// What a demo wrote and measured after training.
struct DemoResults {
    /// The figures written.
    var figures: [URL]
    /// The robustness table of the trained model.
    var robustness: [RobustnessResult]
    /// The built-in photo denoiser's table on the same images, where it applies.
    var builtInRobustness: [RobustnessResult]? = nil
}

/// `dae demo` on an IDX data set: the Keras tutorial's model, noise and figures.
struct TutorialDemoData: DemoData {
    let demo: Demo
    private var data: LoadedIDX?
    private var subset: DataSubset { data!.subset }

    init(demo: Demo) { self.demo = demo }

    var defaultEpochs: Int { 10 }
    var figureNames: [String] { ["denoised.png", "robustness.png"] }
    var stdScale: Double { 1 }
    var comparesWithBuiltIn: Bool { false }

    mutating func load() throws { data = try LoadedIDX(flag: demo.data, limit: demo.limit) }
    func announce() { data?.announce() }

    func configuration(batchSize: Int) throws -> DenoisingAutoencoder.Configuration {
        let configuration = DenoisingAutoencoder.Configuration(inputShape: subset.train.imageShape)
        try configuration.checkResources(batch: min(batchSize, max(subset.train.count, 1)))
        return configuration
    }

    func modelDescription(_ model: DenoisingAutoencoder) -> String { "the tutorial's (\(model.parameterCount) parameters)" }
    var scheduleNote: String { "" }
    var imagesDescription: String { "\(subset.train.count) training images, " }

    func options(epochs: Int, batchSize: Int, seed: UInt64) -> TrainingOptions {
        TrainingOptions(epochs: epochs, batchSize: batchSize, noise: .tutorial, seed: seed)
    }

    var trainingSource: any ImageSource { subset.train }
    var validationSource: (any ImageSource)? { subset.test }

    func finish(_ model: DenoisingAutoencoder, in directory: URL) throws -> DemoResults {
        let figures = try DemoFigures.write(model: model, test: subset.test, to: directory)
        Console.note("evaluating on \(subset.test.count) test images at noise std 0.5, 0.75, 1.0…")
        let robustness = try model.evaluate(subset.test, noiseLevels: DenoisingAutoencoder.robustnessLevels, seed: 0)
        return DemoResults(figures: [figures.denoised, figures.robustness], robustness: robustness)
    }

    var report: any Encodable {
        struct Report: Encodable {
            let dataset, dataDirectory: String
            let trainImages, testImages: Int
        }
        return Report(dataset: data!.location.name, dataDirectory: data!.location.directory.path,
                      trainImages: subset.train.count, testImages: subset.test.count)
    }
}


/// The demo's two figures.
enum DemoFigures {
    /// The seed of the noise shown in the figures (fixed, so reruns compare).
    static let noiseSeed: UInt64 = 2024

    /// Writes `denoised.png` and `robustness.png` into `directory`.
    static func write(model: DenoisingAutoencoder, test: ImageDataset,
                      to directory: URL) throws -> (denoised: URL, robustness: URL) {
        let count = 27
        guard test.count >= count else {
            throw CLIError("the figures need at least \(count) test images; the test set has \(test.count)")
        }
        let clean = test.batch(0..<count)
        let noisy = NoiseModel.tutorial.applied(to: clean, seed: noiseSeed)
        let figure = try ImageGrid.tutorialFigure(original: clean, noisy: noisy, denoised: try model.denoise(noisy))
        let denoisedURL = directory.appendingPathComponent("denoised.png")
        try PNG.write(figure, to: denoisedURL)

        let columns = 9
        let originals = test.batch(0..<columns)
        let rows = try DenoisingAutoencoder.robustnessLevels.enumerated().map { level, std in
            let noisy = NoiseModel.gaussian(mean: 0.5, std: std).applied(to: originals, seed: noiseSeed + UInt64(level))
            return (label: "std \(std)", noisy: noisy, denoised: try model.denoise(noisy))
        }
        let robustness = try ImageGrid.robustnessFigure(original: originals, rows: rows, columns: columns)
        let robustnessURL = directory.appendingPathComponent("robustness.png")
        try PNG.write(robustness, to: robustnessURL)
        return (denoisedURL, robustnessURL)
    }
}
