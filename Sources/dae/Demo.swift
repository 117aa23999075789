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

    @Option(help: ArgumentHelp("Epochs to train (default: 10; with --images \(PhotoDemo.defaultEpochs)).", valueName: "n"))
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
    }

    func run() throws {
        if let images = photos.images { return try PhotoDemo(demo: self, directory: images).run() }
        let epochs = self.epochs ?? 10
        let outputURL = FileSystem.url(output)
        try checkOutputsAreNew(["model.safetensors", "denoised.png", "robustness.png"], in: outputURL)
        try FileSystem.prepareOutputDirectory(outputURL)
        let location = try DataLocation.resolve(flag: data)
        let dataset = try location.load(limit: limit)
        let subset = DataSubset(dataset, limit: limit)

        let configuration = DenoisingAutoencoder.Configuration(inputShape: subset.train.imageShape)
        var model = try DenoisingAutoencoder(configuration: configuration, seed: seed)
        try configuration.checkResources(batch: min(batchSize, max(subset.train.count, 1)))
        model.workers = workers.count
        location.announce(dataset)
        Console.note("model: the tutorial's (\(model.parameterCount) parameters), epochs: \(epochs), batch \(batchSize), "
            + "\(subset.train.count) training images, workers: \(model.workers)")

        let options = TrainingOptions(epochs: epochs, batchSize: batchSize, noise: .tutorial, seed: seed)
        var loop = TrainingLoop(totalEpochs: epochs, options: options)
        loop.interruptedMessage = { "interrupted after \($0) of \(epochs) epochs: no figure or model was written" }
        try loop.run(&model, train: subset.train, validation: subset.test)

        let modelURL = outputURL.appendingPathComponent("model.safetensors")
        try model.save(to: modelURL)
        let figures = try DemoFigures.write(model: model, test: subset.test, to: outputURL)
        Console.note("evaluating on \(subset.test.count) test images at noise std 0.5, 0.75, 1.0…")
        let robustness = try model.evaluate(subset.test, noiseLevels: DenoisingAutoencoder.robustnessLevels, seed: 0)
        Console.note("wrote \(figures.denoised.path), \(figures.robustness.path), \(modelURL.path)")

        Tables.history(model.history).print()
        Console.output("")
        Tables.robustness(robustness).print()
        if json {
            struct Outputs: Encodable { let denoised, robustness, model: String }
            struct Report: Encodable {
                let dataset, dataDirectory: String
                let trainImages, testImages, epochs, batchSize: Int
                let seed: UInt64
                let workers: Int
                let configuration: ConfigurationReport
                let history: [EpochReport]
                let robustness: [RobustnessReport]
                let outputs: Outputs
            }
            printJSON(Report(dataset: location.name, dataDirectory: location.directory.path, trainImages: subset.train.count,
                             testImages: subset.test.count, epochs: epochs, batchSize: batchSize, seed: seed,
                             workers: model.workers, configuration: ConfigurationReport(of: model),
                             history: EpochReport.all(model.history), robustness: RobustnessReport.all(robustness),
                             outputs: Outputs(denoised: figures.denoised.path, robustness: figures.robustness.path,
                                              model: modelURL.path)))
        }
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
