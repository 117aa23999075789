import DAEKit

/// Measures ``ScalingReport`` with `fit` on synthetic images.
enum ScalingBenchmark {
    static func run(_ settings: BenchmarkSettings, log: (String) -> Void) throws -> ScalingReport {
        let base = settings.configuration
        var batchPoints: [ScalingReport.Point] = []
        var imagePoints: [ScalingReport.Point] = []
        for threads in settings.scalingThreadConfigurations {
            for batch in settings.scalingBatches {
                log("scaling: batch \(batch), \(threads)")
                batchPoints.append(try point(base, batch: batch, threads: threads, settings: settings))
            }
            for side in settings.scalingImageSizes {
                log("scaling: image \(side)×\(side), \(threads)")
                var configuration = base
                configuration.inputShape = [side, side, base.inputShape[2]]
                imagePoints.append(try point(configuration, batch: settings.batchSize, threads: threads, settings: settings))
            }
        }
        return ScalingReport(batchPoints: batchPoints, imagePoints: imagePoints)
    }

    /// The step time of `configuration` at `batch`: one-epoch `fit`s over
    /// enough synthetic images for about ``BenchmarkSettings/scalingSamples``
    /// images' worth of work (at least 2 steps).
    static func point(_ configuration: DenoisingAutoencoder.Configuration, batch: Int, threads: ThreadConfiguration,
                      settings: BenchmarkSettings) throws -> ScalingReport.Point {
        let pixels = Double(configuration.inputShape[0] * configuration.inputShape[1])
        let basePixels = Double(settings.configuration.inputShape[0] * settings.configuration.inputShape[1])
        let samples = Double(settings.scalingSamples) * basePixels / pixels
        let steps = max(2, Int((samples / Double(batch)).rounded(.up)))
        var rng = SplitMix64(seed: settings.seed)
        let data = try SyntheticData.images(count: steps * batch, shape: configuration.inputShape, using: &rng)
        return try withBLASThreads(threads.blasThreads) {
            var model = try DenoisingAutoencoder(configuration: configuration, seed: settings.seed)
            model.workers = threads.workers
            let options = TrainingOptions(epochs: 1, batchSize: batch, seed: settings.seed)
            let epoch = try measure(warmup: min(settings.warmup, 1), repetitions: settings.repetitions) {
                try model.fit(data, options: options)
            }
            return ScalingReport.Point(threads: threads, batch: batch, imageShape: configuration.inputShape,
                                       steps: steps, step: epoch.scaled(by: 1 / Double(steps)))
        }
    }
}
