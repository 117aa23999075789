import DAEKit

/// The sections of the benchmark, in the order `all` runs them.
public enum BenchmarkSection: String, Sendable, Codable, CaseIterable {
    /// sgemm peak on a large square product, at 1 and 2 OpenBLAS threads.
    case peak
    /// Naive loops vs im2col + GEMM for every convolution of the model.
    case conv
    /// Where the time of one training step goes, layer by layer.
    case profile
    /// Training and inference samples per second through the public API.
    case throughput
    /// Training-step time against batch size and image size.
    case scaling
}

/// Everything a benchmark run can vary. The defaults are the full run on
/// the tutorial model; ``quick`` is a short run; tests shrink it further.
public struct BenchmarkSettings: Sendable, Codable, Equatable {
    // MARK: Method

    /// Timed repetitions of each measurement (the median and minimum are reported).
    public var repetitions = 7
    /// Untimed runs before the timed ones.
    public var warmup = 2
    /// Timed repetitions of a naive convolution loop (slow), at most ``repetitions``.
    public var naiveRepetitions = 3
    /// The largest batch the naive loops run at; a larger batch is timed at
    /// this size and scaled linearly (convolution cost is linear in the batch).
    public var naiveBatchLimit = 32
    /// A naive and a GEMM result agree when `max|Δ| ≤ tolerance · max(1, max|naive|)`.
    public var agreementTolerance: Float = 1e-4
    /// OpenBLAS threads for the single-call measurements (conv and profile):
    /// 1, as each of the library's workers uses.
    public var blasThreads = 1
    /// The seed of the synthetic data and weights.
    public var seed: UInt64 = 42

    // MARK: What is measured

    /// The model whose layers are measured (the tutorial model by default).
    public var configuration = DenoisingAutoencoder.Configuration()
    /// Side of the square sgemm that measures the peak.
    public var peakSize = 2048
    /// OpenBLAS thread counts the peak is measured at.
    public var peakThreads = [1, 2]
    /// Batch sizes of the convolution comparison.
    public var convolutionBatches = [1, 32, 256]
    /// Batch size of the training-step profile.
    public var profileBatch = 32
    /// Batch size of training in the throughput section.
    public var batchSize = 32
    /// Synthetic training images per timed `fit` epoch (when no data directory is given).
    public var trainingImages = 4096
    /// Synthetic images denoised per timed inference run (when no data directory is given).
    public var inferenceImages = 4096
    /// Inference chunk sizes (``DenoisingAutoencoder/inferenceBatchSize``).
    public var inferenceBatches = [32, 256]
    /// The (workers, OpenBLAS threads) pairs of the throughput and scaling sections.
    public var threadConfigurations = [ThreadConfiguration(workers: 1, blasThreads: 1),
                                       ThreadConfiguration(workers: 2, blasThreads: 1),
                                       ThreadConfiguration(workers: 1, blasThreads: 2)]
    /// The thread configurations of the scaling section.
    public var scalingThreadConfigurations = [ThreadConfiguration(workers: 1, blasThreads: 1),
                                              ThreadConfiguration(workers: 2, blasThreads: 1)]
    /// Batch sizes of the scaling section.
    public var scalingBatches = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    /// Image sides of the scaling section (same architecture, `[s, s, channels]`).
    public var scalingImageSizes = [28, 56, 112]
    /// Training samples per timed repetition in the scaling section (at 28×28;
    /// fewer for larger images), so every point takes about the same time.
    public var scalingSamples = 1024

    // MARK: Real data

    /// An IDX directory (e.g. Fashion-MNIST) to train and infer on instead of synthetic images.
    public var dataDirectory: String?
    /// Use only the first this-many training images of ``dataDirectory``.
    public var limitTrain: Int?

    /// The full run.
    public init() {}

    /// A short run (about a tenth of the time): fewer repetitions, smaller sizes.
    public static var quick: BenchmarkSettings {
        var settings = BenchmarkSettings()
        settings.repetitions = 3
        settings.warmup = 1
        settings.naiveRepetitions = 1
        settings.naiveBatchLimit = 8
        settings.peakSize = 1024
        settings.trainingImages = 1024
        settings.inferenceImages = 1024
        settings.scalingBatches = [1, 8, 32, 128]
        settings.scalingImageSizes = [28, 56]
        settings.scalingSamples = 256
        return settings
    }
}

/// How a run uses the cores: ``workers`` threads each splitting the batch
/// (``DenoisingAutoencoder/workers``), and OpenBLAS's threads inside one GEMM.
public struct ThreadConfiguration: Sendable, Codable, Equatable, Hashable, CustomStringConvertible {
    /// Threads that split each batch.
    public var workers: Int
    /// OpenBLAS threads per GEMM call (the engine forces 1 when `workers > 1`).
    public var blasThreads: Int

    public init(workers: Int, blasThreads: Int) {
        self.workers = workers
        self.blasThreads = blasThreads
    }

    /// e.g. `workers 2 × BLAS 1`.
    public var description: String { "workers \(workers) × BLAS \(blasThreads)" }
}
