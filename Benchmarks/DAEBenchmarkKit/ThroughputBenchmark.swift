import DAEKit
import Foundation

/// The training and inference images of the throughput section: synthetic
/// byte images, or an IDX directory such as Fashion-MNIST.
struct ThroughputData {
    let train: ImageDataset
    /// Clean inference images with the tutorial noise applied.
    let noisyTest: Tensor
    let description: String

    init(_ settings: BenchmarkSettings) throws {
        let shape = settings.configuration.inputShape
        var rng = SplitMix64(seed: settings.seed)
        let test: ImageDataset
        if let directory = settings.dataDirectory {
            let data = try IDXDataset(directory: URL(fileURLWithPath: directory))
            train = settings.limitTrain.map { data.train.prefix($0) } ?? data.train
            test = data.test
            description = "\(directory): \(train.count) training images, \(test.count) test images"
        } else {
            train = try SyntheticData.images(count: settings.trainingImages, shape: shape, using: &rng)
            test = try SyntheticData.images(count: settings.inferenceImages, shape: shape, using: &rng)
            description = "synthetic \(shape.map(String.init).joined(separator: "×")) byte images"
        }
        noisyTest = NoiseModel.tutorial.applied(to: test.allImagesTensor(), seed: settings.seed)
    }
}

/// Measures ``ThroughputReport``.
enum ThroughputBenchmark {
    static func run(_ settings: BenchmarkSettings, log: (String) -> Void) throws -> ThroughputReport {
        let data = try ThroughputData(settings)
        var training: [ThroughputReport.TrainingRow] = []
        var inference: [ThroughputReport.InferenceRow] = []
        for threads in settings.threadConfigurations {
            try withBLASThreads(threads.blasThreads) {
                var model = try DenoisingAutoencoder(configuration: settings.configuration, seed: settings.seed)
                model.workers = threads.workers
                log("throughput: training, \(threads)")
                training.append(try train(&model, on: data.train, settings: settings, threads: threads))
                for batch in settings.inferenceBatches {
                    log("throughput: inference batch \(batch), \(threads)")
                    model.inferenceBatchSize = batch
                    let images = data.noisyTest.shape[0]
                    let time = try measure(warmup: settings.warmup, repetitions: settings.repetitions) {
                        _ = try model.denoise(data.noisyTest)
                    }
                    inference.append(.init(threads: threads, batchSize: batch, images: images, run: time,
                                           samplesPerSecond: Double(images) / time.median,
                                           bestSamplesPerSecond: Double(images) / time.minimum))
                }
            }
        }
        return ThroughputReport(data: data.description, training: training, inference: inference)
    }

    /// Times `repetitions` one-epoch `fit`s of `model` on `train`, after a short warm-up fit.
    static func train(_ model: inout DenoisingAutoencoder, on train: ImageDataset, settings: BenchmarkSettings,
                      threads: ThreadConfiguration) throws -> ThroughputReport.TrainingRow {
        let options = TrainingOptions(epochs: 1, batchSize: settings.batchSize, seed: settings.seed)
        if settings.warmup > 0 {
            try model.fit(train.prefix(settings.batchSize * 16), options: options)
        }
        let epoch = try measure(warmup: 0, repetitions: settings.repetitions) {
            try model.fit(train, options: options)
        }
        return .init(threads: threads, batchSize: settings.batchSize, images: train.count, epoch: epoch,
                     samplesPerSecond: Double(train.count) / epoch.median,
                     bestSamplesPerSecond: Double(train.count) / epoch.minimum)
    }
}
