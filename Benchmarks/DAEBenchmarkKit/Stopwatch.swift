/// A monotonic wall-clock stopwatch on `ContinuousClock`.
///
/// ```swift
/// var watch = Stopwatch()
/// work()
/// let seconds = watch.lap()      // time since start, and restart
/// ```
public struct Stopwatch: Sendable {
    private static let clock = ContinuousClock()
    private var start: ContinuousClock.Instant

    /// A stopwatch started now.
    public init() { start = Self.clock.now }

    /// Seconds since the start (or the last ``lap()``).
    public var elapsed: Double { Self.seconds(start.duration(to: Self.clock.now)) }

    /// Returns the seconds since the start (or the last lap) and restarts.
    public mutating func lap() -> Double {
        let now = Self.clock.now
        defer { start = now }
        return Self.seconds(start.duration(to: now))
    }

    /// The seconds `body` takes, once.
    public static func time(_ body: () throws -> Void) rethrows -> Double {
        Self.seconds(try clock.measure(body))
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
