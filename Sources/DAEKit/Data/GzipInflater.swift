import CZlib
import DAELayers
import Foundation

/// A streaming gzip (or zlib) decompressor over an in-memory buffer.
///
/// The caller pulls decompressed bytes in pieces of its own size, so it can
/// read a header, validate it, and only then decide how much more to read:
/// nothing is ever allocated from a size the compressed stream merely claims.
/// Concatenated gzip members are read as one stream, as `gzip -d` does.
/// Every failure is a `DAEError/corruptFile(path:reason:)` naming `path`.
final class GzipInflater {
    /// The largest ratio of output to input that deflate can reach (RFC 1951
    /// allows at most 258 bytes per 2-bit code, i.e. about 1032:1).
    static let maximumExpansion = 1032

    private let compressed: Data
    private let path: String
    /// zlib keeps a pointer back to its `z_stream`, so the stream lives at a fixed address.
    private let stream: UnsafeMutablePointer<z_stream>
    private var consumed = 0
    private var initialized = false
    /// True once the last member's trailer (CRC and length) has been checked.
    private(set) var finished = false

    /// True when `data` begins with the gzip magic bytes 0x1f 0x8b.
    static func isGzip(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    /// Prepares to decompress `compressed`; `path` names the file in errors.
    init(compressed: Data, path: String) throws {
        self.compressed = compressed
        self.path = path
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // windowBits 15 + 32: the largest window, and detect a gzip or zlib header.
        let status = inflateInit2_(stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw DAEError.corruptFile(path: path, reason: "cannot start gzip decompression (zlib error \(status))")
        }
        initialized = true
    }

    deinit {
        if initialized { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Decompresses into `buffer` until it is full or the stream ends, and
    /// returns the number of bytes written (less than `buffer.count` only at
    /// the end of the stream).
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        var produced = 0
        while produced < buffer.count && !finished {
            let outChunk = min(buffer.count - produced, Int(UInt32.max))
            stream.pointee.next_out = (base + produced).assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(outChunk)
            let (status, inputUsed) = compressed.withUnsafeBytes { raw -> (Int32, Int) in
                let remaining = raw.count - consumed
                let inChunk = min(remaining, Int(UInt32.max))
                guard let inBase = raw.baseAddress, inChunk > 0 else {
                    stream.pointee.next_in = nil
                    stream.pointee.avail_in = 0
                    return (inflate(stream, Z_NO_FLUSH), 0)
                }
                stream.pointee.next_in = UnsafeMutablePointer(
                    mutating: (inBase + consumed).assumingMemoryBound(to: Bytef.self))
                stream.pointee.avail_in = uInt(inChunk)
                let status = inflate(stream, Z_NO_FLUSH)
                let used = inChunk - Int(stream.pointee.avail_in)
                stream.pointee.next_in = nil
                stream.pointee.avail_in = 0
                return (status, used)
            }
            consumed += inputUsed
            let written = outChunk - Int(stream.pointee.avail_out)
            stream.pointee.next_out = nil
            stream.pointee.avail_out = 0
            produced += written
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                try finishMember()
            case Z_BUF_ERROR:
                // No progress was possible: with room left for output, the input ran out.
                if consumed >= compressed.count {
                    throw DAEError.corruptFile(
                        path: path, reason: "gzip stream ends early (truncated after \(compressed.count) compressed bytes)")
                }
                if written == 0 && inputUsed == 0 {
                    throw DAEError.corruptFile(path: path, reason: "gzip stream makes no progress")
                }
            default:
                throw DAEError.corruptFile(path: path, reason: "corrupt gzip data (\(zlibMessage(status)))")
            }
        }
        return produced
    }

    /// Handles the end of one gzip member: either the input ends too, or another member follows.
    private func finishMember() throws {
        let rest = compressed.dropFirst(consumed)
        if rest.isEmpty {
            finished = true
            return
        }
        guard GzipInflater.isGzip(Data(rest.prefix(2))) else {
            throw DAEError.corruptFile(
                path: path, reason: "\(rest.count) bytes of trailing garbage after the gzip stream")
        }
        let status = inflateReset(stream)
        guard status == Z_OK else {
            throw DAEError.corruptFile(path: path, reason: "cannot continue with the next gzip member (zlib error \(status))")
        }
    }

    /// zlib's message for the last error, or the status code's name.
    private func zlibMessage(_ status: Int32) -> String {
        if let message = stream.pointee.msg { return String(cString: message) }
        switch status {
        case Z_DATA_ERROR: return "invalid deflate data"
        case Z_MEM_ERROR: return "out of memory"
        case Z_NEED_DICT: return "needs a preset dictionary"
        case Z_STREAM_ERROR: return "inconsistent stream state"
        default: return "zlib error \(status)"
        }
    }
}
