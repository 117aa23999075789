import DAEKit
import Foundation

/// Winograd F(2×2, 3×3) and F(4×4, 3×3) in training against im2col + GEMM (`dae-bench
/// winograd --training`; Docs/Benchmarks.md "Winograd in training"):
/// each pass of a photo model's layers alone, and whole `fit` epochs of
/// the photo presets, both paths in the same run, taking turns.
public enum WinogradTrainingBenchmark {
    /// One layer: `side × side × inputChannels` → `outputChannels`, batch `batch`, ReLU.
    public struct Layer: Sendable {
        public var name: String, side: Int, inputChannels: Int, outputChannels: Int, batch: Int
        public init(_ name: String, side: Int, inputChannels: Int, outputChannels: Int, batch: Int) {
            (self.name, self.side, self.inputChannels, self.outputChannels, self.batch) = (name, side, inputChannels, outputChannels, batch)
        }
    }

    /// A worker's shard (16 of a batch of 32 on 2 workers) of the built-in
    /// preset's 48×48 patches (its middle layers and its 48 → 3 output layer)
    /// and of the photo preset's 40×40 ones, and a worker's shard (8 of 16)
    /// of the built-in model's second cycle's 96×96 patches.
    public static let defaultLayers = [
        Layer("builtin conv (48² × 48 → 48)", side: 48, inputChannels: 48, outputChannels: 48, batch: 16),
        Layer("builtin-deep conv (96² × 48 → 48)", side: 96, inputChannels: 48, outputChannels: 48, batch: 8),
        Layer("builtin output (48² × 48 → 3)", side: 48, inputChannels: 48, outputChannels: 3, batch: 16),
        Layer("photo conv (40² × 48 → 48)", side: 40, inputChannels: 48, outputChannels: 48, batch: 16),
    ]

    /// The paths a layer is timed on.
    enum Path: CaseIterable {
        case gemm, winograd, winogradGemmWeights, winogradF4, winogradF4Weights
        var name: String {
            switch self {
            case .gemm: "im2col + GEMM"
            case .winograd: "Winograd"
            case .winogradGemmWeights: "Winograd, weight gradient im2col + GEMM"
            case .winogradF4: "F(4×4) forward and input gradient, F(2×2) weight gradient"
            case .winogradF4Weights: "F(4×4), weight gradient too"
            }
        }
        func layer(_ conv: Conv2D) -> Conv2D {
            switch self {
            case .gemm: conv
            case .winograd: conv.withWinograd(true, weightGradient: true)
            case .winogradGemmWeights: conv.withWinograd(true, weightGradient: false)
            case .winogradF4: conv.withWinogradF4(gradients: true)
            case .winogradF4Weights: conv.withWinogradF4(gradients: true, f4WeightGradient: true)
            }
        }
    }

    /// Times the forward pass, the weight gradient and the input gradient
    /// (in a backward pass's order) of each layer on each path, with one
    /// OpenBLAS thread, the paths taking turns every repetition; medians.
    public static func runLayers(_ layers: [Layer] = defaultLayers, warmup: Int, repetitions: Int,
                                 log: (String) -> Void) throws -> Table {
        var table = Table(title: "Training passes of a stride-1 3×3 layer, one thread: im2col + GEMM vs Winograd F(2×2, 3×3) and F(4×4, 3×3)",
                          columns: [.init("layer", .left), .init("batch"), .init("path", .left), .init("forward ms"),
                                    .init("input gradient ms"), .init("weight gradient ms"), .init("sum ms"), .init("speed-up"),
                                    .init("max |Δ| / max, dx / dW")],
                          notes: ["Medians of \(repetitions) after \(warmup) warm-up runs, the paths taking turns each repetition; "
                                  + "the GEMM path's forward pass includes its im2col (whose patch matrix the weight gradient reuses), "
                                  + "the Winograd weight gradient its input and output-gradient transforms. Δ: against the GEMM path's gradients."])
        try withBLASThreads(1) {
            for l in layers {
                log("winograd training: \(l.name)")
                var rng = SplitMix64(seed: 11)
                let conv = try Conv2D(name: "conv", inputShape: [l.side, l.side, l.inputChannels], filters: l.outputChannels,
                                      kernelSize: 3, activation: .relu, kernelInitializer: .heUniform, using: &rng)
                let x = FloatBuffer(SyntheticData.floats(l.batch * conv.inputCount, in: 0...1, using: &rng))
                let dy = FloatBuffer(SyntheticData.floats(l.batch * conv.outputCount, in: -1...1, using: &rng))
                let paths = Path.allCases
                let layers = paths.map { $0.layer(conv) }
                let workspaces = layers.map { FloatBuffer(count: $0.workspaceCount(batch: l.batch)) }
                let y = FloatBuffer(count: l.batch * conv.outputCount), dx = paths.map { _ in FloatBuffer(count: l.batch * conv.inputCount) }
                let dw = paths.map { _ in FloatBuffer(count: conv.kernel.count) }
                var samples = paths.map { _ in [[Double]](repeating: [], count: 3) }
                for r in 0..<(warmup + repetitions) {
                    for (p, layer) in layers.enumerated() {
                        let w = workspaces[p].pointer
                        dw[p].zero()
                        var watch = Stopwatch()
                        layer.forward(x.readOnly, into: y.pointer, batch: l.batch, workspace: w)
                        let forward = watch.lap()
                        layer.accumulateWeightGradient(input: x.readOnly, outputGradient: dy.readOnly, into: dw[p].pointer,
                                                       batch: l.batch, workspace: w)
                        let weights = watch.lap()
                        layer.inputGradient(of: dy.readOnly, into: dx[p].pointer, batch: l.batch, workspace: w)
                        let input = watch.lap()
                        guard r >= warmup else { continue }
                        samples[p][0].append(forward)
                        samples[p][1].append(input)
                        samples[p][2].append(weights)
                    }
                }
                let medians = samples.map { $0.map { Timing(samples: $0).median } }
                let gemmSum = medians[0].reduce(0, +)
                for (p, path) in paths.enumerated() {
                    let sum = medians[p].reduce(0, +)
                    let (ddx, sdx) = maxAbsDifference(dx[p].array(dx[p].count), dx[0].array(dx[0].count))
                    let (ddw, sdw) = maxAbsDifference(dw[p].array(dw[p].count), dw[0].array(dw[0].count))
                    table.append([l.name, "\(l.batch)", path.name] + medians[p].map(Format.milliseconds)
                                 + [Format.milliseconds(sum), Format.ratio(gemmSum / sum),
                                    p == 0 ? "—" : "\(Format.scientific(Double(ddx / max(sdx, 1e-30)))) / \(Format.scientific(Double(ddw / max(sdw, 1e-30))))"])
                }
            }
        }
        return table
    }

