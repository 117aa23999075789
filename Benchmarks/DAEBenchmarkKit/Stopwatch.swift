import Dispatch

/// A monotonic wall-clock stopwatch with nanosecond resolution.
///
/// ```swift
/// var watch = Stopwatch()
/// work()
/// let seconds = watch.lap()      // time since start, and restart
/// ```
public struct Stopwatch: Sendable {
    private var start: UInt64

    /// A stopwatch started now.
    public init() { start = Self.now() }

    /// Seconds since the start (or the last ``lap()``).
    public var elapsed: Double { Double(Self.now() &- start) / 1e9 }

    /// Returns the seconds since the start (or the last lap) and restarts.
    public mutating func lap() -> Double {
        let now = Self.now()
        defer { start = now }
        return Double(now &- start) / 1e9
    }

    /// The seconds `body` takes, once.
    public static func time(_ body: () throws -> Void) rethrows -> Double {
        let watch = Stopwatch()
        try body()
        return watch.elapsed
    }

    private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
