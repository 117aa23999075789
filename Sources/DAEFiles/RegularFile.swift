import DAELayers
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens and reads input files, refusing anything that is not a regular
/// file: a FIFO named `x.png` would block `open()` forever, `/dev/zero`
/// would never end, a directory is not data. The one file-opening path of
/// the package's readers (safetensors, IDX; images call ``openForReading(_:)``).
///
/// ```swift
/// let bytes = try RegularFile.read(URL(fileURLWithPath: "model.safetensors"))
/// ```
public enum RegularFile {
    /// Opens `url` for reading and returns the descriptor (the caller closes
    /// it), after checking that it is a regular file (symbolic links are followed).
    ///
    /// The file is opened without blocking (`O_NONBLOCK`), and checked again
    /// through the descriptor, so a FIFO swapped in between is refused too.
    ///
    /// - Throws: ``DAEError/fileUnreadable(path:reason:)`` naming what the
    ///   path is instead ("a FIFO (named pipe), not a regular file"), or the
    ///   system's reason (no such file, permission denied).
    public static func openForReading(_ url: URL) throws -> Int32 {
        try url.path.withCString { try openForReading(cPath: $0, naming: url.path) }
    }

    /// Opens the file at the C string `cPath` (bytes that need not be UTF-8)
    /// as ``openForReading(_:)`` does; `path` names it in errors.
    public static func openForReading(cPath: UnsafePointer<CChar>, naming path: String) throws -> Int32 {
        var status = stat()
        guard stat(cPath, &status) == 0 else { throw failure(path) }
        try requireRegular(status, path: path)
        let descriptor = open(cPath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(path) }
        guard fstat(descriptor, &status) == 0 else {
            let error = failure(path)
            close(descriptor)
            throw error
        }
        do {
            try requireRegular(status, path: path)
        } catch {
            close(descriptor)
            throw error
        }
        return descriptor
    }

    /// The whole content of the regular file at `url`.
    ///
    /// - Throws: what ``openForReading(_:)`` throws, and
    ///   ``DAEError/fileUnreadable(path:reason:)`` when reading fails.
    public static func read(_ url: URL) throws -> Data {
        let descriptor = try openForReading(url)
        defer { close(descriptor) }
        var status = stat()
        _ = fstat(descriptor, &status)
        var data = Data()
        data.reserveCapacity(Int(clamping: status.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw failure(url.path)
            }
            if count == 0 { return data }
            data.append(contentsOf: chunk[0..<count])
        }
    }

    /// What a file of `mode` is, for messages: "a directory", "a FIFO (named pipe)", ….
    static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }

    private static func requireRegular(_ status: stat, path: String) throws {
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw DAEError.fileUnreadable(path: path, reason: "is \(kind(of: status.st_mode)), not a regular file")
        }
    }

    /// A ``DAEError/fileUnreadable(path:reason:)`` with the current `errno`; call it right after the failing call.
    private static func failure(_ path: String) -> DAEError {
        let code = errno
        return .fileUnreadable(path: path, reason: code == ENOENT ? "no such file" : String(cString: strerror(code)).lowercased())
    }
}

/// `read(2)`, outside ``RegularFile`` whose own `read` would shadow it.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
