import ArgumentParser
import DAEKit
import Foundation

/// `dae evaluate`: the robustness table of a trained model.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure how well a trained model denoises the test set.",
        discussion: """
        For each noise std (Gaussian noise of mean 0.5, clipped to [0, 1], as in \
        the tutorial) prints the MSE, PSNR and SSIM of the noisy test images and \
        of the model's output, against the clean images. The noise is drawn from \
        --seed, so the table is reproducible.

        With --images DIR, every PNG and JPEG under DIR is corrupted with \
        zero-mean Gaussian noise (clipped, rounded to 8 bits) and denoised at \
        full resolution; PSNR and SSIM are averaged per image.

        Examples:
          dae evaluate --model out/model.safetensors
          dae evaluate --model fashion.safetensors --std 0.25,0.5,1.0
          dae evaluate --model fashion.safetensors --limit 1000 --json
          dae evaluate --model mnist.safetensors --data ~/.cache/dae/mnist
          dae evaluate --model out/model.safetensors --images ~/photos --json
        """)

    @Option(help: ArgumentHelp("The model (a checkpoint written by 'dae train' or 'dae demo').", valueName: "file"))
    var model: String

    @Option(help: ArgumentHelp("IDX data directory (default: $DAE_DATA, the MNIST cache, Fashion-MNIST; see 'dae --help').", valueName: "dir"))
    var data: String?

    @Option(help: ArgumentHelp("Evaluate on every PNG/JPEG image under this folder, at full resolution (a photo model).", valueName: "dir"))
    var images: String?

    @Option(help: ArgumentHelp("Noise stds in [0, 1], comma-separated (default: 0.5,0.75,1.0; with --images 15,25,50 /255 as 0.0588,0.098,0.196).",
                               valueName: "list"), transform: Parse.noiseLevels)
    var std: [Float]?

    @Option(help: ArgumentHelp("Evaluate on the first N test images only.", valueName: "n"))
    var limit: Int?

    @Option(help: ArgumentHelp("Seed of the noise.", valueName: "n"))
    var seed: UInt64 = 0

    @OptionGroup var workers: WorkerOptions
    @OptionGroup var inputShape: ModelInputShapeOption

    @Flag(help: "Print one JSON object as the last line of standard output.")
    var json = false

    func validate() throws {
        try require(limit, atLeast: 1, "--limit")
        if std?.isEmpty == true { throw ValidationError("--std needs at least one noise level") }
        if images != nil, data != nil || limit != nil { throw ValidationError("--images evaluates a folder of images: --data and --limit are for IDX data") }
    }

    func run() throws {
        if let images { return try evaluatePhotos(images) }
        let std = self.std ?? DenoisingAutoencoder.robustnessLevels
        var loaded = try ModelFile.load(model, inputShape: inputShape.value)
        loaded.workers = workers.count
        let location = try DataLocation.resolve(flag: data)
        let test = try location.loadTest(limit: limit)
        try ModelFile.checkCompatible(loaded, modelPath: FileSystem.url(model).path, with: test, in: location.directory)
        location.announce(test: test)
        Console.note("evaluating \(FileSystem.url(model).path) (\(loaded.epochsCompleted) epochs trained) on \(test.count) test images…")
        let results = try ModelFile.namingModel(FileSystem.url(model).path) {
            try loaded.evaluate(test, noiseLevels: std, seed: seed)
        }
        Tables.robustness(results).print()
        if json {
            struct Report: Encodable {
                let model, dataset, dataDirectory: String
                let testImages, epochsTrained: Int
                let seed: UInt64
                let configuration: ConfigurationReport
                let robustness: [RobustnessReport]
            }
            printJSON(Report(model: FileSystem.url(model).path, dataset: location.name, dataDirectory: location.directory.path,
                             testImages: test.count, epochsTrained: loaded.epochsCompleted, seed: seed,
                             configuration: ConfigurationReport(of: loaded), robustness: RobustnessReport.all(results)))
        }
    }

    /// `--images DIR`: the photo table on every image of a folder.
    private func evaluatePhotos(_ directory: String) throws {
        var loaded = try ModelFile.load(model, inputShape: inputShape.value)
        loaded.workers = workers.count
        let folder = try ImageFolder(directory: FileSystem.url(directory), channels: loaded.configuration.inputShape[2])
        let std = self.std ?? DenoisingAutoencoder.photoNoiseLevels
        Console.note("evaluating \(FileSystem.url(model).path) on \(folder.count) images in \(folder.root.path) at full resolution…")
        let results = try ModelFile.namingModel(FileSystem.url(model).path) {
            try loaded.evaluate(photos: folder, noiseLevels: std, seed: seed)
        }
        Tables.robustness(results, stdScale: 255).print()
        if json {
            struct Report: Encodable {
                let model, dataset, dataDirectory: String
                let images: [String]
                let epochsTrained: Int
                let seed: UInt64
                let configuration: ConfigurationReport
                let robustness: [RobustnessReport]
            }
            printJSON(Report(model: FileSystem.url(model).path, dataset: "images", dataDirectory: folder.root.path,
                             images: folder.files.map(\.name), epochsTrained: loaded.epochsCompleted, seed: seed,
                             configuration: ConfigurationReport(of: loaded), robustness: RobustnessReport.all(results)))
        }
    }
}