    /// The photo presets `fit` trains, by `dae train --preset` name.
    public static let presets: [(name: String, configuration: DenoisingAutoencoder.Configuration)] = [
        ("builtin", .builtInPhoto(channels: 3)), ("builtin-deep", .builtInPhotoDeep(channels: 3)), ("photo", .photo(channels: 3)),
    ]

    /// Trains each preset for `epochs` one-epoch `fit`s of `patches` synthetic
    /// patches (batch 32, blind photo noise, `workers` workers) on each path,
    /// the paths taking turns epoch by epoch after a warm-up epoch each;
    /// patches per second of the median and the fastest epoch.
    /// `gemmWeightGradients` adds the path with Winograd forward and input
    /// gradient but im2col + GEMM weight gradients.
    public static func runTraining(presets names: [String], patches: Int, epochs: Int, workers: Int,
                                   gemmWeightGradients: Bool, log: (String) -> Void) throws -> Table {
        var table = Table(title: "Photo-preset training, \(workers) workers: im2col + GEMM vs Winograd F(2×2, 3×3) and F(4×4, 3×3) (`fit`, synthetic patches)",
                          columns: [.init("preset", .left), .init("path", .left), .init("patches/s (median epoch)"),
                                    .init("patches/s (fastest)"), .init("speed-up (medians)"), .init("epoch seconds", .left),
                                    .init("final loss")],
                          notes: ["\(patches) random RGB patches an epoch, batch 32, σ 0–55/255 per patch, \(epochs) timed epochs "
                                  + "per path after one warm-up epoch, the paths taking turns; each path trains its own model from the same seed."])
        let saved = Conv2D.winogradWeightGradients
        defer { Conv2D.winogradWeightGradients = saved }
        for name in names {
            guard let preset = presets.first(where: { $0.name == name }) else {
                throw DAEError.invalidArgument("unknown preset '\(name)' (builtin, builtin-deep, photo)")
            }
            var rng = SplitMix64(seed: 3)
            let data = try SyntheticData.images(count: patches, shape: preset.configuration.inputShape, using: &rng)
            let paths: [(String, winograd: Bool, weights: Bool, f4: Bool, f4Weights: Bool)] = [
                ("im2col + GEMM", false, true, false, false), ("Winograd", true, true, false, false),
                ("Winograd F(4×4)", true, true, true, false), ("Winograd F(4×4), weight gradient too", true, true, true, true),
            ] + (gemmWeightGradients ? [("Winograd, weight gradient im2col + GEMM", true, false, false, false)] : [])
            var models = try paths.map { _ in try DenoisingAutoencoder(configuration: preset.configuration, seed: 1) }
            var seconds = paths.map { _ in [Double]() }
            for epoch in 0..<(1 + epochs) {
                for (p, path) in paths.enumerated() {
                    log("winograd training: \(name), \(path.0), epoch \(epoch)\(epoch == 0 ? " (warm-up)" : "")")
                    var options = TrainingOptions(epochs: 1, batchSize: 32, noise: .photoBlind, seed: 1)
                    options.winogradConvolutions = path.winograd
                    options.winogradF4 = path.f4
                    options.winogradF4WeightGradient = path.f4Weights
                    Conv2D.winogradWeightGradients = path.weights
                    models[p].workers = workers
                    let time = try Stopwatch.time { try models[p].fit(data, options: options) }
                    if epoch > 0 { seconds[p].append(time) }
                }
            }
            let medians = seconds.map { Timing(samples: $0) }
            for (p, path) in paths.enumerated() {
                table.append([name, path.0, Format.significant(Double(patches) / medians[p].median),
                              Format.significant(Double(patches) / medians[p].minimum), Format.ratio(medians[0].median / medians[p].median),
                              seconds[p].map { String(format: "%.2f", $0) }.joined(separator: ", "),
                              String(format: "%.5f", models[p].history.epochs.last?.trainLoss ?? .nan)])
            }
        }
        return table
    }
}
