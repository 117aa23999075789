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
        abstract: "Stride-1 3×3 layers (48 and 64 channels, 148² and 512²): im2col + GEMM vs Winograd F(2×2, 3×3), one thread.")
    @Option(help: "Winograd block sizes (tiles per block) to measure, comma-separated.")
    var blocks: String = "128"
    @Option(help: "GEMM kernels of the Winograd pass to measure (blas, avx2, avx512), comma-separated; default: this CPU's best.")
    var kernels: String?
    @Option(help: "Input/output transforms of the Winograd pass to measure (swift, avx2, avx512), comma-separated; default: this CPU's best.")
    var transforms: String?
    @Option(help: "Timed repetitions (the median is reported).")
    var repetitions: Int = 7
    @Option(help: "Untimed warm-up runs.")
    var warmup: Int = 2

    func run() throws {
        let sizes = blocks.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }) else { throw ValidationError("--blocks wants positive integers") }
        let chosen = kernels.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        print("```\n\(BenchmarkEnvironment.current().summary)\n```\n")
        let chosenTransforms = transforms.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let table = try WinogradBenchmark.run(blockSizes: sizes, kernelNames: chosen, transformNames: chosenTransforms,
                                              warmup: warmup, repetitions: repetitions, log: BenchDriver.progress)
        print(table.rendered())
    }
}
