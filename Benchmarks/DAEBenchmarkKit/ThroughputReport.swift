/// Training and inference samples per second through the public API
/// (`fit` and `denoise`), for each way of using the cores.
public struct ThroughputReport: Sendable, Codable, Equatable {
    /// One timed `fit` configuration.
    public struct TrainingRow: Sendable, Codable, Equatable {
        public var threads: ThreadConfiguration
        public var batchSize: Int
        /// Training images per epoch.
        public var images: Int
        /// Seconds of one `fit` epoch (no validation).
        public var epoch: Timing
        /// Images per second at the median epoch time.
        public var samplesPerSecond: Double
        /// Images per second at the fastest epoch.
        public var bestSamplesPerSecond: Double
    }

    /// One timed `denoise` configuration.
    public struct InferenceRow: Sendable, Codable, Equatable {
        public var threads: ThreadConfiguration
        /// ``DenoisingAutoencoder/inferenceBatchSize``: images per forward pass.
        public var batchSize: Int
        public var images: Int
        public var run: Timing
        public var samplesPerSecond: Double
        public var bestSamplesPerSecond: Double
    }

    /// What the model trained and inferred on.
    public var data: String
    public var training: [TrainingRow]
    public var inference: [InferenceRow]

    /// The best median training rate over the thread configurations.
    public var bestTrainingSamplesPerSecond: Double { training.map(\.samplesPerSecond).max() ?? 0 }

    /// The best median inference rate at `batchSize` over the thread configurations.
    public func bestInferenceSamplesPerSecond(batchSize: Int) -> Double {
        inference.filter { $0.batchSize == batchSize }.map(\.samplesPerSecond).max() ?? 0
    }

    public var table: Table {
        var table = Table(title: "Throughput (\(data))",
                          columns: [.init("what", .left), .init("threads", .left), .init("batch"), .init("images"),
                                    .init("median s"), .init("samples/s (median)"), .init("samples/s (best)")])
        for row in training {
            table.append(["training (fit, 1 epoch)", row.threads.description, "\(row.batchSize)", "\(row.images)",
                          Format.significant(row.epoch.median), Format.rate(row.samplesPerSecond),
                          Format.rate(row.bestSamplesPerSecond)])
        }
        for row in inference {
            table.append(["inference (denoise)", row.threads.description, "\(row.batchSize)", "\(row.images)",
                          Format.significant(row.run.median), Format.rate(row.samplesPerSecond),
                          Format.rate(row.bestSamplesPerSecond)])
        }
        table.notes = [
            "Training: `fit` for one epoch (shuffle, batch assembly from bytes, fresh tutorial noise, Adam; no validation).",
            "Inference: `denoise` of all the images with inferenceBatchSize = batch (input checks included).",
            "workers = DenoisingAutoencoder.workers (threads splitting each batch); BLAS = OpenBLAS threads per GEMM"
                + " (the engine forces 1 when workers > 1).",
        ]
        return table
    }
}
