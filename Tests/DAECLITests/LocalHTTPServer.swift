import Foundation
import Testing

/// `python3 -m http.server` on 127.0.0.1 and a free port, serving a directory.
final class LocalHTTPServer {
    /// The Python interpreter, or nil when there is none.
    static let python: URL? = ["/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"]
        .map(URL.init(fileURLWithPath:))
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }

    private let process = Process()
    /// The port the server listens on.
    let port: Int

    /// `http://127.0.0.1:<port>/`.
    var baseURL: String { "http://127.0.0.1:\(port)/" }

    /// Starts serving `directory`; returns once the server said which port it took.
    init(serving directory: URL) throws {
        let python = try #require(Self.python, "python3 is not installed")
        process.executableURL = python
        process.arguments = ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", directory.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(20)
        var found: Int?
        while found == nil, Date() < deadline, process.isRunning {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if let range = text.range(of: #"port (\d+)"#, options: .regularExpression) {
                found = Int(text[range].dropFirst(5))
            }
        }
        guard let found else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw ServerError(message: "http.server did not report its port: \(text)")
        }
        port = found
    }

    /// Stops the server (also done when it is released). SIGKILL, because
    /// a child started from a test thread inherits that thread's blocked
    /// signals, SIGTERM among them.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }

    struct ServerError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
