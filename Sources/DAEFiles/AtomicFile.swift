import DAELayers
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces files atomically, so a reader (or a crash) sees either the old
/// content or the new content, never a mix.
///
/// ```swift
/// try AtomicFile.write(pngBytes, to: URL(fileURLWithPath: "out/grid.png"))
/// ```
public enum AtomicFile {
    /// Writes `data` to `url` atomically.
    ///
    /// The bytes go to a uniquely named temporary file in the same directory
    /// (`.<name>.tmp-<pid>-<random>`), which is `fsync`ed and then renamed
    /// over the target; finally the directory is synced (best effort: the
    /// data are already safe by then). A replaced file keeps its permission
    /// bits; a new one gets `0666` minus the umask. A symbolic link at `url`
    /// is replaced by the file, not followed.
    ///
    /// On any failure the temporary file is removed, the previous file at
    /// `url` (if any) is untouched, and ``DAEError/writeFailed(path:reason:)``
    /// names the step that failed and the system's error text. After a
    /// successful write, temporary files of `url` left by killed writers are
    /// removed (see `removeStaleTemporaries(of:)`).
    public static func write(_ data: Data, to url: URL) throws {
        let target = url.path
        guard url.isFileURL, !url.lastPathComponent.isEmpty, url.lastPathComponent != "/" else {
            throw DAEError.writeFailed(path: target, reason: "not a path to a file")
        }
        let temporary = temporaryURL(for: url).path
        inFlightWrites.begin(temporary, waitable: true)
        defer { inFlightWrites.end(temporary) }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else {
            throw failure(target, "cannot create a temporary file in \(url.deletingLastPathComponent().path)")
        }
        do {
            try fill(descriptor, with: data, target: target)
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        guard close(descriptor) == 0 else {
            let error = failure(target, "close of the temporary file")
            unlink(temporary)
            throw error
        }
        guard rename(temporary, target) == 0 else {
            let error = failure(target, "rename of the temporary file over the target")
            unlink(temporary)
            throw error
        }
        syncDirectory(url.deletingLastPathComponent().path)
        removeStaleTemporaries(of: url)
    }

    /// Checks, before any long work, that `url` can later be written: it is
    /// not a directory (or anything but a regular file or a link), and a
    /// temporary file can be created (and is removed at once) in its directory.
    ///
    /// - Throws: ``DAEError/writeFailed(path:reason:)`` saying why not.
    public static func checkWritable(_ url: URL) throws {
        let target = url.path
        var status = stat()
        if lstat(target, &status) == 0 {
            let type = status.st_mode & S_IFMT
            guard type == S_IFREG || type == S_IFLNK else {
                throw DAEError.writeFailed(path: target, reason: "it is \(RegularFile.kind(of: status.st_mode)), not a file that can be replaced")
            }
        }
        let temporary = temporaryURL(for: url).path
        inFlightWrites.begin(temporary, waitable: true)  // a signal handler lets the probe be removed first
        defer { inFlightWrites.end(temporary) }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else {
            throw failure(target, "cannot create a temporary file in \(url.deletingLastPathComponent().path)")
        }
        close(descriptor)
        unlink(temporary)
    }

    /// Lets the whole-file atomic writes in progress finish (waiting at most
    /// `timeout` seconds), removes the temporary files of any still
    /// unfinished and of every open ``Writer``, and
    /// blocks every later write for good: call it only right before the
    /// process exits (a signal handler does), so the process leaves either
    /// the old file or the new one, and no temporary file.
    public static func finishWritesBeforeExit(timeout: Double = 10) {
        for temporary in inFlightWrites.close(timeout: timeout) { unlink(temporary) }
    }

    /// The temporary files being written now.
    static let inFlightWrites = InFlightWrites()

    /// Removes the temporary files of `url` left by writers that were killed
    /// before their rename (`.<name>.tmp-<pid>-<random>` whose process no
    /// longer exists). A file whose process is alive (another writer, or a
    /// reused pid) is left alone; failures are ignored (best effort).
    static func removeStaleTemporaries(of url: URL) {
        let directory = url.deletingLastPathComponent()
        let prefix = "." + String(decoding: url.lastPathComponent.utf8.prefix(200), as: UTF8.self) + ".tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = pid_t(rest[..<dash]), pid > 0,
                  pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            unlink(directory.appendingPathComponent(name).path)
        }
    }

    /// `.<name>.tmp-<pid>-<random>` beside `url` (the name shortened so the result fits NAME_MAX).
    static func temporaryURL(for url: URL) -> URL {
        let name = String(decoding: url.lastPathComponent.utf8.prefix(200), as: UTF8.self)
        let random = String(UInt64.random(in: .min ... .max), radix: 16)
        return url.deletingLastPathComponent().appendingPathComponent(".\(name).tmp-\(getpid())-\(random)")
    }

    /// Copies the target's permissions (if it exists), writes everything, and syncs.
    private static func fill(_ descriptor: Int32, with data: Data, target: String) throws {
        var status = stat()
        if stat(target, &status) == 0 {
            _ = fchmod(descriptor, status.st_mode & 0o7777)
        }
        try writeAll(data, to: descriptor, target: target)
        guard fsync(descriptor) == 0 else { throw failure(target, "fsync of the temporary file") }
    }

