import DAEKit
import Foundation

/// What the figures were measured on: OpenBLAS's build and core, its
/// threads, the cores, the date. Printed with every run.
public struct BenchmarkEnvironment: Sendable, Codable, Equatable {
    /// `openblas_get_config()`, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64`.
    public var openBLASConfiguration: String
    /// The core OpenBLAS selected its kernels for (`openblas_get_corename()`).
    public var openBLASCore: String
    /// OpenBLAS's threading model: `sequential`, `pthreads` or `OpenMP`.
    public var openBLASThreading: String
    /// OpenBLAS's threads when the run started (``BLAS/threads``).
    public var openBLASThreadsAtStart: Int
    /// Logical processors the system reports, and how many are active.
    public var processors: Int
    public var activeProcessors: Int
    /// A model's default ``DenoisingAutoencoder/workers`` on this machine.
    public var defaultWorkers: Int
    /// The instruction set of the few-channel layers' direct loops:
    /// `AVX2 + FMA` or `portable SIMD` (``ConvolutionGeometry/directLoopsUseAVX2``).
    public var directLoops: String
    /// `release` or `debug`: figures from a debug build are meaningless.
    public var build: String
    /// When the run started (ISO 8601, UTC).
    public var date: String

    /// The environment as it is now.
    public static func current() -> BenchmarkEnvironment {
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        let info = ProcessInfo.processInfo
        return BenchmarkEnvironment(
            openBLASConfiguration: BLAS.configuration, openBLASCore: BLAS.coreName,
            openBLASThreading: BLAS.threading, openBLASThreadsAtStart: BLAS.threads,
            processors: info.processorCount, activeProcessors: info.activeProcessorCount,
            defaultWorkers: max(1, info.activeProcessorCount),
            directLoops: ConvolutionGeometry.directLoopsUseAVX2 ? "AVX2 + FMA" : "portable SIMD", build: build,
            date: ISO8601DateFormatter().string(from: Date()))
    }

    /// The environment as a short block of `key: value` lines.
    public var summary: String {
        """
        OpenBLAS: \(openBLASConfiguration)
        core: \(openBLASCore), threading: \(openBLASThreading), threads at start: \(openBLASThreadsAtStart)
        processors: \(activeProcessors) active of \(processors); default model workers: \(defaultWorkers)
        direct loops: \(directLoops)
        build: \(build); date: \(date)
        """
    }
}
