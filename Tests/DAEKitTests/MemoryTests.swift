import DAEKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Training reuses its buffers: the resident set does not grow from epoch
/// to epoch. Linux only (reads /proc/self/statm); skipped under AddressSanitizer
/// and ThreadSanitizer, whose quarantine and shadow memory grow by design.
@Suite struct MemoryTests {
    /// Resident set size in bytes, from the second field of /proc/self/statm.
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Whether a sanitizer runtime is linked into the test process.
    static var underSanitizer: Bool {
        #if canImport(Glibc)
        let handle = dlopen(nil, RTLD_NOW)
        defer { if let handle { dlclose(handle) } }
        return dlsym(handle, "__asan_init") != nil || dlsym(handle, "__tsan_init") != nil
        #else
        return false
        #endif
    }

    static let allowedGrowth = 20 << 20

    @Test("RSS after epoch 5 is within 20 MB of RSS after epoch 1",
          .enabled(if: residentBytes() != nil && !underSanitizer, "needs /proc/self/statm and no sanitizer"))
    func residentSetStaysBounded() throws {
        let images = try SyntheticImages.rectangles(count: 256, seed: 17)
        let validation = try SyntheticImages.rectangles(count: 64, seed: 18)
        // Other tests run in parallel in this process and allocate too: a
        // real leak shows on every attempt, their noise does not.
        var growths: [Int] = []
        for attempt in 1...3 {
            var model = try DenoisingAutoencoder(configuration: .init(), seed: attempt)
            model.workers = 2
            var rss: [Int: Int] = [:]
            try model.fit(images, validation: validation, options: TrainingOptions(epochs: 5, batchSize: 32, seed: 4)) { event in
                if case let .epochEnd(record) = event { rss[record.epoch] = Self.residentBytes() }
            }
            let growth = try #require(rss[5]) - (try #require(rss[1]))
            growths.append(growth)
            if growth < Self.allowedGrowth { break }
        }
        print("MemoryTests: RSS growth from epoch 1 to epoch 5: \(growths.map { "\($0 / 1024) KiB" })")
        #expect(growths.contains { $0 < Self.allowedGrowth },
                "RSS grew by \(growths.map { $0 >> 20 }) MB between epochs 1 and 5 on every attempt")
    }
}
