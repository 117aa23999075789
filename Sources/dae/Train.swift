import DAEFiles
import ArgumentParser
import DAEKit
import Foundation

/// `dae train`: training with a checkpoint after every epoch, resumable.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model, writing a checkpoint after every epoch.",
        discussion: """
        The checkpoint (safetensors: weights, configuration, Adam's state, the \
        seed and the history) is replaced atomically after every epoch, so it \
        always holds a whole epoch. --epochs is the total: with --resume, training \
        continues from the checkpoint's epoch up to it, with the checkpoint's seed, \
        and ends with the same weights as an uninterrupted run. The batch size, \
        noise, --limit, --workers and --winograd of the first run are recorded in the \
        checkpoint and reused by --resume (giving another value is an error). \
        While it runs, the checkpoint is locked (.FILE.lock beside it): a second \
        'dae train' on the same checkpoint is refused.

        Ctrl-C stops after the current batch; the checkpoint keeps the last \
        finished epoch, and 'dae train ... --resume' continues from it.

        A new model has the tutorial's architecture unless --filters, \
        --kernel-size or --latent-dim say otherwise; its input shape is the data's.

        With --images DIR, the photo model (a residual denoiser that runs on \
        images of any size) trains on random patches of the PNG and JPEG files \
        under DIR, with blind Gaussian noise (std 0 to 55/255 per patch), \
        validating on fixed patches of the held-out files (the last ones by \
        name). The patch settings are recorded like the batch size and reused \
        by --resume.

        --winograd trains the stride-1 3×3 convolutions of 5 or more input \
        channels (the photo models' layers of 48 or 64) as Winograd F(2×2, 3×3): \
        forward pass, input gradient and weight gradient, 2.3 to 3 times as fast \
        on the photo presets; the results differ from the default im2col + GEMM \
        in the last bits, so a run keeps the setting it started with. \
        --winograd-f4 runs the forward pass and input gradient as F(4×4, 3×3) \
        instead (the weight gradient as F(2×2)'s), faster again; \
        --winograd-f4-weight-gradient runs the weight gradient as F(4×4)'s too, \
        the fastest.

        Examples:
          dae train --checkpoint fashion.safetensors --epochs 10
          dae train --checkpoint fashion.safetensors --epochs 20 --resume
          dae train --data ~/.cache/dae/mnist --checkpoint mnist.safetensors
          dae train --checkpoint sp.safetensors --noise salt-pepper
          dae train --checkpoint big.safetensors --filters 32,64,128 --json
          dae train --images ~/photos --checkpoint photos.safetensors --epochs 40
          dae train --images ~/photos --checkpoint fast.safetensors --winograd
        """)

    @Option(help: ArgumentHelp("IDX data directory (default: $DAE_DATA, the MNIST cache, Fashion-MNIST; see 'dae --help').", valueName: "dir"))
    var data: String?

    @Option(help: ArgumentHelp("The checkpoint file (safetensors), written after every epoch.", valueName: "file"))
    var checkpoint: String

    @Option(help: ArgumentHelp("Total epochs (those already in the checkpoint count with --resume).", valueName: "n"))
    var epochs = 10

    @Option(help: ArgumentHelp("Images per Adam step (default: 32).", valueName: "n"))
    var batchSize: Int?

    @Option(help: ArgumentHelp("Seed of the weights, shuffling and noise (default: 42; --resume uses the checkpoint's).", valueName: "n"))
    var seed: UInt64?

    @Option(help: ArgumentHelp("Train on the first N training images; validate on the first max(100, N/6) test images.", valueName: "n"))
    var limit: Int?

    @OptionGroup(title: "Noise")
    var noise: NoiseOptions

    @OptionGroup(title: "Architecture of a new model")
    var architecture: ArchitectureOptions

    @OptionGroup(title: "Photographs")
    var photos: PhotoOptions

    @OptionGroup var workers: WorkerOptions

    @Flag(help: ArgumentHelp("Train the stride-1 3×3 convolutions (5 or more input channels) as Winograd F(2×2, 3×3): "
        + "2.3 to 3 times as fast on the photo models; recorded in the checkpoint, and --resume keeps it."))
    var winograd = false

    @Flag(help: ArgumentHelp("As --winograd, with the forward pass and input gradient as Winograd F(4×4, 3×3) "
        + "(the weight gradient as F(2×2)'s): 1.2 to 1.3 times as fast per layer again; recorded, and --resume keeps it."))
    var winogradF4 = false

    @Flag(help: ArgumentHelp("As --winograd-f4, with the weight gradient in F(4×4, 3×3)'s Winograd domain too: "
        + "1.2 times as fast per layer again; recorded, and --resume keeps it."))
    var winogradF4WeightGradient = false

    @Flag(help: "Continue the training in the checkpoint (which must exist).")
    var resume = false

    @Flag(help: "Overwrite an existing checkpoint and start over.")
    var force = false

    @Flag(help: "Print one JSON object as the last line of standard output.")
    var json = false

    func validate() throws {
        try require(epochs, atLeast: 1, "--epochs")
        try require(batchSize, atLeast: 1, "--batch-size")
        try require(limit, atLeast: 1, "--limit")
        if resume && force { throw ValidationError("--resume and --force exclude each other") }
        if resume && (photos.initialWeights != nil || photos.learningRate != nil) {
            throw ValidationError("--initial-weights and --learning-rate start a new run; --resume continues one with its checkpoint's weights and rate")
        }
        if photos.images != nil, data != nil || limit != nil || architecture.isSpecified {
            throw ValidationError("--images trains the photo model on a folder: --data, --limit, --filters, --kernel-size and --latent-dim are for IDX data")
        }
    }

    /// One skeleton for both kinds of data: the data (``TrainingData``) is
    /// picked once from the flags, and every step that differs is its method.
    func run() throws {
        var data: any TrainingData = photos.images.map { PhotoTrainingData(train: self, directory: $0) } ?? IDXTrainingData(train: self)
        let target = try TrainingCheckpoint(path: checkpoint, resume: resume, force: force, check: data.checkResumable)
        defer { target.lock.release() }
        let (recipe, configuration) = try data.prepare(recorded: target.recorded, model: target.model, checkpoint: target.url)
        var trained = try target.model ?? DenoisingAutoencoder(configuration: configuration, seed: recipe.seed)
        if target.model == nil { try data.start(&trained) }
        trained.workers = recipe.workers
        try recipe.record(in: &trained)  // kept in the checkpoint's metadata
        data.announce()
        let (what, images) = data.describe(trained)
        try target.train(&trained, upTo: epochs, recipe: recipe, resuming: resume, what: what, images: images,
                         train: data.trainingSource, validation: data.validationSource)
        Tables.history(trained.history).print()
        if json {
            struct Checkpoint: Encodable { let checkpoint: String }
            printJSON(Joined(Checkpoint(checkpoint: target.url.path), data.report, TrainingReport(recipe: recipe, model: trained)))
        }
    }
}

