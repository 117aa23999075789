import DAELayers
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks made before an image file is opened, so that a FIFO or a device
/// named like an image is refused at once instead of blocking in `open`.
enum FileChecks {
    /// Throws ``DAEError/fileUnreadable(path:reason:)`` unless `path` is an
    /// existing regular file (symbolic links are followed).
    static func requireRegularFile(_ path: String) throws {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw DAEError.fileUnreadable(path: path, reason: String(cString: strerror(errno)))
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw DAEError.fileUnreadable(path: path, reason: String(cString: strerror(EISDIR)))
        default: throw DAEError.fileUnreadable(path: path, reason: "not a regular file (a FIFO, device or socket)")
        }
    }

    /// Whether the process may read `path`.
    static func isReadable(_ path: String) -> Bool { access(path, R_OK) == 0 }
}

/// The text of a NUL-terminated C message buffer.
func messageText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
