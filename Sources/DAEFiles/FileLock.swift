import DAELayers
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An advisory, exclusive lock on a file that one process rewrites over a
/// long run (a checkpoint during training), so that a second writer is
/// refused instead of silently rolling the file back.
///
/// The lock is `flock(2)` on a lock file beside the target,
/// `.<name>.lock` (not on the target itself, which atomic writes replace
/// by another inode). The kernel releases it when the process ends, even
/// by SIGKILL; ``release()`` (or deinit) removes the lock file, and so does
/// ``removeLockFilesBeforeExit()`` for a process ending at once on a signal.
///
/// ```swift
/// let lock = try FileLock(for: checkpointURL)   // throws if another process holds it
/// defer { lock.release() }
/// ```
package final class FileLock: @unchecked Sendable {
    /// The lock file.
    package let url: URL
    private var descriptor: Int32
    private let mutex = NSLock()

    /// Takes the lock of `target`, without waiting.
    ///
    /// - Throws: ``DAEError/writeFailed(path:reason:)`` naming `target` when
    ///   another process holds the lock (with its pid when known), or when
    ///   the lock file cannot be created.
    package init(for target: URL) throws {
        let name = String(decoding: target.lastPathComponent.utf8.prefix(200), as: UTF8.self)
        url = target.deletingLastPathComponent().appendingPathComponent(".\(name).lock")
        let path = url.path
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                let reason = String(cString: strerror(errno))
                throw DAEError.writeFailed(path: target.path, reason: "cannot create the lock file \(path): \(reason)")
            }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                let holder = Self.recordedPID(fd)
                close(fd)
                if code == EWOULDBLOCK {
                    throw DAEError.writeFailed(
                        path: target.path, reason: "another process\(holder.map { " (pid \($0))" } ?? "") is using it "
                            + "(it holds the lock \(path)); wait for it to finish, or stop it")
                }
                throw DAEError.writeFailed(path: target.path, reason: "cannot lock \(path): \(String(cString: strerror(code)))")
            }
            // The previous holder may have removed the file between our open and flock: lock the file at the path.
            var opened = stat(), current = stat()
            if fstat(fd, &opened) == 0, stat(path, &current) == 0,
               opened.st_ino == current.st_ino, opened.st_dev == current.st_dev {
                descriptor = fd
                Self.held.insert(path)
                let pid = Array("\(getpid())\n".utf8)
                _ = ftruncate(fd, 0)
                _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
                return
            }
            close(fd)
        }
    }

    deinit { release() }

    /// Removes the lock file and releases the lock (once; later calls do nothing).
    package func release() {
        mutex.lock()
        defer { mutex.unlock() }
        guard descriptor >= 0 else { return }
        unlink(url.path)  // while still holding the lock, so no one locks a file about to vanish
        close(descriptor)
        descriptor = -1
        Self.held.remove(url.path)
    }

    /// Removes the lock files of every lock this process holds, keeping the
    /// locks themselves (the kernel releases them at exit): call it only
    /// right before the process exits without unwinding (a signal handler does).
    package static func removeLockFilesBeforeExit() {
        for path in held.paths { unlink(path) }
    }

    /// The lock files this process holds.
    private static let held = LockedPaths()

    /// The pid the holder wrote into the lock file, if readable.
    private static func recordedPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer.prefix(count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// A set of paths behind a lock.
private final class LockedPaths: @unchecked Sendable {
    private let lock = NSLock()
    private var set = Set<String>()

    var paths: [String] { lock.withLock { Array(set) } }
    func insert(_ path: String) { lock.withLock { _ = set.insert(path) } }
    func remove(_ path: String) { lock.withLock { _ = set.remove(path) } }
}
