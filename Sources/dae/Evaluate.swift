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

    /// One path for both kinds of data: the model is loaded, the test images
    /// chosen once from the flags (IDX test set or a folder), evaluated, and
    /// reported; only the images and the noise levels' defaults differ.
    func run() throws {
        var loaded = try ModelFile.load(model, inputShape: inputShape.value)
        loaded.workers = workers.count
        let modelPath = FileSystem.url(model).path
        let (results, stdScale, data): ([RobustnessResult], Double, any Encodable)
        if let images {
            let folder = try ImageFolder(directory: FileSystem.url(images), channels: loaded.configuration.inputShape[2])
            Console.note("evaluating \(modelPath) on \(folder.count) images in \(folder.root.path) at full resolution…")
            results = try ModelFile.namingModel(modelPath) {
                try loaded.evaluate(photos: folder, noiseLevels: std ?? DenoisingAutoencoder.photoNoiseLevels, seed: seed)
            }
            struct Folder: Encodable { let dataset = "images", dataDirectory: String, images: [String] }
            (stdScale, data) = (255, Folder(dataDirectory: folder.root.path, images: folder.files.map(\.name)))
        } else {
            let location = try DataLocation.resolve(flag: self.data)
            let test = try location.loadTest(limit: limit)
            try ModelFile.checkCompatible(loaded, modelPath: modelPath, with: test, in: location.directory)
            location.announce(test: test)
            Console.note("evaluating \(modelPath) (\(loaded.epochsCompleted) epochs trained) on \(test.count) test images…")
            results = try ModelFile.namingModel(modelPath) {
                try loaded.evaluate(test, noiseLevels: std ?? DenoisingAutoencoder.robustnessLevels, seed: seed)
            }
            struct IDX: Encodable { let dataset, dataDirectory: String, testImages: Int }
            (stdScale, data) = (1, IDX(dataset: location.name, dataDirectory: location.directory.path, testImages: test.count))
        }
        Tables.robustness(results, stdScale: stdScale).print()
        if json {
            struct Report: Encodable {
                let model: String
                let epochsTrained: Int
                let seed: UInt64
                let configuration: ConfigurationReport
                let robustness: [RobustnessReport]
            }
            printJSON(Joined(data, Report(model: modelPath, epochsTrained: loaded.epochsCompleted, seed: seed,
                                          configuration: ConfigurationReport(of: loaded), robustness: RobustnessReport.all(results))))
        }
    }
}
