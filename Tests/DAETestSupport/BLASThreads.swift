import DAELayers
import Synchronization

/// Serialises the tests that depend on OpenBLAS's thread count.
private let blasThreadsLock = Mutex(())

/// Runs `body` while no other such section runs: for a test that sets
/// ``BLAS/threads`` on purpose, and for a bit-for-bit comparison of layers
/// called outside an engine, whose OpenBLAS products can round differently
/// with another thread count (an engine sets 1; OpenBLAS starts at one per
/// core). Swift Testing runs the suites of every test target side by side
/// in one process, so without this a comparison's two calls could see two
/// thread counts.
public func withBLASThreadsHeld<T>(_ body: () throws -> T) rethrows -> T {
    try blasThreadsLock.withLock { _ in try body() }
}

/// `body` with OpenBLAS at one thread (as every engine runs it), the count
/// held for its duration (``withBLASThreadsHeld(_:)``).
public func withOneBLASThread<T>(_ body: () throws -> T) rethrows -> T {
    try withBLASThreadsHeld {
        BLAS.threads = 1
        return try body()
    }
}
