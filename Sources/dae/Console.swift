import DAEKit
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the tool writes: results (tables, JSON) go to standard output,
/// notes and progress to standard error, so `dae demo --json | tail -1`
/// gives the JSON alone.
enum Console {
    /// Whether standard error is a terminal (then the progress bar redraws one line).
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }

    /// What starts a fresh line on standard error: on a terminal, a carriage
    /// return and an erase of the line (a progress bar may be on it).
    static var lineStart: String { stderrIsTerminal ? "\r\u{1B}[K" : "" }

    /// Writes `text` to standard error as is (no newline added), unbuffered.
    static func writeError(_ text: String) {
        write(text, to: STDERR_FILENO)
    }

    /// Writes all of `text` to the file descriptor, retrying after signals.
    private static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { raw in
            guard var base = raw.baseAddress else { return }
            var left = raw.count
            while left > 0 {
                let written = systemWrite(descriptor, base, left)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                base += written
                left -= written
            }
        }
    }

    /// Writes one line of notes to standard error.
    static func note(_ line: String) {
        writeError(line + "\n")
    }

    /// Shows a transient status on a terminal (one line, replaced by the
    /// next output); shows nothing otherwise, so that logs hold only
    /// results and the error line of a failure stays the only line.
    static func status(_ text: String) {
        if stderrIsTerminal { writeError("\r" + text + "\u{1B}[K") }
    }

    /// Writes one line of results to standard output (unbuffered).
    static func output(_ line: String) {
        write(line + "\n", to: STDOUT_FILENO)
    }
}

/// `write(2)`, under a name that the helpers above do not shadow.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

/// A failure of the command line itself (not of the library), with the
/// one-line message shown after `error:` and the exit status.
struct CLIError: Error, CustomStringConvertible {
    /// The message, one line.
    let description: String
    /// The process exit status (1 unless said otherwise).
    let exitStatus: Int32

    init(_ description: String, exitStatus: Int32 = 1) {
        self.description = description
        self.exitStatus = exitStatus
    }

    /// Exit status of an interrupted run (128 + SIGINT, as shells report it).
    static let interruptedStatus: Int32 = 130
}

/// Small file-system helpers that turn failures into one-line ``DAEError``s.
enum FileSystem {
    /// `path` with a leading `~` expanded, as a file URL.
    static func url(_ path: String) -> URL {
        URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
    }

    /// Whether a directory exists at `url`.
    static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Whether anything (file, directory, link) exists at `url`.
    static func exists(_ url: URL) -> Bool {
        FileManager.default.fileExists(atPath: url.path)
    }

    /// Refuses an `--output` directory that does not exist yet and is named
    /// like an image file (`cleaned.png`): the user meant a file, and would
    /// otherwise get a directory of that name with the result inside it.
    /// An existing directory of any name is used as it is.
    static func checkOutputDirectoryName(_ url: URL, flag: String = "--output") throws {
        let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]
        guard !exists(url), imageExtensions.contains(url.pathExtension.lowercased()) else { return }
        throw CLIError("\(flag) \(url.path) looks like an image file's name, but it names the directory the results "
            + "are written in (created if missing); give a directory, e.g. \(flag) \(url.deletingLastPathComponent().path)")
    }

    /// Creates `url` and its missing parents (like `mkdir -p`), then checks
    /// that a file can be created in it, so a long run fails before it
    /// starts rather than at its end.
    static func prepareOutputDirectory(_ url: URL) throws {
        var missing: [URL] = []
        var current = url.standardizedFileURL
        while !exists(current), current.path != "/" {
            missing.append(current)
            current = current.deletingLastPathComponent()
        }
        for directory in missing.reversed() {
            guard mkdir(directory.path, 0o777) == 0 || errno == EEXIST else {
                throw DAEError.writeFailed(path: directory.path, reason: "cannot create the directory: \(String(cString: strerror(errno)))")
            }
        }
        guard isDirectory(url) else {
            throw DAEError.writeFailed(path: url.path, reason: "not a directory")
        }
        let probe = url.appendingPathComponent(".dae-write-test-\(getpid())").path
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw DAEError.writeFailed(path: url.path, reason: "the directory is not writable: \(String(cString: strerror(errno)))")
        }
        close(fd)
        unlink(probe)
    }
}
