import DAEFiles
import DAEKit
import Foundation

/// Everything one run measured, with the environment and settings it ran
/// under: printed as tables, or encoded as one JSON object.
public struct BenchmarkReport: Sendable, Codable, Equatable {
    public var environment: BenchmarkEnvironment
    public var settings: BenchmarkSettings
    /// The sections run, in order.
    public var sections: [BenchmarkSection]
    public var peak: PeakReport?
    public var convolution: ConvolutionReport?
    public var profile: ProfileReport?
    public var throughput: ThroughputReport?
    public var scaling: ScalingReport?
    /// Wall-clock seconds of the whole run.
    public var seconds: Double = 0

    /// The tables of `section` (empty when it did not run).
    public func tables(_ section: BenchmarkSection) -> [Table] {
        switch section {
        case .peak: return peak.map { [$0.table] } ?? []
        case .conv: return convolution.map { [$0.table, $0.speedupTable] } ?? []
        case .profile: return profile.map { [$0.breakdownTable, $0.layerTable, $0.gemmTable] } ?? []
        case .throughput: return throughput.map { [$0.table] } ?? []
        case .scaling: return scaling.map { [$0.batchTable, $0.imageTable] } ?? []
        }
    }

    /// Checks that failed (naive and GEMM results that disagree), one line each.
    public var failures: [String] {
        (convolution?.failures ?? []).map { row in
            "\(row.layer) batch \(row.naiveBatch) \(row.pass.rawValue): GEMM and naive differ by \(row.maxAbsDifference)"
                + " (scale \(row.referenceScale), tolerance \(settings.agreementTolerance) relative)"
        }
    }

    /// The report as one JSON object on one line (keys sorted; NaN and infinities as strings).
    public func jsonString() throws -> String {
        let encoder = JSONCoding.encoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// A report read back from ``jsonString()``.
    public static func decoded(from json: String) throws -> BenchmarkReport {
        let decoder = JSONCoding.decoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(BenchmarkReport.self, from: Data(json.utf8))
    }
}

/// Runs benchmark sections with one set of settings.
///
/// ```swift
/// let runner = BenchmarkRunner(settings: .quick)
/// let report = try runner.run([.conv, .throughput]) { print($0) }
/// for table in report.tables(.conv) { print(table.rendered()) }
/// ```
public struct BenchmarkRunner: Sendable {
    public var settings: BenchmarkSettings

    public init(settings: BenchmarkSettings = BenchmarkSettings()) {
        self.settings = settings
    }

    /// The sections that will run for `requested`: in the canonical order,
    /// with the sgemm peak added when conv or profile need it.
    public static func plan(_ requested: [BenchmarkSection]) -> [BenchmarkSection] {
        var wanted = Set(requested)
        if wanted.contains(.conv) || wanted.contains(.profile) { wanted.insert(.peak) }
        return BenchmarkSection.allCases.filter(wanted.contains)
    }

    /// Runs `sections` (see ``plan(_:)``), reporting progress to `log` and
    /// each finished section to `completed`; restores OpenBLAS's thread count.
    public func run(_ sections: [BenchmarkSection], log: (String) -> Void = { _ in },
                    completed: (BenchmarkSection, BenchmarkReport) -> Void = { _, _ in }) throws -> BenchmarkReport {
        let watch = Stopwatch()
        let plan = Self.plan(sections)
        var report = BenchmarkReport(environment: .current(), settings: settings, sections: plan)
        try withBLASThreads(BLAS.threads) {
            for section in plan {
                switch section {
                case .peak:
                    log("peak: sgemm \(settings.peakSize)³")
                    report.peak = PeakBenchmark.run(settings)
                case .conv:
                    report.convolution = try ConvolutionBenchmark.run(settings, peak: report.peak, log: log)
                case .profile:
                    report.profile = try ProfileBenchmark.run(settings, peak: report.peak, log: log)
                case .throughput:
                    report.throughput = try ThroughputBenchmark.run(settings, log: log)
                case .scaling:
                    report.scaling = try ScalingBenchmark.run(settings, log: log)
                }
                completed(section, report)
            }
        }
        report.seconds = watch.elapsed
        return report
    }
}
