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

        Examples:
          dae evaluate --model out/model.safetensors
          dae evaluate --model fashion.safetensors --std 0.25,0.5,1.0
          dae evaluate --model fashion.safetensors --limit 1000 --json
          dae evaluate --model mnist.safetensors --data ~/.cache/dae/mnist
        """)

    @Option(help: ArgumentHelp("The model (a checkpoint written by 'dae train' or 'dae demo').", valueName: "file"))
    var model: String

    @Option(help: ArgumentHelp("IDX data directory (default: $DAE_DATA, the MNIST cache, Fashion-MNIST; see 'dae --help').", valueName: "dir"))
    var data: String?

    @Option(help: ArgumentHelp("Noise stds, comma-separated.", valueName: "list"), transform: Parse.noiseLevels)
    var std: [Float] = DenoisingAutoencoder.robustnessLevels

    @Option(help: ArgumentHelp("Evaluate on the first N test images only.", valueName: "n"))
    var limit: Int?

    @Option(help: ArgumentHelp("Seed of the noise.", valueName: "n"))
    var seed: UInt64 = 0

    @OptionGroup var workers: WorkerOptions

    @Flag(help: "Print one JSON object as the last line of standard output.")
    var json = false

    func validate() throws {
        try require(limit, atLeast: 1, "--limit")
        if std.isEmpty { throw ValidationError("--std needs at least one noise level") }
    }

    func run() throws {
        var loaded = try ModelFile.load(model)
        loaded.workers = workers.count
        let location = try DataLocation.resolve(flag: data)
        let dataset = try location.load()
        try ModelFile.checkCompatible(loaded, modelPath: FileSystem.url(model).path, with: dataset.test, in: location.directory)
        let test = limit.map { dataset.test.prefix($0) } ?? dataset.test
        location.announce(dataset)
        Console.note("evaluating \(FileSystem.url(model).path) (\(loaded.epochsCompleted) epochs trained) on \(test.count) test images…")
        let results = try loaded.evaluate(test, noiseLevels: std, seed: seed)
        Tables.robustness(results).print()
        if json {
            Console.output(JSON.object([
                ("model", .string(FileSystem.url(model).path)),
                ("dataset", .string(location.name)),
                ("dataDirectory", .string(location.directory.path)),
                ("testImages", .int(test.count)),
                ("epochsTrained", .int(loaded.epochsCompleted)),
                ("seed", .int(seed)),
                ("configuration", JSONReport.configuration(of: loaded)),
                ("robustness", JSONReport.robustness(results)),
            ]).rendered)
        }
    }
}
