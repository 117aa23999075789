import Foundation
import Testing

/// Runs the built `dae` tool as a subprocess, as swift-argument-parser's
/// example tests do.
///
/// The binary is looked for next to the test bundle (the build's products
/// directory: `.build/<config>/dae`); `DAE_BINARY` overrides the path. The
/// tests are skipped with a message when it is not built (run
/// `swift build --product dae` first; `swift test` builds it too).
enum CLITool {
    /// The result of one run.
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String

        /// Standard error's non-empty lines.
        var stderrLines: [String] { stderr.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty } }
        /// Standard output's non-empty lines.
        var stdoutLines: [String] { stdout.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty } }
        /// A summary for failure messages.
        var diagnostics: String { "status \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
    }

    /// The `dae` executable, or nil when it is not built.
    static let binary: URL? = {
        let fileManager = FileManager.default
        if let path = ProcessInfo.processInfo.environment["DAE_BINARY"] {
            return fileManager.isExecutableFile(atPath: path) ? URL(fileURLWithPath: path) : nil
        }
        var directories: [URL] = []
        if let first = CommandLine.arguments.first {
            directories.append(URL(fileURLWithPath: first).resolvingSymlinksInPath().deletingLastPathComponent())
        }
        directories.append(Bundle.main.bundleURL)
        directories.append(Bundle.main.bundleURL.deletingLastPathComponent())
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            directories.append(bundle.bundleURL.deletingLastPathComponent())
        }
        for directory in directories {
            var candidate = directory
            // Inside a macOS .xctest bundle (…/X.xctest/Contents/MacOS), step out to the products directory.
            while candidate.path.contains(".xctest") { candidate.deleteLastPathComponent() }
            let url = candidate.appendingPathComponent("dae")
            if fileManager.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }()

    /// Whether the tool is available (the suites' condition).
    static var isBuilt: Bool { binary != nil }

    /// Runs `dae arguments…` with `environment` added to (and `DAE_DATA` removed from) the test's environment;
    /// with a `launcher` (e.g. `["/usr/bin/taskset", "-c", "0"]`), runs `launcher… dae arguments…`.
    static func run(_ arguments: [String], environment: [String: String] = [:],
                    in directory: URL? = nil, launcher: [String] = []) throws -> Result {
        let binary = try #require(binary, "the dae binary is not built")
        let scratch = try Scratch.directory("run")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        if let tool = launcher.first {
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = launcher.dropFirst() + [binary.path] + arguments
        } else {
            process.executableURL = binary
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment
        env["DAE_DATA"] = nil
        env["DAE_FETCH_DIGESTS"] = nil
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// Checks the contract of every failure: a non-zero status and exactly
    /// one line on standard error, starting with `error:` and containing each of `fragments`.
    static func expectOneLineError(_ result: Result, containing fragments: [String] = [],
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status != 0, "\(result.diagnostics)", sourceLocation: sourceLocation)
        #expect(result.stderrLines.count == 1, "\(result.diagnostics)", sourceLocation: sourceLocation)
        let line = result.stderrLines.first ?? ""
        #expect(line.hasPrefix("error: "), "\(result.diagnostics)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(line.contains(fragment), "missing '\(fragment)' in: \(line)", sourceLocation: sourceLocation)
        }
    }
}

/// Temporary directories for the tests.
enum Scratch {
    /// A new empty directory under the system's temporary directory; the caller removes it.
    static func directory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("dae-cli-tests-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Runs `body` in a new empty temporary directory and removes the directory when `body` returns or throws.
func withTemporaryDirectory<T>(_ label: String, _ body: (URL) throws -> T) throws -> T {
    let directory = try Scratch.directory(label)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}
