import DAEImageIO
import Foundation

/// Paths on the command line as the bytes the shell passed. Swift decodes
/// arguments as UTF-8 and replaces invalid bytes with U+FFFD, so a file
/// named with byte 0xFF would be "no such file"; its exact bytes are found
/// again in `argv`.
enum ArgumentBytes {
    /// The path of the command-line argument `argument` (as parsed): its own
    /// bytes when it holds a replacement character and an argument of
    /// invalid UTF-8 decodes to it; else the path as ``FileSystem/url(_:)`` makes it.
    static func path(_ argument: String) -> FileSystemPath {
        guard argument.unicodeScalars.contains("\u{FFFD}") else { return FileSystemPath(FileSystem.url(argument)) }
        for index in 0..<Int(CommandLine.argc) {
            guard let pointer = CommandLine.unsafeArgv[index] else { continue }
            let bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self),
                                                  count: strlen(pointer)))
            guard String(validating: bytes, as: UTF8.self) == nil, String(decoding: bytes, as: UTF8.self) == argument else { continue }
            if bytes.first == UInt8(ascii: "/") { return FileSystemPath(bytes: bytes) }
            return FileSystemPath(URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).appending(bytes)
        }
        return FileSystemPath(FileSystem.url(argument))
    }
}
