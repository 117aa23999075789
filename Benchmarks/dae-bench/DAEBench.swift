import ArgumentParser
import DAEBenchmarkKit
import Foundation

/// `dae-bench`: GEMM vs naive convolution, the training-step profile,
/// throughput and scaling of the denoising autoencoder. The measuring
/// lives in DAEBenchmarkKit; this is only the command line.
@main
struct DAEBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dae-bench",
        abstract: "Benchmarks of the denoising autoencoder: GEMM vs naive convolution, profile, throughput, scaling.",
        discussion: """
            Build and run in release: swift run -c release dae-bench all
            Tables print as Markdown; --json prints one JSON object instead. The OpenBLAS \
            configuration is printed with every run. Progress goes to standard error.
            """,
        subcommands: [All.self, Peak.self, Conv.self, Profile.self, Throughput.self, Scaling.self, Winograd.self],
        defaultSubcommand: All.self)
}

struct All: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run every section (the default).")
    @OptionGroup var options: BenchOptions
    func run() throws { try BenchDriver.run([.peak, .conv, .profile, .throughput, .scaling], options) }
}

struct Peak: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "sgemm peak on a large square product at 1 and 2 OpenBLAS threads.")
    @OptionGroup var options: BenchOptions
    func run() throws { try BenchDriver.run([.peak], options) }
}

struct Conv: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Naive loops vs im2col + GEMM for every convolution of the model (forward, input and weight gradients).")
    @OptionGroup var options: BenchOptions
    func run() throws { try BenchDriver.run([.conv], options) }
}

struct Profile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Where a training step's time goes: per layer, GEMM vs the rest, loss, optimizer, batch, noise.")
    @OptionGroup var options: BenchOptions
    func run() throws { try BenchDriver.run([.profile], options) }
}

struct Throughput: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Training (fit) and inference (denoise) samples per second, per thread configuration.")
    @OptionGroup var options: BenchOptions
    func run() throws { try BenchDriver.run([.throughput], options) }
}

struct Scaling: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Training-step time against batch size and image size.")
    @OptionGroup var options: BenchOptions
    func run() throws { try BenchDriver.run([.scaling], options) }
}

struct Winograd: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stride-1 3×3 layers (48 and 64 channels, 148², 512² and 584²): im2col + GEMM vs Winograd F(2×2, 3×3) and F(4×4, 3×3), one thread; --training: the training passes and photo-preset fit epochs.")
    @Option(help: "Winograd block sizes (tiles per block) to measure, comma-separated.")
    var blocks: String = "128"
    @Option(help: "Winograd F(4×4, 3×3) block sizes (tiles per block) to measure, comma-separated; 'none' to leave F(4×4) out.")
    var f4Blocks: String = "64"
    @Option(help: "GEMM kernels of the Winograd pass to measure (blas, avx2, avx512), comma-separated; default: this CPU's best.")
    var kernels: String?
    @Option(help: "Input/output transforms of the Winograd pass to measure (swift, avx2, avx512), comma-separated; default: this CPU's best.")
    var transforms: String?
    @Option(help: "Timed repetitions (the median is reported).")
    var repetitions: Int = 7
    @Option(help: "Untimed warm-up runs.")
    var warmup: Int = 2
    @Flag(help: "Training instead: each layer's forward, input-gradient and weight-gradient passes, then fit epochs of the photo presets, im2col + GEMM vs Winograd.")
    var training = false
    @Option(help: "With --training: the presets whose fit epochs are timed (builtin, builtin-deep, photo), comma-separated; 'none' for the passes only.")
    var presets: String = "builtin,photo"
    @Option(help: "With --training: synthetic patches per fit epoch.")
    var patches: Int = 512
    @Option(help: "With --training: timed fit epochs per path (after one warm-up epoch each).")
    var epochs: Int = 3
    @Option(help: "With --training: workers of the fit epochs.")
    var workers: Int = 2
    @Flag(help: "With --training: also time fit epochs with Winograd forward and input gradient but im2col + GEMM weight gradients.")
    var gemmWeightGradients = false

    func run() throws {
        if training {
            guard patches > 0, epochs > 0, workers > 0 else { throw ValidationError("--patches, --epochs and --workers must be positive") }
            print("```\n\(BenchmarkEnvironment.current().summary)\n```\n")
            print(try WinogradTrainingBenchmark.runLayers(warmup: warmup, repetitions: repetitions, log: BenchDriver.progress).rendered())
            let names = presets == "none" ? [] : presets.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if !names.isEmpty {
                print("")
                print(try WinogradTrainingBenchmark.runTraining(presets: names, patches: patches, epochs: epochs, workers: workers,
                                                                gemmWeightGradients: gemmWeightGradients,
                                                                log: BenchDriver.progress).rendered())
            }
            return
        }
        let sizes = blocks.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }) else { throw ValidationError("--blocks wants positive integers") }
        let chosen = kernels.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        print("```\n\(BenchmarkEnvironment.current().summary)\n```\n")
        let chosenTransforms = transforms.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let f4Sizes = f4Blocks == "none" ? [] : f4Blocks.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard f4Sizes.allSatisfy({ $0 > 0 }) else { throw ValidationError("--f4-blocks wants positive integers or 'none'") }
        let table = try WinogradBenchmark.run(blockSizes: sizes, f4BlockSizes: f4Sizes, kernelNames: chosen, transformNames: chosenTransforms,
                                              warmup: warmup, repetitions: repetitions, log: BenchDriver.progress)
        print(table.rendered())
    }
}
