/// The repeated timings of one operation, in seconds, summarised as the
/// median (the figure the tables lead with: robust to a noisy machine)
/// and the minimum (the best the machine did).
public struct Timing: Sendable, Codable, Equatable {
    /// Each repetition's seconds, in the order measured (empty for a derived timing).
    public var samples: [Double]
    /// The median of the samples, in seconds.
    public var median: Double
    /// The smallest sample, in seconds.
    public var minimum: Double

    /// The summary of `samples` (at least one).
    public init(samples: [Double]) {
        precondition(!samples.isEmpty, "a timing needs at least one sample")
        self.samples = samples
        let sorted = samples.sorted()
        let middle = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        minimum = sorted[0]
    }

    /// A timing known only by its summary (e.g. derived from others).
    public init(median: Double, minimum: Double) {
        samples = []
        self.median = median
        self.minimum = minimum
    }

    /// This timing multiplied by `factor`: a linear extrapolation, e.g. from a
    /// smaller batch to a larger one.
    public func scaled(by factor: Double) -> Timing {
        Timing(median: median * factor, minimum: minimum * factor)
    }

    /// The part of this timing not explained by `other` (median minus
    /// median, minimum minus minimum), never below zero.
    public func subtracting(_ other: Timing) -> Timing {
        Timing(median: max(median - other.median, 0), minimum: max(minimum - other.minimum, 0))
    }

    /// The sum of two timings' medians and minimums.
    public static func + (lhs: Timing, rhs: Timing) -> Timing {
        Timing(median: lhs.median + rhs.median, minimum: lhs.minimum + rhs.minimum)
    }

    /// A zero timing, the start of a sum.
    public static let zero = Timing(median: 0, minimum: 0)
}

/// Times `body`: `warmup` untimed runs, then `repetitions` timed ones.
///
/// `setup` runs before every run (warm-up or timed) and is not timed: it
/// restores the state that `body` consumes, e.g. a gradient buffer that a
/// backward pass overwrites.
///
/// ```swift
/// let t = measure(warmup: 2, repetitions: 7) { layer.forward(x, into: y, batch: 32, workspace: w) }
/// print(t.median, t.minimum)
/// ```
public func measure(warmup: Int, repetitions: Int, setup: () throws -> Void,
                    _ body: () throws -> Void) rethrows -> Timing {
    for _ in 0..<max(warmup, 0) {
        try setup()
        try body()
    }
    var samples: [Double] = []
    samples.reserveCapacity(max(repetitions, 1))
    for _ in 0..<max(repetitions, 1) {
        try setup()
        samples.append(try Stopwatch.time(body))
    }
    return Timing(samples: samples)
}

/// Times `body`: `warmup` untimed runs, then `repetitions` timed ones.
public func measure(warmup: Int, repetitions: Int, _ body: () throws -> Void) rethrows -> Timing {
    try measure(warmup: warmup, repetitions: repetitions, setup: {}, body)
}
