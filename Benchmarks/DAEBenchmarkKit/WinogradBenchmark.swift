import DAEKit
import Foundation

/// Stride-1 3×3 convolutions, forward: im2col + GEMM against Winograd
/// F(2×2, 3×3) and the inference-only F(4×4, 3×3), per layer, in one run,
/// against the one-thread sgemm peak (`dae-bench winograd`;
/// Docs/Benchmarks.md "Winograd F(2×2, 3×3)", "Winograd F(4×4, 3×3) for inference").
///
/// GFLOP/s count the direct convolution's work, `2·H·W·9·Cin·Cout`, for
/// both paths, so Winograd's figure is an effective rate that can pass the peak.
public enum WinogradBenchmark {
    /// One layer: `side × side × channels` → `channels`, batch `batch`, ReLU.
    public struct Case: Sendable {
        public var side: Int, channels: Int, batch: Int
        public init(side: Int, channels: Int, batch: Int) { (self.side, self.channels, self.batch) = (side, channels, batch) }
    }

    /// A 128-pixel inference tile with the first built-in model's halo (148²), a 512² image, at 48 and 64
    /// channels, and a 512-pixel tile with the deep model's F(4×4) halo of 36 (584²) at 48.
    public static let defaultCases = [Case(side: 148, channels: 48, batch: 1), Case(side: 148, channels: 64, batch: 1),
                                      Case(side: 512, channels: 48, batch: 1), Case(side: 512, channels: 64, batch: 1),
                                      Case(side: 584, channels: 48, batch: 1)]

    /// Runs the cases with one OpenBLAS thread; `blockSizes` are the Winograd
    /// F(2×2) block sizes (tiles per block) measured, the first one the default's,
    /// `f4BlockSizes` those of F(4×4) (none: F(4×4) not measured).
    /// `transformNames` are the input/output transforms measured with each (default: this CPU's best).
    public static func run(cases: [Case] = defaultCases, blockSizes: [Int], f4BlockSizes: [Int] = [], kernelNames: [String]? = nil,
                           transformNames: [String]? = nil,
                           warmup: Int, repetitions: Int, log: (String) -> Void) throws -> Table {
        let kernels = try (kernelNames ?? [WinogradKernels.best.rawValue]).map { name in
            guard let kernel = WinogradKernels(rawValue: name) else {
                throw DAEError.invalidArgument("unknown Winograd kernels '\(name)' (blas, avx2, avx512)")
            }
            return kernel
        }
        let transforms = try (transformNames ?? [WinogradTransforms.best.rawValue]).map { name in
            guard let transform = WinogradTransforms(rawValue: name) else {
                throw DAEError.invalidArgument("unknown Winograd transforms '\(name)' (swift, avx2, avx512)")
            }
            return transform
        }
        var settings = BenchmarkSettings()
        (settings.warmup, settings.repetitions, settings.peakThreads) = (warmup, repetitions, [1])
        log("winograd: sgemm peak")
        let peak = PeakBenchmark.run(settings).gflops(threads: 1) ?? .nan
        var rows: [[String]] = []
        let (savedBlock, savedKernels, savedTransforms) = (Conv2D.winogradBlockTiles, Conv2D.winogradKernels, Conv2D.winogradTransforms)
        let savedF4Block = Conv2D.winogradF4BlockTiles
        defer {
            (Conv2D.winogradBlockTiles, Conv2D.winogradKernels, Conv2D.winogradTransforms) = (savedBlock, savedKernels, savedTransforms)
            Conv2D.winogradF4BlockTiles = savedF4Block
        }
        try withBLASThreads(1) {
            for c in cases {
                var rng = SplitMix64(seed: 7)
                let shape = [c.side, c.side, c.channels]
                let conv = try Conv2D(name: "conv", inputShape: shape, filters: c.channels, kernelSize: 3,
                                      activation: .relu, using: &rng)
                let x = FloatBuffer(SyntheticData.floats(c.batch * conv.inputCount, in: 0...1, using: &rng))
                let y = FloatBuffer(count: c.batch * conv.outputCount)
                let flops = 2.0 * Double(c.batch * c.side * c.side * 9 * c.channels * c.channels)
                func time(_ layer: Conv2D) -> (Timing, [Float]) {
                    let workspace = FloatBuffer(count: layer.workspaceCount(batch: c.batch))
                    let timing = measure(warmup: warmup, repetitions: repetitions) {
                        layer.forward(x.readOnly, into: y.pointer, batch: c.batch, workspace: workspace.pointer)
                    }
                    return (timing, y.array(c.batch * conv.outputCount))
                }
                log("winograd: \(c.side)² × \(c.channels), im2col + GEMM")
                let (gemm, expected) = time(conv)
                func row(_ path: String, _ t: Timing, difference: String) -> [String] {
                    let gflops = flops / t.median / 1e9
                    return ["\(c.side)² × \(c.channels) → \(c.channels)", "\(c.batch)", path, Format.milliseconds(t.median),
                            Format.significant(gflops), "\(Int((100 * gflops / peak).rounded()))%",
                            String(format: "%.2f×", gemm.median / t.median), difference]
                }
                rows.append(row("im2col + GEMM", gemm, difference: "—"))
                for kernel in kernels where WinogradKernels.available.contains(kernel) {
                    for transform in transforms where WinogradTransforms.available.contains(transform) {
                        for block in blockSizes {
                            (Conv2D.winogradBlockTiles, Conv2D.winogradKernels, Conv2D.winogradTransforms) = (block, kernel, transform)
                            log("winograd: \(c.side)² × \(c.channels), Winograd \(kernel), \(transform) transforms, blocks of \(block)")
                            let (t, values) = time(conv.withWinograd())
                            rows.append(row("Winograd \(kernel), \(transform) transforms, \(block) tiles/block", t,
                                            difference: relativeDifference(values, expected)))
                        }
                        for block in f4BlockSizes {
                            (Conv2D.winogradF4BlockTiles, Conv2D.winogradKernels, Conv2D.winogradTransforms) = (block, kernel, transform)
                            log("winograd: \(c.side)² × \(c.channels), F(4×4) \(kernel), \(transform) transforms, blocks of \(block)")
                            let (t, values) = time(conv.withWinogradF4())
                            rows.append(row("F(4×4) \(kernel), \(transform) transforms, \(block) tiles/block", t,
                                            difference: relativeDifference(values, expected)))
                        }
                    }
                }
            }
        }
        return Table(title: "Stride-1 3×3 convolution forward (ReLU), one thread: im2col + GEMM vs Winograd F(2×2, 3×3)"
                     + (f4BlockSizes.isEmpty ? "" : " and F(4×4, 3×3)"),
                     columns: [.init("layer", .left), .init("batch"), .init("path", .left), .init("median"),
                               .init("GFLOP/s"), .init("of peak"), .init("speed-up"), .init("max |Δ| / max |y|")],
                     rows: rows,
                     notes: ["GFLOP/s count 2·H·W·9·Cin·Cout for both paths; one-thread sgemm peak \(Format.significant(peak)) GFLOP/s "
                             + "(\(settings.peakSize)² sgemm, this run).",
                             "median of \(repetitions) after \(warmup) warm-up runs."])
    }

    /// max |a − b| / max |b|, printed with two significant digits.
    static func relativeDifference(_ a: [Float], _ b: [Float]) -> String {
        let scale = b.reduce(0) { max($0, abs($1)) }
        return String(format: "%.1e", zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) } / max(scale, 1e-30))
    }
}
