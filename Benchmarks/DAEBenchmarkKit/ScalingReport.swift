/// How a training step's time grows with the batch size and the image
/// size: the cost model users can plan with.
public struct ScalingReport: Sendable, Codable, Equatable {
    /// One batch size or image size at one thread configuration.
    public struct Point: Sendable, Codable, Equatable {
        public var threads: ThreadConfiguration
        public var batch: Int
        /// `[height, width, channels]` of the images.
        public var imageShape: [Int]
        /// Steps in each timed `fit` epoch.
        public var steps: Int
        /// Seconds per training step (the epoch's time over its steps).
        public var step: Timing
        /// Median seconds per training image.
        public var perSample: Double { step.median / Double(batch) }
    }

    public var batchPoints: [Point]
    public var imagePoints: [Point]

    /// Rows of `points` keyed by `key`, one column pair per thread configuration.
    private func table(_ title: String, _ label: String, _ points: [Point], key: (Point) -> String,
                       notes: [String]) -> Table {
        var configurations: [ThreadConfiguration] = []
        for point in points where !configurations.contains(point.threads) { configurations.append(point.threads) }
        var keys: [String] = []
        for point in points where !keys.contains(key(point)) { keys.append(key(point)) }
        var table = Table(title: title, columns: [.init(label)] + configurations.flatMap { c in
            [Table.Column("step ms (\(c))"), Table.Column("µs/sample"), Table.Column("samples/s")]
        })
        for k in keys {
            table.append([k] + configurations.flatMap { c -> [String] in
                guard let p = points.first(where: { key($0) == k && $0.threads == c }) else { return ["–", "–", "–"] }
                return [Format.milliseconds(p.step.median), Format.microseconds(p.perSample), Format.rate(1 / p.perSample)]
            })
        }
        table.notes = notes
        return table
    }

    public var batchTable: Table {
        table("Training-step time vs batch size (\(batchPoints.first.map { $0.imageShape.map(String.init).joined(separator: "×") } ?? ""))",
              "batch", batchPoints, key: { "\($0.batch)" },
              notes: ["A step = one Adam step of `fit` (batch assembly, noise, forward, backward, update): the median"
                        + " epoch time over its steps. µs/sample = step / batch."])
    }

    public var imageTable: Table {
        table("Training-step time vs image size (batch \(imagePoints.first?.batch ?? 0), same architecture)",
              "image", imagePoints, key: { $0.imageShape.map(String.init).joined(separator: "×") },
              notes: ["Same layers and filters, Configuration(inputShape: [s, s, 1]): the work per image grows"
                        + " with the pixel count (and the latent Dense with it)."])
    }
}