/// What `dae train` trains on, chosen once from its flags: the step that
/// differ between the tutorial's IDX data set (``IDXTrainingData``) and a
/// folder of photographs (``PhotoTrainingData``). ``Train/run()`` is the one
/// skeleton around them: open the checkpoint, prepare, build or resume the
/// model, train with a checkpoint per epoch, report.
protocol TrainingData {
    /// Refuses a checkpoint of the other kind of data (or another architecture).
    func checkResumable(_ loaded: DenoisingAutoencoder, at url: URL) throws
    /// Loads the data and settles the training settings (merged with those
    /// a resumed checkpoint recorded) and the configuration of a new model.
    mutating func prepare(recorded: TrainingRecipe?, model: DenoisingAutoencoder?, checkpoint: URL) throws
        -> (recipe: TrainingRecipe, configuration: DenoisingAutoencoder.Configuration)
    /// Sets a new model's starting weights, when the flags name some (`--initial-weights`).
    func start(_ model: inout DenoisingAutoencoder) throws
    /// Says what was loaded, on standard error.
    func announce()
    /// The model and the data in a few words, for the opening note.
    func describe(_ model: DenoisingAutoencoder) -> (what: String, images: String)
    /// The images (or patches) of each epoch, and those that validate.
    var trainingSource: any ImageSource { get }
    var validationSource: (any ImageSource)? { get }
    /// The data's part of the `--json` report.
    var report: any Encodable { get }
}

/// `dae train` on an IDX data set (the tutorial's Fashion-MNIST by default):
/// `--limit`, the noise flags and the architecture flags apply.
struct IDXTrainingData: TrainingData {
    let train: Train
    private var data: LoadedIDX?

    init(train: Train) { self.train = train }

    func checkResumable(_ loaded: DenoisingAutoencoder, at url: URL) throws {
        if loaded.configuration.tilingStrategy == .haloTiles {
            throw CLIError("\(url.path) holds a photo model trained on an image folder: resume it with --images DIR")
        }
        try train.architecture.checkMatches(loaded.configuration, checkpoint: url.path)
    }

    mutating func prepare(recorded: TrainingRecipe?, model: DenoisingAutoencoder?, checkpoint: URL) throws
        -> (recipe: TrainingRecipe, configuration: DenoisingAutoencoder.Configuration) {
        let recipe = try TrainingRecipe.merge(
            recorded: recorded, checkpointSeed: model?.trainingSeed, batchSize: train.batchSize, noise: try train.noise.model(),
            limit: train.limit, workers: train.workers.workers, seed: train.seed, winograd: train.winograd,
            winogradF4: train.winogradF4, winogradF4WeightGradient: train.winogradF4WeightGradient)
        let data = try LoadedIDX(flag: train.data, limit: recipe.limit)
        if let model {
            try ModelFile.checkCompatible(model, modelPath: checkpoint.path, with: data.dataset.train, in: data.location.directory)
        }
        let configuration = model?.configuration ?? train.architecture.configuration(inputShape: data.dataset.train.imageShape)
        try configuration.checkResources(batch: min(recipe.batchSize, max(data.subset.train.count, 1)))
        self.data = data
        return (recipe, configuration)
    }

