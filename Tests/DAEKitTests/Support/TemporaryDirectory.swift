import Foundation

/// A new empty directory `<label>-<UUID>` under the system's temporary directory; the caller removes it.
func makeTemporaryDirectory(_ label: String = "DAEKitTests") throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("\(label)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Runs `body` in a new empty temporary directory and removes the directory when `body` returns or throws.
func withTemporaryDirectory<T>(_ label: String = "DAEKitTests", _ body: (URL) throws -> T) throws -> T {
    let directory = try makeTemporaryDirectory(label)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}
