import DAEBenchmarkKit
import DAEKit
import Foundation
import Testing

/// Runs every benchmark section's code path at a tiny size, so the
/// benchmark cannot rot, and checks the naive/GEMM agreement it reports.
/// No timing is asserted: timings belong to the benchmark, not to tests.
@Suite("Benchmark smoke tests", .serialized)
struct BenchmarkSmokeTests {
    /// Every section at a tiny size: one repetition, no warm-up, tiny batches and images.
    static func tinySettings(_ configuration: DenoisingAutoencoder.Configuration = .init(
        inputShape: [8, 8, 1], layerFilters: [2, 3], kernelSize: 3, latentDim: 4)) -> BenchmarkSettings {
        var settings = BenchmarkSettings()
        settings.repetitions = 1
        settings.warmup = 0
        settings.naiveRepetitions = 1
        settings.naiveBatchLimit = 2
        settings.configuration = configuration
        settings.peakSize = 16
        settings.peakThreads = [1]
        settings.convolutionBatches = [1, 3]   // 3 > naiveBatchLimit: exercises the scaled naive path
        settings.profileBatch = 2
        settings.batchSize = 4
        settings.trainingImages = 8
        settings.inferenceImages = 6
        settings.inferenceBatches = [2, 4]
        settings.threadConfigurations = [.init(workers: 1, blasThreads: 1), .init(workers: 2, blasThreads: 1)]
        settings.scalingThreadConfigurations = [.init(workers: 1, blasThreads: 1)]
        settings.scalingBatches = [1, 2]
        settings.scalingImageSizes = [8, 16]
        settings.scalingSamples = 8
        return settings
    }

