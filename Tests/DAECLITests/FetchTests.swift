import Foundation
import Testing

/// `dae fetch mnist` against a local HTTP server holding small fake files.
@Suite(.enabled(if: CLITool.isBuilt, "the dae binary is not built: run 'swift build --product dae' first"),
       .enabled(if: LocalHTTPServer.python != nil, "python3 is needed to serve the files"),
       .enabled(if: SHA256Tool.command != nil, "sha256sum or shasum is needed"))
struct FetchTests {
    static let names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]

    /// `mirror` under `parent`, served over HTTP and holding four fake files (not MNIST), and their digests.
    private func serveFakeFiles(in parent: URL) throws -> (server: LocalHTTPServer, digests: [String: String]) {
        let served = parent.appendingPathComponent("mirror")
        try FileManager.default.createDirectory(at: served, withIntermediateDirectories: true)
        var digests: [String: String] = [:]
        for (i, name) in Self.names.enumerated() {
            let data = Data("not really \(name), fake file \(i)\n".utf8)
            try data.write(to: served.appendingPathComponent(name))
            digests[name] = try SHA256Tool.digest(of: served.appendingPathComponent(name))
        }
        return (try LocalHTTPServer(serving: served), digests)
    }

    @Test func rejectsAFileWhoseDigestIsNotMNISTs() throws {
        try withTemporaryDirectory("fetch-bad") { directory in
            let (server, digests) = try serveFakeFiles(in: directory)
            let target = directory.appendingPathComponent("mnist")
            let result = try CLITool.run(["fetch", "mnist", "--dir", target.path, "--mirror", server.baseURL, "--timeout", "20"])
            CLITool.expectOneLineError(result, containing: [
                "train-images-idx3-ubyte.gz",
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",  // MNIST's digest
                digests["train-images-idx3-ubyte.gz"] ?? "?",                         // the download's
            ])
            let left = (try? FileManager.default.contentsOfDirectory(atPath: target.path)) ?? []
            #expect(left.isEmpty, "nothing may be left in the target directory: \(left)")
        }
    }

    @Test func downloadsAndVerifiesWhenTheDigestsMatch() throws {
        try withTemporaryDirectory("fetch-good") { directory in
            let (server, digests) = try serveFakeFiles(in: directory)
            let target = directory.appendingPathComponent("cache/mnist")
            let override = Self.names.map { "\($0)=\(digests[$0] ?? "")" }.joined(separator: ",")
            let arguments = ["fetch", "mnist", "--dir", target.path, "--mirror", server.baseURL, "--timeout", "20"]
            let result = try CLITool.run(arguments, environment: ["DAE_FETCH_DIGESTS": override])
            try #require(result.status == 0, "\(result.diagnostics)")
            for name in Self.names {
                #expect(try SHA256Tool.digest(of: target.appendingPathComponent(name)) == digests[name])
            }
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: target.path).filter { !Self.names.contains($0) }
            #expect(leftovers.isEmpty, "no temporary files may remain: \(leftovers)")

            // A second run finds the files verified and needs no server.
            server.stop()
            let again = try CLITool.run(arguments, environment: ["DAE_FETCH_DIGESTS": override])
            #expect(again.status == 0 && again.stderr.contains("present, SHA-256 verified"), "\(again.diagnostics)")
        }
    }

    @Test func reportsAnUnreachableMirror() throws {
        try withTemporaryDirectory("fetch-404") { directory in
            let target = directory.appendingPathComponent("mnist")
            let empty = directory.appendingPathComponent("empty-mirror")
            try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
            let server = try LocalHTTPServer(serving: empty)
            let result = try CLITool.run(["fetch", "mnist", "--dir", target.path, "--mirror", server.baseURL, "--timeout", "20"])
            CLITool.expectOneLineError(result, containing: ["404"])
            #expect(!FileManager.default.fileExists(atPath: target.path))
        }
    }
}

/// SHA-256 digests through the system's `sha256sum` (or `shasum -a 256`),
/// independently of the tool's own code.
enum SHA256Tool {
    /// The command and its leading arguments, or nil when neither exists.
    static let command: (URL, [String])? = {
        for (path, arguments) in [("/usr/bin/sha256sum", []), ("/bin/sha256sum", []), ("/usr/bin/shasum", ["-a", "256"])]
        where FileManager.default.isExecutableFile(atPath: path) {
            return (URL(fileURLWithPath: path), arguments)
        }
        return nil
    }()

    /// The lowercase hex digest of the file at `url`.
    static func digest(of url: URL) throws -> String {
        let (tool, arguments) = try #require(command)
        let process = Process()
        let pipe = Pipe()
        process.executableURL = tool
        process.arguments = arguments + [url.path]
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: output, as: UTF8.self).prefix(64))
    }
}
