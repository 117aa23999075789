/// Naive loops against im2col + GEMM for every convolution of the model:
/// the time of each pass, its rate, and the largest difference between
/// the two results (they must agree).
public struct ConvolutionReport: Sendable, Codable, Equatable {
    /// One of a convolution's three passes.
    public enum Pass: String, Sendable, Codable, CaseIterable {
        case forward
        case inputGradient = "input gradient"
        case weightGradient = "weight gradient"
    }

    /// One layer, batch and pass.
    public struct Row: Sendable, Codable, Equatable {
        public var layer: String
        public var kind: ConvolutionCase.Kind
        public var shape: String
        public var batch: Int
        public var pass: Pass
        /// The naive loop's time, scaled linearly to ``batch`` when it ran at ``naiveBatch``.
        public var naive: Timing
        /// The batch the naive loop actually ran at (and the agreement was checked at).
        public var naiveBatch: Int
        /// The library layer's time (pointer-level pass through the public `Layer` API).
        public var gemm: Timing
        /// True when ``gemm`` is a difference of two measurements (the input gradient).
        public var gemmIsDerived: Bool
        /// True when the library ran this pass as direct loops (one input
        /// channel), not im2col + GEMM; ``gemm`` is then the direct loops' time.
        public var direct: Bool
        /// FLOPs of the pass at ``batch`` (`2·M·N·K` of its GEMM).
        public var flops: Double
        /// GFLOP/s of the library layer at its median time.
        public var gemmGflops: Double
        /// GFLOP/s of the naive loop at its median time.
        public var naiveGflops: Double
        /// Naive median over GEMM median.
        public var speedup: Double
        /// The layer's rate as a fraction of the sgemm peak at the same thread count.
        public var peakFraction: Double?
        /// `max|GEMM − naive|` over the pass's result.
        public var maxAbsDifference: Float
        /// `max|naive|`, the scale the difference is judged against.
        public var referenceScale: Float
        /// Whether `maxAbsDifference ≤ tolerance · max(1, referenceScale)`.
        public var agrees: Bool
    }

    public var rows: [Row]
    /// OpenBLAS threads of the measurement.
    public var blasThreads: Int
    /// The sgemm peak at ``blasThreads`` threads, if it was measured.
    public var peakGflops: Double?
    /// The relative tolerance of the agreement check.
    public var tolerance: Float

    /// The rows whose naive and GEMM results disagree.
    public var failures: [Row] { rows.filter { !$0.agrees } }

    /// The row of `layer` at `batch` for `pass`, if measured.
    public func row(_ layer: String, batch: Int, pass: Pass) -> Row? {
        rows.first { $0.layer == layer && $0.batch == batch && $0.pass == pass }
    }

    /// Every row: times, rates, speedups and differences.
    public var table: Table {
        var table = Table(title: "GEMM vs naive convolution (OpenBLAS threads \(blasThreads))", columns: [
            .init("layer", .left), .init("shape", .left), .init("batch"), .init("pass", .left),
            .init("naive ms"), .init("GEMM ms"), .init("GEMM min ms"), .init("GFLOP/s"), .init("of peak"),
            .init("naive GFLOP/s"), .init("speedup"), .init("max abs diff"),
        ])
        for row in rows {
            let scaled = row.naiveBatch != row.batch
            table.append([
                row.layer, row.shape, "\(row.batch)", row.pass.rawValue,
                Format.milliseconds(row.naive.median) + (scaled ? "*" : ""),
                Format.milliseconds(row.gemm.median) + (row.gemmIsDerived ? "†" : "") + (row.direct ? "‡" : ""),
                Format.milliseconds(row.gemm.minimum), Format.significant(row.gemmGflops),
                row.peakFraction.map(Format.percent) ?? "–", Format.significant(row.naiveGflops),
                Format.ratio(row.speedup), Format.scientific(Double(row.maxAbsDifference)) + (row.agrees ? "" : " FAIL"),
            ])
        }
        let largest = rows.filter { $0.naiveBatch != $0.batch }
        table.notes = [
            "Times are medians of the repetitions (GEMM min ms: the fastest). GFLOP/s = 2·M·N·K of the pass's GEMM / median time;"
                + " \"of peak\" is against the \(peakGflops.map(Format.significant) ?? "unmeasured") GFLOP/s sgemm peak at \(blasThreads) thread(s).",
            "GEMM = the library layer's pointer-level pass through the public Layer API (identity activation, bias included):"
                + " Conv2D forward includes im2col; Conv2DTranspose forward includes col2im; the weight-gradient pass is"
                + " `backward` with no input gradient (Conv2DTranspose's includes the im2col of ∂L/∂y).",
            "† input gradient = `backward` with an input gradient minus `backward` without one (medians and minimums subtracted).",
            "‡ the layer runs this pass as direct loops, not im2col + GEMM (a convolution with few input channels:"
                + " `ConvolutionGeometry.usesDirectLoops`); GFLOP/s counts the same FLOPs.",
        ]
        if let example = largest.first {
            table.notes.append("Naive times marked * ran at batch \(example.naiveBatch) and are scaled linearly to the batch"
                + " (their max abs diff is at batch \(example.naiveBatch) too).")
        }
        table.notes.append("Naive and GEMM agree when max abs diff ≤ \(Format.scientific(Double(tolerance))) · max(1, max|naive|).")
        return table
    }

    /// Forward, input-gradient and weight-gradient speedups per layer and batch, in one compact table.
    public var speedupTable: Table {
        let batches = Array(Set(rows.map(\.batch))).sorted()
        var layers: [String] = []
        for row in rows where !layers.contains(row.layer) { layers.append(row.layer) }
        var table = Table(title: "GEMM speedup over the naive loops (forward / input gradient / weight gradient)",
                          columns: [.init("layer", .left)] + batches.map { .init("batch \($0)") })
        for layer in layers {
            table.append([layer] + batches.map { batch in
                Pass.allCases.map { pass in row(layer, batch: batch, pass: pass).map { Format.ratio($0.speedup) } ?? "–" }
                    .joined(separator: " / ")
            })
        }
        return table
    }
}