    @Test("every section runs, prints tables and encodes as one JSON object")
    func everySectionRuns() throws {
        var finished: [BenchmarkSection] = []
        let report = try BenchmarkRunner(settings: Self.tinySettings())
            .run(BenchmarkSection.allCases, completed: { section, _ in finished.append(section) })
        #expect(finished == BenchmarkSection.allCases)
        #expect(report.failures.isEmpty)
        for section in BenchmarkSection.allCases {
            let tables = report.tables(section)
            #expect(!tables.isEmpty, "\(section) printed no table")
            for table in tables {
                #expect(!table.rows.isEmpty, "\(table.title) is empty")
                #expect(table.rows.allSatisfy { $0.count == table.columns.count })
                #expect(table.rendered().contains("| "))
            }
        }
        #expect(report.peak?.points.count == 1)
        #expect(report.profile?.layers.count == 9)
        #expect(report.profile?.gemms.isEmpty == false)
        #expect(report.throughput?.training.count == 2)
        #expect(report.throughput?.inference.count == 4)
        #expect(report.scaling?.batchPoints.count == 2)
        #expect(report.scaling?.imagePoints.map(\.imageShape) == [[8, 8, 1], [16, 16, 1]])

        let json = try report.jsonString()
        #expect(!json.contains("\n"))
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        for key in ["environment", "settings", "peak", "convolution", "profile", "throughput", "scaling"] {
            #expect(object?[key] != nil, "JSON lacks \(key)")
        }
        // The environment says which direct loops ran: the report must tell AVX2 runs from portable ones.
        let environment = object?["environment"] as? [String: Any]
        #expect(environment?["directLoops"] as? String
                == (ConvolutionGeometry.directLoopsUseAVX2 ? "AVX2 + FMA" : "portable SIMD"))
        let decoded = try BenchmarkReport.decoded(from: json)
        #expect(decoded.sections == report.sections)
        #expect(decoded.convolution?.rows.count == report.convolution?.rows.count)
    }

    @Test("naive loops and im2col + GEMM agree on every pass of every convolution",
          arguments: [
              DenoisingAutoencoder.Configuration(inputShape: [8, 8, 1], layerFilters: [2, 3], kernelSize: 3, latentDim: 4),
              DenoisingAutoencoder.Configuration(inputShape: [12, 8, 3], layerFilters: [4], kernelSize: 5, latentDim: 2),
          ])
    func naiveAndGemmAgree(_ configuration: DenoisingAutoencoder.Configuration) throws {
        let settings = Self.tinySettings(configuration)
        let report = try BenchmarkRunner(settings: settings).run([.conv])
        let conv = try #require(report.convolution)
        let layers = try ConvolutionCase.cases(of: configuration)
        #expect(layers.count == 2 * configuration.layerFilters.count + 1)
        #expect(conv.rows.count == layers.count * settings.convolutionBatches.count * 3)
        #expect(conv.failures.isEmpty)
        for row in conv.rows {
            #expect(row.agrees, "\(row.layer) \(row.pass.rawValue) batch \(row.batch)")
            #expect(row.maxAbsDifference <= settings.agreementTolerance * max(1, row.referenceScale))
            #expect(row.naiveBatch == min(row.batch, settings.naiveBatchLimit))
            #expect(row.flops == layers.first { $0.name == row.layer }!.flopsPerImage * Double(row.batch))
        }
        // The sgemm peak is measured first: every rate reads as a fraction of it.
        #expect(report.sections == [.peak, .conv])
        #expect(conv.peakGflops != nil)
    }

    @Test("the tutorial model's five convolutions: two Conv2D, three Conv2DTranspose")
    func tutorialCases() throws {
        let cases = try ConvolutionCase.cases(of: .init())
        #expect(cases.map(\.shapeDescription) == [
            "28×28×1→14×14×32 s2", "14×14×32→7×7×64 s2", "7×7×64→14×14×64 s2",
            "14×14×64→28×28×32 s2", "28×28×32→28×28×1 s1",
        ])
        // 2·outH·outW·k²·Cin·Cout for encoder.conv0: 2·14·14·9·1·32.
        #expect(cases[0].flopsPerImage == 2 * 14 * 14 * 9 * 32)
        // A transposed convolution counts its low-resolution side: 2·7·7·9·64·64 for decoder.deconv0.
        #expect(cases[2].flopsPerImage == 2 * 7 * 7 * 9 * 64 * 64)
        // The one-channel ends run as direct loops: all of encoder.conv0 but its (strided) input
        // gradient, all of decoder.output (stride 1); the three middle layers are im2col + GEMM.
        #expect(cases.map(\.usesDirectLoops) == [true, false, false, false, true])
        #expect(ConvolutionReport.Pass.allCases.map(cases[0].runsDirect) == [true, false, true])
        #expect(ConvolutionReport.Pass.allCases.allSatisfy(cases[4].runsDirect))
        #expect(!ConvolutionReport.Pass.allCases.contains(where: cases[1].runsDirect))
    }

    @Test("timings summarise their samples: median, minimum, scaling, differences")
    func timingSummary() {
        let odd = Timing(samples: [3, 1, 2])
        #expect(odd.median == 2 && odd.minimum == 1)
        let even = Timing(samples: [4, 1, 2, 3])
        #expect(even.median == 2.5 && even.minimum == 1)
        #expect(even.scaled(by: 2) == Timing(median: 5, minimum: 2))
        #expect(even.subtracting(odd) == Timing(median: 0.5, minimum: 0))
        #expect(odd.subtracting(even).median == 0)   // never negative
        var runs = 0, setups = 0
        let measured = measure(warmup: 2, repetitions: 3, setup: { setups += 1 }) { runs += 1 }
        #expect(measured.samples.count == 3 && runs == 5 && setups == 5)
    }

    @Test("conv and profile bring the sgemm peak with them; sections run in order")
    func sectionPlan() {
        #expect(BenchmarkRunner.plan([.scaling, .conv]) == [.peak, .conv, .scaling])
        #expect(BenchmarkRunner.plan([.throughput]) == [.throughput])
        #expect(BenchmarkRunner.plan([.profile, .peak]) == [.peak, .profile])
    }

    @Test("tables render as aligned Markdown")
    func tableRendering() {
        var table = Table(title: "t", columns: [.init("name", .left), .init("value")], notes: ["note"])
        table.append(["a", "1"])
        table.append(["long name", "12345"])
        let lines = table.rendered().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "### t")
        #expect(lines[2] == "| name      | value |")
        #expect(lines[3] == "| --------- | ----: |")
        #expect(lines[4] == "| a         |     1 |")
        #expect(lines.last == "note")
    }
}
