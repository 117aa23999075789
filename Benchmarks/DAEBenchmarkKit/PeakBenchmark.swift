import DAEKit

/// The machine's sgemm rate on a large square product: the ceiling every
/// other figure is read against.
public struct PeakReport: Sendable, Codable, Equatable {
    /// One thread count's measurement.
    public struct Point: Sendable, Codable, Equatable {
        public var blasThreads: Int
        public var timing: Timing
        /// GFLOP/s at the median time.
        public var gflops: Double
        /// GFLOP/s at the fastest repetition.
        public var bestGflops: Double
    }

    /// Side `n` of the `n × n × n` product.
    public var size: Int
    public var points: [Point]

    /// The median GFLOP/s at `threads` OpenBLAS threads, if measured.
    public func gflops(threads: Int) -> Double? {
        points.first { $0.blasThreads == threads }?.gflops
    }

    /// The results as a table.
    public var table: Table {
        var table = Table(title: "sgemm peak (\(size)×\(size)×\(size), row-major, no transpose)",
                          columns: [.init("OpenBLAS threads"), .init("median ms"), .init("min ms"),
                                    .init("GFLOP/s (median)"), .init("GFLOP/s (best)")])
        for point in points {
            table.append(["\(point.blasThreads)", Format.milliseconds(point.timing.median),
                          Format.milliseconds(point.timing.minimum), Format.significant(point.gflops),
                          Format.significant(point.bestGflops)])
        }
        table.notes = ["GFLOP/s = 2·n³ / time. Every other GFLOP/s figure reads as a fraction of these."]
        return table
    }
}

/// Measures ``PeakReport`` through ``BLAS/gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``.
enum PeakBenchmark {
    static func run(_ settings: BenchmarkSettings) -> PeakReport {
        let n = settings.peakSize
        var rng = SplitMix64(seed: settings.seed)
        let a = SyntheticData.floats(n * n, using: &rng)
        let b = SyntheticData.floats(n * n, using: &rng)
        var c = [Float](repeating: 0, count: n * n)
        let flops = gemmFlops(m: n, n: n, k: n)
        let points = settings.peakThreads.map { threads in
            let timing = withBLASThreads(threads) {
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        c.withUnsafeMutableBufferPointer { c in
                            measure(warmup: settings.warmup, repetitions: settings.repetitions) {
                                BLAS.gemm(m: n, n: n, k: n, a: a.baseAddress!, lda: n, b: b.baseAddress!, ldb: n,
                                          c: c.baseAddress!, ldc: n)
                            }
                        }
                    }
                }
            }
            return PeakReport.Point(blasThreads: threads, timing: timing,
                                    gflops: gigaflops(flops, seconds: timing.median),
                                    bestGflops: gigaflops(flops, seconds: timing.minimum))
        }
        return PeakReport(size: n, points: points)
    }
}
