/// Where the time of one training step goes, layer by layer and outside
/// the layers, with the GEMM share estimated by timing the same GEMM
/// shapes alone.
public struct ProfileReport: Sendable, Codable, Equatable {
    /// One layer's passes inside the step, and the GEMM and lowering parts of them timed alone.
    public struct LayerRow: Sendable, Codable, Equatable {
        public var name: String
        public var kind: String
        public var forward: Timing
        public var backward: Timing
        /// The layer's GEMMs of each pass, timed alone (sum of the shapes' medians / minimums).
        public var forwardGemm: Timing
        public var backwardGemm: Timing
        /// im2col / col2im of each pass, timed alone.
        public var forwardLowering: Timing
        public var backwardLowering: Timing
        /// FLOPs of the layer's GEMMs in each pass.
        public var forwardFlops: Double
        public var backwardFlops: Double

        /// The layer's time not explained by its GEMMs and lowering (bias,
        /// activation, copies, call overhead), never below zero.
        public var rest: Double {
            max(forward.median + backward.median - forwardGemm.median - backwardGemm.median
                - forwardLowering.median - backwardLowering.median, 0)
        }
    }

    /// A part of the step outside the layers (batch fill, noise, loss, optimizer, ...).
    public struct Segment: Sendable, Codable, Equatable {
        public var name: String
        public var timing: Timing
    }

    /// One GEMM shape timed alone (once after every step).
    public struct GemmRow: Sendable, Codable, Equatable {
        public var shape: GemmShape
        public var timing: Timing
        public var gflops: Double
    }

    public var batch: Int
    public var blasThreads: Int
    /// Steps timed (after the warm-up steps).
    public var steps: Int
    public var layers: [LayerRow]
    public var segments: [Segment]
    public var gemms: [GemmRow]
    /// The whole step: the sum of every part, per step.
    public var step: Timing
    /// `DataParallelEngine.lossAndGradients` with 1 worker on the same batch: forward + loss + backward as training runs it.
    public var engineLossAndGradients: Timing
    /// The sgemm peak at ``blasThreads`` threads, if measured.
    public var peakGflops: Double?

    /// Median seconds per step in GEMMs (the shapes timed alone).
    public var gemmSeconds: Double { layers.reduce(0) { $0 + $1.forwardGemm.median + $1.backwardGemm.median } }
    /// Median seconds per step in im2col / col2im (timed alone).
    public var loweringSeconds: Double {
        layers.reduce(0) { $0 + $1.forwardLowering.median + $1.backwardLowering.median }
    }
    /// The share of the step outside GEMM.
    public var outsideGemmShare: Double { 1 - gemmSeconds / step.median }

    /// Per-layer times and their GEMM and lowering parts.
    public var layerTable: Table {
        var table = Table(title: "Training-step profile per layer (batch \(batch), 1 worker, OpenBLAS threads \(blasThreads))",
                          columns: [.init("layer", .left), .init("kind", .left), .init("fwd ms"), .init("fwd GEMM ms"),
                                    .init("fwd im2col/col2im ms"), .init("bwd ms"), .init("bwd GEMM ms"),
                                    .init("bwd im2col/col2im ms"), .init("GFLOP/s"), .init("share of step")])
        for row in layers {
            let total = row.forward.median + row.backward.median
            table.append([row.name, row.kind, Format.milliseconds(row.forward.median),
                          Format.milliseconds(row.forwardGemm.median), Format.milliseconds(row.forwardLowering.median),
                          Format.milliseconds(row.backward.median), Format.milliseconds(row.backwardGemm.median),
                          Format.milliseconds(row.backwardLowering.median),
                          row.forwardFlops + row.backwardFlops > 0
                            ? Format.significant(gigaflops(row.forwardFlops + row.backwardFlops, seconds: total)) : "–",
                          Format.percent(total / step.median)])
        }
        table.notes = [
            "fwd/bwd ms: the layer's pass inside a real step (median of \(steps) steps). GEMM and im2col/col2im ms: the same"
                + " GEMM shapes through BLAS.gemm alone and the same lowering through ConvolutionGeometry alone, each run once"
                + " right after every step (so both are sampled under the same machine load).",
            "GFLOP/s: the layer's GEMM FLOPs over its forward + backward time in the step.",
        ]
        return table
    }

    /// The step split into GEMM, lowering, the rest of the layers and the parts outside the layers.
    public var breakdownTable: Table {
        var table = Table(title: "Training-step breakdown (batch \(batch), 1 worker, OpenBLAS threads \(blasThreads))",
                          columns: [.init("part", .left), .init("ms per step"), .init("share of step")])
        func add(_ name: String, _ seconds: Double) {
            table.append([name, Format.milliseconds(seconds), Format.percent(seconds / step.median)])
        }
        add("GEMM (same shapes timed alone)", gemmSeconds)
        add("im2col + col2im (timed alone)", loweringSeconds)
        add("rest of the layers (bias, activation, copies)", layers.reduce(0) { $0 + $1.rest })
        for segment in segments { add(segment.name, segment.timing.median) }
        add("step total (median)", step.median)
        add("outside GEMM", step.median - gemmSeconds)
        table.append(["engine forward + loss + backward (1 worker)", Format.milliseconds(engineLossAndGradients.median), "–"])
        let gflops = gigaflops(layers.reduce(0) { $0 + $1.forwardFlops + $1.backwardFlops }, seconds: step.median)
        table.notes = [
            "Step total = every part of a step timed in sequence; its FLOPs at the median give \(Format.significant(gflops)) GFLOP/s"
                + (peakGflops.map { " (\(Format.percent(gflops / $0)) of the \(Format.significant($0)) GFLOP/s peak)." } ?? "."),
            "Batch fill converts the data set's bytes to floats; noise is the tutorial's clip(x + N(0.5, 0.5), 0, 1),"
                + " one generator per image, as fit draws it.",
        ]
        return table
    }

    /// Every GEMM shape of the step, timed alone.
    public var gemmTable: Table {
        var table = Table(title: "GEMM shapes of a training step, timed alone (batch \(batch), OpenBLAS threads \(blasThreads))",
                          columns: [.init("layer", .left), .init("pass", .left), .init("product", .left),
                                    .init("m×k · k×n", .left), .init("ms"), .init("GFLOP/s"), .init("of peak")])
        for row in gemms {
            table.append([row.shape.layer, row.shape.pass, row.shape.role, row.shape.dimensions,
                          Format.milliseconds(row.timing.median), Format.significant(row.gflops),
                          peakGflops.map { Format.percent(row.gflops / $0) } ?? "–"])
        }
        return table
    }
}
