import DAEFiles
import DAELayers
import Foundation

/// A path as the file system holds it: bytes. On Linux a file name is any
/// bytes but `/` and NUL, and need not be UTF-8 (a name from an old camera
/// or a Latin-1 archive, say); Foundation's `URL` and `String` replace such
/// bytes with U+FFFD and can then no longer open the file. Image folders
/// and `dae denoise` keep the bytes, and show the name with the replacement
/// character only in messages (``description``).
///
/// ```swift
/// let path = FileSystemPath(bytes: Array("photos/caf".utf8) + [0xE9] + Array(".jpg".utf8))
/// let reader = try ImageReader(at: path)
/// ```
public struct FileSystemPath: Sendable, Hashable, CustomStringConvertible {
    /// The path's bytes, without a terminating NUL.
    public let bytes: [UInt8]

    /// The path of these bytes (a NUL ends it early: no name holds one).
    public init(bytes: [UInt8]) {
        self.bytes = Array(bytes.prefix { $0 != 0 })
    }

    /// The path of a file URL (its file-system representation).
    public init(_ url: URL) {
        bytes = url.withUnsafeFileSystemRepresentation { pointer in
            pointer.map { Array(UnsafeBufferPointer(start: UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self), count: strlen($0))) }
        } ?? Array(url.path.utf8)
    }

    /// The path for messages: invalid UTF-8 shown as U+FFFD.
    public var description: String { String(decoding: bytes, as: UTF8.self) }

    /// Whether the bytes are valid UTF-8, so that a `URL` or `String` holds the path exactly.
    public var isValidUTF8: Bool { String(validating: bytes, as: UTF8.self) != nil }

    /// The path as a file URL when it is valid UTF-8 (else nil: a URL would name another file).
    public var url: URL? { isValidUTF8 ? URL(fileURLWithPath: description) : nil }

    /// This path followed by `/` and `name`.
    public func appending(_ name: [UInt8]) -> FileSystemPath {
        FileSystemPath(bytes: bytes.last == UInt8(ascii: "/") ? bytes + name : bytes + [UInt8(ascii: "/")] + name)
    }

    /// The last component's bytes.
    public var lastComponent: [UInt8] {
        let trimmed = bytes.last == UInt8(ascii: "/") && bytes.count > 1 ? Array(bytes.dropLast()) : bytes
        guard let slash = trimmed.lastIndex(of: UInt8(ascii: "/")) else { return trimmed }
        return Array(trimmed[(slash + 1)...])
    }

    /// The extension of the last component, lower-cased (ASCII), without the dot; "" when none.
    public var lowercasedExtension: String {
        let name = lastComponent
        guard let dot = name.lastIndex(of: UInt8(ascii: ".")), dot > name.startIndex else { return "" }
        return String(decoding: name[(dot + 1)...], as: UTF8.self).lowercased()
    }

    /// Calls `body` with the path as a NUL-terminated C string.
    public func withCString<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try (bytes + [0]).withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }

    /// Opens the regular file at this path for reading (see `RegularFile.openForReading(cPath:naming:)`).
    ///
    /// - Throws: `DAEError.fileUnreadable` naming the path (as ``description``) and the reason.
    public func openForReading() throws -> Int32 {
        try withCString { try RegularFile.openForReading(cPath: $0, naming: description) }
    }
}

extension ImageReader {
    /// Opens the image file at `path`, whose name need not be UTF-8, and reads its header.
    ///
    /// - Throws: as ``init(contentsOf:limits:)``; messages name the path as ``FileSystemPath/description``.
    public convenience init(at path: FileSystemPath, limits: Limits = .default) throws {
        try self.init(descriptor: try path.openForReading(), path: path.description, limits: limits)
    }
}

extension ImageFile {
    /// Reads and decodes the PNG or JPEG file at `path` (a name that need not
    /// be UTF-8), as gray or RGB, or converted to `channels` when given.
    ///
    /// - Throws: as ``ImageReader/init(at:limits:)`` and ``ImageReader/readImage(channels:maximumBytes:)``.
    public static func read(at path: FileSystemPath, channels: Int? = nil) throws -> Image {
        try ImageReader(at: path).readImage(channels: channels)
    }
}