    /// `write(2)` until every byte is out, retrying on EINTR and short writes.
    private static func writeAll(_ data: Data, to descriptor: Int32, target: String) throws {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let written = systemWrite(descriptor, base + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure(target, "write of the temporary file")
                }
                offset += written
            }
        }
    }

    /// Makes the rename durable. Best effort: some file systems cannot sync a directory.
    private static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    /// A ``DAEError/writeFailed(path:reason:)`` with the current `errno` text; call it right after the failing call.
    private static func failure(_ target: String, _ step: String) -> DAEError {
        .writeFailed(path: target, reason: reason(errno, step))
    }

    /// Why `step` failed with `code`, the reason first: "no space left on
    /// device (fsync of the temporary file)". A full disk, a quota and a
    /// too-large file are said in lower case, as the image writer's C shim
    /// says them (`errno_text` in `Sources/CImageCodecs`); anything else in
    /// the system's words.
    package static func reason(_ code: Int32, _ step: String) -> String {
        switch code {
        case ENOSPC: return "no space left on device (\(step))"
        case EDQUOT: return "disk quota exceeded (\(step))"
        case EFBIG: return "file too large (\(step))"
        default: return "\(step): \(String(cString: strerror(code)))"
        }
    }
}

/// `write(2)`, outside ``AtomicFile`` whose own `write` would shadow it.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

extension AtomicFile {
    /// A file written in pieces that appears at its path only when complete.
    ///
    /// The bytes go to a temporary file beside the target (as with
    /// ``AtomicFile/write(_:to:)``); ``commit()`` syncs it and renames it over
    /// the target, ``discard()`` (or deinit without a commit) removes it.
    /// While it exists, its path is listed for ``removeInFlightTemporaries()``,
    /// which a signal handler calls before the process ends.
    ///
    /// ```swift
    /// let file = try AtomicFile.Writer(url: target)
    /// // write(2) to file.descriptor, any number of times …
    /// try file.commit()
    /// ```
    public final class Writer {
        /// The target's path.
        public let path: String
        /// The temporary file's descriptor, open for writing.
        public let descriptor: Int32
        private let url: URL
        private let temporary: String
        private var finished = false

        /// Creates the temporary file for `url`.
        ///
        /// - Throws: ``DAEError/writeFailed(path:reason:)`` when it cannot be created.
        public init(url: URL) throws {
            self.url = url
            path = url.path
            guard url.isFileURL, !url.lastPathComponent.isEmpty, url.lastPathComponent != "/" else {
                throw DAEError.writeFailed(path: url.path, reason: "not a path to a file")
            }
            temporary = AtomicFile.temporaryURL(for: url).path
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            guard descriptor >= 0 else {
                throw DAEError.writeFailed(path: url.path, reason: "cannot create a temporary file in "
                                           + "\(url.deletingLastPathComponent().path): \(String(cString: strerror(errno)))")
            }
            self.descriptor = descriptor
            AtomicFile.inFlightWrites.begin(temporary, waitable: false)
        }

        /// Syncs the temporary file and renames it over the target.
        ///
        /// - Throws: ``DAEError/writeFailed(path:reason:)``; the temporary file is removed then.
        public func commit() throws {
            guard !finished else { return }
            finished = true
            defer { AtomicFile.inFlightWrites.end(temporary) }
            var status = stat()
            if stat(path, &status) == 0 { _ = fchmod(descriptor, status.st_mode & 0o7777) }
            let step: String? = fsync(descriptor) != 0 ? "fsync of the temporary file"
                : close(descriptor) != 0 ? "close of the temporary file"
                : rename(temporary, path) != 0 ? "rename of the temporary file over the target" : nil
            if let step {
                let reason = AtomicFile.reason(errno, step)
                _ = close(descriptor)
                unlink(temporary)
                throw DAEError.writeFailed(path: path, reason: reason)
            }
            let directory = open(url.deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
            if directory >= 0 {
                _ = fsync(directory)
                close(directory)
            }
            AtomicFile.removeStaleTemporaries(of: url)
        }

        /// Closes and removes the temporary file; the target is untouched.
        public func discard() {
            guard !finished else { return }
            finished = true
            close(descriptor)
            unlink(temporary)
            AtomicFile.inFlightWrites.end(temporary)
        }

        deinit { discard() }
    }

    /// Removes the temporary files of every ``Writer`` not yet committed or
    /// discarded, and of every ``write(_:to:)`` in progress; for a signal
    /// handler about to end the process (``finishWritesBeforeExit(timeout:)``
    /// first lets the whole-file writes finish).
    public static func removeInFlightTemporaries() {
        for path in AtomicFile.inFlightWrites.all() { unlink(path) }
    }
}

/// The temporary files of the atomic writes in progress (``AtomicFile/write(_:to:)``
/// and ``AtomicFile/Writer``), and the gate that ``AtomicFile/finishWritesBeforeExit(timeout:)`` closes.
final class InFlightWrites: @unchecked Sendable {
    private let condition = NSCondition()
    /// Each temporary path, and whether an exit waits for it (a whole-file
    /// write finishes in moments; a streaming ``AtomicFile/Writer`` may not).
    private var paths: [String: Bool] = [:]
    private var closed = false

    /// Registers a write about to start (waits forever once closed: the process is exiting).
    func begin(_ path: String, waitable: Bool) {
        condition.lock()
        while closed { condition.wait() }
        paths[path] = waitable
        condition.unlock()
    }

    /// Unregisters a finished (or failed, or discarded) write.
    func end(_ path: String) {
        condition.lock()
        paths[path] = nil
        condition.broadcast()
        condition.unlock()
    }

    /// Every temporary path registered now.
    func all() -> [String] {
        condition.lock()
        defer { condition.unlock() }
        return Array(paths.keys)
    }

    /// Closes the gate, waits up to `timeout` seconds for the waitable writes
    /// in progress, and returns the temporary paths still registered.
    func close(timeout: Double) -> [String] {
        condition.lock()
        defer { condition.unlock() }
        closed = true
        let deadline = Date(timeIntervalSinceNow: timeout)
        while paths.values.contains(true), condition.wait(until: deadline) {}
        return Array(paths.keys)
    }
}