    func start(_ model: inout DenoisingAutoencoder) throws {}
    func announce() { data?.announce() }
    func describe(_ model: DenoisingAutoencoder) -> (what: String, images: String) {
        ("\(model.configuration.shapeText) model", "\(data?.subset.train.count ?? 0) training images")
    }
    var trainingSource: any ImageSource { data!.subset.train }
    var validationSource: (any ImageSource)? { data!.subset.test }
    var report: any Encodable {
        struct Report: Encodable {
            let dataset, dataDirectory: String
            let trainImages, validationImages: Int
        }
        return Report(dataset: data!.location.name, dataDirectory: data!.location.directory.path,
                      trainImages: data!.subset.train.count, validationImages: data!.subset.test.count)
    }
}

/// The checkpoint of a `dae train` run, opened before any work: the
/// `--resume`/`--force` rules, its directory, a check that it can be
/// written (not a directory), the lock that keeps a second `dae train` off
/// it (held until `lock.release()`), and with `--resume` the model and its
/// recorded training settings.
struct TrainingCheckpoint {
    /// Trains `model` up to epoch `totalEpochs`, saving the checkpoint after
    /// every epoch (nothing to do when it already holds them); `what` and
    /// `images` describe the model and the data in the opening note.
    func train(_ model: inout DenoisingAutoencoder, upTo totalEpochs: Int, recipe: TrainingRecipe, resuming: Bool,
               what: String, images: String, train: some ImageSource, validation: (any ImageSource)?) throws {
        let start = model.epochsCompleted, path = url.path, checkpointURL = url
        guard start < totalEpochs else {
            Console.note("\(path) already holds \(start) epochs (--epochs \(totalEpochs)): nothing to train")
            return
        }
        Console.note((resuming ? "resuming at epoch \(start + 1)" : "training")
            + " up to epoch \(totalEpochs): \(what) with \(model.parameterCount) parameters, "
            + "batch \(recipe.batchSize), noise \(recipe.noise), seed \(recipe.seed), \(images), workers: \(recipe.workers)"
            + (recipe.winogradF4WeightGradient == true ? ", Winograd F(4×4) convolutions and weight gradients"
                : recipe.winogradF4 == true ? ", Winograd F(4×4) convolutions" : recipe.winograd == true ? ", Winograd convolutions" : "")
            + (recipe.photo?.lossWeighting.map { ", loss weighted by \($0)" } ?? ""))
        var loop = TrainingLoop(totalEpochs: totalEpochs, options: recipe.options)
        loop.afterEpoch = { model, _ in
            try model.save(to: checkpointURL)
            return " → saved \(path)"
        }
        loop.interruptedMessage = { epoch in
            epoch > 0 ? "interrupted: the checkpoint at \(path) holds epoch \(epoch)"
                : "interrupted during the first epoch: no checkpoint was written"
        }
        try loop.run(&model, train: train, validation: validation)
    }

    let url: URL
    let lock: FileLock
    private(set) var model: DenoisingAutoencoder?
    private(set) var recorded: TrainingRecipe?

    /// `url` with every symbolic link of its last component followed (up to
    /// 16), even to a file that does not exist yet.
    static func followingLinks(_ url: URL) -> URL {
        var current = url
        for _ in 0..<16 {
            guard let destination = try? FileManager.default.destinationOfSymbolicLink(atPath: current.path) else { break }
            current = destination.hasPrefix("/") ? URL(fileURLWithPath: destination)
                : current.deletingLastPathComponent().appendingPathComponent(destination)
            current = current.standardizedFileURL
        }
        return current
    }

    /// Opens the checkpoint at `path`; `check` vets a loaded model (given with the checkpoint's URL).
    ///
    /// A symbolic link is resolved first: the lock is taken on, and every
    /// epoch written to, the file it points at, so two runs through a link
    /// and its target exclude each other and the link stays a link.
    init(path: String, resume: Bool, force: Bool, check: (DenoisingAutoencoder, URL) throws -> Void) throws {
        url = Self.followingLinks(FileSystem.url(path))
        if resume {
            guard FileSystem.exists(url) else {
                throw CLIError("no checkpoint at \(url.path) to resume; run without --resume to start one")
            }
        } else if FileSystem.exists(url) && !force {
            throw CLIError("\(url.path) already exists: pass --resume to continue its training, or --force to start over")
        }
        try FileSystem.prepareOutputDirectory(url.deletingLastPathComponent())
        try AtomicFile.checkWritable(url)
        lock = try FileLock(for: url)
        guard resume else { return }
        let loaded = try ModelFile.load(url.path, flag: "--checkpoint")
        try check(loaded, url)
        model = loaded
        recorded = try TrainingRecipe.recorded(in: loaded, checkpoint: url)
    }
}
