import DAEImageIO
import DAELayers
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The image files under a directory, listed with `opendir`/`readdir` on
/// the names' bytes: a name that is not UTF-8 is kept, where Foundation's
/// enumerator replaces its bytes and can no longer open it.
///
/// Hidden files and directories (a name starting with `.`) are skipped;
/// directories are entered, links to directories are not (no cycles);
/// links to regular files are followed, as `dae denoise` follows them.
enum ImageFileWalk {
    /// One image file: its path relative to the root (`/`-separated, for
    /// display and ordering) and its full path as bytes.
    struct Entry {
        let name: String
        let path: FileSystemPath
    }

    /// The PNG and JPEG files (by extension, any case) under `root`, ordered
    /// by ``Entry/name``, then by their bytes (two names that differ only in invalid bytes).
    ///
    /// - Throws: `DAEError.fileUnreadable` naming a directory that cannot be listed.
    static func images(under root: FileSystemPath) throws -> [Entry] {
        var found: [Entry] = []
        try walk(root, relative: [], into: &found)
        return found.sorted { $0.name != $1.name ? $0.name < $1.name : $0.path.bytes.lexicographicallyPrecedes($1.path.bytes) }
    }

    private static func walk(_ directory: FileSystemPath, relative: [UInt8], into found: inout [Entry]) throws {
        guard let stream = directory.withCString({ opendir($0) }) else {
            let reason = String(cString: strerror(errno)).lowercased()
            throw DAEError.fileUnreadable(path: directory.description, reason: "cannot list the directory: \(reason)")
        }
        var names: [[UInt8]] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            guard let first = name.first, first != UInt8(ascii: ".") else { continue }  // hidden, `.` and `..`
            names.append(name)
        }
        closedir(stream)
        for name in names {
            let path = directory.appending(name)
            let relativeName = relative.isEmpty ? name : relative + [UInt8(ascii: "/")] + name
            var status = stat()
            guard path.withCString({ lstat($0, &status) }) == 0 else { continue }  // removed meanwhile
            if status.st_mode & S_IFMT == S_IFDIR {
                try walk(path, relative: relativeName, into: &found)
            } else if ImageFile.extensions.contains(path.lowercasedExtension),
                      path.withCString({ stat($0, &status) }) == 0, status.st_mode & S_IFMT == S_IFREG {
                found.append(Entry(name: String(decoding: relativeName, as: UTF8.self), path: path))
            }
        }
    }
}
