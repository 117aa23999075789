import ArgumentParser
import DAEBenchmarkKit

/// The options every section command shares.
struct BenchOptions: ParsableArguments {
    @Flag(help: "Print one JSON object (the whole report) instead of tables.")
    var json = false

    @Flag(help: "A short run: fewer repetitions and smaller sizes.")
    var quick = false

    @Option(help: "Timed repetitions of each measurement (median and min are reported).")
    var repetitions: Int?

    @Option(help: "Untimed warm-up runs before the timed ones.")
    var warmup: Int?

    @Option(help: "OpenBLAS threads for the conv and profile sections.")
    var blasThreads: Int?

    @Option(help: "The largest batch the naive loops run at; larger batches are scaled linearly.")
    var naiveBatch: Int?

    @Option(help: "Thread configurations of throughput and scaling, as workers x OpenBLAS threads, e.g. 1x1,2x1,1x2.")
    var threads: String?

    @Option(help: "Training batch size of the throughput section.")
    var batchSize: Int?

    @Option(help: "An IDX directory to train and infer on in the throughput section (default: synthetic images).")
    var data: String?

    @Option(help: "Use only the first N training images of --data.")
    var limitTrain: Int?

    @Option(help: "Seed of the synthetic data and weights.")
    var seed: UInt64?

    func validate() throws {
        for (name, value) in [("repetitions", repetitions), ("blas-threads", blasThreads), ("naive-batch", naiveBatch),
                              ("batch-size", batchSize), ("limit-train", limitTrain)] {
            if let value, value < 1 { throw ValidationError("--\(name) must be at least 1, got \(value)") }
        }
        if let warmup, warmup < 0 { throw ValidationError("--warmup must not be negative, got \(warmup)") }
        _ = try threadConfigurations()
    }

    /// `--threads` parsed, or nil when not given.
    func threadConfigurations() throws -> [ThreadConfiguration]? {
        guard let threads else { return nil }
        return try threads.split(separator: ",").map { item in
            let parts = item.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 >= 1 }) else {
                throw ValidationError("--threads wants workers x BLAS threads pairs such as 1x1,2x1; got '\(item)'")
            }
            return ThreadConfiguration(workers: parts[0], blasThreads: parts[1])
        }
    }

    /// The settings these options describe.
    func settings() throws -> BenchmarkSettings {
        var settings = quick ? BenchmarkSettings.quick : BenchmarkSettings()
        if let repetitions {
            settings.repetitions = repetitions
            settings.naiveRepetitions = min(settings.naiveRepetitions, repetitions)
        }
        if let warmup { settings.warmup = warmup }
        if let blasThreads { settings.blasThreads = blasThreads }
        if let naiveBatch { settings.naiveBatchLimit = naiveBatch }
        if let configurations = try threadConfigurations() {
            settings.threadConfigurations = configurations
            settings.scalingThreadConfigurations = configurations
        }
        if let batchSize { settings.batchSize = batchSize }
        if let data { settings.dataDirectory = data }
        if let limitTrain { settings.limitTrain = limitTrain }
        if let seed { settings.seed = seed }
        return settings
    }
}
